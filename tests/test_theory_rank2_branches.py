"""Rank-2 theory: the convergence test on the quadrature's scale, the isotropic trivial
branch, and the rank-2 boundary and its CLI (small rules: these check the code paths and
the equations' identities, not the paper-scale numbers of docs/theory_rank2.md)."""

import argparse
import json

import numpy as np
import pytest

from attnphase.errors import InputError
from attnphase.theory.channel import Problem, check_A
from attnphase.theory.cli import register
from attnphase.theory.rank2_boundary import (
    boundary_from_points,
    boundary_rank2,
    crossing,
    global_point,
    learned,
)
from attnphase.theory.rank2_equations import Channel2
from attnphase.theory.rank2_plot import plot_rank2
from attnphase.theory.rank2_quadrature import qmc_rule
from attnphase.theory.rank2_solve import KAPPA, Rank2Point, initial, solve_rank2
from attnphase.theory.rank2_state import State2, align, canonical

SIGMA, LAM = 0.5, 0.01


@pytest.mark.parametrize("alpha", [0.3, 1.5, 4.0])
def test_trivial_branch_converges_isotropic(alpha):
    """The trivial branch (m = theta = 0, q and V multiples of I) converges from its cold
    start where the unconstrained m = theta = 0 iteration drove D below lam / 2 (alpha = 1.5);
    D = sigma^2 V^-1 stays above the safeguard, and -Phi is the training loss."""
    rule = qmc_rule(32, 8)
    p = solve_rank2(alpha, 0.3, SIGMA, LAM, branch="trivial", rule=rule)
    assert p.converged
    s = p.state
    assert np.allclose(s.q, s.q[0, 0] * np.eye(2)) and np.allclose(s.V, s.V[0, 0] * np.eye(2))
    assert p.inv["theta_norm"] == 0 and p.inv["m_norm"] == 0 and p.inv["q_eig2"] > 0
    D = SIGMA**2 / s.V[0, 0]
    assert 0.5 * LAM < D
    pb = Problem(alpha, 0.3, SIGMA, LAM, check_A(None), "trivial")
    values = Channel2(pb, rule.nodes, rule.weights).per_node(s, True)
    direct = alpha / 2 * rule.weights @ values["loss_h"] + LAM / 2 * np.trace(s.q) / SIGMA**2
    assert p.eps_t == pytest.approx(direct, abs=3 * p.err["eps_t"] + 1e-9)


def test_convergence_is_measured_against_the_quadrature_error():
    """A point that stopped at the iteration cap under the old relative test (positional,
    alpha = 1) converges: its last step is below KAPPA times the one-step quadrature error
    or 1e-5 of its matrix's scale in every component; the fixed point's own error, from the
    fixed points of the k blocks, is reported for every output."""
    p = solve_rank2(1.0, 0.3, SIGMA, LAM, branch="positional", rule=qmc_rule(32, 8),
                    fp_error=True)
    assert p.converged and p.iterations < 200
    assert p.residual_qmc <= KAPPA
    assert set(p.inv) <= set(p.fp_err) and {"eps_g", "eps_t"} <= set(p.fp_err)
    assert all(np.isfinite(v) and v >= 0 for v in p.fp_err.values())
    assert p.fp_err["theta_norm"] == 0 and p.fp_err["m_norm"] > 0
    row = p.row()
    assert "fperr_eps_t" in row and "residual_qmc" in row


def _fake(alpha: float, branch: str, eps_t: float, eps_g: float, theta: float,
          err: float = 1e-5) -> Rank2Point:
    """A converged point with given outputs (for the boundary's bookkeeping)."""
    inv = {"theta_norm": theta, "m_norm": 0.2, "q_eig1": 0.3, "q_eig2": 0.1}
    return Rank2Point(alpha, 0.3, SIGMA, LAM, branch, eps_g, eps_t, True, 1, 0.0, 0.0, inv,
                      {"eps_t": err, "eps_g": err, "theta_norm": err},
                      initial(branch, SIGMA, LAM))


def _points(alphas, err=1e-5):
    """Linear eps_t: mixed - positional = 0.0005 - 0.0004 alpha (down-crossing at 1.25);
    semantic above both; eps_g(mixed) = 0.004 - 0.001 alpha, eps_g(positional) = 0.005."""
    return [{"positional": _fake(a, "positional", 0.002 * a, 0.005, 0.0, err),
             "mixed": _fake(a, "mixed", 0.0024 * a - 0.0004 * a + 0.0005 - 0.0004 * a,
                            0.004 - 0.001 * a, 0.4, err),
             "semantic": _fake(a, "semantic", 0.003 * a + 0.001, 0.002, 0.5, err)}
            for a in alphas]


def test_boundary_from_points_exact_on_linear_data():
    """alpha_c: the last down-crossing of eps_t(theta > 0) - eps_t(positional), exact for
    linear data; alpha_l: the first down-crossing of eps_g(global minimiser) - eps_g_lin,
    where the minimiser switches from positional to mixed (1 + 0.5 * 1.5 / 2.5 = 1.3). The
    error bars equal a finite-difference propagation of the eps errors."""
    alphas = [0.5, 1.0, 1.5, 2.0]
    bd = boundary_from_points(alphas, _points(alphas), 0.3, 0.0035, True)
    assert bd.alpha_c == pytest.approx(1.25, abs=1e-12)
    assert bd.alpha_l == pytest.approx(1.3, abs=1e-12)
    y = np.array([p["mixed"].eps_t - p["positional"].eps_t for p in _points(alphas)])
    e = np.hypot(1e-5, 1e-5)
    h = 1e-9
    grads = []
    for k in (1, 2):
        yp = y.copy()
        yp[k] += h
        grads.append((crossing(alphas, yp, [0] * 4, (1, 2))[0] - 1.25) / h)
    assert bd.alpha_c_err == pytest.approx(e * np.hypot(*grads), rel=1e-4)
    assert boundary_from_points(alphas, _points(alphas), 0.3, 0.0035, False).alpha_c_err is None
    none = boundary_from_points(alphas, _points(alphas), 0.3, 0.0001, True)
    assert none.alpha_l is None  # eps_g never falls below the baseline


def test_alpha_merge_exact_on_linear_theta_squared():
    """|theta|^2 = 0.2 (alpha - 0.4) on the mixed branch, merged (theta = 0, semantic off)
    at alpha = 0.25: alpha_merge = 0.4 from the two lowest grid points where theta > 0;
    none where the branch has theta > 0 down to the grid's first point."""
    alphas = [0.25, 0.5, 1.0, 1.5]
    pts = _points(alphas)
    for a, p in zip(alphas, pts, strict=True):
        p["mixed"].inv["theta_norm"] = np.sqrt(max(0.2 * (a - 0.4), 0.0))
        p["semantic"].converged = False
    bd = boundary_from_points(alphas, pts, 0.3, 0.0035, True)
    assert bd.alpha_merge == pytest.approx(0.4, abs=1e-12) and bd.alpha_merge_err > 0
    assert boundary_from_points(alphas[1:], pts[1:], 0.3, 0.0035, True).alpha_merge is None


def test_learned_ignores_theta_zero_and_unconverged_points():
    pts = _points([1.0])[0]
    assert learned(pts).branch == "mixed"
    pts["mixed"].inv["theta_norm"] = 0.0  # merged into the positional branch
    assert learned(pts).branch == "semantic"
    pts["semantic"].inv["theta_norm"] = 0.02  # within 3 errors (0.01) of 0
    pts["semantic"].err["theta_norm"] = 0.01
    assert learned(pts) is None
    pts["semantic"].inv["theta_norm"] = 0.5
    pts["semantic"].converged = False
    assert learned(pts) is None


@pytest.fixture(scope="module")
def small_boundary():
    """The rank-2 boundary at omega = 0.3 on a 2-point grid, 256-node rule (with 128 the
    positional branch does not converge: 16 nodes per block)."""
    res, pts = boundary_rank2([0.3], [1.5, 2.0], SIGMA, LAM, rule=qmc_rule(32, 8))
    return res[0], pts[0.3]


def test_rank2_boundary_small_rule(small_boundary):
    """On a small rule the mixed branch has the lowest eps_t at alpha = 1 to 2 (as at 4096
    nodes, docs/theory_rank2.md §8): no alpha_c inside the grid; every point carries its
    one-step error."""
    bd, pts = small_boundary
    assert bd.alpha_c is None and bd.alpha_c_err is None
    for p in pts:
        assert all(q.converged for q in p.values())
        assert global_point(p).branch == "mixed" and learned(p).branch == "mixed"
        assert all(q.err["eps_t"] > 0 for q in p.values())


def test_rank2_plot_writes_png(small_boundary, tmp_path):
    bd, pts = small_boundary
    out = tmp_path / "r2.png"
    plot_rank2([1.5, 2.0], pts, bd, SIGMA, LAM, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_boundary_and_plot_rank2(capsys, tmp_path):
    assert _run(["theory", "boundary", "--rank", "2", "--omegas", "0.3", "--alphas-range",
                 "1.5:2", "--n-alpha", "3", "--qmc", "32", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["omega"] == 0.3 and row["eps_g_lin"] > 0 and "alpha_c_err" in row
    with pytest.raises(InputError, match="--qmc 100"):
        _run(["theory", "boundary", "--rank", "2", "--omegas", "0.3", "--qmc", "100"])
    with pytest.raises(InputError, match="--qmc 8"):
        _run(["theory", "plot", "--rank", "2", "--qmc", "8", "--out", str(tmp_path / "a.png")])
    with pytest.raises(InputError, match="--out"):
        _run(["theory", "plot", "--rank", "2", "--out", str(tmp_path / "a.pdf")])
    with pytest.raises(InputError, match="--error"):
        _run(["theory", "curve", "--error", "--alphas", "1"])
    assert not list(tmp_path.iterdir())


def test_align_keeps_reflected_and_flipped_images_apart():
    """The iteration's frame: a small rotation of a state is undone, but its reflected
    (m_2 -> -m_2) or sign-flipped (theta, m -> -theta, -m) copies stay apart, where
    `canonical` maps them onto the state (which once let a 2-cycle m -> -m pass for a fixed
    point: mixed, alpha = 1, cold start, with eps_t < 0)."""
    s = align(State2(np.array([[0.035, 0.0], [0.0, 0.023]]), np.array([0.0, 0.22]),
                     np.array([0.064, 0.0]), np.array([[24.0, 0.1], [0.1, 18.0]])))
    ang = 0.2
    O = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    assert np.allclose(align(s.rotated(O)).vector(), s.vector(), atol=1e-12)
    for R in (np.diag([1.0, -1.0]), -np.eye(2)):
        copy = s.rotated(R)
        assert np.allclose(canonical(copy).vector(), canonical(s).vector(), atol=1e-12)
        assert np.abs(align(copy).vector() - s.vector()).max() > 0.1
