"""The refined boundary: secant steps, the error bar's propagation, the wiring with stand-in
rules (fast), the CLI's bad input, and (slow) one real omega."""

import importlib
import math

import pytest

from attnphase.cli import main
from attnphase.theory.boundary import Boundary
from attnphase.theory.fixed_point import TheoryPoint

# the module (the package's `refined_boundary` is the function of the same name)
rb = importlib.import_module("attnphase.theory.refined_boundary")


def _pair_root() -> float:
    """Crossing of sem(a) = 0.3 a^2 and pos(a) = 0.1 + 0.1 a: 0.3 a^2 - 0.1 a - 0.1 = 0."""
    return (0.1 + math.sqrt(0.01 + 0.12)) / 0.6


def test_secant_finds_the_crossing_of_two_curves():
    """From a start 0.03 off with a slope 20% wrong the steps reach the crossing; the
    reported residue bounds the remaining error (the secant converges superlinearly)."""
    calls = []

    def gap(a: float) -> float:
        calls.append(a)
        return 0.3 * a * a - (0.1 + 0.1 * a)

    root = _pair_root()
    true_slope = 0.6 * root - 0.1
    a, g0, slope, residue = rb.secant_root(gap, root - 0.03, 0.8 * true_slope, xtol=1e-9,
                                           max_evals=6)
    assert a == pytest.approx(root, abs=1e-12)
    assert g0 == gap(root - 0.03) and slope == pytest.approx(true_slope, rel=1e-3)
    calls.clear()
    a2, _, _, residue2 = rb.secant_root(gap, root - 0.03, 0.8 * true_slope, xtol=1e-9,
                                        max_evals=2)
    assert len(calls) == 2  # at least two evaluations, at most max_evals
    assert 0 < abs(a2 - root) <= residue2 < 0.03


def test_secant_stops_at_xtol():
    def gap(x):
        return math.exp(-x) - 0.5

    a, _, _, residue = rb.secant_root(gap, 0.6, -0.6, xtol=1e-3, max_evals=10)
    assert residue < 1e-3 and a == pytest.approx(math.log(2), abs=1e-3)


def test_error_bar_is_the_shift_of_the_root_under_the_spread():
    """A gap moved by a constant `spread` moves its root by spread / slope to first order:
    the bar's rule part against the roots found with and without the shift."""
    spread = 2e-4

    def gap(a, shift=0.0):
        return 0.3 * a * a - (0.1 + 0.1 * a) + shift

    root = _pair_root()
    shifted, *_ = rb.secant_root(lambda a: gap(a, spread), root, 0.5, xtol=1e-12, max_evals=8)
    slope = 0.6 * root - 0.1
    assert rb.error_bar(spread, slope, 0.0) == pytest.approx(abs(shifted - root), rel=2e-3)
    assert rb.error_bar(-spread, -slope, 1e-3) == pytest.approx(spread / slope + 1e-3)


# stand-in rules: eps_t, eps_g of each branch known functions of alpha plus a rule error
# k * r(n): r = 2^(-n/2) for Gauss-Hermite / split rules, 4^(-n) for the adaptive one
def _r(n: int, adaptive: bool) -> float:
    return 4.0**-n if adaptive else 2.0 ** (-n / 2)


def _k(branch: str) -> float:
    return 1e-3 if branch == "semantic" else -3e-3


def _point(alpha, branch, r, omega=0.3):
    sem = branch == "semantic"
    eps_t = (0.3 * alpha * alpha if sem else 0.1 + 0.1 * alpha) + _k(branch) * r
    eps_g = 0.5 - 0.4 * alpha + 2e-3 * r
    th = {"q_th": 0.1, "m_th": 0.0 if sem else 0.2, "theta_th": 0.1 if sem else 0.0, "V": 10.0}
    return TheoryPoint(alpha, omega, 0.5, 0.01, branch, 0.4, th["m_th"], 0.4, 10.0, eps_g,
                       eps_t, True, 1, 0.0, th, quad=8, _prox=(None, None))


def _fake_solve(alpha, omega=0.3, sigma=0.5, lam=0.01, A=None, branch="semantic", init=None,
                quad=8, **_):
    pt = _point(alpha, branch, _r(quad, False), omega)
    pt.quad = quad
    return pt


def _fake_adaptive(alpha, omega=0.3, sigma=0.5, lam=0.01, A=None, branch="positional",
                   n_eta=8, tol=1e-5, init=None, x0=None):
    assert init is not None and init.quad == 8  # the split rule's point starts the steps
    return _point(alpha, branch, _r(n_eta, True), omega)


def _crossing(c: float) -> float:
    """Root of 0.3 a^2 - 0.1 - 0.1 a + c."""
    return (0.1 + math.sqrt(0.01 + 1.2 * (0.1 - c))) / 0.6


def _offset(n_sem: int, n_pos: int, adaptive: bool) -> float:
    return _k("semantic") * _r(n_sem, False) - _k("positional") * _r(n_pos, adaptive)


def test_refined_boundary_moves_the_split_crossing_to_the_fine_rules(monkeypatch):
    """With stand-in rules the refined alpha_c is the fine rules' crossing, its bar the
    coarse-to-fine change of the gap over the slope plus the residue, and the crossing
    of the exact curves (no rule error) lies inside it; alpha_l likewise on eps_g of the
    branch with the lower eps_t there (positional at alpha 1)."""
    a_split = _crossing(_offset(8, 8, False))

    def fake_boundary(omegas, sigma, lam, A, spinodals, quad, **_):
        return [Boundary(omegas[0], a_split, 1.0, 0.1, None, None)]

    monkeypatch.setattr(rb, "solve", _fake_solve)
    monkeypatch.setattr(rb, "solve_adaptive", _fake_adaptive)
    monkeypatch.setattr(rb, "boundary", fake_boundary)
    monkeypatch.setattr(rb, "linear_theory", lambda *a: type("L", (), {"eps_g_lin": 0.1})())
    (res,) = rb.refined_boundary([0.3], xtol=1e-10)
    fine, coarse = _crossing(_offset(20, 8, True)), _crossing(_offset(16, 6, True))
    assert res.alpha_c_split == a_split and res.alpha_c_published == 1.241
    assert abs(fine - a_split) > 1e-4  # the refinement moves the crossing
    assert res.alpha_c == pytest.approx(fine, abs=1e-9)
    assert res.alpha_c_spread == pytest.approx(abs(fine - coarse), rel=0.02)
    assert res.alpha_c_err == pytest.approx(res.alpha_c_spread + res.alpha_c_residue)
    assert abs(_crossing(0.0) - res.alpha_c) < res.alpha_c_err
    # alpha_l: eps_g(positional) = 0.1 with the adaptive rule's error
    assert res.alpha_l == pytest.approx((0.4 + 2e-3 * _r(8, True)) / 0.4, abs=1e-9)
    spread = 2e-3 * (_r(6, True) - _r(8, True)) / 0.4
    assert res.alpha_l_spread == pytest.approx(spread, rel=1e-6)
    assert res.unconverged == 0


@pytest.mark.parametrize("args, needle", [
    (["--n-eta", "8,6"], "--n-eta '8,6'"),
    (["--n-eta", "8"], "--n-eta '8'"),
    (["--n-sem", "16,x"], "--n-sem '16,x'"),
    (["--rank", "2"], "--refine: only with --rank 1"),
])
def test_refine_bad_input_is_one_line_exit_2(args, needle, capsys, tmp_path):
    out = tmp_path / "r.csv"
    code = main(["theory", "boundary", "--omegas", "0.3", "--error", "--refine", *args,
                 "--csv", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.slow
def test_refined_alpha_c_at_omega_0p3():
    """One real omega (5 CPU minutes): the full run gave 1.2520 +- 0.0001 from the 8-node
    1.2522 (results/paper/theory_boundary_refined.csv); a coarser 8-node grid must land
    there too, within a bar far below the old 6-against-8-node one (0.010)."""
    (res,) = rb.refined_boundary([0.3], alpha_range=(1.1, 1.4), n_alpha=3, multistart=False)
    assert abs(res.alpha_c - res.alpha_c_split) < 0.01
    assert 0 < res.alpha_c_err < 0.002
    assert res.alpha_c == pytest.approx(1.2520, abs=0.002)
    assert res.alpha_l is None  # alpha_l ~ 1.49 is outside the range
