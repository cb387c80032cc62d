"""The L = 2, rank-1 attention channel: attention diagonals, teacher mixing, per-sample loss.

Everything model-specific for one sample lives here, so that another sequence length or
rank only has to replace this module. Rows of a 2 x 2 row-stochastic matrix are fixed by
their diagonal entries, which is all the loss needs: `||S - T||_F^2 = 2 sum_l (S_ll - T_ll)^2`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..config import A_PRESETS, A_rows

DEFAULT_A = tuple(tuple(row) for row in A_PRESETS["paper"])  # the paper's, from config


def check_A(A) -> np.ndarray:
    """Return `A` (None: the default) as a 2 x 2 float array; config's validation (an
    InputError, a ValueError, unless it is row-stochastic)."""
    return np.asarray(A_rows(DEFAULT_A if A is None else A, 2), dtype=float)


@dataclass(frozen=True)
class Problem:
    """Model parameters of one fixed point; `branch` names which order parameters are held
    at 0 (rank 1: theta on the positional and trivial branches, m on the trivial one; rank 2:
    m on the semantic, theta on the positional, both on the trivial; mixed: none)."""

    alpha: float
    omega: float
    sigma: float
    lam: float
    A: np.ndarray
    branch: str

    @property
    def rho(self) -> float:
        return self.sigma**2


def logits(h: np.ndarray) -> np.ndarray:
    """Softmax logit gaps `a_l = h_l (h_l - h_k)` of the diagonal entries, shape (..., 2)."""
    gap = h[..., 0] - h[..., 1]
    return np.stack([h[..., 0] * gap, -h[..., 1] * gap], axis=-1)


def attention_diag(h: np.ndarray) -> np.ndarray:
    """Diagonal `(S_11, S_22)` of the row-softmax of `h h^T`, for preactivations (..., 2)."""
    return expit(logits(h))


def teacher_diag(hstar: np.ndarray, omega: float, A: np.ndarray) -> np.ndarray:
    """Diagonal of `T = (1 - omega) softmax(h* h*^T) + omega A`, shape (..., 2)."""
    return (1.0 - omega) * attention_diag(hstar) + omega * np.diag(A)


@dataclass(frozen=True)
class Inputs:
    """The prox inputs at 4-D Gaussian points p = (xi_1, xi_2, eta_1, eta_2) for one state:
    student means `w = sq xi + (m, -m)`, teacher preactivations `h* = a xi + b eta` and
    diagonals `T = teacher_diag(h*)`. Affine in p up to T, so that the compiled switch search
    (`split.py`) can evaluate them at any point of a line from these six numbers."""

    sq: float
    m: float
    a: float
    b: float
    omega: float
    A: np.ndarray

    @classmethod
    def at_state(cls, x: np.ndarray, pb: Problem) -> Inputs:
        """The inputs at the theory's state x = (q, m, theta, V) of problem pb."""
        q, m, th, _ = (float(v) for v in x)
        return cls(float(np.sqrt(q)), m, th / float(np.sqrt(q)), resid(x, pb.rho), pb.omega,
                   pb.A)

    def __call__(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Student means w (N, 2) and teacher diagonals T (N, 2) at points (N, 4)."""
        xi, eta = points[:, :2], points[:, 2:]
        w = self.sq * xi + np.array([self.m, -self.m])
        return w, teacher_diag(self.a * xi + self.b * eta, self.omega, self.A)

    def params(self) -> np.ndarray:
        """(sq, m, a, b, 1 - omega, omega A_11, omega A_22) for the compiled version."""
        return np.array([self.sq, self.m, self.a, self.b, 1.0 - self.omega,
                         self.omega * self.A[0, 0], self.omega * self.A[1, 1]])


def resid(x: np.ndarray, rho: float) -> float:
    """Std of the teacher preactivation not explained by the student's, at state
    x = (q, m, theta, V): sqrt(rho - theta^2 / q)."""
    q, _, th, _ = x
    return float(np.sqrt(max(rho - th * th / q, 0.0)))


def loss(h: np.ndarray, T: np.ndarray, sigma: float) -> np.ndarray:
    """Per-sample loss `sigma^2 ||S(h) - T||_F^2` for preactivations h and teacher diagonal T."""
    r = attention_diag(h) - T
    return 2.0 * sigma**2 * np.sum(r * r, axis=-1)
