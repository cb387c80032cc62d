"""Asymptotic theory of the linear positional baseline `Yhat = B Z` (docs/model.md §5).

As d -> infinity the ridge fit converges to `B* = omega A + (1 - omega) E[softmax(h* h*^T)]`,
h* ~ N(0, rho I_2), at any alpha, and `eps_g_lin = (sigma^2 / 2) E ||B* - T||_F^2`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .channel import attention_diag, check_A
from .quadrature import gauss_hermite


@dataclass
class LinearTheory:
    """The limiting ridge matrix `B_star` (2 x 2) and its generalisation error `eps_g_lin`."""

    omega: float
    sigma: float
    B_star: np.ndarray
    eps_g_lin: float


def linear_theory(omega: float = 0.3, sigma: float = 0.5,
                  A: Sequence[Sequence[float]] | None = None, quad: int = 60) -> LinearTheory:
    """B* and eps_g_lin by a 2-D Gauss-Hermite rule (`quad` nodes per variable)."""
    A = check_A(A)
    rule = gauss_hermite(quad, dim=2, prune=0.0)
    diag = attention_diag(sigma * rule.nodes)  # teacher softmax diagonal, (N, 2)
    mean = rule.weights @ diag
    var = rule.weights @ (diag - mean) ** 2
    mean_S = np.array([[mean[0], 1.0 - mean[0]], [1.0 - mean[1], mean[1]]])
    B_star = omega * A + (1.0 - omega) * mean_S
    # B* - T = (1 - omega) (E S* - S*): each row's two entries differ by the same amount
    eps_g_lin = 0.5 * sigma**2 * (1.0 - omega) ** 2 * 2.0 * float(var.sum())
    return LinearTheory(float(omega), float(sigma), B_star, eps_g_lin)
