"""Randomised quasi-Monte Carlo rules for the rank-2 expectations (6-D standard Gaussian).

A product Gauss-Hermite rule is too large in 6 dimensions (8^6 = 262144 nodes, each needing
a 4-D non-convex prox), so the rank-2 theory uses scrambled Sobol points mapped through the
Gaussian quantile: `k` independent scramblings of `n` points each. The pooled rule (weights
1 / (k n)) gives the estimate; the spread of the `k` independent estimates gives its error,
`std / sqrt(k)` (randomised QMC: the k estimates are i.i.d. and unbiased).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import ndtri


@dataclass(frozen=True)
class QMCRule:
    """Nodes (k n, dim) in `k` blocks of `n`, each block an independently scrambled Sobol set."""

    nodes: np.ndarray
    k: int
    n: int

    @property
    def size(self) -> int:
        return self.k * self.n

    @property
    def weights(self) -> np.ndarray:
        """Equal weights of the pooled rule."""
        return np.full(self.size, 1.0 / self.size)

    def estimate(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, standard error) of E g from g at the nodes, `values` (k n, ...)."""
        blocks = np.asarray(values, dtype=float).reshape(self.k, self.n, *np.shape(values)[1:])
        means = blocks.mean(axis=1)
        err = means.std(axis=0, ddof=1) / np.sqrt(self.k) if self.k > 1 else np.full(
            means.shape[1:], np.nan)
        return means.mean(axis=0), err


@lru_cache(maxsize=8)
def qmc_rule(n: int = 512, k: int = 8, dim: int = 6, seed: int = 0) -> QMCRule:
    """`k` scrambled Sobol blocks of `n` points (a power of 2) for N(0, I_dim) expectations."""
    if n < 2 or n & (n - 1) or k < 1 or dim < 1:
        raise ValueError(f"qmc_rule: n={n} (a power of 2 >= 2), k={k}, dim={dim} (>= 1)")
    from scipy.stats import qmc  # scipy.stats is slow to import: only when a rule is built

    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(k):
        u = qmc.Sobol(dim, scramble=True, seed=rng).random(n)
        blocks.append(ndtri(np.clip(u, 1e-16, 1.0 - 1e-16)))
    nodes = np.concatenate(blocks)
    nodes.setflags(write=False)
    return QMCRule(nodes, k, n)
