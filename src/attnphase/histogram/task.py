"""The histogram task: token sequences and, per position, the count of its token.

Sequences of length L over T tokens are drawn uniformly (seeded) and de-duplicated, then
split once into training and validation sets. The label at position l is
y_l = #{j : x_j = x_l} in 1..L, predicted as one of L + 1 classes (class 0 is never a label).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError


@dataclass(frozen=True)
class HistogramData:
    """Training and validation sequences (int64, shape (n, L)) and their labels."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor

    def to(self, device: str) -> HistogramData:
        return HistogramData(*(t.to(device) for t in (self.x_train, self.y_train,
                                                       self.x_val, self.y_val)))


def count_labels(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """y[i, l] = number of positions j with x[i, j] == x[i, l] (int64)."""
    x = torch.as_tensor(x)
    return (x[:, :, None] == x[:, None, :]).sum(-1)


def sample_sequences(L: int, T: int, n: int, seed: int) -> np.ndarray:
    """n distinct sequences of L tokens in 0..T-1, uniform, in the order first drawn."""
    if n > T**L:
        raise InputError(f"n_sequences = {n}: more than the {T}**{L} = {T**L} distinct sequences")
    rng = np.random.default_rng([seed, 0x415])
    have = np.empty((0, L), dtype=np.int64)
    while len(have) < n:
        draw = rng.integers(0, T, size=(max(2 * (n - len(have)), 64), L), dtype=np.int64)
        both = np.concatenate([have, draw])
        _, first = np.unique(both, axis=0, return_index=True)
        have = both[np.sort(first)]
    return have[:n]


def make_data(L: int, T: int, n_sequences: int, train_frac: float, seed: int) -> HistogramData:
    """The task's data set: n_sequences distinct sequences, the first train_frac for training."""
    x = torch.from_numpy(sample_sequences(L, T, n_sequences, seed))
    y = count_labels(x)
    n_train = int(round(train_frac * n_sequences))
    if not 0 < n_train < n_sequences:
        raise InputError(f"train_frac = {train_frac}: leaves an empty training or validation set"
                         f" of the {n_sequences} sequences")
    return HistogramData(x[:n_train], y[:n_train], x[n_train:], y[n_train:])
