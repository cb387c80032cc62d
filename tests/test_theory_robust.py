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
