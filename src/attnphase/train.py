"""Solvers for the empirical risk of a batch of students.

- `gd`: the paper's protocol, full-batch gradient descent (lr 0.15, 5000 steps), the ridge
  term as weight decay, i.e. plain GD on R.
- `adam`: the paper's alternative, Adam (lr 0.01, 2500 steps) on R.
- `flow` (default, flow.py): the stationary point gradient flow from the initialisation
  reaches, by third-order exponential Rosenbrock steps with a local-error control
  (docs/solver.md); optionally with its end point checked at other tolerances (certify.py).
- `lbfgs`: the former default, limited-memory BFGS with a backtracking (Armijo) line
  search; fast, but it can leave the basin of its initialisation.

All solvers act on independent students in one batch: since the students' risks are
separate, each student gets its own step sizes (and curvature history) and the adaptive
ones stop on their own tolerance, while every evaluation is one batched tensor program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .certify import certified_flow
from .flow import FlowOptions, flow, grad_norm
from .objective import Risk


@dataclass
class SolverResult:
    """Final weights and diagnostics per student; tensors have shape (B, c, ...)."""

    Q: torch.Tensor
    risk: torch.Tensor
    grad_norm: torch.Tensor
    converged: torch.Tensor
    steps: torch.Tensor
    passes: torch.Tensor  # passes over the inputs X of each data set, (B,)
    certified: torch.Tensor | None = None  # flow with certify > 0: the end point checked (B, c)
    rtol: torch.Tensor | None = None  # flow: the step tolerance of each end point (B, c)


STATUS_NOTES = {
    "converged": "the gradient norm reached the tolerance: a stationary point",
    "not converged": "the gradient norm is above the tolerance: not a stationary point yet",
    "plateau": "the fixed-step protocol stopped with a gradient far from zero (over 100x the "
               "tolerance), typically on a plateau of the flow: not a minimiser; the default "
               "solver (flow) continues to the minimiser (docs/solver.md)",
}


def status(grad_norm: float, tol: float, solver: str) -> str:
    """'converged', 'not converged', or 'plateau' for a fixed-step protocol (gd, adam) that
    stopped with a gradient far from zero."""
    if grad_norm <= tol:
        return "converged"
    if solver in ("gd", "adam") and grad_norm > 100 * tol:
        return "plateau"
    return "not converged"


Progress = Callable[[int, torch.Tensor], None]


def solve(
    risk: Risk,
    Q0: torch.Tensor,
    solver: str = "lbfgs",
    steps: int = 2000,
    lr: float = 1.0,
    tol: float = 1e-6,
    progress: Progress | None = None,
    options: FlowOptions | None = None,
    certify: int = 0,
) -> SolverResult:
    """Minimise `risk` from Q0 (B, c, d, r) with the named solver; `options` and `certify`
    (refinements of the end-point check, 0 for none) apply to the flow only."""
    if solver == "flow":
        opt = options or FlowOptions()
        if certify:
            end, certified, rtol = certified_flow(risk, Q0, steps, tol, opt, certify, progress)
            gn = grad_norm(end.g)
            return SolverResult(end.Q, end.R, gn, gn <= tol, end.steps, end.passes, certified,
                                rtol[:, None].expand(certified.shape))
        Q, R, g, n_steps, passes, rtol = flow(risk, Q0, steps, tol, progress, opt)
        gn = grad_norm(g)
        return SolverResult(Q, R, gn, gn <= tol, n_steps, passes, None, rtol)
    run = {"lbfgs": lbfgs, "gd": gradient_descent, "adam": adam}[solver]
    return run(risk, Q0, steps, lr, tol, progress)


def gradient_descent(
    risk: Risk, Q0: torch.Tensor, steps: int, lr: float, tol: float, progress: Progress | None
) -> SolverResult:
    """Full-batch GD on R (the paper's protocol: weight decay lambda is the ridge gradient)."""
    Q = Q0.clone()
    for step in range(steps):
        R, g = risk.value_and_grad(Q)
        Q = Q - lr * g
        if progress:
            progress(step, grad_norm(g))
    R, g = risk.value_and_grad(Q)
    return _result(Q, R, g, tol, steps)


def adam(
    risk: Risk, Q0: torch.Tensor, steps: int, lr: float, tol: float, progress: Progress | None
) -> SolverResult:
    """Adam on R; element-wise, so on a batch it is exactly one Adam per student."""
    Q = Q0.clone().requires_grad_(True)
    opt = torch.optim.Adam([Q], lr=lr)
    for step in range(steps):
        _, g = risk.value_and_grad(Q.detach())
        Q.grad = g.to(Q.dtype)
        opt.step()
        if progress:
            progress(step, grad_norm(g))
    Q = Q.detach()
    R, g = risk.value_and_grad(Q)
    return _result(Q, R, g, tol, steps)


def _result(Q: torch.Tensor, R: torch.Tensor, g: torch.Tensor, tol: float, steps: int):
    gn = grad_norm(g)
    return SolverResult(Q, R, gn, gn <= tol, torch.full_like(R, steps, dtype=torch.long),
                        torch.full(R.shape[:1], 2 * steps + 2, dtype=torch.long))


def lbfgs(
    risk: Risk,
    Q0: torch.Tensor,
    steps: int,
    lr: float,
    tol: float,
    progress: Progress | None,
) -> SolverResult:
    """Batched L-BFGS with per-student Armijo backtracking; stops per student at grad_norm <= tol.

    `lr` scales the first trial step of every line search (1.0 is the quasi-Newton step).
    A student whose line search cannot decrease R any more stops with converged = False.
    Fast, but it may leave the basin of its initialisation (docs/solver.md): the former
    default, kept for comparison.
    """
    shape = Q0.shape
    x = Q0.reshape(shape[0] * shape[1], -1).double().clone()
    f, g = _fg(risk, x, shape)
    memory = _Memory.empty(x)
    active = grad_norm(g.reshape(shape)).reshape(-1) > tol
    n_steps = torch.zeros_like(active, dtype=torch.long)
    for step in range(steps):
        if not bool(active.any()):
            break
        direction, gtd = memory.direction(g, x)
        x_new, f_new, g_new, ok = _backtrack(risk, shape, x, f, direction, gtd, lr, ~active)
        move = active & ok
        memory.push(x_new - x, g_new - g, move)
        x = torch.where(move[:, None], x_new, x)
        f = torch.where(move, f_new, f)
        g = torch.where(move[:, None], g_new, g)
        n_steps += move.long()
        gn = grad_norm(g.reshape(shape)).reshape(-1)
        active = active & ok & (gn > tol)
        if progress:
            progress(step, gn)
    gn = grad_norm(g.reshape(shape))
    return SolverResult(Q=x.reshape(shape), risk=f.reshape(shape[:2]), grad_norm=gn,
                        converged=gn <= tol, steps=n_steps.reshape(shape[:2]),
                        passes=torch.full(shape[:1], -1, dtype=torch.long))


def _fg(risk: Risk, x: torch.Tensor, shape: torch.Size) -> tuple[torch.Tensor, torch.Tensor]:
    R, g = risk.value_and_grad(x.reshape(shape))
    return R.reshape(-1), g.reshape(x.shape)


def _backtrack(
    risk: Risk, shape: torch.Size, x: torch.Tensor, f: torch.Tensor, direction: torch.Tensor,
    gtd: torch.Tensor, lr: float, done: torch.Tensor, c1: float = 1e-4, halvings: int = 40,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Armijo backtracking per student from step lr: (x_new, f_new, g_new, found)."""
    t = torch.full_like(f, lr)
    ok = done.clone()
    for _ in range(halvings):
        x_new = x + t[:, None] * direction
        f_new, g_new = _fg(risk, x_new, shape)
        ok = ok | (f_new <= f + c1 * t * gtd)
        if bool(ok.all()):
            break
        t = torch.where(ok, t, 0.5 * t)
    return x_new, f_new, g_new, ok & ~done


@dataclass
class _Memory:
    """The L-BFGS curvature pairs of every student (rows); rho = 0 marks an unused pair."""

    S: list[torch.Tensor]
    Y: list[torch.Tensor]
    rho: list[torch.Tensor]
    gamma: torch.Tensor
    have_pair: torch.Tensor
    size: int = 10

    @classmethod
    def empty(cls, x: torch.Tensor) -> _Memory:
        K = x.shape[0]
        return cls([], [], [], torch.ones(K, dtype=x.dtype, device=x.device),
                   torch.zeros(K, dtype=torch.bool, device=x.device))

    def direction(self, g: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The quasi-Newton direction and g . direction; before any curvature pair a
        gradient step of length ~ |x| / 10 (or 1); steepest descent if not a descent."""
        direction = self._two_loop(g)
        first = -g / g.norm(dim=1, keepdim=True).clamp_min(1e-300)
        scale = (0.1 * x.norm(dim=1, keepdim=True)).clamp_min(1.0)
        direction = torch.where(self.have_pair[:, None], direction, first * scale)
        gtd = (g * direction).sum(1)
        bad = gtd >= 0
        direction = torch.where(bad[:, None], -g, direction)
        return direction, torch.where(bad, -(g * g).sum(1), gtd)

    def push(self, s: torch.Tensor, y: torch.Tensor, move: torch.Tensor) -> None:
        """Store the pair (s, y) of the students that moved with positive curvature."""
        sy = (s * y).sum(1)
        valid = move & (sy > 1e-12 * s.norm(dim=1) * y.norm(dim=1))
        self.S.append(torch.where(valid[:, None], s, 0.0))
        self.Y.append(torch.where(valid[:, None], y, 0.0))
        self.rho.append(torch.where(valid, 1.0 / torch.where(valid, sy, 1.0), 0.0))
        self.gamma = torch.where(valid, sy / (y * y).sum(1).clamp_min(1e-300), self.gamma)
        self.have_pair |= valid
        if len(self.S) > self.size:
            self.S.pop(0), self.Y.pop(0), self.rho.pop(0)

    def _two_loop(self, g: torch.Tensor) -> torch.Tensor:
        """The L-BFGS two-loop recursion, per row; pairs with rho = 0 act as the identity."""
        q = -g.clone()
        alphas = []
        for s, y, r in zip(reversed(self.S), reversed(self.Y), reversed(self.rho), strict=True):
            a = r * (s * q).sum(1)
            q -= a[:, None] * y
            alphas.append(a)
        q *= self.gamma[:, None]
        for s, y, r, a in zip(self.S, self.Y, self.rho, reversed(alphas), strict=True):
            b = r * (y * q).sum(1)
            q += (a - b)[:, None] * s
        return q
