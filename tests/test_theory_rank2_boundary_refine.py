"""Root refinement of the rank-2 boundaries (`boundary_rank2(refine=True)`, `theory boundary
--rank 2 --refine-roots`) on a cheap stand-in for the rank-2 solver: analytic branches
whose crossings are known exactly, so the refined roots, the linear interpolation's error
and the early stops can be checked without solving the rank-2 equations."""

import json
import math
from types import SimpleNamespace

import pytest

from attnphase.cli import main
from attnphase.theory import rank2_boundary as rb
from attnphase.theory.rank2_solve import Rank2Point

SIGMA, LAM = 0.5, 0.01
GRID = [0.5, 1.0, 1.5, 2.0]
LIN = 0.0035  # eps_g_lin of the stand-in
A_C = 1.2345  # the exact alpha_c: eps_t(mixed) - eps_t(positional) = D(alpha)
A_L = 1.7654  # the exact alpha_l: eps_g(mixed) - LIN = G(alpha), mixed global above A_C
ERR = 1e-7  # each stand-in point's error of eps_t and eps_g


def D(alpha: float) -> float:
    """Convex in alpha: the chord through two grid points misses its root."""
    return 1e-3 * (math.exp(2 * (A_C - alpha)) - 1)


def G(alpha: float) -> float:
    return 1e-3 * (math.exp(A_L - alpha) - 1)


class StandIn:
    """Analytic positional, mixed and semantic points; records every solve, and makes the
    mixed solves inside the grid fail from the `fail_from`-th on (`mode`: not converged,
    or converged onto theta = 0)."""

    def __init__(self, fail_from: int | None = None, mode: str = "unconverged"):
        self.calls: list[tuple[float, str, object]] = []
        self.fail_from, self.mode = fail_from, mode

    def point(self, alpha: float, branch: str, fail: bool = False) -> Rank2Point:
        pos = 0.002 * alpha
        eps_t, eps_g, theta = {"positional": (pos, 0.005, 0.0),
                               "mixed": (pos + D(alpha), LIN + G(alpha), 0.4),
                               "semantic": (pos + 0.01, 0.002, 0.5)}[branch]
        converged = not (fail and self.mode == "unconverged")
        theta = 0.0 if fail and self.mode == "theta0" else theta
        inv = {"theta_norm": theta, "m_norm": 0.2, "q_eig1": 0.3, "q_eig2": 0.1}
        return Rank2Point(alpha, 0.3, SIGMA, LAM, branch, eps_g, eps_t, converged, 1, 0.0,
                          0.0, inv, {"eps_t": ERR, "eps_g": ERR, "theta_norm": ERR},
                          (branch, alpha), fp_err={"eps_t": ERR, "eps_g": ERR})

    def curve(self, alphas, omega, sigma, lam, branch, A, **kw) -> list[Rank2Point]:
        return [self.point(a, branch) for a in alphas]

    def solve(self, alpha: float, branch: str, init, **kw) -> Rank2Point:
        done = sum(c[1] == "mixed" for c in self.calls)
        fail = branch == "mixed" and self.fail_from is not None and done >= self.fail_from
        pt = self.point(alpha, branch, fail)
        self.calls.append((alpha, branch, init))
        return pt


@pytest.fixture
def stand_in(monkeypatch):
    def install(**kw) -> StandIn:
        s = StandIn(**kw)
        monkeypatch.setattr(rb, "curve_rank2", s.curve)
        monkeypatch.setattr(rb, "solve_rank2", s.solve)
        monkeypatch.setattr(rb, "linear_theory", lambda *a: SimpleNamespace(eps_g_lin=LIN))
        return s
    return install


def _chord_root(f, a: float, b: float) -> float:
    return a + (b - a) * f(a) / (f(a) - f(b))


def _run(**kw) -> rb.Boundary2:
    (bd,), _ = rb.boundary_rank2([0.3], GRID, SIGMA, LAM, fp_error=True, **kw)
    return bd


def test_refined_roots_within_tolerance(stand_in):
    """Both crossings land within xtol of the exact roots; the linear values are the chords'
    roots, off by their interpolation error (far above xtol); the bars hold the residue."""
    s = stand_in()
    bd = _run(refine=True)
    assert bd.alpha_c_linear == pytest.approx(_chord_root(D, 1.0, 1.5), abs=1e-12)
    assert bd.alpha_l_linear == pytest.approx(_chord_root(G, 1.5, 2.0), abs=1e-12)
    assert bd.alpha_c_linear - A_C > 0.05 and bd.alpha_l_linear - A_L > 0.01
    assert abs(bd.alpha_c - A_C) < rb.XTOL and abs(bd.alpha_l - A_L) < rb.XTOL
    for name in ("alpha_c", "alpha_l"):
        residue, err = getattr(bd, f"{name}_residue"), getattr(bd, f"{name}_err")
        assert 0 <= residue < rb.XTOL and residue < err < residue + 1e-3
    assert bd.refine_note is None
    # every step solved each branch converged at the cell's ends, at most MAX_STEPS times
    per = {b: sum(c[1] == b for c in s.calls) for b in rb.BRANCHES}
    assert 0 < per["mixed"] == per["positional"] == per["semantic"] <= 2 * rb.MAX_STEPS


def test_tight_tolerance_and_warm_starts(stand_in):
    """With a tight xtol the root is exact to it; the first step (at the linear value 1.296)
    starts each branch from the nearer grid point (1.5), later ones from nearer steps."""
    s = stand_in()
    bd = _run(refine=True, xtol=1e-8, max_steps=30)
    assert bd.alpha_c == pytest.approx(A_C, abs=1e-8)
    assert bd.alpha_l == pytest.approx(A_L, abs=1e-8)
    first = s.calls[0]
    assert first[0] == pytest.approx(bd.alpha_c_linear) and first[2] == (first[1], 1.5)
    for k, (x, branch, init) in enumerate(s.calls):
        known = GRID + [c[0] for c in s.calls[:k] if c[1] == branch]
        assert init[1] == min(known, key=lambda a: abs(a - x))


def test_without_refine_nothing_moves(stand_in):
    s = stand_in()
    bd = _run()
    assert bd.alpha_c == pytest.approx(_chord_root(D, 1.0, 1.5), abs=1e-12)
    assert bd.alpha_c_linear is None and bd.alpha_c_residue is None
    assert bd.refine_note is None and not s.calls


@pytest.mark.parametrize("mode, why", [
    ("unconverged", "mixed did not converge"),
    ("theta0", "the theta > 0 point is semantic, not mixed"),
])
def test_failed_step_stops_with_last_bracket(stand_in, mode, why):
    """The second step's mixed solve fails (not converged, or onto theta = 0 so that the
    theta > 0 point is the semantic branch's): refinement stops there with the bracket of
    the first step [1, linear value], the estimate inside it and the residue reaching
    both ends; the note says where and why."""
    stand_in(fail_from=1, mode=mode)
    bd = _run(refine=True)
    lin = bd.alpha_c_linear
    assert 1.0 < bd.alpha_c < lin
    assert bd.alpha_c_residue == pytest.approx(max(bd.alpha_c - 1.0, lin - bd.alpha_c))
    assert abs(bd.alpha_c - A_C) <= bd.alpha_c_residue < bd.alpha_c_err
    assert bd.refine_note.startswith("alpha_c: stopped at alpha ") and why in bd.refine_note
    # the first step went through: the estimate is the next regula falsi point
    assert bd.alpha_c == pytest.approx(_chord_root(D, 1.0, lin), abs=1e-12)


def test_first_step_failing_keeps_linear_value(stand_in):
    stand_in(fail_from=0)
    bd = _run(refine=True)
    assert bd.alpha_c == bd.alpha_c_linear
    assert bd.alpha_c_residue == pytest.approx(max(bd.alpha_c - 1.0, 1.5 - bd.alpha_c))
    assert "alpha_c: stopped" in bd.refine_note and "alpha_l: stopped" in bd.refine_note


def test_step_budget_reported(stand_in):
    """One step is not enough for 1e-3: the residue (the last step) is reported above it."""
    stand_in()
    bd = _run(refine=True, max_steps=1)
    assert bd.alpha_c_residue > rb.XTOL and abs(bd.alpha_c - A_C) < bd.alpha_c_linear - A_C
    assert "alpha_c: residue" in bd.refine_note and "after 1 steps" in bd.refine_note


def test_cli_refine_roots(stand_in, capsys):
    stand_in()
    assert main(["theory", "boundary", "--rank", "2", "--omegas", "0.3", "--alphas-range",
                 "0.5:2", "--n-alpha", "4", "--refine-roots", "--error", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert abs(row["alpha_c"] - A_C) < rb.XTOL and row["alpha_c_linear"] > A_C + 0.05
    assert row["alpha_c_err"] >= row["alpha_c_residue"] >= 0


@pytest.mark.parametrize("args, needle", [
    (["--rank", "2", "--refine"], "--refine: only with --rank 1"),
    (["--refine-roots"], "--refine-roots: only with --rank 2"),
])
def test_cli_refine_flags_bad_input(args, needle, capsys):
    assert main(["theory", "boundary", "--omegas", "0.3", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_real_alpha_l_at_omega_0p3():
    """The measured run of docs/theory_rank2.md §10 (about 70 CPU s, 4096 nodes): alpha_l
    on the grid 1, 1.5, 2 moves from the linear 1.4221 to 1.4187, within the tolerance."""
    (bd,), _ = rb.boundary_rank2([0.3], [1.0, 1.5, 2.0], SIGMA, LAM, refine=True)
    assert bd.alpha_c is None and bd.refine_note is None
    assert bd.alpha_l_linear == pytest.approx(1.4221, abs=1e-4)
    assert bd.alpha_l == pytest.approx(1.4187, abs=rb.XTOL) and bd.alpha_l_residue < rb.XTOL
