"""The rank-2 saddle-point equations (docs/theory_rank2.md §2-§3): one map state -> state.

Channel side (expectations over xi in R^{2 tokens x 2 columns}, eta in R^2, all N(0, 1)):
student means `w_l = R xi_l + s_l m` (R = q^{1/2}, s = (+1, -1)), teacher
`h*_l = c . xi_l + r eta_l` with `c = R^+ theta`, `r = sqrt(rho - theta^T q^+ theta)`;
`f_l = V^-1 (hp_l - w_l)` from the global prox (`rank2_prox`). Conjugates:

    mh = alpha E[f_1 - f_2]                 qh = alpha E[sum_l f_l f_l^T]
    thh = alpha / r E[sum_l eta_l f_l]      Vh = -alpha E[sum_l f_l xi_l^T] R^+ + thh theta^T q^+

Weight side, `D = lam I + sigma^2 Vh`: `V = sigma^2 D^-1`, `m = D^-1 mh`,
`theta = sigma^2 rho D^-1 thh`,
`q = sigma^2 D^-1 (sigma^2 qh + mh mh^T + sigma^2 rho thh thh^T) D^-1`.
For r = 1 (one column) these are the equations of docs/model.md §5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .channel import Problem, teacher_diag
from .rank2_channel import loss
from .rank2_prox import Prox2, prox_global, refine
from .rank2_state import State2

SIGNS = np.array([1.0, -1.0])


@dataclass(frozen=True)
class Hats:
    """Conjugates qh (2 x 2), mh (2,), thh (2,), Vh (2 x 2)."""

    qh: np.ndarray
    mh: np.ndarray
    thh: np.ndarray
    Vh: np.ndarray


def sqrt_psd(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric square root R of a PSD matrix and its pseudo-inverse (zero modes kept at 0)."""
    lam, U = np.linalg.eigh(q)
    lam = np.maximum(lam, 0.0)
    root = np.sqrt(lam)
    inv = np.where(root > 1e-12 * max(root.max(), 1e-300), 1.0 / np.where(root > 0, root, 1), 0.0)
    return (U * root) @ U.T, (U * inv) @ U.T


def channel_inputs(s: State2, points: np.ndarray, pb: Problem):
    """Student means w (N, 2, 2), teacher diagonal T (N, 2) at 6-D points (xi (4), eta (2)),
    with xi ordered (token 1: columns 1, 2; token 2: columns 1, 2); also (R^+, r)."""
    R, Rinv = sqrt_psd(s.q)
    xi = points[:, :4].reshape(-1, 2, 2)
    eta = points[:, 4:6]
    w = xi @ R + SIGNS[None, :, None] * s.m[None, None, :]
    c = Rinv @ s.theta
    r = resid(s, pb.rho)
    hstar = xi @ c + r * eta
    return w, teacher_diag(hstar, pb.omega, pb.A), Rinv, r


def resid(s: State2, rho: float) -> float:
    """Std of the teacher preactivation not explained by the student's."""
    return float(np.sqrt(max(rho - s.theta @ np.linalg.pinv(s.q) @ s.theta, 0.0)))


class Channel2:
    """Expectations over a fixed rule (nodes (N, 6), weights (N,)), prox minima tracked."""

    def __init__(self, pb: Problem, nodes: np.ndarray, weights: np.ndarray, n_grid: int = 7):
        self.pb, self.nodes, self.weights, self.n_grid = pb, nodes, weights, n_grid
        self.prox: Prox2 | None = None
        self.w = self.T = None

    def run_prox(self, s: State2, global_search: bool) -> Prox2:
        """Prox at every node for state s (global search, or re-polish of the tracked minima)."""
        w, T, _, _ = channel_inputs(s, self.nodes, self.pb)
        if global_search or self.prox is None:
            found = prox_global(w, T, s.V, self.pb.sigma, self.n_grid)
            if self.prox is not None:
                found = refine(w, T, s.V, self.pb.sigma,
                               np.concatenate([found.offsets, self.prox.offsets], axis=1))
        else:
            found = refine(w, T, s.V, self.pb.sigma, self.prox.offsets)
        self.prox, self.w, self.T = found, w, T
        return found

    def per_node(self, s: State2, global_search: bool) -> dict[str, np.ndarray]:
        """The integrands of the conjugates at every node (without alpha and the matrices
        R^+, q^+ that multiply the expectations)."""
        res = self.run_prox(s, global_search)
        f = (res.h - self.w) @ np.linalg.inv(s.V)             # (N, 2, 2): f_l = V^-1 (hp_l - w_l)
        xi = self.nodes[:, :4].reshape(-1, 2, 2)
        eta = self.nodes[:, 4:6]
        return {"mh": f[:, 0] - f[:, 1],
                "qh": np.einsum("nli,nlj->nij", f, f),
                "f_eta": np.einsum("nli,nl->ni", f, eta),
                "f_xi": np.einsum("nli,nlj->nij", f, xi),
                "value": res.value, "loss_w": loss(self.w, self.T, self.pb.sigma),
                "loss_h": loss(res.h, self.T, self.pb.sigma)}

    def hats(self, s: State2, values: dict[str, np.ndarray] | None = None,
             weights: np.ndarray | None = None) -> Hats:
        """Conjugates at s from the per-node integrands (`weights`: another rule on them)."""
        pb = self.pb
        wt = self.weights if weights is None else weights
        v = values if values is not None else self.per_node(s, True)
        E = {k: np.tensordot(wt, a, axes=1) for k, a in v.items()}
        _, Rinv = sqrt_psd(s.q)
        r = resid(s, pb.rho)
        mh = pb.alpha * E["mh"]
        qh = pb.alpha * E["qh"]
        thh = np.zeros(2)
        if pb.branch not in ("positional", "trivial") and r > 0:
            thh = pb.alpha / r * E["f_eta"]
        Vh = -pb.alpha * E["f_xi"] @ Rinv + np.outer(thh, s.theta) @ np.linalg.pinv(s.q)
        Vh = 0.5 * (Vh + Vh.T)
        if pb.branch in ("semantic", "trivial"):
            mh = np.zeros(2)
        qh = 0.5 * (qh + qh.T)
        if pb.branch == "trivial":  # the rule averaged over O(2), exact for the integrals
            qh, Vh = (np.trace(M) / 2 * np.eye(2) for M in (qh, Vh))
        return Hats(qh, mh, thh, Vh)


def order_params(h: Hats, pb: Problem) -> State2 | None:
    """New state from the conjugates; None where they are not finite.

    Away from a fixed point D = lam + sigma^2 Vh can lose positive definiteness (as for
    rank 1 from a poor start); its eigenvalues are then raised to lam / 2, a safeguard that
    leaves every fixed point with D >= lam / 2 unchanged (`clipped` says where it acted).
    """
    s2 = pb.sigma**2
    D = pb.lam * np.eye(2) + s2 * h.Vh
    if not np.all(np.isfinite(D)):
        return None
    ev, U = np.linalg.eigh(D)
    Di = (U / np.maximum(ev, 0.5 * pb.lam)) @ U.T
    B = s2 * h.qh + np.outer(h.mh, h.mh) + s2 * pb.rho * np.outer(h.thh, h.thh)
    q = s2 * Di @ B @ Di
    return State2(0.5 * (q + q.T), Di @ h.mh, s2 * pb.rho * Di @ h.thh, s2 * Di)


def clipped(h: Hats, pb: Problem) -> bool:
    """Whether `order_params` had to raise an eigenvalue of D at these conjugates."""
    return bool(np.linalg.eigvalsh(pb.lam * np.eye(2) + pb.sigma**2 * h.Vh)[0] < 0.5 * pb.lam)


def free_entropy(s: State2, h: Hats, pb: Problem, mean_value: float) -> float:
    """Phi at (s, h), `mean_value` = E[min of the prox objective] (docs/theory_rank2.md §4)."""
    s2 = pb.sigma**2
    D = pb.lam * np.eye(2) + s2 * h.Vh
    B = s2 * h.qh + np.outer(h.mh, h.mh) + s2 * pb.rho * np.outer(h.thh, h.thh)
    return float((np.trace(h.Vh @ s.q) - np.trace(h.qh @ s.V)) / 2 - s.m @ h.mh
                 - s.theta @ h.thh + np.trace(np.linalg.solve(D, B)) / 2
                 - pb.alpha / 2 * mean_value)
