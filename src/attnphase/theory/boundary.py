"""Phase boundaries: alpha_c(omega), alpha_l(omega) and the spinodal ends of the branches.

Per omega: both branches by continuation on a grid of alpha (semantic from the top down,
positional from the bottom up); sign changes of `eps_t(semantic) - eps_t(positional)` and of
`eps_g(global minimiser) - eps_g_lin` bracket the roots, which brentq then locates, solving
the fixed point at each trial alpha warm-started from the bracketing grid points.
A spinodal is where a branch's fixed point turns unstable (Jacobian eigenvalue crossing 1)
or where its continuation fails; None where neither happens in the searched range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .fixed_point import TheoryPoint, curve, on_branch, solve, stability
from .linear import linear_theory


@dataclass
class Boundary:
    """Boundaries at one omega (None where no root lies in the searched range)."""

    omega: float
    alpha_c: float | None
    alpha_l: float | None
    eps_g_lin: float
    semantic_end: float | None
    positional_end: float | None

    def row(self) -> dict[str, float | None]:
        return dict(self.__dict__)


def _ok(pt: TheoryPoint) -> bool:
    return pt.converged and on_branch(pt)


def _crossing(x: np.ndarray, y: np.ndarray) -> float | None:
    """Linear interpolation of the first upward crossing of y = 1 (None if none)."""
    for i in range(len(x) - 1):
        if y[i] < 1.0 <= y[i + 1]:
            return float(x[i] + (1.0 - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i]))
    return None


class _Branches:
    """Both branches on an alpha grid at one omega, with warm-started solves in between."""

    def __init__(self, alphas: np.ndarray, omega: float, sigma: float, lam: float, A,
                 **kwargs):
        self.kw = dict(omega=omega, sigma=sigma, lam=lam, A=A, **kwargs)
        self.alphas = alphas
        self.sem = curve(alphas, branch="semantic", **self.kw)
        self.pos = curve(alphas, branch="positional", **self.kw)

    def at(self, alpha: float, branch: str, i: int) -> TheoryPoint:
        """Solve at alpha in grid cell i, from the cell end nearer to alpha."""
        pts = self.sem if branch == "semantic" else self.pos
        near = i if alpha - self.alphas[i] < self.alphas[i + 1] - alpha else i + 1
        return solve(alpha, branch=branch, init=pts[near], **self.kw)


def _alpha_c(br: _Branches) -> tuple[float | None, int]:
    """Largest-alpha crossing where the semantic branch becomes the lower eps_t (cell index)."""
    a = br.alphas
    for i in range(len(a) - 2, -1, -1):
        cells = (br.sem[i], br.sem[i + 1], br.pos[i], br.pos[i + 1])
        if not all(_ok(p) for p in cells):
            continue
        lo = br.sem[i].eps_t - br.pos[i].eps_t
        hi = br.sem[i + 1].eps_t - br.pos[i + 1].eps_t
        if lo > 0 >= hi:
            def delta(x: float, i: int = i) -> float:
                return br.at(x, "semantic", i).eps_t - br.at(x, "positional", i).eps_t
            return brentq(delta, a[i], a[i + 1], xtol=1e-3), i
    return None, -1


def _alpha_l(br: _Branches, alpha_c: float | None, lin: float) -> float | None:
    """Smallest alpha where eps_g of the global minimiser drops below eps_g_lin."""
    a = br.alphas

    def pick(i: int) -> TheoryPoint | None:
        s, p = br.sem[i], br.pos[i]
        cands = [pt for pt in (s, p) if _ok(pt)]
        return min(cands, key=lambda pt: pt.eps_t) if cands else None

    glob = [pick(i) for i in range(len(a))]
    for i in range(len(a) - 1):
        g0, g1 = glob[i], glob[i + 1]
        if g0 is None or g1 is None or not (g0.eps_g > lin >= g1.eps_g):
            continue
        if g0.branch == g1.branch:
            def gap(x: float, i: int = i, b: str = g0.branch) -> float:
                return br.at(x, b, i).eps_g - lin
            return brentq(gap, a[i], a[i + 1], xtol=1e-3)
        # the global minimiser switches branch inside the cell, at alpha_c
        ac = alpha_c if alpha_c is not None and a[i] <= alpha_c <= a[i + 1] else None
        if ac is None:
            continue
        if br.at(ac, g0.branch, i).eps_g <= lin:
            return brentq(lambda x, i=i: br.at(x, g0.branch, i).eps_g - lin, a[i], ac,
                          xtol=1e-3)
        if br.at(ac, g1.branch, i).eps_g > lin:
            return brentq(lambda x, i=i: br.at(x, g1.branch, i).eps_g - lin, ac, a[i + 1],
                          xtol=1e-3)
        return ac  # eps_g jumps across eps_g_lin at the transition
    return None


def _ends(br: _Branches) -> tuple[float | None, float | None]:
    """Spinodals: semantic (lowest alpha where it is stable), positional (highest)."""
    a = br.alphas
    sem_ok = np.array([_ok(p) for p in br.sem])
    sem_stab = np.array([stability(p) if ok else np.inf for p, ok in zip(br.sem, sem_ok)])
    # walk down from the top while the semantic branch exists and is stable
    top = len(a) - 1
    semantic_end = None
    if sem_ok[top] and sem_stab[top] < 1:
        k = top
        while k > 0 and sem_ok[k - 1] and sem_stab[k - 1] < 1:
            k -= 1
        if k > 0:  # it ends inside the range
            semantic_end = _crossing(a[k - 1:k + 1][::-1], np.minimum(sem_stab, 2.0)[k - 1:k + 1][::-1])
            semantic_end = a[k] if semantic_end is None else semantic_end
    pos_ok = np.array([_ok(p) for p in br.pos])
    pos_stab = np.array([stability(p) if ok else np.inf for p, ok in zip(br.pos, pos_ok)])
    positional_end = None
    if pos_ok[0] and pos_stab[0] < 1:
        k = 0
        while k < len(a) - 1 and pos_ok[k + 1] and pos_stab[k + 1] < 1:
            k += 1
        if k < len(a) - 1:
            positional_end = _crossing(a[k:k + 2], np.minimum(pos_stab, 2.0)[k:k + 2])
            positional_end = a[k] if positional_end is None else positional_end
    return semantic_end, positional_end


def boundary(omegas: Sequence[float], sigma: float = 0.5, lam: float = 0.01,
             A: Sequence[Sequence[float]] | None = None,
             alpha_range: tuple[float, float] = (0.01, 2.0), n_alpha: int = 10,
             spinodals: bool = True, **kwargs) -> list[Boundary]:
    """alpha_c, alpha_l and the branch ends for each omega, searched in `alpha_range`.

    `n_alpha` is the number of continuation grid points; `kwargs` go to `solve` (e.g. quad).
    `spinodals=False` skips the stability analysis (about a third of the time).
    """
    lo, hi = alpha_range
    alphas = np.linspace(lo, hi, n_alpha)
    out = []
    for omega in omegas:
        br = _Branches(alphas, float(omega), sigma, lam, A, **kwargs)
        lin = linear_theory(float(omega), sigma, A).eps_g_lin
        ac, _ = _alpha_c(br)
        al = _alpha_l(br, ac, lin)
        ends = _ends(br) if spinodals else (None, None)
        out.append(Boundary(float(omega), _round(ac), _round(al), lin, *map(_round, ends)))
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else float(x)
