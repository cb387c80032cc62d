"""The default solver: gradient flow dQ/dt = -grad R, integrated by linearly implicit Euler
steps with an adaptive time step, which become Newton steps near the minimiser.

One step from Q with time step tau = 1 / mu solves `(H + mu I) s = -g` (H the exact Hessian,
applied by Hessian-vector products, two passes over X each) by conjugate gradients. For
small tau this is the Euler step of the flow, for tau -> infinity Newton's step; in between
it is the stiffly stable step of the flow that crosses the fast directions of the landscape
in one go. The step is kept only if

- it is computed with H + mu I positive definite (conjugate gradients met no direction of
  non-positive curvature), so along an unstable direction of a saddle it moves downhill;
- the risk decreases; and
- the linear model of the gradient holds along it:
  `||g(Q + s) - (g + H s)|| <= eta ||g||`. This is the implicit Euler step's defect: the
  step follows the flow to within that relative error, so it cannot step over a ridge
  that the local model does not see, which is how a quasi-Newton jump leaves a basin.

The defect bounds the step's nonlinearity, not its time-discretisation error (it vanishes on
a quadratic). Where the path's end depends on that error (docs/solver.md, "Known limit"),
`FlowOptions.eta_t` also bounds the Euler step's local error estimate.

Otherwise mu grows (the time step shrinks) and the step is retried. Accepted steps let mu
shrink, down to Newton's method. docs/solver.md explains the choice and how it is checked
against a long small-step gradient descent.

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

from .objective import Risk

Progress = Callable[[int, torch.Tensor], None]


@dataclass
class FlowOptions:
    """Tuning of the flow solver (defaults measured in benchmarks/bench_solver.py)."""

    eta: float = 0.1  # allowed relative defect of the gradient model along a step
    cg_iters: int = 100  # conjugate-gradient iterations per step, at most
    cg_rtol: float = 0.1  # conjugate-gradient relative residual, at most
    max_rel_step: float = 0.25  # a step moves Q by at most this fraction of ||Q||
    mu_max: float = 1e12  # a student whose mu would exceed this (x its first mu) has stalled
    # optional control of the time-discretisation error (off by default, docs/solver.md
    # "Known limit"): the local error estimate tau ||g(Q + s) - g(Q)|| / 2 of the Euler step
    # at most eta_t ||s|| + atol_t ||Q||
    eta_t: float | None = None
    atol_t: float = 1e-6


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


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum((-1, -2))


def conjugate_gradients(
    apply: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    b: torch.Tensor,
    active: torch.Tensor,
    rtol: torch.Tensor,
    iters: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Solve A s = b per student (A symmetric) from s = 0, batched over (B, c); students
    with active = False keep s = 0. `apply(p, rows)` needs A p only on the data sets `rows`.

    Returns (s, residual b - A s, positive, products): positive is False where a search
    direction of non-positive curvature was met (A not positive definite there); products
    counts the applications of A per data set (B,).
    """
    s = torch.zeros_like(b)
    r = torch.where(active[..., None, None], b, 0.0)
    p = r.clone()
    rr = _dot(r, r)
    goal = (rtol * rr.sqrt()) ** 2
    running = active & (rr > 0)
    positive = torch.ones_like(active)
    products = torch.zeros(b.shape[0], dtype=torch.long)
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
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Follow the gradient flow from Q0 (B, c, d, r) to a point with grad_norm <= tol.

    Returns (Q, R, grad, steps, passes): passes over X per data set (B,), counting two per
    risk-and-gradient evaluation and per Hessian-vector product.
    """
    opt = options or FlowOptions()
    Q0 = Q0.double()
    P = invariant_projector(Q0)
    here = _evaluate(risk, _project(Q0, P).clone(), P)
    B, c = here.f.shape
    passes = torch.full((B,), 2, dtype=torch.long)
    n_steps = torch.zeros(B, c, dtype=torch.long)
    active = _rms(here.g) > tol
    mu = _initial_mu(risk, here, active)
    passes += 2
    mu_cap = opt.mu_max * mu
    sub, key = risk, None
    for step in range(steps):
        live = active.any(1).nonzero().flatten()
        if live.numel() == 0:
            break
        cols = active[live].any(0).nonzero().flatten()
        if key is None or not (torch.equal(key[0], live) and torch.equal(key[1], cols)):
            sub, key = risk.restrict(live, cols), (live, cols)  # copies X only when it shrinks
        idx = (live[:, None], cols[None, :])
        part = _Point(here.Q[idx], here.f[idx], here.g[idx], here.curv[idx])
        P_part = None if P is None else P[idx]
        accept, new, mu_live, n_hvp = _step(sub, part, mu[idx], active[idx], opt, P_part)
        passes[live] += 2 * (n_hvp + 1)
        _update(here, idx, new, accept)
        mu[idx] = mu_live
        n_steps[idx] += accept.long()
        active[idx] &= (_rms(here.g[idx]) > tol) & (mu_live < mu_cap[idx])
        if progress:
            progress(step, _rms(here.g))
    return here.Q, here.f, here.g, n_steps, passes


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
    return torch.eye(Q0.shape[-1], dtype=Q0.dtype) - N @ N.transpose(-1, -2)


def _project(T: torch.Tensor, P: torch.Tensor | None) -> torch.Tensor:
    return T if P is None else T @ P


def _evaluate(risk: Risk, Q: torch.Tensor, P: torch.Tensor | None) -> _Point:
    """The point at Q, with its gradient on the invariant subspace of the projector P."""
    here = _Point.at(risk, Q)
    here.g = _project(here.g, P)
    return here


def _rms(g: torch.Tensor) -> torch.Tensor:
    return g.pow(2).mean((-1, -2)).sqrt()


def _initial_mu(risk: Risk, here: _Point, active: torch.Tensor) -> torch.Tensor:
    """mu = g^T H g / g^T g: the first step damps the stiffest part of the gradient by half."""
    Hg = risk.hvp(here.curv, here.g)
    gg = _dot(here.g, here.g).clamp_min(1e-300)
    return torch.where(active, _dot(here.g, Hg).abs() / gg, 1.0).clamp_min(1e-8)


def _step(
    risk: Risk, here: _Point, mu: torch.Tensor, active: torch.Tensor, opt: FlowOptions,
    P: torch.Tensor | None,
) -> tuple[torch.Tensor, _Point, torch.Tensor, torch.Tensor]:
    """One trial step per active student: (accepted, the trial point, next mu, HVPs used
    per data set); P (or None) projects on the students' invariant subspaces."""
    gnorm = _dot(here.g, here.g).sqrt()

    def apply(V: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return _project(risk.hvp(here.curv, V, rows), P) + mu[..., None, None] * V

    rtol = torch.full_like(mu, opt.cg_rtol)
    s, res, positive, n_hvp = conjugate_gradients(apply, -here.g, active, rtol, opt.cg_iters)
    s = _project(s, P)
    new = _evaluate(risk, here.Q + s, P)
    model_g = -mu[..., None, None] * s - res  # g + H s, from the CG residual
    defect = _dot(new.g - model_g, new.g - model_g).sqrt() / gnorm.clamp_min(1e-300)
    short = _dot(s, s).sqrt() <= opt.max_rel_step * _dot(here.Q, here.Q).sqrt()
    accept = active & positive & short & (new.f <= here.f) & (defect <= opt.eta)
    # the defect of an implicit Euler step grows like tau^2: aim at eta / 2 on the next step
    factor = (2 * defect / opt.eta).sqrt()
    if opt.eta_t is not None:  # first-order error: the implicit Euler step against the
        dg = new.g - here.g  # trapezoidal one, which also grows like tau^2
        err = _dot(dg, dg).sqrt() / (2 * mu)
        allowed = opt.eta_t * _dot(s, s).sqrt() + opt.atol_t * _dot(here.Q, here.Q).sqrt()
        accept &= err <= allowed
        factor = torch.maximum(factor, (2 * err / allowed).sqrt())
    factor = factor.clamp(0.1, 4.0)
    factor = torch.where(accept, factor, torch.where(positive, factor.clamp_min(2.0), 16.0))
    mu = torch.where(active, mu * factor, mu)
    return accept, new, mu, n_hvp


def _update(here: _Point, idx: tuple[torch.Tensor, torch.Tensor], new: _Point,
            accept: torch.Tensor) -> None:
    """Move the accepted students among `idx` (data sets, students) to the trial point."""
    a = accept[..., None, None]
    here.Q[idx] = torch.where(a, new.Q, here.Q[idx])
    here.g[idx] = torch.where(a, new.g, here.g[idx])
    here.f[idx] = torch.where(accept, new.f, here.f[idx])
    here.curv[idx] = torch.where(a[..., None], new.curv, here.curv[idx])
