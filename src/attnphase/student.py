"""The student: tied low-rank dot-product attention, and its initialisations.

`h_l = Q^T x_l / sqrt(d)`, `S = softmax(h h^T)` row-wise, `Yhat = S X` (docs/model.md §2).
`TiedAttention` is the model's one readable definition. Every solver (the default `flow`,
and the paper's `gd` and `adam` protocols) trains `objective.Risk`, the same risk computed
from per-sample Gram matrices; tests/test_student.py checks that the two agree (risk,
gradient and Hessian) and agree with a loop over samples and tokens.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .errors import InputError
from .teacher import attention, rng


class TiedAttention(nn.Module):
    """Single-head attention layer whose query and key weights are the same Q (d x r)."""

    def __init__(self, Q: torch.Tensor) -> None:
        super().__init__()
        self.Q = nn.Parameter(Q.clone())

    @property
    def d(self) -> int:
        return self.Q.shape[0]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Yhat = S(X) X for inputs X of shape (n, L, d)."""
        return attention(X @ self.Q / math.sqrt(self.d)) @ X

    def risk(self, X: torch.Tensor, Y: torch.Tensor, lam: float) -> torch.Tensor:
        """R(Q) = sum_mu ||Yhat_mu - Y_mu||_F^2 / (2d) + (lam/2) ||Q||_F^2."""
        return ((self(X) - Y) ** 2).sum() / (2 * self.d) + 0.5 * lam * (self.Q**2).sum()


def initial_Q(
    init: str, d: int, rank: int, Q_star: np.ndarray, P: np.ndarray, seed: int
) -> np.ndarray:
    """Initial weights (d x rank).

    semantic: Q = Q* (columns beyond the teacher's rank are random, as below);
    positional: every column is 1_d / sqrt(d) for L = 2, in general the first encoding p_1;
    random: Q = 0.1 N(0, 1), from the seed's `init` stream.
    """
    random = 0.1 * rng(seed, "init").standard_normal((d, rank))
    if init == "random":
        return random
    if init == "positional":
        return np.repeat(P[0][:, None], rank, axis=1).astype(np.float64)
    if init == "semantic":
        k = min(rank, Q_star.shape[1])
        return np.concatenate([Q_star[:, :k], random[:, k:]], axis=1)
    raise InputError(f"init = {init!r}: must be one of semantic, positional, random")
