"""Metrics of docs/model.md §4: eps_g (exact, or on fresh samples), eps_t, and the overlaps.

The student is invariant under Q -> -Q, so for rank one the overlaps are reported as
absolute values, as in the paper; for rank > 1 they are matrices, reported as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .exact import eps_g_auto, eps_g_exact, eps_g_lin_exact, eps_g_qmc
from .objective import Grams, preactivations
from .teacher import Teacher, attention


@dataclass
class Overlaps:
    """m = p_1^T Q / sqrt(d) (= 1_d^T Q / d for L = 2), theta = Q*^T Q / d, q = Q^T Q / d,
    and the teacher's own q_star = Q*^T Q* / d (1 on average; its seed-to-seed spread,
    about sqrt(2/d), drives most of the spread of theta and eps_g at finite d)."""

    m: np.ndarray  # (r,)
    theta: np.ndarray  # (r*, r)
    q: np.ndarray  # (r, r)
    q_star: np.ndarray  # (r*, r*)

    def public(self) -> dict[str, float | list]:
        """Scalars (absolute values) for rank one, nested lists otherwise."""
        if self.q.shape == (1, 1) and self.theta.shape == (1, 1):
            return {
                "m": abs(float(self.m[0])),
                "theta": abs(float(self.theta[0, 0])),
                "q": float(self.q[0, 0]),
                "q_star": float(self.q_star[0, 0]),
            }
        return {"m": self.m.tolist(), "theta": self.theta.tolist(), "q": self.q.tolist(),
                "q_star": self.q_star.tolist()}


def overlaps(Q: np.ndarray, Q_star: np.ndarray, P: np.ndarray) -> Overlaps:
    """Summary statistics of one student's weights Q (d x r)."""
    d = Q.shape[0]
    return Overlaps(m=P[0] @ Q / math.sqrt(d), theta=Q_star.T @ Q / d, q=Q.T @ Q / d,
                    q_star=Q_star.T @ Q_star / d)


def test_errors(
    teacher: Teacher,
    Q: torch.Tensor | None,
    n_test: int,
    B_lin: torch.Tensor | None = None,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """eps_g of K students Q (K, d, r) and of J linear baselines B_lin (J, L, L), on the same
    n_test fresh samples of the teacher's `test` stream, drawn and used chunk by chunk.

    eps_g = E ||Yhat - Y||_F^2 / (2d) per sample. Returns (eps_g (K,), eps_g_lin (J,)), with
    None in place of what was not asked for.
    """
    device = (Q if Q is not None else B_lin).device
    P = torch.from_numpy(teacher.P).to(device)
    sum_att = None if Q is None else torch.zeros(Q.shape[0], dtype=torch.float64, device=device)
    sum_lin = None if B_lin is None else torch.zeros(B_lin.shape[0], dtype=torch.float64,
                                                    device=device)
    for Z_np in teacher.semantic_chunks(n_test, "test"):
        Y = torch.from_numpy(teacher.targets(Z_np)).to(device)[None]
        Z = torch.from_numpy(Z_np).to(device)[None]
        if Q is not None:
            X = (Z + P).to(dtype)
            S = attention(preactivations(X, Q.unsqueeze(0)))  # (1, K, m, L, L)
            sum_att += Grams.of(X, Y).squared_error(S)[0].sum(-1)
        if B_lin is not None:
            Bl = B_lin.to(device, torch.float64)[None, :, None].expand(1, -1, Z.shape[1], -1, -1)
            sum_lin += Grams.of(Z, Y).squared_error(Bl)[0].sum(-1)
    def mean(total: torch.Tensor | None) -> torch.Tensor | None:
        return None if total is None else total / (2 * n_test)

    return mean(sum_att), mean(sum_lin)


def uses_exact(method: str) -> bool:
    """Whether eps_g is integrated over span(Q, Q*) instead of sampled: every method but mc."""
    return method != "mc"


def exact_errors(
    teacher: Teacher, Q: torch.Tensor | None, B_lin: torch.Tensor | None = None,
    method: str = "auto",
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """`test_errors` without sampling: the expectations over a fresh sample, by the tensor
    rule (`exact`), quasi-Monte Carlo (`qmc`) or the cheaper accurate one (`auto`)."""
    rule = {"auto": eps_g_auto, "exact": eps_g_exact,
            "qmc": lambda te, M: eps_g_qmc(te, M)[0]}[method]

    def each(fn, mats: torch.Tensor | None) -> torch.Tensor | None:
        if mats is None:
            return None
        # a diverged student (non-finite weights) has no error to integrate: NaN, as in mc
        return torch.tensor([fn(teacher, M.double().cpu().numpy()) if bool(M.isfinite().all())
                             else math.nan for M in mats], dtype=torch.float64)

    return each(rule, Q), each(eps_g_lin_exact, B_lin)
