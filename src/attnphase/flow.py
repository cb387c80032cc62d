"""The default solver: gradient flow dQ/dt = -grad R, integrated by the third-order
exponential Rosenbrock method exprb32 (Hochbruck, Ostermann and Schweitzer 2009) with an
embedded local-error estimate and an adaptive time step tau.

A step from Q takes the exact flow of the local quadratic model (exponential Rosenbrock-
Euler, `tau phi_1(-tau H) (-g)`, H the exact Hessian applied by Hessian-vector products,
two passes over X each, through the Lanczos method of `krylov.py`), evaluates the gradient
at its end, and corrects for the nonlinearity met on the way (`exprb32_step`). The
correction is the local error estimate of the first stage: it sees only how far the
landscape is from its quadratic model along the step, so a relaxation in a near-quadratic
basin takes long steps (tending to Newton's as tau -> infinity), and near a saddle the
first stage follows the flow's exponential escape along the negative-curvature directions
exactly. The Krylov approximations are accurate to `krylov_frac` of the step tolerance.
A step is kept only if

- the Krylov approximations converged;
- the risk decreases;
- it moves Q by at most `max_rel_step` of ||Q||; and
- the local error estimate is at most `rtol ||Q|| + atol` (FlowOptions).

Otherwise tau shrinks and the step is retried; an accepted step sets the next tau from the
estimate (it grows like tau^3). This controls the time-discretisation error along the whole
path, so the end point is the flow's limit to the accuracy the path's sensitivity allows
(docs/solver.md, "How the time error is controlled").

The tolerance itself follows the path (`_Schedule`, docs/solver.md "The screening pass"):
`screen` times looser wherever the path meets no negative curvature along the flow (there
nearby paths converge and the errors are forgotten), rtol through the stretches where it
does (near saddles, where the end point depends on small errors); a path that bends back
is followed again at rtol from its start, or from the last point computed at rtol.

`FlowOptions(method="ros2")` takes the former default's steps instead: the two-stage
linearly implicit Rosenbrock method ROS2 (Verwer et al. 1999; `ros2_step`: two conjugate-
gradient solves with H + mu I, controlled by the linearly implicit Euler step's error,
which grows like tau^2), kept for side-by-side checks.

The flow keeps the null space of Q0: R depends on Q only through Q Q^T, so its gradient is
G(Q Q^T) Q and Q(t) N = 0 for all t whenever Q0 N = 0 (for instance the positional start
of a rank-2 student, two equal columns). Rounding breaks this in floating point and the
unstable directions of a saddle then amplify it; gradient descent in exact arithmetic
would not. So a student whose Q0 is column-rank deficient has its gradient, its
Hessian-vector products and its steps projected on that invariant subspace.

Students are independent: each has its own time step and stops on its own tolerance; a
data set whose students have all stopped is dropped from the batch, so it costs no
further passes over its inputs, and a student that has stopped on every remaining data set
is dropped from the products over X.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .krylov import inner as _dot
from .krylov import lanczos_phi
from .objective import Risk

Progress = Callable[[int, torch.Tensor], None]
METHODS = ("exprb32", "ros2")
GAMMA = 1 + 2**-0.5  # ROS2's gamma (L-stable, order 2 for any Jacobian)
SCREEN_MAX = 1e-2  # the screening pass's step tolerance, at most


@dataclass
class FlowOptions:
    """Tuning of the flow solver (defaults measured in benchmarks/bench_solver.py)."""

    rtol: float = 1e-5  # local error estimate of a step at most rtol ||Q|| + atol
    atol: float = 1e-9
    safety: float = 0.8  # the controller aims at this fraction of the tolerance
    cg_iters: int = 100  # Lanczos or conjugate-gradient iterations per solve, at most
    cg_rtol: float = 0.1  # ros2: conjugate-gradient relative residual, at most
    max_rel_step: float = 0.25  # a step moves Q by at most this fraction of ||Q||
    mu_max: float = 1e12  # a student whose mu would exceed this (x its first mu) has stalled
    method: str = "exprb32"  # or "ros2" (the former default)
    krylov_frac: float = 0.3  # exprb32: Krylov error at most this fraction of the tolerance
    krylov_rtol: float = 0.1  # exprb32: and at most this fraction of the Krylov result
    mu_min: float = 1e-30  # tau at most 1 / mu_min (steps are Newton's long before)
    screen: float | None = 100.0  # exprb32: steps at this x rtol (at most SCREEN_MAX) where
    # the path meets no negative curvature (flow's _Schedule; None: rtol everywhere)
    patience: int = 5  # accepted steps without a bend before a stretch at rtol may loosen


@dataclass
class _Point:
    """Risk, gradient and per-sample curvature of a batch of students at Q."""

    Q: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    curv: torch.Tensor

    @classmethod
    def at(cls, risk: Risk, Q: torch.Tensor) -> _Point:
        f, g, curv = risk.value_grad_curvature(Q)
        return cls(Q, f, g, curv)


def conjugate_gradients(
    apply: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    b: torch.Tensor,
    active: torch.Tensor,
    atol: torch.Tensor,
    iters: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Solve A s = b per student (A symmetric) from s = 0 to a residual norm of at most
    atol (B, c), batched over (B, c); students with active = False keep s = 0.
    `apply(p, rows)` needs A p only on the data sets `rows`.

    Returns (s, residual b - A s, positive, products): positive is False where a search
    direction of non-positive curvature was met (A not positive definite there); products
    counts the applications of A per data set (B,).
    """
    s = torch.zeros_like(b)
    r = torch.where(active[..., None, None], b, 0.0)
    p = r.clone()
    rr = _dot(r, r)
    goal = atol**2
    running = active & (rr > 0)
    positive = torch.ones_like(active)
    products = torch.zeros(b.shape[0], dtype=torch.long, device=b.device)
    for _ in range(iters):
        rows = running.any(1)
        if not bool(rows.any()):
            break
        products += rows.long()
        Ap = apply(p, rows)
        pAp = _dot(p, Ap)
        bad = running & (pAp <= 0)
        positive &= ~bad
        running &= ~bad
        a = torch.where(running, rr / torch.where(running, pAp, 1.0), 0.0)
        s = s + a[..., None, None] * p
        r = r - a[..., None, None] * Ap
        rr_new = _dot(r, r)
        running &= rr_new > goal
        beta = torch.where(running, rr_new / torch.where(rr > 0, rr, 1.0), 0.0)
        p = torch.where(running[..., None, None], r + beta[..., None, None] * p, p)
        rr = rr_new
    return s, r, positive, products


def flow(
    risk: Risk,
    Q0: torch.Tensor,
    steps: int,
    tol: float,
    progress: Progress | None = None,
    options: FlowOptions | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Follow the gradient flow from Q0 (B, c, d, r) to a point with grad_norm <= tol.

    With `options.screen` (exprb32) the step tolerance follows the path (`_Schedule`): rtol
    wherever the path has met negative curvature since its last checkpoint, `screen * rtol`
    (at most SCREEN_MAX) elsewhere. Each student gets `steps` trial steps, again after a
    restart from Q0.

    Returns (Q, R, grad, steps, passes, rtol): accepted steps per student (all of them,
    abandoned stretches included), passes over X per data set (B,), counting two per
    risk-and-gradient evaluation and per Hessian-vector product, and per student (B, c) the
    tolerance of its path's bends: rtol, or the looser one for a path that never bent.
    """
    opt = options or FlowOptions()
    if opt.method not in METHODS:
        raise ValueError(f"FlowOptions.method is {opt.method!r}; expected one of {METHODS}")
    Q0 = Q0.double()
    P = invariant_projector(Q0)
    start = _project(Q0, P).clone()
    here = _evaluate(risk, start.clone(), P)
    B, c = here.f.shape
    passes = torch.full((B,), 2, dtype=torch.long, device=Q0.device)
    n_steps = torch.zeros(B, c, dtype=torch.long, device=Q0.device)
    trials = torch.zeros(B, c, dtype=torch.long, device=Q0.device)
    active = grad_norm(here.g) > tol
    mu0 = _initial_mu(risk, here, active)
    passes += 2
    mu = mu0.clone()
    plan = _Schedule.of(here, mu, opt)
    sub, key = risk, None
    for step in range(2 * steps):
        live = active.any(1).nonzero().flatten()
        if live.numel() == 0:
            break
        cols = active[live].any(0).nonzero().flatten()
        if key is None or not (torch.equal(key[0], live) and torch.equal(key[1], cols)):
            sub, key = risk.restrict(live, cols), (live, cols)  # copies X only when it shrinks
        idx = (live[:, None], cols[None, :])
        part = _Point(here.Q[idx], here.f[idx], here.g[idx], here.curv[idx])
        P_part = None if P is None else P[idx]
        accept, new, mu_live, n_hvp, bends = _step(sub, part, mu[idx], active[idx], opt,
                                                   P_part, plan.rtol()[idx], tol)
        passes[live] += 2 * (n_hvp + 1)
        _update(here, idx, new, accept)
        mu[idx] = mu_live
        n_steps[idx] += accept.long()
        trials[idx] += active[idx].long()
        bent, moved = (torch.zeros_like(active) for _ in range(2))
        bent[idx], moved[idx] = bends & active[idx], accept
        restart = plan.advance(here, mu, bent, moved)
        if bool(restart.any()):
            passes += _restart(risk, here, start, P, restart)
            mu = torch.where(restart, mu0, mu)
            trials = torch.where(restart, 0, trials)
        active[idx] &= ((grad_norm(here.g[idx]) > tol) & (mu[idx] < opt.mu_max * mu0[idx])
                        & (trials[idx] < steps))
        if progress:
            progress(step, grad_norm(here.g))
    return here.Q, here.f, here.g, n_steps, passes, plan.end_rtol()


SCREEN, EXACT, LOOSE = 0, 1, 2  # a student's phase in `_Schedule`
EVERY = (slice(None), slice(None))  # every data set and student, as an index of `_update`


@dataclass
class _Schedule:
    """The step tolerance of each student along its path (docs/solver.md, "The screening
    pass"). A path whose errors cannot change its end point, one that meets no negative
    curvature, may be followed at the loose tolerance; a stretch that bends back must be
    followed at rtol from a point computed at rtol.

    SCREEN: loose, from the start; a bend sends the student back to its start (`advance`
    returns it) in EXACT. EXACT: rtol; once the path has bent back in EXACT (the bend the
    looser path ran into lies ahead until then), after `patience` accepted steps without a
    bend the point is saved and the student goes on in LOOSE. LOOSE: loose, from that
    checkpoint; a bend sends it back to the checkpoint in EXACT, with twice the patience.
    """

    phase: torch.Tensor
    calm: torch.Tensor  # accepted steps since the last bend in EXACT (-1: none yet)
    patience: torch.Tensor
    bent: torch.Tensor  # has the path ever bent back
    saved: _Point
    saved_mu: torch.Tensor
    loose: float
    exact: float

    @classmethod
    def of(cls, here: _Point, mu: torch.Tensor, opt: FlowOptions) -> _Schedule:
        loose = _screen_rtol(opt)
        first = EXACT if loose is None else SCREEN
        zeros = torch.zeros_like(mu, dtype=torch.long)
        return cls(zeros + first, zeros - 1, zeros + opt.patience, zeros.bool(),
                   _Point(here.Q.clone(), here.f.clone(), here.g.clone(), here.curv.clone()),
                   mu.clone(), loose or opt.rtol, opt.rtol)

    def rtol(self) -> torch.Tensor:
        """The step tolerance of each student now (B, c)."""
        return self._pick(self.phase == EXACT)

    def end_rtol(self) -> torch.Tensor:
        """rtol where the path bent back, the loose tolerance where it never did."""
        return self._pick(self.bent)

    def _pick(self, exact: torch.Tensor) -> torch.Tensor:
        loose = torch.full(exact.shape, self.loose, dtype=torch.float64, device=exact.device)
        return loose.masked_fill(exact, self.exact)

    def advance(self, here: _Point, mu: torch.Tensor, bent: torch.Tensor,
                moved: torch.Tensor) -> torch.Tensor:
        """Update the phases after a step (bent, moved: (B, c) bool, per student); returns
        the students to restart from their start. Students that leave LOOSE are put back at
        their checkpoint (here and mu in place)."""
        restart = bent & (self.phase == SCREEN)
        back = bent & (self.phase == LOOSE)
        if bool(back.any()):
            _update(here, EVERY, self.saved, back)
            mu.copy_(torch.where(back, self.saved_mu, mu))
            self.patience = torch.where(back, 2 * self.patience, self.patience)
        self.bent |= bent
        self.phase = torch.where(restart | back, EXACT, self.phase)
        exact = self.phase == EXACT
        self.calm = torch.where(restart | back, -1, torch.where(
            exact & bent, 0, torch.where(exact & moved & (self.calm >= 0), self.calm + 1,
                                         self.calm)))
        go = exact & (self.calm >= self.patience) & (self.loose > self.exact)
        if bool(go.any()):
            _update(self.saved, EVERY, here, go)
            self.saved_mu = torch.where(go, mu, self.saved_mu)
            self.phase = torch.where(go, LOOSE, self.phase)
        return restart


def _screen_rtol(opt: FlowOptions) -> float | None:
    """The loose step tolerance, or None where there is none."""
    if opt.screen is None or opt.method != "exprb32":
        return None
    loose = min(opt.screen * opt.rtol, SCREEN_MAX)
    return loose if loose > opt.rtol else None


def _restart(risk: Risk, here: _Point, start: torch.Tensor, P: torch.Tensor | None,
             restart: torch.Tensor) -> torch.Tensor:
    """Move the students `restart` (B, c) back to their start; returns the passes (B,)."""
    rows = restart.any(1).nonzero().flatten()
    fresh = _evaluate(risk.restrict(rows), start[rows], None if P is None else P[rows])
    _update(here, (rows, slice(None)), fresh, restart[rows])
    cost = torch.zeros(restart.shape[0], dtype=torch.long, device=restart.device)
    cost[rows] = 2
    return cost


def invariant_projector(Q0: torch.Tensor, rtol: float = 1e-10) -> torch.Tensor | None:
    """Per student (B, c, r, r), the projector I - N N^T that removes the right null space N
    of Q0 (eigenvalues of Q0^T Q0 below rtol^2 times the largest); None if every Q0 has
    full column rank, as for semantic and random starts."""
    G = Q0.transpose(-1, -2) @ Q0
    lam, U = torch.linalg.eigh(G)
    null = lam <= rtol**2 * lam[..., -1:].clamp_min(1e-300)
    if not bool(null.any()):
        return None
    N = U * null[..., None, :]
    return torch.eye(Q0.shape[-1], dtype=Q0.dtype, device=Q0.device) - N @ N.transpose(-1, -2)


def _project(T: torch.Tensor, P: torch.Tensor | None) -> torch.Tensor:
    return T if P is None else T @ P


def _evaluate(risk: Risk, Q: torch.Tensor, P: torch.Tensor | None) -> _Point:
    """The point at Q, with its gradient on the invariant subspace of the projector P."""
    here = _Point.at(risk, Q)
    here.g = _project(here.g, P)
    return here


def _norm(T: torch.Tensor) -> torch.Tensor:
    return _dot(T, T).sqrt()


def grad_norm(grad: torch.Tensor) -> torch.Tensor:
    """The RMS entry of dR/dQ, per student: ||grad||_F / sqrt(d r) (every solver's stop)."""
    return grad.double().pow(2).mean((-1, -2)).sqrt()


def _initial_mu(risk: Risk, here: _Point, active: torch.Tensor) -> torch.Tensor:
    """mu = g^T H g / g^T g: the first step damps the stiffest part of the gradient by half."""
    Hg = risk.hvp(here.curv, here.g)
    gg = _dot(here.g, here.g).clamp_min(1e-300)
    return torch.where(active, _dot(here.g, Hg).abs() / gg, 1.0).clamp_min(1e-8)


def ros2_step(
    risk: Risk, here: _Point, mu: torch.Tensor, active: torch.Tensor, opt: FlowOptions,
    P: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One ROS2 step of dQ/dt = -grad R per active student, with time step
    tau = 1 / (gamma mu): (step, local error estimate ||step - Euler step||, positive, HVPs
    per data set). positive is False where conjugate gradients met a direction of
    non-positive curvature of H + mu (the step is then not to be trusted). With f = -g and
    J = -H the stages are (I - gamma tau J) k_i = ..., written here with u_i = gamma tau k_i:

        (H + mu) u1 = -g(Q)
        (H + mu) u2 = -g(Q + u1 / gamma) - 2 mu u1
        step = (3 u1 + u2) / (2 gamma),   Euler step (embedded, first order) = u1 / gamma.
    """

    def apply(V: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return _project(risk.hvp(here.curv, V, rows), P) + mu[..., None, None] * V

    u1, _, pos1, n1 = conjugate_gradients(apply, -here.g, active,
                                          opt.cg_rtol * _norm(here.g), opt.cg_iters)
    u1 = _project(u1, P)
    _, g1 = risk.value_and_grad(here.Q + u1 / GAMMA)
    b2 = -_project(g1, P) - 2 * mu[..., None, None] * u1
    u2, _, pos2, n2 = conjugate_gradients(apply, b2, active, opt.cg_rtol * _norm(b2),
                                          opt.cg_iters)
    u2 = _project(u2, P)
    return (3 * u1 + u2) / (2 * GAMMA), _norm(u1 + u2) / (2 * GAMMA), pos1 & pos2, n1 + n2


def exprb32_step(
    risk: Risk, here: _Point, mu: torch.Tensor, active: torch.Tensor, opt: FlowOptions,
    P: torch.Tensor | None = None, rtol: torch.Tensor | float | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step of the third-order exponential Rosenbrock method exprb32 (Hochbruck,
    Ostermann and Schweitzer 2009) of dQ/dt = F(Q) = -grad R, time step tau = 1 / mu, with
    J = -H the exact Jacobian at Q:

        U = Q + tau phi_1(tau J) F(Q)                (exponential Rosenbrock-Euler, order 2)
        D = F(U) - F(Q) - J (U - Q)                  (the flow's nonlinearity along the step)
        step = U - Q + 2 tau phi_3(tau J) D,         local error estimate ||2 tau phi_3 D||.

    The first stage is the exact flow of the local quadratic model, so the estimate sees only
    the nonlinearity: a relaxation in a near-quadratic basin takes long steps, and a step
    near a saddle follows the exponential escape exactly. `rtol` (per student, default
    opt.rtol) sets the Krylov accuracy. Returns (step, error estimate, Krylov converged,
    products per data set, g^T H g / g^T g: the curvature along the flow at Q)."""
    tau = 1.0 / mu
    rtol = opt.rtol if rtol is None else rtol
    atol = opt.krylov_frac * (rtol * _norm(here.Q) + opt.atol)

    def apply(V: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return _project(risk.hvp(here.curv, _project(V, P), rows), P)

    u1, Hu1, ok1, n1, along = lanczos_phi(apply, -here.g, tau, 1, active, atol,
                                          opt.cg_iters, opt.krylov_rtol)
    _, gU = risk.value_and_grad(here.Q + u1)
    D = -_project(gU, P) + here.g + Hu1
    # the correction only needs the absolute bound: an accepted one is below the tolerance
    e, _, ok2, n2, _ = lanczos_phi(apply, D, tau, 3, active, atol, opt.cg_iters,
                                   float("inf"))
    e = 2 * e
    return u1 + e, _norm(e), ok1 & ok2, n1 + n2, along


def _step(
    risk: Risk, here: _Point, mu: torch.Tensor, active: torch.Tensor, opt: FlowOptions,
    P: torch.Tensor | None, rtol: torch.Tensor, tol: float,
) -> tuple[torch.Tensor, _Point, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One trial step per active student: (accepted, the trial point, next mu, HVPs and
    gradients used per data set, bends back: `_bends_back`); P (or None) projects on the
    invariant subspaces, rtol (per student) is the step tolerance."""
    if opt.method == "exprb32":
        s, err, ok, n_hvp, along = exprb32_step(risk, here, mu, active, opt, P, rtol)
        order = 3
    else:
        s, err, ok, n_hvp = ros2_step(risk, here, mu, active, opt, P)
        along, order = torch.ones_like(mu), 2
    new = _evaluate(risk, here.Q + s, P)
    qn = _norm(here.Q)
    ratio = err / (rtol * qn + opt.atol)
    short = _norm(s) <= opt.max_rel_step * qn
    accept = active & ok & short & (new.f <= here.f) & (ratio <= 1)
    # the estimate grows like tau^order: aim at `safety` of the tolerance; after a rejection
    # shrink tau at least 2x (16x where the step's linear algebra failed)
    factor = (ratio.clamp_min(1e-12) ** (1 / order) / opt.safety).clamp(0.2, 5.0)
    factor = torch.where(accept, factor, torch.where(ok, factor.clamp_min(2.0), 16.0))
    mu = torch.where(active, (mu * factor).clamp_min(opt.mu_min), mu)
    return accept, new, mu, n_hvp + 1, _bends_back(here, new, accept, along, tol)


def _bends_back(here: _Point, new: _Point, accept: torch.Tensor, along: torch.Tensor,
                tol: float) -> torch.Tensor:
    """Has the path met negative curvature? Along the flow d||g||^2/dt = -2 g^T H g, so in a
    region where H is positive definite the gradient only shrinks; the flow's curvature
    g^T H g / g^T g below zero at Q, or an accepted step on which ||g|| grew (above the
    rounding level near the end, 10 tol), marks a path near a saddle, where the end point
    can depend on small errors along the way."""
    g0, g1 = grad_norm(here.g), grad_norm(new.g)
    return (along < 0) | (accept & (g1 > g0) & (g0 > 10 * tol))


def _update(here: _Point, idx: tuple[torch.Tensor | slice, torch.Tensor | slice],
            new: _Point, accept: torch.Tensor) -> None:
    """Move the accepted students among `idx` (data sets, students) to the point `new`."""
    a = accept[..., None, None]
    here.Q[idx] = torch.where(a, new.Q, here.Q[idx])
    here.g[idx] = torch.where(a, new.g, here.g[idx])
    here.f[idx] = torch.where(accept, new.f, here.f[idx])
    here.curv[idx] = torch.where(a[..., None], new.curv, here.curv[idx])
