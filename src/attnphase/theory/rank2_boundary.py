"""Phase boundaries of the rank-2 theory (docs/theory_rank2.md §10): alpha_c and alpha_l.

Per omega, the semantic, mixed and positional branches on an alpha grid (continuation from
the largest alpha down, `curve_rank2`). The student that has learned the teacher is the
theta > 0 branch with the lower eps_t (the mixed one wherever it exists, §5); alpha_c is
the last down-crossing of `eps_t(theta > 0) - eps_t(positional)`, alpha_l the first
down-crossing of `eps_g(global minimiser) - eps_g_lin` (the rules of `attnphase.transitions`,
as for rank 1), both located by linear interpolation inside the grid cell. Where the
theta > 0 branch does not cross the positional one but merges into it (|theta| -> 0
continuously as alpha falls, as at omega = 0.3), `alpha_merge` is where |theta|^2
extrapolates linearly to 0 from its two lowest grid points (the mean-field form of a
continuous transition). Error bars: the errors of the grid points' values (the fixed
points' own errors with `fp_error`), propagated through the interpolation; the
interpolation's (and the extrapolation form's) not included.

`refine=True` (a rank-2 point costs 10-40 CPU s, so it is optional): each crossing is then
moved from the linear interpolation (kept as `alpha_c_linear`, `alpha_l_linear`) to the
root by regula falsi (Illinois, `boundary.illinois_root` as for rank 1) on new solves inside the
crossing cell, each branch warm-started from its nearest solved point, until the bracket
or the step is below `xtol` or `max_steps` solves are spent. A step whose solves do not
converge, or whose theta > 0 (alpha_c) or global (alpha_l) point is on another branch than
at the cell's ends, stops the refinement with the last valid bracket (`refine_note` says
where and why). The residue (the last step, or the distance to the bracket's far end where
stopped early) is reported and added to the error bar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..transitions import downcrossing_cells
from .boundary import illinois_root
from .linear import linear_theory
from .rank2_quadrature import QMCRule
from .rank2_solve import Rank2Point, curve_rank2, solve_rank2

BRANCHES = ("semantic", "mixed", "positional")
THETA_MIN = 1e-3  # |theta| below this: the point sits on the theta = 0 branch
XTOL = 1e-3  # alpha tolerance of the root refinement
MAX_STEPS = 4  # solves of each branch per refined crossing (at most)

Points = dict[str, Rank2Point]


@dataclass
class Boundary2:
    """Rank-2 boundaries at one omega (None where no crossing lies on the grid). With
    refinement: `*_linear` the grid's linear interpolation, `*_residue` what refinement
    left (in the error bar), `refine_note` why a refinement stopped early."""

    omega: float
    alpha_c: float | None
    alpha_l: float | None
    eps_g_lin: float
    alpha_c_err: float | None = None
    alpha_l_err: float | None = None
    alpha_merge: float | None = None
    alpha_merge_err: float | None = None
    alpha_c_linear: float | None = None
    alpha_c_residue: float | None = None
    alpha_l_linear: float | None = None
    alpha_l_residue: float | None = None
    refine_note: str | None = None

    def row(self) -> dict[str, float | str | None]:
        return dict(self.__dict__)


def _err(p: Rank2Point, key: str) -> float:
    """The fixed point's own error of `key` where computed, else the one-step error."""
    return float(p.fp_err.get(key, p.err.get(key, np.nan)))


def learned(points: Points) -> Rank2Point | None:
    """The converged theta > 0 point (semantic or mixed) with the lower eps_t; |theta| must
    exceed THETA_MIN and 3 times its error (else the point is on the theta = 0 branch)."""
    def ok(p: Rank2Point) -> bool:
        th = p.inv["theta_norm"]
        return p.converged and th > THETA_MIN and not th <= 3 * _err(p, "theta_norm")

    cands = [points[b] for b in ("semantic", "mixed") if b in points and ok(points[b])]
    return min(cands, key=lambda p: p.eps_t, default=None)


def global_point(points: Points) -> Rank2Point | None:
    """The converged point with the lowest eps_t (the global minimiser among the branches)."""
    return min((p for p in points.values() if p.converged), key=lambda p: p.eps_t,
               default=None)


def _delta(pts: Points) -> tuple[float, float]:
    """eps_t(theta > 0) - eps_t(positional) and its error; NaN where either is missing."""
    sem, pos = learned(pts), pts.get("positional")
    if sem is None or pos is None or not pos.converged:
        return np.nan, np.nan
    return sem.eps_t - pos.eps_t, float(np.hypot(_err(sem, "eps_t"), _err(pos, "eps_t")))


def _gap(pts: Points, eps_g_lin: float) -> tuple[float, float]:
    """eps_g(global minimiser) - eps_g_lin and its error; NaN where no point converged."""
    glob = global_point(pts)
    return (np.nan, np.nan) if glob is None else (glob.eps_g - eps_g_lin, _err(glob, "eps_g"))


def crossing(a: Sequence[float], y: Sequence[float], e: Sequence[float],
             cell: tuple[int, int]) -> tuple[float, float]:
    """Zero of the line through (a_i, y_i), (a_j, y_j) and its error from the errors e of y."""
    i, j = cell
    dy = y[i] - y[j]
    x = a[i] + (a[j] - a[i]) * y[i] / dy
    grad = (a[j] - a[i]) / dy**2 * np.array([-y[j], y[i]])
    return float(x), float(np.hypot(grad[0] * e[i], grad[1] * e[j]))


def boundary_from_points(alphas: Sequence[float], points: list[Points],
                         omega: float, eps_g_lin: float, errors: bool) -> Boundary2:
    """alpha_c, alpha_l from the branches' points at each grid alpha (ascending)."""
    a = list(alphas)
    delta, e_delta = np.reshape([_delta(p) for p in points], (-1, 2)).T
    gap, e_gap = np.reshape([_gap(p, eps_g_lin) for p in points], (-1, 2)).T
    out = Boundary2(float(omega), None, None, float(eps_g_lin))
    cells = downcrossing_cells(a, delta)
    if cells:
        out.alpha_c, err = crossing(a, delta, e_delta, cells[-1])
        out.alpha_c_err = err if errors else None
    cells = downcrossing_cells(a, gap)
    if cells:
        out.alpha_l, err = crossing(a, gap, e_gap, cells[0])
        out.alpha_l_err = err if errors else None
    out.alpha_merge, err = _merge(a, points)
    out.alpha_merge_err = err if errors and out.alpha_merge is not None else None
    return out


def _merge(a: list[float], points: list[Points]) -> tuple[float | None, float | None]:
    """Where |theta|^2 of the theta > 0 branch extrapolates to 0 below its lowest two grid
    points, if at a lower grid point (or below the grid) it has merged; None otherwise."""
    have = [i for i, pts in enumerate(points) if learned(pts) is not None]
    if len(have) < 2 or have[0] == 0 or have[1] != have[0] + 1:
        return None, None
    i, j = have[0], have[1]
    pi, pj = learned(points[i]), learned(points[j])
    y = [pi.inv["theta_norm"] ** 2, pj.inv["theta_norm"] ** 2]
    e = [2 * p.inv["theta_norm"] * _err(p, "theta_norm") for p in (pi, pj)]
    if not y[1] > y[0]:
        return None, None
    # the zero of the line through (a_i, y_i), (a_j, y_j): `crossing` of -y (a down-crossing)
    x, err = crossing([a[i], a[j]], [-y[0], -y[1]], e, (0, 1))
    return x, err


class _Solves:
    """New solves at one omega, each branch warm-started from its nearest converged point
    (the grid's or an earlier refinement step's)."""

    def __init__(self, alphas: Sequence[float], points: list[Points], **kw):
        self.known = list(zip(alphas, points, strict=True))
        self.kw = kw

    def at(self, alpha: float, branches: Sequence[str]) -> Points:
        out = {}
        for b in branches:
            near = [(abs(a - alpha), p[b]) for a, p in self.known if b in p and p[b].converged]
            start = min(near, key=lambda t: t[0])[1].state
            out[b] = solve_rank2(alpha, branch=b, init=start, **self.kw)
        self.known.append((alpha, out))
        return out


@dataclass
class _Refined:
    """A refined crossing: root, its fixed-point error, the residue, why it stopped early."""

    alpha: float
    err: float
    residue: float
    note: str | None


def _refine(a: list[float], points: list[Points], cell: tuple[int, int],
            gap: Callable[[Points], tuple[float, float]],
            pick: Callable[[Points], Rank2Point | None], what: str, solves: _Solves,
            xtol: float, max_steps: int) -> _Refined:
    """The root of `gap` in the grid cell by regula falsi (`boundary.illinois_root`) on new solves
    of every branch converged at either end; `pick` gives the `what` point the gap is taken
    on, which must be on a branch it is on at one of the ends. The error: the fixed-point
    errors propagated through the line between the last bracket's ends."""
    i, j = cell
    ends = (points[i], points[j])
    branches = [b for b in BRANCHES if any(b in p and p[b].converged for p in ends)]
    needed = [b for b in branches if all(b in p and p[b].converged for p in ends)]
    expected = {pick(p).branch for p in ends}
    lo, hi = [a[i], *gap(points[i])], [a[j], *gap(points[j])]  # [alpha, gap, error]
    last: float | None = None
    note: str | None = None

    def f(x: float) -> float:
        nonlocal last, note
        pts = solves.at(x, branches)
        failed = [b for b in needed if not pts[b].converged]
        p = pick(pts)
        y, e = gap(pts)
        if failed:
            note = f"{', '.join(failed)} did not converge"
        elif p is None or not np.isfinite(y):
            note = f"no {what} point"
        elif p.branch not in expected:
            note = (f"the {what} point is {p.branch}, not {'/'.join(sorted(expected))} as "
                    "at the cell's ends")
        else:
            last = x
            (lo if y > 0 else hi)[:] = [x, y, e]
            return y
        note = f"stopped at alpha {x:.6g}: {note}"
        return np.nan

    root = float(illinois_root(f, a[i], a[j], lo[1], hi[1], xtol, max_steps))
    bound = max(root - lo[0], hi[0] - root)
    residue = bound if note is not None or last is None else min(bound, abs(root - last))
    if note is None and residue > xtol:
        note = f"residue {residue:.2g} above {xtol:g} after {max_steps} steps"
    _, err = crossing([lo[0], hi[0]], [lo[1], hi[1]], [lo[2], hi[2]], (0, 1))
    return _Refined(root, err, residue, note)


def _refine_boundary(bd: Boundary2, alphas: Sequence[float], points: list[Points],
                    solves: _Solves, errors: bool, xtol: float = XTOL,
                    max_steps: int = MAX_STEPS) -> None:
    """Move bd's alpha_c and alpha_l (from `boundary_from_points` on these points) to the
    roots (`_refine`) in place: linear values to `*_linear`, bars to error + residue."""
    a = list(alphas)
    lin = bd.eps_g_lin
    notes = []
    for name, gap, pick, what, which in (
            ("alpha_c", _delta, learned, "theta > 0", -1),
            ("alpha_l", lambda p: _gap(p, lin), global_point, "global", 0)):
        if getattr(bd, name) is None:
            continue
        cells = downcrossing_cells(a, [gap(p)[0] for p in points])
        r = _refine(a, points, cells[which], gap, pick, what, solves, xtol, max_steps)
        setattr(bd, f"{name}_linear", getattr(bd, name))
        setattr(bd, name, r.alpha)
        setattr(bd, f"{name}_residue", r.residue)
        setattr(bd, f"{name}_err", r.err + r.residue if errors else None)
        if r.note:
            notes.append(f"{name}: {r.note}")
    bd.refine_note = "; ".join(notes) or None


def boundary_rank2(omegas: Sequence[float], alphas: Sequence[float], sigma: float = 0.5,
                   lam: float = 0.01, A: Sequence[Sequence[float]] | None = None,
                   rule: QMCRule | None = None, fp_error: bool = False, refine: bool = False,
                   xtol: float = XTOL, max_steps: int = MAX_STEPS,
                   ) -> tuple[list[Boundary2], dict[float, list[Points]]]:
    """Rank-2 alpha_c, alpha_l per omega on the grid `alphas`; also the points per omega
    (`points[omega][i][branch]`, grid ascending). `fp_error`: error bars from the fixed
    points' own errors (about twice the cost); else none are reported. `refine`: the
    crossings refined to `xtol` in alpha (`_refine_boundary`; up to `max_steps` solves of
    each branch per crossing)."""
    grid = sorted(float(x) for x in alphas)
    res, all_points = [], {}
    for omega in omegas:
        curves = {b: curve_rank2(grid, float(omega), sigma, lam, b, A, rule=rule,
                                 fp_error=fp_error) for b in BRANCHES}
        pts = [{b: curves[b][i] for b in BRANCHES} for i in range(len(grid))]
        lin = linear_theory(float(omega), sigma, A).eps_g_lin
        bd = boundary_from_points(grid, pts, float(omega), lin, fp_error)
        if refine:
            solves = _Solves(grid, pts, omega=float(omega), sigma=sigma, lam=lam, A=A,
                             rule=rule, fp_error=fp_error)
            _refine_boundary(bd, grid, pts, solves, fp_error, xtol, max_steps)
        res.append(bd)
        all_points[float(omega)] = pts
    return res, all_points
