"""Robustness of the continuation (issue 9): steep branch ends, lost branches, trivial branch."""

import pytest

from attnphase.theory import curve, solve
from attnphase.theory.fixed_point import usable


def test_semantic_continuation_sub_steps_through_its_steep_end():
    """omega = 0.3: theta falls from 0.43 (alpha 1.1) to 0.28 (alpha 0.8; a cold start there
    gives 0.284); one continuation step of 0.3 used to collapse to theta = 0 or not converge,
    the sub-steps reach the theta > 0 point."""
    low, high = curve([0.8, 1.1], 0.3, branch="semantic")
    assert usable(low) and usable(high) and low.note == ""
    assert 0.26 < low.theta < 0.31 < 0.42 < high.theta < 0.44


@pytest.mark.slow
def test_a_lost_branch_is_reported_with_where():
    """alpha = 0.3, omega = 0.3: no theta > 0 point is reachable from alpha = 1.1."""
    low, high = curve([0.3, 1.1], 0.3, branch="semantic")
    assert usable(high) and not usable(low)
    assert "semantic branch lost between alpha" in low.note


@pytest.mark.parametrize("alpha, omega", [(2.0, 0.3), (10.0, 0.45), (0.05, 0.0)])
def test_trivial_branch_converges_with_the_split_rule(alpha, omega):
    p = solve(alpha, omega=omega, branch="trivial")
    assert p.converged and p.m == 0.0 and p.theta == 0.0
    assert 1.0 < p.V < p.sigma**2 / p.lam * 1.5


def test_past_a_lost_branch_only_every_fourth_point_is_solved(monkeypatch):
    """Continuation logic with a stand-in solver whose semantic branch exists for alpha >= 1."""
    import math

    from attnphase.theory import fixed_point as fp

    calls = []

    def fake(alpha, omega, sigma, lam, A, branch, init=None, **kw):
        calls.append(alpha)
        theta = 0.5 if alpha >= 1.0 else 0.0
        th = {"q_th": 0.1, "m_th": 0.0, "theta_th": theta * sigma**2, "V": 10.0}
        return fp.TheoryPoint(alpha, omega, sigma, lam, branch, 0.4, 0.0, theta, 10.0,
                              0.001, 0.002, True, 5, 1e-7, th)

    monkeypatch.setattr(fp, "solve", fake)
    alphas = [0.1 * k for k in range(2, 13)]  # 0.2 ... 1.2
    pts = fp.curve(alphas, 0.3, branch="semantic")
    assert all(usable(p) for p in pts if p.alpha >= 1.0)
    lost = [p for p in pts if p.alpha < 1.0]
    assert "semantic branch lost between alpha 1 and 0.9" in pts[7].note
    solved = [p.alpha for p in lost if p.iterations > 0]
    # downwards: 0.9 (continuation, then sub-steps) is where the branch is lost; beyond
    # it only every 4th point (0.5) gets a cold start
    assert [round(a, 6) for a in solved] == [0.5, 0.9]
    for p in lost:
        if p.iterations == 0:
            assert math.isnan(p.eps_t) and not p.converged and p.note.startswith("not solved")
    # sub-steps from 1.0 to 0.9: 2 then 4 (each stops at its first failure)
    assert calls.count(0.95) >= 1


def test_a_branch_not_found_from_a_cold_start_is_reported():
    """sigma = 0.3, omega = 0.3: every start with theta > 0 (theta_th / rho 0.5, 0.99; V 3,
    30; alpha 2 and 4) ends on the positional fixed point: no semantic branch there."""
    (p,) = curve([2.0], 0.3, sigma=0.3, branch="semantic")
    assert not usable(p) and p.theta < 1e-6
    assert "no semantic fixed point reached from a cold start at alpha 2" in p.note
