"""Fixed points of the rank-2 equations (`rank2_equations`): damped iteration, branches.

Branches (docs/theory_rank2.md §5): *semantic* (m held at 0, column 1 along the teacher),
*mixed* (free; started with column 1 along the teacher and column 2 positional),
*positional* (theta held at 0, m > 0), *trivial* (theta = m = 0). The constraints are those
the symmetries make invariant (the map is odd in m at m = 0 and in theta at theta = 0). The state is
put in the canonical O(2) frame after every step (`rank2_state.canonical`). Convergence:
relative change below `tol` at a step that used the global prox search. Errors: the
randomised QMC rule's k blocks give k estimates of the map's image and of eps_g, eps_t at
the fixed point; their spread over sqrt(k) is reported (`err`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .channel import Problem, check_A
from .mixing import mix
from .rank2_equations import Channel2, Hats, clipped, free_entropy, order_params
from .rank2_quadrature import QMCRule, qmc_rule
from .rank2_state import State2, canonical, invariants

STARTS = ("semantic", "mixed", "positional", "trivial")


@dataclass
class Rank2Point:
    """One rank-2 fixed point: invariants (public normalisation, docs/model.md §4), errors."""

    alpha: float
    omega: float
    sigma: float
    lam: float
    branch: str
    eps_g: float
    eps_t: float
    converged: bool
    iterations: int
    residual: float
    inv: dict[str, float]
    err: dict[str, float]
    state: State2 = field(repr=False)

    def row(self) -> dict[str, float | str | bool | int | None]:
        """Flat dict for tables: parameters, eps_g, eps_t, invariants and their errors."""
        row: dict = {"alpha": self.alpha, "omega": self.omega, "branch": self.branch,
                     "eps_g": self.eps_g, "eps_t": self.eps_t, **self.inv,
                     "converged": self.converged, "iterations": self.iterations,
                     "residual": self.residual}
        row.update({f"err_{k}": v for k, v in self.err.items()})
        return {k: None if isinstance(v, float) and not np.isfinite(v) else v
                for k, v in row.items()}


def initial(branch: str, sigma: float, lam: float) -> State2:
    """Starting state of each branch (theory normalisation, rho = sigma^2)."""
    rho = sigma**2
    V = sigma**2 / (lam + 0.02 * sigma**2) * np.eye(2)  # the rank-1 branches' V scale
    if branch == "semantic":
        return State2(np.diag([rho, 0.1 * rho]), np.zeros(2), np.array([0.9 * rho, 0.0]), V)
    if branch == "mixed":
        return State2(np.diag([0.5 * rho, 0.2 * rho]), np.array([0.0, 0.25]),
                      np.array([0.5 * rho, 0.0]), V)
    if branch == "positional":
        return State2(np.diag([0.17 * rho, 0.1 * rho]), np.array([0.25, 0.1]), np.zeros(2), V)
    return State2(0.5 * rho * np.eye(2), np.zeros(2), np.zeros(2),
                  0.5 * sigma**2 / max(lam, 1e-3) * np.eye(2))


def _constrain(s: State2, branch: str) -> State2:
    theta = np.zeros(2) if branch in ("positional", "trivial") else s.theta
    m = np.zeros(2) if branch in ("semantic", "trivial") else s.m
    return State2(s.q, m, theta, s.V)


def _residual(x: np.ndarray, fx: np.ndarray, rho: float) -> float:
    """Largest relative change, floors 1% of rho (q, theta) and of 1 (m, V)."""
    floor = 0.01 * np.array([rho] * 3 + [1.0] * 2 + [rho] * 2 + [1.0] * 3)
    return float(np.max(np.abs(fx - x) / np.maximum(np.abs(x), floor)))


def step(ch: Channel2, s: State2, global_search: bool) -> tuple[State2 | None, Hats, dict]:
    """One application of the map: (new canonical state or None, conjugates, integrands)."""
    values = ch.per_node(s, global_search)
    h = ch.hats(s, values)
    new = order_params(h, ch.pb)
    return (None if new is None else canonical(_constrain(new, ch.pb.branch))), h, values


def solve_rank2(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
                A: Sequence[Sequence[float]] | None = None, branch: str = "semantic",
                init: State2 | None = None, rule: QMCRule | None = None,
                damping: float = 0.8, tol: float = 1e-5, max_iter: int = 200,
                research_every: int = 5, anderson: int = 3, n_grid: int = 7) -> Rank2Point:
    """Solve the rank-2 equations at one alpha from the start of `branch` (or `init`).

    `rule`: the QMC rule (default `qmc_rule(512, 8)`: 4096 nodes); `damping`: weight of the
    old state (0.8: with 0.5 the positional column's m oscillates, as on the rank-1
    positional branch); `anderson`: Anderson memory.
    """
    if branch not in STARTS:
        raise ValueError(f"branch={branch!r}: expected one of {', '.join(STARTS)}")
    if not (alpha > 0 and sigma > 0 and lam >= 0 and 0 <= omega <= 1):
        raise ValueError(f"alpha={alpha}, omega={omega}, sigma={sigma}, lam={lam}: expected "
                         "alpha > 0, omega in [0, 1], sigma > 0, lam >= 0")
    rule = rule or qmc_rule()
    pb = Problem(float(alpha), float(omega), float(sigma), float(lam), check_A(A), branch)
    ch = Channel2(pb, rule.nodes, rule.weights, n_grid)
    s = canonical(_constrain(init or initial(branch, sigma, lam), branch))
    x = s.vector()
    xs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    residual, it, converged = np.inf, 0, False
    since = research_every
    while it < max_iter:
        it += 1
        full = since >= research_every
        since = 0 if full else since + 1
        new, h, values = step(ch, State2.from_vector(x), full)
        if new is None:
            break
        fx = new.vector()
        residual = _residual(x, fx, pb.rho)
        if residual < tol and not clipped(h, pb):
            if full:
                converged = True
                break
            since = research_every
            continue
        x = _mix(x, fx, xs, gs, damping, anderson, pb)
    s = State2.from_vector(x)
    if not converged:
        new, h, values = step(ch, s, True)
    return _point(pb, branch, s, h, values, rule, ch, converged, it, residual)


def _mix(x, fx, xs: list, gs: list, damping: float, memory: int, pb: Problem) -> np.ndarray:
    """Damped step, Anderson-accelerated where the extrapolation stays a valid state."""
    def admit(cand: np.ndarray) -> np.ndarray | None:
        cs = _constrain(State2.from_vector(cand), pb.branch)
        return canonical(cs).vector() if cs.valid(pb.rho) else None

    return mix(x, fx, xs, gs, damping, memory, admit)


def _point(pb: Problem, branch: str, s: State2, h: Hats, values: dict, rule: QMCRule,
           ch: Channel2, converged: bool, it: int, residual: float) -> Rank2Point:
    """Outputs at state s: eps_g, eps_t = -Phi, invariants, and their block errors."""
    eps_g, err_g = rule.estimate(0.5 * values["loss_w"])
    mean_value = float(rule.weights @ values["value"])
    eps_t = -free_entropy(s, h, pb, mean_value)
    _, err_v = rule.estimate(values["value"])
    err = {"eps_g": float(err_g), "eps_t": float(pb.alpha / 2 * err_v)}
    # the map's image from each block alone: its spread is the one-step quadrature error
    blocks = []
    for b in range(rule.k):
        wt = np.zeros(rule.size)
        wt[b * rule.n:(b + 1) * rule.n] = 1.0 / rule.n
        new = order_params(ch.hats(s, values, wt), pb)
        if new is not None:
            blocks.append(invariants(canonical(_constrain(new, pb.branch)), pb.sigma))
    if len(blocks) > 1:
        for k in blocks[0]:
            err[k] = float(np.std([b[k] for b in blocks], ddof=1) / np.sqrt(len(blocks)))
    return Rank2Point(pb.alpha, pb.omega, pb.sigma, pb.lam, branch, float(eps_g), eps_t,
                      converged, it, residual, invariants(s, pb.sigma), err, s)


def curve_rank2(alphas: Sequence[float], omega: float = 0.3, sigma: float = 0.5,
                lam: float = 0.01, branch: str = "mixed",
                A: Sequence[Sequence[float]] | None = None, **kwargs) -> list[Rank2Point]:
    """Rank-2 fixed points along `alphas` (order kept), each started from the previous
    converged one (continuation from the largest alpha down) or else from the branch start."""
    alphas = [float(a) for a in alphas]
    order = sorted(range(len(alphas)), key=lambda i: -alphas[i])
    out: list[Rank2Point | None] = [None] * len(alphas)
    prev: State2 | None = None
    for i in order:
        pt = solve_rank2(alphas[i], omega, sigma, lam, A, branch, init=prev, **kwargs)
        out[i] = pt
        prev = pt.state if pt.converged else None
    return [p for p in out if p is not None]
