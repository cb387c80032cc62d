"""Phase boundaries: alpha_c(omega), alpha_l(omega) and the spinodal ends of the branches.

Per omega: both branches by continuation on a grid of alpha (see `curve`); the down-crossings
of `eps_t(semantic) - eps_t(positional)` and of `eps_g(global minimiser) - eps_g_lin` on that
grid (the rules of `attnphase.transitions`, shared with the simulations) bracket the roots,
which regula falsi (Illinois) then locates, solving the fixed point at each trial alpha
warm-started from the nearer grid point.
A spinodal is where a branch's fixed point turns unstable (Jacobian eigenvalue crossing 1)
or where its continuation fails; None where neither happens in the searched range.

Near its lower end at small omega the semantic map is rough (the global prox switches basin
on a set the iterates keep crossing): the iteration wanders in a small set instead of
converging, and continuation loses the branch above the crossing. For alpha_c a semantic
point stopped at the iteration cap on its branch counts with its last eps_t (`_quasi`;
docs/theory.md, "The gaps"), and where the branch is lost above a crossing the semantic
branch is cold-started below it (`_below_lost`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..transitions import downcrossing_cells, semantic_global
from .fixed_point import MAX_ITER, TheoryPoint, curve, on_branch, solve, stability, usable
from .linear import linear_theory

QUASI_FLOOR = 1e-2  # theta below which a semantic point stopped at the cap is off its branch
WALK = 0.025  # alpha step of the cold starts below a lost semantic branch
# eps_t of the semantic rule and of the theta = 0 one differ by ~5e-6 relative where theta -> 0
# (the appendix A's branch end, omega 0.3): within this, the semantic point is global there
END_RTOL = 1e-5


@dataclass
class Boundary:
    """Boundaries at one omega (None where no root lies in the searched range)."""

    omega: float
    alpha_c: float | None
    alpha_l: float | None
    eps_g_lin: float
    semantic_end: float | None
    positional_end: float | None
    alpha_c_err: float | None = None
    alpha_l_err: float | None = None

    def row(self) -> dict[str, float | None]:
        return dict(self.__dict__)


def illinois_root(f, a: float, b: float, fa: float, fb: float, xtol: float = 1e-3,
          max_eval: int = 12) -> float:
    """Root of f in [a, b] with f(a) > 0 >= f(b), by the Illinois (regula falsi) method.

    The end values come from the grid (not recomputed); the bracket always holds the root.
    Stops when the bracket is shorter than `xtol` or two successive estimates differ by less
    than `xtol` / 2, or where f has no value (NaN: a branch point that does not count), with
    the estimate from the last bracket.
    """
    side, prev = 0, None
    for _ in range(max_eval):
        c = b - fb * (b - a) / (fb - fa)
        if b - a < xtol or (prev is not None and abs(c - prev) < xtol / 2):
            return c
        prev = c
        fc = f(c)
        if not np.isfinite(fc) or abs(fc) < 1e-12:
            return c
        if fc > 0:
            a, fa = c, fc
            if side == -1:
                fb /= 2.0
            side = -1
        else:
            b, fb = c, fc
            if side == 1:
                fa /= 2.0
            side = 1
    return b - fb * (b - a) / (fb - fa)


class _Branches:
    """Both branches on an alpha grid at one omega, with warm-started solves in between."""

    def __init__(self, alphas: np.ndarray, omega: float, sigma: float, lam: float, A,
                 multistart: bool, **kwargs):
        self.kw = dict(omega=omega, sigma=sigma, lam=lam, A=A, **kwargs)
        self.alphas = alphas
        self.sem = curve(alphas, branch="semantic", **self.kw)
        self.pos = curve(alphas, branch="positional", multistart=multistart, **self.kw)

    def at(self, alpha: float, branch: str, i: int, j: int) -> TheoryPoint:
        """Solve at alpha between grid points i < j, from the one nearer to alpha."""
        pts = self.sem if branch == "semantic" else self.pos
        near = i if alpha - self.alphas[i] < self.alphas[j] - alpha else j
        return solve(alpha, branch=branch, init=pts[near], **self.kw)

    def positional_near(self, alpha: float) -> TheoryPoint:
        """The positional branch at alpha, from the usable grid point nearest to it."""
        ok = [k for k, p in enumerate(self.pos) if usable(p)]
        if not ok:
            return solve(alpha, branch="positional", **self.kw)
        k = min(ok, key=lambda k: abs(self.alphas[k] - alpha))
        if self.alphas[k] == alpha:
            return self.pos[k]
        return solve(alpha, branch="positional", init=self.pos[k], **self.kw)

    def semantic_at(self, alpha: float, i: int, j: int) -> TheoryPoint:
        """`at` on the semantic branch; from a cold start where that leaves the branch."""
        p = self.at(alpha, "semantic", i, j)
        return p if on_branch(p, QUASI_FLOOR) else solve(alpha, branch="semantic", **self.kw)


def _cap(br: _Branches) -> int:
    """The iteration cap of the branches' solves (`max_iter`)."""
    return br.kw.get("max_iter", MAX_ITER)


def _quasi(p: TheoryPoint, cap: int) -> bool:
    """Usable, or a semantic point stopped at the iteration cap `cap` with theta above
    `QUASI_FLOOR`: the rough map's iterates wander there, eps_t within ~1e-3 relative."""
    return usable(p) or (p.branch == "semantic" and not p.converged and p.iterations >= cap
                         and on_branch(p, QUASI_FLOOR) and bool(np.isfinite(p.eps_t)))


def _delta(s: TheoryPoint, p: TheoryPoint, cap: int) -> float:
    """eps_t(semantic) - eps_t(positional); NaN unless both count (`_quasi`)."""
    return s.eps_t - p.eps_t if _quasi(s, cap) and _quasi(p, cap) else float("nan")


def _alpha_c(br: _Branches) -> float | None:
    """The last down-crossing of eps_t(semantic) - eps_t(positional) (attnphase.transitions),
    or below the point where the semantic branch was lost (`_below_lost`)."""
    a, cap = br.alphas, _cap(br)
    delta = np.array([_delta(s, p, cap) for s, p in zip(br.sem, br.pos, strict=True)])
    cells = downcrossing_cells(a, delta)
    if not cells:
        below = _below_lost(br, cap)
        return below if below is not None else _branch_end(br, cap)
    i, j = cells[-1]

    def f(x: float) -> float:
        return _delta(br.semantic_at(x, i, j), br.at(x, "positional", i, j), cap)
    return illinois_root(f, a[i], a[j], delta[i], delta[j])


def _branch_end(br: _Branches, cap: int, xtol: float = 1e-3) -> float | None:
    """alpha_c where the semantic branch ends while it is the global minimiser.

    Looked for only where no crossing was found otherwise (the appendix A, whose tied
    attention cannot follow its positional pattern: its theta = 0 side is the trivial
    point or a weak positional one, and the semantic branch grows out of theta = 0 or ends
    at a fold close to it). If the semantic branch is global at its first grid point, it is
    followed down with warm starts, in steps of `WALK`, then of `WALK` / 5, then by
    bisection to `xtol`; a point that falls off the branch is stepped over once (the rough
    map near a fold drops single points). If it is still global where it ends, the global
    minimiser changes branch there: alpha_c. The theta = 0 side is the positional solve, or
    the trivial point it converged onto (`_theta0`).
    """
    a = br.alphas
    first = [k for k in range(len(a)) if _quasi(br.sem[k], cap)]
    if not first or first[0] == 0:
        return None
    k = first[0]
    if not (_theta0(br.pos[k], cap) and br.sem[k].eps_t <= br.pos[k].eps_t):
        return None

    def at(x: float, on: TheoryPoint) -> TheoryPoint | bool | None:  # on it, past its end, failed
        p = solve(x, branch="semantic", init=on, **br.kw)
        if _quasi(p, cap):
            return p
        return None if _collapsed(p) else False

    on, hi, lo = br.sem[k], float(a[k]), None
    for step in (WALK, WALK / 5):
        while True:
            found = None
            for x in (hi - step, hi - 2 * step):
                if x <= a[0]:
                    return None
                p = at(x, on)
                if p is False:
                    return None  # a failed solve, not the branch's end
                if p is not None:
                    found = (p, x)
                    break
            if found is None:
                lo = hi - 2 * step
                break
            on, hi = found
    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        p = at(mid, on)
        if p is False:
            return None
        if p is None:
            lo = mid
        else:
            on, hi = p, mid
    zero = br.positional_near(hi)
    return hi if _theta0(zero, cap) and on.eps_t <= zero.eps_t * (1 + END_RTOL) else None


def _below_lost(br: _Branches, cap: int) -> float | None:
    """alpha_c where the semantic branch is lost below the lowest grid point it reaches.

    From that point down, in steps of `WALK`, the semantic branch is cold-started and the
    positional one continued from its nearest usable grid point, until eps_t(semantic) is
    the higher one (a bracket: root by regula falsi) or the semantic branch is gone (None).
    Alphas where the positional point does not count are stepped over.
    """
    a = br.alphas
    first = [k for k in range(len(a)) if _quasi(br.sem[k], cap)]
    if not first or first[0] == 0:
        return None
    x, s = a[first[0]], br.sem[first[0]]
    hi = d_hi = None
    while x > a[0]:
        d = _delta(s, br.positional_near(x), cap)
        if np.isfinite(d):
            if d > 0:
                if hi is None:
                    return None

                def f(y: float) -> float:
                    return _delta(solve(y, branch="semantic", **br.kw),
                                  br.positional_near(y), cap)
                return illinois_root(f, x, hi, d, d_hi, xtol=2e-3, max_eval=3)
            hi, d_hi = x, d
        x -= WALK
        s = solve(x, branch="semantic", **br.kw)
        if not _quasi(s, cap):
            return None
    return None


def _collapsed(p: TheoryPoint) -> bool:
    """Converged, but off its branch: onto theta = 0 (semantic) or m = 0 (positional)."""
    return p.converged and bool(np.isfinite(p.eps_t)) and not on_branch(p)


def _theta0(p: TheoryPoint, cap: int) -> bool:
    """Whether a positional-branch point can stand for the theta = 0 side: on its branch, or
    converged onto m = 0, the trivial fixed point, which is then the only theta = 0 solution
    reached (the appendix A, whose tied attention cannot follow its positional pattern)."""
    return _quasi(p, cap) or _collapsed(p)


def _alpha_l(br: _Branches, alpha_c: float | None, lin: float) -> float | None:
    """The first down-crossing of eps_g(global minimiser) - eps_g_lin that can be located.

    Semantic points stopped at the iteration cap count as in `_alpha_c` (`_quasi`); a
    positional solve that converged onto m = 0 counts as the theta = 0 candidate
    (`_theta0`)."""
    a, cap = br.alphas, _cap(br)

    def pick(i: int) -> TheoryPoint | None:
        s, p = br.sem[i], br.pos[i]
        ok = (_quasi(s, cap), _theta0(p, cap))
        if not any(ok):
            return None
        eps_t = [pt.eps_t if good else np.nan for pt, good in zip((s, p), ok, strict=True)]
        return s if semantic_global(*eps_t) else p

    def on(b: str, i: int, j: int):
        if b == "semantic":
            return lambda x: br.semantic_at(x, i, j).eps_g - lin
        return lambda x: br.at(x, b, i, j).eps_g - lin

    glob = [pick(i) for i in range(len(a))]
    gaps = [np.nan if g is None else g.eps_g - lin for g in glob]
    for i, j in downcrossing_cells(a, gaps):
        g0, g1 = glob[i], glob[j]
        if g0.branch == g1.branch:
            return illinois_root(on(g0.branch, i, j), a[i], a[j], gaps[i], gaps[j])
        # the global minimiser switches branch inside the cell, at alpha_c
        ac = alpha_c if alpha_c is not None and a[i] <= alpha_c <= a[j] else None
        if ac is None and g1.branch == "semantic" and not on_branch(g0):
            # from the trivial point, continuously: below the bifurcation the semantic
            # solve returns the trivial point, so eps_g on it is continuous across the cell
            return illinois_root(on("semantic", i, j), a[i], a[j], gaps[i], gaps[j])
        if ac is None and g1.branch == "semantic" and alpha_c is not None and alpha_c < a[i]:
            # semantic global on the whole cell, its point at a[i] missing (lost branch)
            f = on("semantic", i, j)
            g_i = f(a[i])
            if g_i > 0:
                return illinois_root(f, a[i], a[j], g_i, gaps[j])
            g_c = f(alpha_c)
            return illinois_root(f, alpha_c, a[i], g_c, g_i) if g_c > 0 else alpha_c
        if ac is None:
            continue
        below = on(g0.branch, i, j)(ac)
        if below <= 0:
            return illinois_root(on(g0.branch, i, j), a[i], ac, gaps[i], below)
        above = on(g1.branch, i, j)(ac)
        if above > 0:
            return illinois_root(on(g1.branch, i, j), ac, a[j], above, gaps[j])
        return ac  # eps_g jumps across eps_g_lin at the transition
    return None


def _end(alphas: np.ndarray, pts: list[TheoryPoint]) -> float | None:
    """Walking along `pts` from the first, where the branch stops existing or being stable.

    None if it lasts to the end of the range (or is unusable from the start). Between the
    last good point and the first bad one the eigenvalue crossing 1 is interpolated.
    """
    prev = None
    for a, p in zip(alphas, pts, strict=True):
        stab = stability(p) if usable(p) else np.inf
        if stab >= 1.0:
            if prev is None:
                return None
            a0, s0 = prev
            if np.isfinite(stab):
                return float(a0 + (1.0 - s0) * (a - a0) / (stab - s0))
            return float(a0)
        prev = (a, stab)
    return None


def _ends(br: _Branches) -> tuple[float | None, float | None]:
    """Spinodals: the semantic branch's lower end, the positional branch's upper end."""
    return (_end(br.alphas[::-1], br.sem[::-1]), _end(br.alphas, br.pos))


def boundary(omegas: Sequence[float], sigma: float = 0.5, lam: float = 0.01,
             A: Sequence[Sequence[float]] | None = None,
             alpha_range: tuple[float, float] = (0.01, 2.0), n_alpha: int = 10,
             spinodals: bool = True, multistart: bool = True,
             **kwargs) -> list[Boundary]:
    """alpha_c, alpha_l and the branch ends for each omega, searched in `alpha_range`.

    `n_alpha` is the number of continuation grid points; `kwargs` go to `solve` (e.g. quad).
    `spinodals=False` skips the stability analysis. `multistart` (see `curve`) tries a cold
    start of the positional branch at every grid point: at omega <~ 0.1 continuation alone
    can stay on a theta = 0 solution with a higher eps_t; `False` is about 40% faster.
    """
    lo, hi = alpha_range
    alphas = np.linspace(lo, hi, n_alpha)
    out = []
    for omega in omegas:
        br = _Branches(alphas, float(omega), sigma, lam, A, multistart, **kwargs)
        lin = linear_theory(float(omega), sigma, A).eps_g_lin
        ac = _alpha_c(br)
        al = _alpha_l(br, ac, lin)
        ends = _ends(br) if spinodals else (None, None)
        out.append(Boundary(float(omega), _round(ac), _round(al), lin, *map(_round, ends)))
    return out


def boundary_error(omegas: Sequence[float], quads: Sequence[int] = (8, 10),
                   **kwargs) -> list[Boundary]:
    """`boundary` at each rule size in `quads`; the values of the largest, with error bars.

    The error bar of alpha_c (alpha_l) is the largest change from a smaller rule to the
    largest one: a convergence study in the quadrature (the tolerances are far tighter), not
    a spread over solver variants. None where a root is missing at some rule size.
    """
    quads = sorted(quads)
    runs = [boundary(omegas, quad=n, **kwargs) for n in quads]
    out = []
    for k, best in enumerate(runs[-1]):
        errs = {}
        for name in ("alpha_c", "alpha_l"):
            vals = [getattr(r[k], name) for r in runs]
            errs[name] = (None if any(v is None for v in vals) else
                          float(max(abs(v - vals[-1]) for v in vals[:-1])))
        best.alpha_c_err, best.alpha_l_err = errs["alpha_c"], errs["alpha_l"]
        out.append(best)
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else float(x)
