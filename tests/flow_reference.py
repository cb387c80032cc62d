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
