"""The teacher: positional encodings, teacher weights, attention, and seeded sample generation.

Random streams. A seed is split by `numpy.random.SeedSequence(seed).spawn` into independent
streams for the teacher weights, the training samples, the test samples, the student's
initialisation and the positional encodings (L > 2). Samples are drawn in float64 one after
the other from their stream, so the first n samples of a larger set are the n samples of a
smaller one, the chunk size never changes a number, and the dtype only changes precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from .config import Config

STREAMS = ("teacher", "train", "test", "init", "positions")
CHUNK_ENTRIES = 1 << 20  # entries of Z per generated chunk: 8 MB in float64


def rng(seed: int, stream: str) -> np.random.Generator:
    """The numpy generator of one named stream of a seed."""
    child = np.random.SeedSequence(seed).spawn(len(STREAMS))[STREAMS.index(stream)]
    return np.random.default_rng(child)


def attention(h: torch.Tensor) -> torch.Tensor:
    """Row-wise softmax of the dot products of preactivations: S_lk = softmax_k(h_l . h_k).

    `h` has shape (..., L, r); the result (..., L, L). The teacher and the student share it.
    """
    return torch.softmax(h @ h.transpose(-1, -2), dim=-1)


def positional_encodings(L: int, d: int, seed: int) -> np.ndarray:
    """Unit-norm positional encodings P (L x d).

    L = 2: the paper's p_1 = +1_d / sqrt(d), p_2 = -1_d / sqrt(d).
    L > 2: p_l = g_l / ||g_l|| with g_l ~ N(0, I_d) i.i.d., drawn from the seed's
    `positions` stream (nearly orthogonal for large d).
    """
    if L == 2:
        p = np.full(d, 1.0 / math.sqrt(d))
        return np.stack([p, -p])
    g = rng(seed, "positions").standard_normal((L, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def teacher_weights(d: int, teacher_rank: int, seed: int, norm: str = "gaussian") -> np.ndarray:
    """Q* (d x r*), entries i.i.d. N(0, 1), from the seed's `teacher` stream.

    `norm="sphere"` rescales that draw to ||Q*||_F^2 = d r* exactly (same direction).
    """
    Q_star = rng(seed, "teacher").standard_normal((d, teacher_rank))
    if norm == "sphere":
        Q_star *= math.sqrt(d * teacher_rank) / np.linalg.norm(Q_star)
    return Q_star


@dataclass(frozen=True)
class Teacher:
    """Everything that defines the data distribution of one seed."""

    Q_star: np.ndarray  # (d, r*)
    P: np.ndarray  # (L, d)
    A: np.ndarray  # (L, L)
    sigma: float
    omega: float
    seed: int

    @property
    def d(self) -> int:
        return self.Q_star.shape[0]

    @property
    def L(self) -> int:
        return self.P.shape[0]

    @classmethod
    def from_config(cls, cfg: Config) -> Teacher:
        return cls(
            Q_star=teacher_weights(cfg.d, cfg.teacher_rank, cfg.seed, cfg.teacher_norm),
            P=positional_encodings(cfg.L, cfg.d, cfg.seed),
            A=np.asarray(cfg.A_matrix, dtype=np.float64),
            sigma=cfg.sigma,
            omega=cfg.omega,
            seed=cfg.seed,
        )

    def targets(self, Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Y = (1 - omega) S* Z + omega A Z, the teacher acting on semantic parts Z (n, L, d).

        `out`, if given, receives Y (float64 arrays are written in place, others cast).
        """
        z = torch.from_numpy(Z)
        q_star = torch.from_numpy(self.Q_star).to(z.dtype)
        s_star = attention(z @ q_star / math.sqrt(self.d))
        mix = (1.0 - self.omega) * s_star + self.omega * torch.from_numpy(self.A).to(z.dtype)
        if out is not None and out.dtype == Z.dtype:
            torch.matmul(mix, z, out=torch.from_numpy(out))
            return out
        Y = (mix @ z).numpy()
        if out is not None:
            out[...] = Y
            return out
        return Y

    def fill(self, X: np.ndarray, Y: np.ndarray, stream: str = "train") -> None:
        """Write the first len(X) samples of `stream` into X (inputs) and Y (targets)."""
        start = 0
        for Z in self.semantic_chunks(len(X), stream):
            rows = slice(start, start + len(Z))
            self._inputs_and_targets(Z, X[rows], Y[rows])
            start += len(Z)

    def _inputs_and_targets(self, Z: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        """X = Z + P and Y = teacher(Z), written into the given arrays (cast to their dtype)."""
        self.targets(Z, out=Y)
        np.add(Z, self.P, out=X, casting="same_kind")

    def semantic_chunks(
        self, n: int, stream: str, chunk: int | None = None
    ) -> Iterator[np.ndarray]:
        """Yield the semantic parts Z (float64) of n samples of `stream`, chunk by chunk."""
        gen = rng(self.seed, stream)
        step = chunk or max(1, CHUNK_ENTRIES // (self.L * self.d))
        for start in range(0, n, step):
            Z = gen.standard_normal((min(step, n - start), self.L, self.d))
            Z *= self.sigma
            yield Z

    def sample_chunks(
        self, n: int, stream: str, dtype: np.dtype = np.float64, chunk: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (X, Y) chunks of n samples: inputs with positions added, and targets."""
        for Z in self.semantic_chunks(n, stream, chunk):
            X, Y = np.empty(Z.shape, dtype), np.empty(Z.shape, dtype)
            self._inputs_and_targets(Z, X, Y)
            yield X, Y
