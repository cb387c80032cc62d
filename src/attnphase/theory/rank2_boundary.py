"""Phase boundaries of the rank-2 theory (docs/theory_rank2.md §10): alpha_c and alpha_l.

Per omega, the semantic, mixed and positional branches on an alpha grid (continuation from
the largest alpha down, `curve_rank2`). The student that has learned the teacher is the
theta > 0 branch with the lower eps_t (the mixed one wherever it exists, §5); alpha_c is
the last down-crossing of `eps_t(theta > 0) - eps_t(positional)`, alpha_l the first
down-crossing of `eps_g(global minimiser) - eps_g_lin` (the rules of `attnphase.transitions`,
as for rank 1), both located by linear interpolation inside the grid cell (a rank-2 point
costs 10-40 CPU s: no root refinement). Where the theta > 0 branch does not cross the
positional one but merges into it (|theta| -> 0 continuously as alpha falls, as at
omega = 0.3), `alpha_merge` is where |theta|^2 extrapolates linearly to 0 from its two
lowest grid points (the mean-field form of a continuous transition). Error bars: the errors
of the grid points' values (the fixed points' own errors with `fp_error`), propagated
through the interpolation; the interpolation's (and the extrapolation form's) not included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..transitions import downcrossing_cells
from .linear import linear_theory
from .rank2_quadrature import QMCRule
from .rank2_solve import Rank2Point, curve_rank2

BRANCHES = ("semantic", "mixed", "positional")
THETA_MIN = 1e-3  # |theta| below this: the point sits on the theta = 0 branch


@dataclass
class Boundary2:
    """Rank-2 boundaries at one omega (None where no crossing lies on the grid)."""

    omega: float
    alpha_c: float | None
    alpha_l: float | None
    eps_g_lin: float
    alpha_c_err: float | None = None
    alpha_l_err: float | None = None
    alpha_merge: float | None = None
    alpha_merge_err: float | None = None

    def row(self) -> dict[str, float | None]:
        return dict(self.__dict__)


def _err(p: Rank2Point, key: str) -> float:
    """The fixed point's own error of `key` where computed, else the one-step error."""
    return float(p.fp_err.get(key, p.err.get(key, np.nan)))


def learned(points: dict[str, Rank2Point]) -> Rank2Point | None:
    """The converged theta > 0 point (semantic or mixed) with the lower eps_t; |theta| must
    exceed THETA_MIN and 3 times its error (else the point is on the theta = 0 branch)."""
    def ok(p: Rank2Point) -> bool:
        th = p.inv["theta_norm"]
        return p.converged and th > THETA_MIN and not th <= 3 * _err(p, "theta_norm")

    cands = [points[b] for b in ("semantic", "mixed") if b in points and ok(points[b])]
    return min(cands, key=lambda p: p.eps_t, default=None)


def global_point(points: dict[str, Rank2Point]) -> Rank2Point | None:
    """The converged point with the lowest eps_t (the global minimiser among the branches)."""
    return min((p for p in points.values() if p.converged), key=lambda p: p.eps_t,
               default=None)


def crossing(a: Sequence[float], y: Sequence[float], e: Sequence[float],
             cell: tuple[int, int]) -> tuple[float, float]:
    """Zero of the line through (a_i, y_i), (a_j, y_j) and its error from the errors e of y."""
    i, j = cell
    dy = y[i] - y[j]
    x = a[i] + (a[j] - a[i]) * y[i] / dy
    grad = (a[j] - a[i]) / dy**2 * np.array([-y[j], y[i]])
    return float(x), float(np.hypot(grad[0] * e[i], grad[1] * e[j]))


def boundary_from_points(alphas: Sequence[float], points: list[dict[str, Rank2Point]],
                         omega: float, eps_g_lin: float, errors: bool) -> Boundary2:
    """alpha_c, alpha_l from the branches' points at each grid alpha (ascending)."""
    a = list(alphas)
    delta, e_delta, gap, e_gap = [], [], [], []
    for pts in points:
        sem, pos, glob = learned(pts), pts.get("positional"), global_point(pts)
        ok = sem is not None and pos is not None and pos.converged
        delta.append(sem.eps_t - pos.eps_t if ok else np.nan)
        e_delta.append(np.hypot(_err(sem, "eps_t"), _err(pos, "eps_t")) if ok else np.nan)
        gap.append(np.nan if glob is None else glob.eps_g - eps_g_lin)
        e_gap.append(np.nan if glob is None else _err(glob, "eps_g"))
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


def _merge(a: list[float], points: list[dict[str, Rank2Point]]
           ) -> tuple[float | None, float | None]:
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


def boundary_rank2(omegas: Sequence[float], alphas: Sequence[float], sigma: float = 0.5,
                   lam: float = 0.01, A: Sequence[Sequence[float]] | None = None,
                   rule: QMCRule | None = None, fp_error: bool = False,
                   ) -> tuple[list[Boundary2], dict[float, list[dict[str, Rank2Point]]]]:
    """Rank-2 alpha_c, alpha_l per omega on the grid `alphas`; also the points per omega
    (`points[omega][i][branch]`, grid ascending). `fp_error`: error bars from the fixed
    points' own errors (about twice the cost); else none are reported."""
    grid = sorted(float(x) for x in alphas)
    res, all_points = [], {}
    for omega in omegas:
        curves = {b: curve_rank2(grid, float(omega), sigma, lam, b, A, rule=rule,
                                 fp_error=fp_error) for b in BRANCHES}
        pts = [{b: curves[b][i] for b in BRANCHES} for i in range(len(grid))]
        lin = linear_theory(float(omega), sigma, A).eps_g_lin
        res.append(boundary_from_points(grid, pts, float(omega), lin, fp_error))
        all_points[float(omega)] = pts
    return res, all_points
