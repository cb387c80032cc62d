"""The exact test errors: eps_g as an expectation over a fresh sample, without sampling.

A fresh sample has `Z` (L x d) with rows `z_l ~ N(0, sigma^2 I_d)` and `X = Z + P`
(docs/model.md §1). The student's error is `||S X - T Z||_F^2 / (2d)`, with S the student's
attention (a function of `Z Q` and `P Q`) and T the teacher's mixing (of `Z Q*`). Let W
(d x k) be an orthonormal basis of span(Q, Q*) and split `Z = xi W^T + Z_perp` with
`xi = Z W` (L x k, entries N(0, sigma^2)) and `Z_perp` independent of it. S and T depend on
`xi` only, and `E[Z_perp Z_perp^T] = sigma^2 (d - k) I_L`, so

    2 d eps_g = E_xi[ ||D xi||^2 + 2 <D xi, S P W> + tr(S P P^T S^T) + sigma^2 (d - k) ||D||^2 ]

with `D = S - T`: exact at every d, positions included. The remaining expectation is over
L k Gaussian variables (4 for L = 2 and rank one), done by a tensor Gauss-Hermite rule up
to `TENSOR_MAX_DIMS` variables and by randomised quasi-Monte Carlo (scrambled Sobol points,
independent replicates giving the error) beyond, where a tensor rule cannot afford enough
points per variable (8 variables for a rank-2 teacher and student).
The linear baseline `Yhat = B Z` is the same with S = B, W a basis of span(Q*) and no
position term. docs/solver.md has the derivation; tests check it against Monte Carlo.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .teacher import Teacher, attention

NODE_BUDGET = 1 << 18  # quadrature nodes per student, at most (the rule's size per dimension)
CHUNK_NODES = 1 << 18
MAX_POINTS = 40  # beyond this numpy's Gauss-Hermite weights lose accuracy; the integrand is smooth
TENSOR_MAX_DIMS = 6  # the tensor rule has >= 8 points per variable up to here (2^18 nodes)
QMC_LOG2_POINTS = 15  # Sobol points per replicate: 2^15
QMC_REPLICATES = 8  # independent scramblings; their spread is the error estimate


def hermite_points(dims: int, budget: int = NODE_BUDGET) -> int:
    """Points per dimension of the tensor rule for `dims` Gaussian variables."""
    return min(MAX_POINTS, max(3, int(math.floor(budget ** (1.0 / dims) + 1e-9))))


def gaussian_nodes(dims: int, points: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (N, dims) and weights (N,) of E f(x) for x ~ N(0, sigma^2 I_dims)."""
    x, w = np.polynomial.hermite.hermgauss(points)
    grids = np.meshgrid(*([x] * dims), indexing="ij")
    nodes = np.stack([g.reshape(-1) for g in grids], -1) * (sigma * math.sqrt(2.0))
    weights = np.ones(1)
    for _ in range(dims):
        weights = np.outer(weights, w / math.sqrt(math.pi)).reshape(-1)
    return nodes, weights


def _basis(*mats: np.ndarray) -> np.ndarray:
    """Orthonormal basis (d, k) of the span of the columns of the given matrices."""
    M = np.concatenate(mats, axis=1)
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    keep = s > 1e-10 * max(float(s.max(initial=0.0)), 1e-300)
    return U[:, keep]


def eps_g_exact(teacher: Teacher, Q: np.ndarray, points: int | None = None) -> float:
    """eps_g of one student Q (d x r) on the teacher's distribution, without sampling: the
    tensor rule (`points` per variable; default by the node budget); nan for a diverged
    student (non-finite weights), as sampling would give."""
    if not np.isfinite(Q).all():
        return math.nan
    W = _basis(Q, teacher.Q_star)
    dims = teacher.L * W.shape[1]
    return _expected_error(teacher, W, Q, None, *gaussian_nodes(dims, points or
                                                                 hermite_points(dims),
                                                                 teacher.sigma))


def eps_g_qmc(
    teacher: Teacher, Q: np.ndarray, log2_points: int = QMC_LOG2_POINTS,
    replicates: int = QMC_REPLICATES, seed: int = 0,
) -> tuple[float, float]:
    """eps_g of one student Q by randomised quasi-Monte Carlo over the same low-dimensional
    Gaussian as `eps_g_exact` (the orthogonal part still in closed form): the mean over
    `replicates` independently scrambled Sobol sets of 2^log2_points points, and its
    standard error. Deterministic for a given seed."""
    if not np.isfinite(Q).all():
        return math.nan, math.nan
    W = _basis(Q, teacher.Q_star)
    dims = teacher.L * W.shape[1]
    vals = np.array([_expected_error(teacher, W, Q, None,
                                     *sobol_nodes(dims, log2_points, teacher.sigma, seed + r))
                     for r in range(replicates)])
    return float(vals.mean()), float(vals.std(ddof=1) / math.sqrt(replicates))


def eps_g_auto(teacher: Teacher, Q: np.ndarray) -> float:
    """eps_g without sampling by the cheaper accurate rule: tensor up to `TENSOR_MAX_DIMS`
    Gaussian variables, quasi-Monte Carlo beyond."""
    dims = teacher.L * (Q.shape[1] + teacher.Q_star.shape[1])
    return eps_g_exact(teacher, Q) if dims <= TENSOR_MAX_DIMS else eps_g_qmc(teacher, Q)[0]


def sobol_nodes(dims: int, log2_points: int, sigma: float, seed: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """A scrambled Sobol set (random linear scrambling and digital shift: each point
    uniform, the set still low-discrepancy) mapped to N(0, sigma^2 I_dims): nodes (N, dims),
    equal weights."""
    nodes = _standard_sobol(dims, log2_points, seed) * sigma
    return nodes, np.full(len(nodes), 1.0 / len(nodes))


@functools.lru_cache(maxsize=2 * QMC_REPLICATES)
def _standard_sobol(dims: int, log2_points: int, seed: int) -> np.ndarray:
    """The scrambled Sobol set mapped to N(0, I_dims), drawn once per (dims, size, seed):
    every student of a run uses the same sets."""
    engine = torch.quasirandom.SobolEngine(dims, scramble=True, seed=seed)
    u = engine.draw(1 << log2_points, dtype=torch.float64).clamp_(2.0**-53, 1 - 2.0**-53)
    nodes = torch.special.ndtri(u).numpy()
    nodes.flags.writeable = False
    return nodes


def eps_g_lin_exact(teacher: Teacher, B: np.ndarray, points: int | None = None) -> float:
    """eps_g of the linear baseline Yhat = B Z (B is L x L), without sampling."""
    W = _basis(teacher.Q_star)
    dims = teacher.L * W.shape[1]
    return _expected_error(teacher, W, None, B, *gaussian_nodes(dims, points or
                                                                hermite_points(dims),
                                                                teacher.sigma))


def _attention(h: torch.Tensor) -> torch.Tensor:
    """`teacher.attention` on many nodes; for L = 2 as a logistic of the score difference
    (the same numbers to rounding, 4x faster than a softmax over rows of two)."""
    if h.shape[-2] != 2:
        return attention(h)
    s = h @ h.transpose(-1, -2)
    first = torch.sigmoid(s[..., 0] - s[..., 1])  # (..., L): S_l1 for each row l
    return torch.stack([first, 1.0 - first], -1)


def _expected_error(
    teacher: Teacher, W: np.ndarray, Q: np.ndarray | None, B: np.ndarray | None,
    nodes: np.ndarray, weights: np.ndarray,
) -> float:
    """E ||Yhat - Y||_F^2 / (2d) for the student Q or, if Q is None, the linear map B, with
    the expectation over xi = Z W taken by the rule (nodes, weights)."""
    d, L, k = teacher.d, teacher.L, W.shape[1]

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))

    a_star = t(W.T @ teacher.Q_star / math.sqrt(d))
    A = t(teacher.A)
    if Q is not None:
        a, b = t(W.T @ Q / math.sqrt(d)), t(teacher.P @ Q / math.sqrt(d))
        PW, GP = t(teacher.P @ W), t(teacher.P @ teacher.P.T)
    total = 0.0
    for start in range(0, len(weights), CHUNK_NODES):
        xi = t(nodes[start:start + CHUNK_NODES]).reshape(-1, L, k)
        w = t(weights[start:start + CHUNK_NODES])
        T = (1.0 - teacher.omega) * _attention(xi @ a_star) + teacher.omega * A
        S = _attention(xi @ a + b) if Q is not None else t(B).expand_as(T)
        D = S - T
        Dxi = D @ xi
        value = (Dxi**2).sum((-1, -2)) + teacher.sigma**2 * (d - k) * (D**2).sum((-1, -2))
        if Q is not None:
            value += 2 * (Dxi * (S @ PW)).sum((-1, -2)) + ((S @ GP) * S).sum((-1, -2))
        total += float(w @ value)
    return total / (2 * d)
