"""Fixed points of the rank-2 equations (`rank2_equations`): damped iteration, branches.

Branches (docs/theory_rank2.md §5): *semantic* (m held at 0, column 1 along the teacher),
*mixed* (free; started with column 1 along the teacher and column 2 positional),
*positional* (theta held at 0, m > 0), *trivial* (theta = m = 0, q and V isotropic). The
constraints are those the symmetries make invariant (the map is odd in m at m = 0 and in
theta at theta = 0, and O(2)-equivariant). The state is rotated back to its frame after
every step (`rank2_state.align`: the smallest rotation, no reflection, so that a 2-cycle
m -> -m is not taken for a fixed point); outputs are invariants. Convergence: at a step
that used the global prox search, every component's change below `kappa` times the
quadrature's one-step error of the map's image (or `tol` times its matrix's scale).
Errors: the randomised QMC rule's k blocks give k estimates of the map's image and of
eps_g, eps_t; their spread over sqrt(k) is the one-step error (`err`);
`fixed_point_error` solves the fixed point on each block (`fp_err`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .channel import Problem, check_A
from .mixing import mix
from .rank2_equations import Channel2, Hats, clipped, free_entropy, order_params
from .rank2_quadrature import QMCRule, qmc_rule
from .rank2_state import State2, align, canonical, invariants

STARTS = ("semantic", "mixed", "positional", "trivial")
KAPPA = 0.2  # iteration error / quadrature error allowed (docs/theory_rank2.md §6)


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
    residual_qmc: float
    inv: dict[str, float]
    err: dict[str, float]
    state: State2 = field(repr=False)
    A: np.ndarray = field(repr=False, default=None)
    onestep: np.ndarray = field(repr=False, default=None)
    fp_err: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, float | str | bool | int | None]:
        """Flat dict for tables: parameters, eps_g, eps_t, invariants and their errors."""
        row: dict = {"alpha": self.alpha, "omega": self.omega, "branch": self.branch,
                     "eps_g": self.eps_g, "eps_t": self.eps_t, **self.inv,
                     "converged": self.converged, "iterations": self.iterations,
                     "residual": self.residual, "residual_qmc": self.residual_qmc}
        row.update({f"err_{k}": v for k, v in self.err.items()})
        row.update({f"fperr_{k}": v for k, v in self.fp_err.items()})
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
    """The branch's invariant subspace: m = 0 (semantic), theta = 0 (positional), both and
    q, V multiples of I (trivial: the O(2)-symmetric state, docs/theory_rank2.md §5)."""
    if branch == "trivial":
        iso = np.eye(2) / 2
        return State2(np.trace(s.q) * iso, np.zeros(2), np.zeros(2), np.trace(s.V) * iso)
    theta = np.zeros(2) if branch == "positional" else s.theta
    m = np.zeros(2) if branch == "semantic" else s.m
    return State2(s.q, m, theta, s.V)


def _scales(x: np.ndarray, rho: float) -> np.ndarray:
    """Per-component scale of the state vector: the Frobenius norm of its matrix (q, V) or
    the norm of its vector (m, theta), floored at 1% of rho (q, theta) and 0.01 (m)."""
    s = State2.from_vector(x)
    q = max(np.linalg.norm(s.q), 0.01 * rho)
    m = max(np.linalg.norm(s.m), 0.01)
    th = max(np.linalg.norm(s.theta), 0.01 * rho)
    return np.array([q] * 3 + [m] * 2 + [th] * 2 + [np.linalg.norm(s.V)] * 3)


def step(ch: Channel2, s: State2, global_search: bool) -> tuple[State2 | None, Hats, dict]:
    """One application of the map: (new aligned state or None, conjugates, integrands)."""
    values = ch.per_node(s, global_search)
    h = ch.hats(s, values)
    new = order_params(h, ch.pb)
    return (None if new is None else align(_constrain(new, ch.pb.branch))), h, values


@dataclass
class _Run:
    """Where an iteration stopped: state vector, conjugates and integrands there, status."""

    x: np.ndarray
    h: Hats
    values: dict
    converged: bool
    iterations: int
    residual: float
    residual_qmc: float


def _iterate(ch: Channel2, x: np.ndarray, err_of, tol: float, kappa: float, damping: float,
             anderson: int, max_iter: int, research_every: int) -> _Run:
    """Damped (Anderson) iteration from x until the step is below max(tol x scale,
    kappa x err_of(state, integrands)) in every component at a global-search step."""
    pb = ch.pb
    xs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    residual = residual_qmc = np.inf
    it, converged, since = 0, False, research_every
    h = values = None
    while it < max_iter:
        it += 1
        full = since >= research_every
        since = 0 if full else since + 1
        s = State2.from_vector(x)
        new, h, values = step(ch, s, full)
        if new is None:
            break
        gap = np.abs(new.vector() - x)
        scale = _scales(x, pb.rho)
        err = np.nan_to_num(err_of(s, values))
        residual = float(np.max(gap / scale))
        # the step in units of the one-step error (floored at tol x scale / kappa):
        # converged where it is <= kappa
        residual_qmc = float(kappa * np.max(gap / np.maximum(tol * scale, kappa * err)))
        if residual_qmc <= kappa and not clipped(h, pb):
            if full:
                converged = True
                break
            since = research_every
            continue
        x = _mix(x, new.vector(), xs, gs, damping, anderson, pb)
    if not converged:
        _, h, values = step(ch, State2.from_vector(x), True)
    return _Run(x, h, values, converged, it, residual, residual_qmc)


def solve_rank2(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
                A: Sequence[Sequence[float]] | None = None, branch: str = "semantic",
                init: State2 | None = None, rule: QMCRule | None = None,
                damping: float = 0.8, tol: float = 1e-5, kappa: float = KAPPA,
                max_iter: int = 200, research_every: int = 5, anderson: int = 3,
                n_grid: int = 7, fp_error: bool = False) -> Rank2Point:
    """Solve the rank-2 equations at one alpha from the start of `branch` (or `init`).

    `rule`: the QMC rule (default `qmc_rule(512, 8)`: 4096 nodes); `damping`: weight of the
    old state (0.8: with 0.5 the positional column's m oscillates, as on the rank-1
    positional branch); `anderson`: Anderson memory. Converged: every component's step is
    below `tol` times its matrix's scale or `kappa` times its one-step quadrature error
    (docs/theory_rank2.md §6). `fp_error`: also the fixed point's own quadrature error
    (`fixed_point_error`, about the cost of a second solve).
    """
    if branch not in STARTS:
        raise ValueError(f"branch={branch!r}: expected one of {', '.join(STARTS)}")
    if not (alpha > 0 and sigma > 0 and lam >= 0 and 0 <= omega <= 1):
        raise ValueError(f"alpha={alpha}, omega={omega}, sigma={sigma}, lam={lam}: expected "
                         "alpha > 0, omega in [0, 1], sigma > 0, lam >= 0")
    rule = rule or qmc_rule()
    pb = Problem(float(alpha), float(omega), float(sigma), float(lam), check_A(A), branch)
    ch = Channel2(pb, rule.nodes, rule.weights, n_grid)
    x = canonical(_constrain(init or initial(branch, sigma, lam), branch)).vector()
    opts = dict(tol=tol, kappa=kappa, damping=damping, anderson=anderson,
                research_every=research_every)
    run = _iterate(ch, x, lambda s, v: image_error(ch, s, v, rule), max_iter=max_iter, **opts)
    pt = _point(pb, run, rule, ch)
    if fp_error:
        pt.fp_err = fixed_point_error(pt, rule, n_grid, max_iter=min(max_iter, 60), **opts)
    return pt


def fixed_point_error(pt: Rank2Point, rule: QMCRule, n_grid: int = 7, max_iter: int = 60,
                      **opts) -> dict[str, float]:
    """The fixed point's own quadrature error: the fixed point solved on each of the rule's
    k independent blocks alone (warm-started at `pt`, converged to its block's one-step
    error), spread / sqrt(k); per output (eps_g, eps_t, invariants). Unlike the one-step
    `err`, it includes the map's amplification 1 / (1 - J). `blocks_converged` counts the
    block solves that converged."""
    pb = Problem(pt.alpha, pt.omega, pt.sigma, pt.lam, check_A(pt.A), pt.branch)
    onestep = np.sqrt(rule.k) * np.nan_to_num(pt.onestep)
    outs, ok = [], 0
    for b in range(rule.k):
        nodes = rule.nodes[b * rule.n:(b + 1) * rule.n]
        ch = Channel2(pb, nodes, np.full(rule.n, 1.0 / rule.n), n_grid)
        run = _iterate(ch, pt.state.vector(), lambda s, v: onestep, max_iter=max_iter, **opts)
        ok += run.converged
        s = State2.from_vector(run.x)
        w = ch.weights
        eps_t = -free_entropy(s, run.h, pb, float(w @ run.values["value"]))
        outs.append({"eps_g": float(w @ (0.5 * run.values["loss_w"])), "eps_t": eps_t,
                     **invariants(s, pb.sigma)})
    err = {k: float(np.std([o[k] for o in outs], ddof=1) / np.sqrt(rule.k)) for k in outs[0]}
    return {**err, "blocks_converged": float(ok)}


def _mix(x, fx, xs: list, gs: list, damping: float, memory: int, pb: Problem) -> np.ndarray:
    """Damped step, Anderson-accelerated where the extrapolation stays a valid state."""
    def admit(cand: np.ndarray) -> np.ndarray | None:
        cs = _constrain(State2.from_vector(cand), pb.branch)
        return align(cs).vector() if cs.valid(pb.rho) else None

    return mix(x, fx, xs, gs, damping, memory, admit)


def _block_images(ch: Channel2, s: State2, values: dict, rule: QMCRule) -> list[State2]:
    """The map's image at s computed from each of the rule's k blocks alone (aligned)."""
    out = []
    for b in range(rule.k):
        wt = np.zeros(rule.size)
        wt[b * rule.n:(b + 1) * rule.n] = 1.0 / rule.n
        new = order_params(ch.hats(s, values, wt), ch.pb)
        if new is not None:
            out.append(align(_constrain(new, ch.pb.branch)))
    return out


def image_error(ch: Channel2, s: State2, values: dict, rule: QMCRule) -> np.ndarray:
    """One-step quadrature error of the map's image at s (state-vector components): the
    spread of the k block images / sqrt(k)."""
    vecs = [b.vector() for b in _block_images(ch, s, values, rule)]
    if len(vecs) < 2:
        return np.full(10, np.nan)
    return np.std(vecs, axis=0, ddof=1) / np.sqrt(len(vecs))


def _point(pb: Problem, run: _Run, rule: QMCRule, ch: Channel2) -> Rank2Point:
    """Outputs at the final state: eps_g, eps_t = -Phi, invariants, their one-step errors."""
    s, values = State2.from_vector(run.x), run.values
    eps_g, err_g = rule.estimate(0.5 * values["loss_w"])
    mean_value = float(rule.weights @ values["value"])
    eps_t = -free_entropy(s, run.h, pb, mean_value)
    _, err_v = rule.estimate(values["value"])
    err = {"eps_g": float(err_g), "eps_t": float(pb.alpha / 2 * err_v)}
    blocks = [invariants(b, pb.sigma) for b in _block_images(ch, s, values, rule)]
    if len(blocks) > 1:
        for k in blocks[0]:
            err[k] = float(np.std([b[k] for b in blocks], ddof=1) / np.sqrt(len(blocks)))
    return Rank2Point(pb.alpha, pb.omega, pb.sigma, pb.lam, pb.branch, float(eps_g), eps_t,
                      run.converged, run.iterations, run.residual, run.residual_qmc,
                      invariants(s, pb.sigma), err, s, pb.A,
                      image_error(ch, s, values, rule))


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
