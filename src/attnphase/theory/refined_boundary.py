"""alpha_c and alpha_l with the converged rules (docs/theory.md, "The refined boundary").

Why: `boundary_error` compares the split rule at two sizes, so its bars miss the split
rule's own error on the positional branch (8 nodes: 1.7% in q, 0.1% in eps_t at alpha 1,
omega 0.3), which only the adaptive rule reveals. Here the split rule's crossing (8 nodes)
is moved by secant steps on the gap evaluated with the converged rules: the positional
branch by `solve_adaptive` (n_eta 8, checked against 6), the semantic one by the
Gauss-Hermite rule at 20 nodes (checked against 16). The first step takes its slope from
the split rule (central difference); the next ones from the last two converged gaps.
Error bar: the gap's refinement spread (fine minus coarse rules at the start) over the
slope, plus the last secant step (what another step would still move).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..published import alpha_c as published_alpha_c
from ..transitions import semantic_global
from .boundary import boundary
from .channel import DEFAULT_A, check_A
from .fixed_point import TheoryPoint, solve
from .linear import linear_theory
from .refined import solve_adaptive

H = 0.02  # alpha step of the split rule's central-difference slope
MIN_SECANT = 1e-4  # below this alpha distance a secant slope is noise: keep the previous one
STATE = ("q_th", "m_th", "theta_th", "V")


def secant_root(gap: Callable[[float], float], a0: float, slope0: float, xtol: float,
                max_evals: int = 3) -> tuple[float, float, float, float]:
    """Root of `gap` from a0: a Newton step with slope `slope0`, then secant steps through
    the last two evaluations, until a step is below `xtol` or `max_evals` evaluations.

    At least two evaluations (the second one measures the first step's error). Returns
    (root estimate, the gap at a0, the slope last used, residue = the last step's length,
    i.e. how far one more step would still move the estimate).
    """
    xs, fs = [a0], [gap(a0)]
    slope = slope0
    x = a0 - fs[0] / slope
    while True:
        f = gap(x)
        if abs(x - xs[-1]) >= MIN_SECANT and f != fs[-1]:
            slope = (f - fs[-1]) / (x - xs[-1])
        xs.append(x)
        fs.append(f)
        step = -f / slope
        x = xs[-1] + step
        if abs(step) < xtol or len(xs) >= max_evals:
            return x, fs[0], slope, abs(step)


def error_bar(spread: float, slope: float, residue: float) -> float:
    """Error of a crossing: the gap's refinement spread over the slope, plus the residue."""
    return abs(spread / slope) + abs(residue)


@dataclass
class RefinedBoundary:
    """Refined alpha_c, alpha_l at one omega with their bars and the split rule's start
    values (None where the split rule finds no crossing in the searched range)."""

    omega: float
    alpha_c: float | None
    alpha_c_err: float | None
    alpha_l: float | None
    alpha_l_err: float | None
    alpha_c_split: float | None
    alpha_l_split: float | None
    alpha_c_published: float | None
    alpha_c_spread: float | None = None  # the rules' part of the bar (spread / slope)
    alpha_c_residue: float | None = None
    alpha_l_spread: float | None = None
    alpha_l_residue: float | None = None
    unconverged: int = 0  # converged-rule solves that stopped short of their tolerance
    cpu_s: float = 0.0
    sigma: float = 0.5  # the model's parameters, so that a stored row says what it is of
    lam: float = 0.01
    A: str = json.dumps(DEFAULT_A)

    def row(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


class ConvergedRules:
    """Both branches at one omega with the converged rules (cached per alpha): positional
    by `solve_adaptive(n_eta)`, semantic by `solve(quad=n_sem)`, each (coarse, fine)."""

    def __init__(self, omega: float, sigma: float, lam: float, A, n_eta: tuple[int, int],
                 n_sem: tuple[int, int], tol: float, quad: int):
        self.kw = dict(omega=omega, sigma=sigma, lam=lam, A=A)
        self.n = {"positional": n_eta, "semantic": n_sem}
        self.tol, self.quad = tol, quad
        self.split: dict[tuple[str, float], TheoryPoint] = {}
        self.fine: dict[tuple[str, float], TheoryPoint] = {}
        self.unconverged = 0

    def label(self, branch: str) -> str:
        """The rules of `branch`, coarse/fine, in words."""
        coarse, fine = self.n[branch]
        rule = "adaptive n_eta" if branch == "positional" else "gauss-hermite"
        return f"{rule} {coarse}/{fine}"

    def adopt_split(self, point: TheoryPoint) -> None:
        """Use `point` (from `solve` at this omega) as the split rule's point at its alpha."""
        self.split[(point.branch, point.alpha)] = point

    def split_point(self, branch: str, alpha: float) -> TheoryPoint:
        """The split rule's point, warm-started from the nearest one already solved."""
        key = (branch, alpha)
        if key not in self.split:
            near = [a for b, a in self.split if b == branch]
            init = (self.split[(branch, min(near, key=lambda a: abs(a - alpha)))]
                    if near else None)
            self.split[key] = solve(alpha, branch=branch, init=init, quad=self.quad,
                                    **self.kw)
        return self.split[key]

    def split_slope(self, branch: str, alpha: float, name: str) -> float:
        """d(name)/d(alpha) of the split rule, central difference with step H."""
        up, down = (getattr(self.split_point(branch, a), name) for a in (alpha + H, alpha - H))
        return (up - down) / (2 * H)

    def _solve(self, branch: str, alpha: float, n: int, start: TheoryPoint | None):
        if branch == "positional":
            pt = solve_adaptive(alpha, branch=branch, n_eta=n, tol=self.tol,
                                init=self.split_point(branch, alpha), x0=start, **self.kw)
        else:
            pt = solve(alpha, branch=branch, quad=n,
                       init=start or self.split_point(branch, alpha), **self.kw)
        self.unconverged += not pt.converged
        return pt

    def coarse_and_fine(self, branch: str, alpha: float, start: TheoryPoint | None = None
                        ) -> tuple[TheoryPoint, TheoryPoint]:
        """Both rules at alpha, the coarse one from `start` (default: the split rule's
        point), the fine one from the coarse one."""
        coarse = self._solve(branch, alpha, self.n[branch][0], start)
        self.fine[(branch, alpha)] = self._solve(branch, alpha, self.n[branch][1], coarse)
        return coarse, self.fine[(branch, alpha)]

    def point(self, branch: str, alpha: float) -> TheoryPoint:
        """The fine rule's point, started from the nearest fine point shifted by the split
        rule's change between the two alphas (an error-free predictor to first order)."""
        key = (branch, alpha)
        if key not in self.fine:
            near = [a for b, a in self.fine if b == branch]
            start = None
            if near:
                a = min(near, key=lambda a: abs(a - alpha))
                start = shifted(self.fine[(branch, a)], self.split_point(branch, a),
                                self.split_point(branch, alpha))
            self.fine[key] = self._solve(branch, alpha, self.n[branch][1], start)
        return self.fine[key]


def shifted(prev: TheoryPoint, old: TheoryPoint, new: TheoryPoint) -> TheoryPoint:
    """`prev` (a converged rule's point) moved by the split rule's change from its point
    `old` to `new`: a start for the converged rule at `new`'s alpha, error-free to first
    order in the step."""
    return replace(prev, th={**prev.th, **{k: prev.th[k] + new.th[k] - old.th[k]
                                           for k in STATE}})


def _crossing(rules: ConvergedRules, a0: float, gap: Callable[[dict[str, TheoryPoint]], float],
              branches: Sequence[str], slope0: float, xtol: float
              ) -> tuple[float, float, float, float]:
    """Refine the root of the gap (a function of the branch's points) from a0: returns
    (alpha, error bar, spread part, residue)."""
    pts = {b: rules.coarse_and_fine(b, a0) for b in branches}
    spread = (gap({b: p[1] for b, p in pts.items()}) - gap({b: p[0] for b, p in pts.items()}))

    def fine_gap(alpha: float) -> float:
        return gap({b: rules.point(b, alpha) for b in branches})

    alpha, _, slope, residue = secant_root(fine_gap, a0, slope0, xtol)
    return alpha, error_bar(spread, slope, residue), abs(spread / slope), residue


def refined_boundary(omegas: Sequence[float], sigma: float = 0.5, lam: float = 0.01, A=None,
                     n_eta: tuple[int, int] = (6, 8), n_sem: tuple[int, int] = (16, 20),
                     tol: float = 1e-5, quad: int = 8, xtol: float = 1e-3,
                     log: Callable[[str], None] | None = None,
                     **kwargs) -> list[RefinedBoundary]:
    """alpha_c, alpha_l per omega from the split rule's crossings (`boundary` with `quad`
    nodes; `kwargs` go to it) moved by the converged rules (`secant_root`, steps down to
    `xtol`). alpha_c: the gap eps_t(semantic) - eps_t(positional); alpha_l: eps_g of the
    split rule's global minimiser at its alpha_l against eps_g_lin. `log` gets a line per
    omega. Minutes of CPU per omega (`solve_adaptive`)."""
    out = []
    for omega in omegas:
        t0 = time.process_time()
        (b,) = boundary([float(omega)], sigma, lam, A, spinodals=False, quad=quad, **kwargs)
        rules = ConvergedRules(float(omega), sigma, lam, A, n_eta, n_sem, tol, quad)
        res = RefinedBoundary(float(omega), None, None, None, None, b.alpha_c, b.alpha_l,
                              _published(omega), sigma=float(sigma), lam=float(lam),
                              A=json.dumps(check_A(A).tolist()))
        if b.alpha_c is not None:
            res.alpha_c, res.alpha_c_err, res.alpha_c_spread, res.alpha_c_residue = _alpha_c(
                rules, b.alpha_c, xtol)
        if b.alpha_l is not None:
            res.alpha_l, res.alpha_l_err, res.alpha_l_spread, res.alpha_l_residue = _alpha_l(
                rules, b.alpha_l, linear_theory(float(omega), sigma, A).eps_g_lin, xtol)
        res.unconverged, res.cpu_s = rules.unconverged, time.process_time() - t0
        if log is not None:
            log(f"omega {omega}: {res.row()}")
        out.append(res)
    return out


def _alpha_c(rules: ConvergedRules, a0: float, xtol: float) -> tuple[float, float, float, float]:
    """The root of eps_t(semantic) - eps_t(positional) near the split rule's a0."""
    slope = (rules.split_slope("semantic", a0, "eps_t")
             - rules.split_slope("positional", a0, "eps_t"))
    return _crossing(rules, a0, lambda p: p["semantic"].eps_t - p["positional"].eps_t,
                     ("semantic", "positional"), slope, xtol)


def _alpha_l(rules: ConvergedRules, a0: float, lin: float, xtol: float
             ) -> tuple[float, float, float, float]:
    """The root of eps_g - lin on the branch that is the split rule's global minimiser
    at a0 (the lower eps_t)."""
    sem, pos = (rules.split_point(b, a0) for b in ("semantic", "positional"))
    branch = "semantic" if semantic_global(sem.eps_t, pos.eps_t) else "positional"
    return _crossing(rules, a0, lambda p: p[branch].eps_g - lin, (branch,),
                     rules.split_slope(branch, a0, "eps_g"), xtol)


def _published(omega: float) -> float | None:
    v = published_alpha_c(omega)
    return None if np.isnan(v) else v
