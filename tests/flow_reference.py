"""A slow, independent reference for the gradient flow dQ/dt = -grad R: scipy's stiff BDF
integrator with the dense Hessian from autograd, then Newton steps once the gradient is small
(well inside the basin the flow has reached). For small d only (the Hessian is d r x d r)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.integrate import solve_ivp

from attnphase.objective import Risk


def _rms(g: np.ndarray) -> float:
    return float(np.sqrt(np.mean(g**2)))


def flow_limit(risk: Risk, Q0: torch.Tensor, tol: float = 1e-10, t_end: float = 1e7,
               rtol: float = 1e-8) -> np.ndarray:
    """The limit of the flow from Q0 (d, r) on a one-data-set risk, as a (d, r) array."""
    shape = (1, 1, *Q0.shape)

    def grad(q: np.ndarray) -> np.ndarray:
        _, g = risk.value_and_grad(torch.from_numpy(q).reshape(shape))
        return g.reshape(-1).numpy()

    def hess(q: np.ndarray) -> np.ndarray:
        def value(x: torch.Tensor) -> torch.Tensor:
            return risk.value(x.reshape(shape)).sum()
        H = torch.autograd.functional.hessian(value, torch.from_numpy(q), vectorize=True)
        return H.numpy()

    def near(t: float, q: np.ndarray) -> float:
        return _rms(grad(q)) - 1e-6

    near.terminal = True
    sol = solve_ivp(lambda t, q: -grad(q), (0.0, t_end), Q0.reshape(-1).double().numpy(),
                    method="BDF", jac=lambda t, q: -hess(q), rtol=rtol, atol=1e-12,
                    events=near)
    q = sol.y[:, -1]
    for _ in range(20):  # Newton from deep inside the basin
        g = grad(q)
        if _rms(g) <= tol:
            break
        q = q - np.linalg.solve(hess(q), g)
    return q.reshape(Q0.shape)


def rk4_path(risk: Risk, Q0: torch.Tensor, h: float, t_end: float) -> torch.Tensor:
    """Classical Runge-Kutta (fourth order) for dQ/dt = -grad R from Q0 (B, c, d, r) to time
    t_end in steps of at most h."""
    n = max(1, int(np.ceil(t_end / h)))
    h = t_end / n
    Q = Q0.double().clone()
    for _ in range(n):
        k1 = risk.value_and_grad(Q)[1]
        k2 = risk.value_and_grad(Q - h / 2 * k1)[1]
        k3 = risk.value_and_grad(Q - h / 2 * k2)[1]
        k4 = risk.value_and_grad(Q - h * k3)[1]
        Q = Q - h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return Q


def rk4_limit(risk: Risk, Q0: torch.Tensor, c: float = 0.5, tol: float = 1e-10,
              every: int = 200) -> tuple[np.ndarray, list[float]]:
    """The limit of the flow from Q0 (d, r) by classical Runge-Kutta with h = c / lambda_max
    (the dense Hessian's, updated every `every` steps) down to an RMS gradient of 1e-6, then
    Newton steps; also the RMS gradient every `every` steps (to see the plateaus)."""
    shape = (1, 1, *Q0.shape)
    Q = Q0.double().reshape(shape).clone()
    trace: list[float] = []

    def hess(q: torch.Tensor) -> np.ndarray:
        def value(x: torch.Tensor) -> torch.Tensor:
            return risk.value(x.reshape(shape)).sum()
        return torch.autograd.functional.hessian(value, q.reshape(-1)).numpy()

    while True:
        g = risk.value_and_grad(Q)[1].numpy()
        trace.append(_rms(g))
        if trace[-1] <= 1e-6 or len(trace) > 10_000:
            break
        h = c / float(np.abs(np.linalg.eigvalsh(hess(Q))).max())
        Q = rk4_path(risk, Q, h, every * h)
    q = Q.reshape(-1).numpy()
    for _ in range(20):
        g = risk.value_and_grad(torch.from_numpy(q).reshape(shape))[1].reshape(-1).numpy()
        if _rms(g) <= tol:
            break
        q = q - np.linalg.solve(hess(torch.from_numpy(q)), g)
    return q.reshape(Q0.shape), trace
