"""The L = 2 channel of a rank-2 student: preactivations h (..., 2 tokens, 2 columns).

The student's attention logits are `a = h_1 . (h_1 - h_2)` and `b = h_2 . (h_2 - h_1)`
(docs/model.md §2 with vector preactivations), so the per-sample loss
`sigma^2 ||S(h) - T||_F^2 = 2 sigma^2 ((s(a) - T_11)^2 + (s(b) - T_22)^2)` depends on h only
through (a, b), and is invariant under a common rotation of the tokens' vectors. The teacher
is rank 1, so its diagonal `T` is the rank-1 one (`channel.teacher_diag`).
The prox objective adds the quadratic term `sum_l (h_l - w_l)^T V^-1 (h_l - w_l)`, V 2 x 2.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def logits(h: np.ndarray) -> np.ndarray:
    """Logit gaps (a, b) of the attention diagonal for h (..., 2, 2): shape (..., 2)."""
    gap = h[..., 0, :] - h[..., 1, :]
    return np.stack([np.sum(h[..., 0, :] * gap, axis=-1),
                     -np.sum(h[..., 1, :] * gap, axis=-1)], axis=-1)


def loss(h: np.ndarray, T: np.ndarray, sigma: float) -> np.ndarray:
    """Per-sample loss `sigma^2 ||S(h) - T||_F^2`, h (..., 2, 2), T (..., 2)."""
    r = expit(logits(h)) - T
    return 2.0 * sigma**2 * np.sum(r * r, axis=-1)


def objective(h: np.ndarray, w: np.ndarray, T: np.ndarray, Vinv: np.ndarray,
              sigma: float) -> np.ndarray:
    """Prox objective `sum_l (h_l - w_l)^T V^-1 (h_l - w_l) + loss(h)` (broadcasting)."""
    d = h - w
    quad = np.einsum("...li,ij,...lj->...", d, Vinv, d)
    return quad + loss(h, T, sigma)


def grad_hess(h: np.ndarray, w: np.ndarray, T: np.ndarray, Vinv: np.ndarray,
              sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (M, 4) and Hessian (M, 4, 4) of the objective in x = (h_1, h_2) flattened.

    Chain rule through the logits: grad a = (2 h_1 - h_2, -h_1), grad b = (-h_2, 2 h_2 - h_1);
    Hess a = [[2I, -I], [-I, 0]], Hess b = [[0, -I], [-I, 2I]].
    """
    c = 2.0 * sigma**2
    h1, h2 = h[:, 0, :], h[:, 1, :]
    s = expit(logits(h))
    r = s - T
    ds = s * (1.0 - s)
    d2s = ds * (1.0 - 2.0 * s)
    k = 2.0 * c * r * ds                      # d loss / d(a, b)
    j = 2.0 * c * (ds * ds + r * d2s)         # d^2 loss / d(a, b)^2
    ga = np.concatenate([2.0 * h1 - h2, -h1], axis=1)
    gb = np.concatenate([-h2, 2.0 * h2 - h1], axis=1)
    Vb = np.kron(np.eye(2), Vinv)
    d = (h - w).reshape(len(h), 4)
    g = 2.0 * d @ Vb + k[:, :1] * ga + k[:, 1:] * gb
    eye = np.eye(2)
    Ha = np.block([[2 * eye, -eye], [-eye, 0 * eye]])
    Hb = np.block([[0 * eye, -eye], [-eye, 2 * eye]])
    H = (2.0 * Vb[None] + j[:, 0, None, None] * ga[:, :, None] * ga[:, None, :]
         + j[:, 1, None, None] * gb[:, :, None] * gb[:, None, :]
         + k[:, 0, None, None] * Ha[None] + k[:, 1, None, None] * Hb[None])
    return g, H
