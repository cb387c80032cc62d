"""Fixed points with the adaptive rule (docs/theory.md, "the adaptive rule").

One evaluation of the map with the adaptive rule (`adaptive.py`) costs 15 to 60 CPU s, so
it is not iterated from a cold start: the split rule's fixed point is corrected by Newton
steps `x <- x - B^{-1} (F(x) - x)`, F the map with the adaptive rule and B = J - I, J the
Jacobian of the split rule's map there (finite differences, tracked prox), B updated by
Broyden's rule after each step. The two maps differ by the split rule's quadrature error
(1e-3 to 2e-2), so J is close to F's Jacobian: 5 evaluations from the split rule's point,
2 or 3 from the fixed point at a smaller rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .adaptive import eta_split_rule, integrand, xi_plane
from .channel import Inputs, Problem, check_A
from .channel import resid as resid_of
from .fixed_point import (
    TheoryPoint,
    _Channel,
    _constrain,
    _point,
    order_params,
    outputs_from,
    relative_change,
    solve,
)
from .quadrature import eta_rule, gauss_hermite, line_rule

FREE = {"semantic": [0, 1, 2, 3], "positional": [0, 1, 3], "trivial": [0, 3]}


@dataclass
class AdaptiveMap:
    """The fixed-point map with the adaptive rule: eta on `eta_split_rule(n_eta)` (theta = 0
    branches) or the `n_eta`-point Gauss-Hermite product (semantic), the xi plane adaptive
    to `tol` relative to each component's E|g|; the prox search grid `n_grid` per side.
    `evals` counts the prox solves."""

    pb: Problem
    n_eta: int = 8
    tol: float = 1e-5
    n_grid: int = 9
    evals: int = 0

    def expectations(self, x: np.ndarray) -> np.ndarray:
        """E g (K,) of the `adaptive.integrand` components at state x."""
        pb = self.pb
        V = float(x[3])
        inputs = Inputs.at_state(x, pb)
        sigma = pb.sigma

        def g(pts: np.ndarray) -> np.ndarray:
            return integrand(pts, inputs, V, sigma, self.n_grid)

        probe = gauss_hermite(6, dim=4)
        scale = probe.weights @ np.abs(g(probe.nodes))
        if pb.branch == "semantic":
            rule = eta_rule(self.n_eta)
            eta, weights = rule.nodes, rule.weights
        else:
            eta, weights = eta_split_rule(self.n_eta, inputs, V, sigma)
        vals, n = xi_plane(eta, g, self.tol * np.maximum(scale, 1e-12))
        self.evals += n
        return weights @ vals

    def hats(self, x: np.ndarray, e: np.ndarray) -> np.ndarray:
        """Conjugates (qh, mh, thh, Vh) from the expectations e (as `_Channel.conjugates`)."""
        pb = self.pb
        q, _, th, _ = x
        resid = resid_of(x, pb.rho)
        thh = pb.alpha / resid * e[3] if pb.branch == "semantic" and resid > 0 else 0.0
        mh = 0.0 if pb.branch == "trivial" else pb.alpha * e[0]
        Vh = -pb.alpha / np.sqrt(q) * e[2] + th * thh / q
        return np.array([pb.alpha * e[1], mh, thh, Vh])




def _jacobian(pt: TheoryPoint, pb: Problem, free: list[int]) -> np.ndarray:
    """Jacobian of the split rule's map at `pt` on the free components (tracked prox)."""
    ch = _Channel(pb, line_rule(pt.quad, even_in_eta=pb.branch != "semantic"), 15, pt.split)
    x0 = np.array([pt.th["q_th"], pt.th["m_th"], pt.th["theta_th"], pt.th["V"]])

    def F(x: np.ndarray) -> np.ndarray:
        ch.prox, ch._V = pt._prox
        return _constrain(order_params(ch.conjugates(x, global_search=False), pb), pb)

    f0 = F(x0)
    J = np.empty((len(free), len(free)))
    for col, i in enumerate(free):
        x = x0.copy()
        step = 1e-4 * max(abs(x0[i]), 0.01)
        x[i] += step
        J[:, col] = (F(x) - f0)[free] / step
    return J


def solve_adaptive(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
                   A=None, branch: str = "positional", n_eta: int = 8, tol: float = 1e-5,
                   quad: int = 8, steps: int = 8, step_tol: float = 1e-6,
                   init: TheoryPoint | None = None,
                   x0: TheoryPoint | None = None) -> TheoryPoint:
    """The fixed point with the adaptive rule (`AdaptiveMap(n_eta, tol)`), by Broyden
    steps from the split rule's fixed point `init` (default: `solve` with `quad` nodes),
    whose Jacobian starts them; `x0`: another point to start from (e.g. the adaptive fixed
    point at a smaller `n_eta`: fewer steps). Converged when a step changes the state by
    less than `step_tol` (relative); at most `steps` evaluations. The point's `quad` is
    `n_eta`, `split` False, and its `note` names the rule and the prox solves it took.
    """
    if init is not None and init._prox is None:
        raise ValueError("solve_adaptive: init must come from `solve` (the split rule's "
                         "tracked prox starts the Jacobian), not from solve_adaptive")
    start = init if init is not None else solve(alpha, omega, sigma, lam, A, branch,
                                                quad=quad)
    pb = Problem(float(alpha), float(omega), float(sigma), float(lam), check_A(A), branch)
    free = FREE[branch]
    J = _jacobian(start, pb, free)
    amap = AdaptiveMap(pb, n_eta, tol)
    first = start if x0 is None else x0
    x = np.array([first.th["q_th"], first.th["m_th"], first.th["theta_th"], first.th["V"]])
    B = J - np.eye(len(free))  # Jacobian of G(x) = F(x) - x, updated by Broyden's rule
    converged, residual, it, g_old, dx = False, np.inf, 0, None, None
    for it in range(1, steps + 1):
        e = amap.expectations(x)
        hats = amap.hats(x, e)
        fx = _constrain(order_params(hats, pb), pb)
        residual = relative_change(x, fx, pb)
        g = (fx - x)[free]
        if g_old is not None:
            B += np.outer(g - g_old - B @ dx, dx) / (dx @ dx)
        if residual < step_tol or it == steps:
            converged = residual < step_tol
            break  # the outputs belong to the state last evaluated
        dx, g_old = -np.linalg.solve(B, g), g
        x = x.copy()
        x[free] += dx
    eps_g, eps_t, phi = outputs_from(x, hats, pb, e[5], e[4])
    pt = _point(pb, x, hats, eps_g, eps_t, phi, converged, it, residual)
    pt.quad, pt.split = n_eta, False
    pt.A = tuple(map(tuple, pb.A.tolist()))
    pt.note = f"adaptive rule, tol {tol:g}, {amap.evals} prox evaluations"
    return pt
