"""The empirical risk of many students at once, computed from per-sample Gram matrices.

For a mixing matrix S (L x L) applied to tokens V (L x d) with targets Y,
`||S V - Y||_F^2 = tr(S Gvv S^T) - 2 tr(S Gvy) + tr(Gyy)` with `Gvv = V V^T`, `Gvy = V Y^T`.
The Gram matrices are computed once, so a risk-and-gradient evaluation reads the inputs
twice (`X Q` forward, `X^T dh` backward) instead of the five or more passes of autograd
through `S X - Y`. The same identity gives the student's test error and the linear
baseline's (S = B, V = Z).

Shapes: B data sets, c students per data set (they share the data: e.g. the two
initialisations), n samples, L tokens, d dimensions, rank r.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .teacher import attention


@dataclass
class Grams:
    """Per-sample Gram matrices divided by d: Gvv, Gvy (B, n, L, L) and tr(Gyy) (B, n)."""

    vv: torch.Tensor
    vy: torch.Tensor
    yy: torch.Tensor

    @classmethod
    def of(cls, V: torch.Tensor, Y: torch.Tensor) -> Grams:
        d = V.shape[-1]
        V64, Y64 = V.double(), Y.double()
        return cls(
            vv=V64 @ V64.transpose(-1, -2) / d,
            vy=V64 @ Y64.transpose(-1, -2) / d,
            yy=(Y64**2).sum((-1, -2)) / d,
        )

    def squared_error(self, S: torch.Tensor) -> torch.Tensor:
        """||S V - Y||_F^2 / d per sample, for S of shape (B, c, n, L, L) -> (B, c, n)."""
        vv, vy = self.vv.unsqueeze(1), self.vy.unsqueeze(1)
        quad = ((S @ vv) * S).sum((-1, -2))
        cross = (S * vy.transpose(-1, -2)).sum((-1, -2))
        return quad - 2 * cross + self.yy.unsqueeze(1)


def preactivations(X: torch.Tensor, Q: torch.Tensor) -> torch.Tensor:
    """h = X Q / sqrt(d) for all students in one matmul: X (B, n, L, d), Q (B, c, d, r).

    Returns (B, c, n, L, r) in float64.
    """
    B, n, L, d = X.shape
    c, r = Q.shape[1], Q.shape[3]
    # Q as (c r) rows of length d, read transposed: the product then streams X row by row
    # (with Q laid out d-major, CPU BLAS reads X with a stride and is ~4x slower).
    Qrows = Q.to(X.dtype).transpose(-1, -2).reshape(B, c * r, d)
    h = (X.reshape(B, n * L, d) @ Qrows.transpose(1, 2)).double() / math.sqrt(d)
    return h.reshape(B, n, L, c, r).permute(0, 3, 1, 2, 4)


def pullback(X: torch.Tensor, dh: torch.Tensor) -> torch.Tensor:
    """The adjoint of `preactivations`: dR/dQ = X^T dR/dh / sqrt(d), shape (B, c, d, r)."""
    B, n, L, d = X.shape
    c, r = dh.shape[1], dh.shape[4]
    # (dh^T X)^T rather than X^T dh: the same numbers, but X is read row by row (10-25x
    # faster on CPU at d = 1000 than the transposed read).
    G = dh.permute(0, 1, 4, 2, 3).reshape(B, c * r, n * L).to(X.dtype)
    grad = G @ X.reshape(B, n * L, d) / math.sqrt(d)
    return grad.double().reshape(B, c, r, d).transpose(-1, -2)


def _hvp(X: torch.Tensor, curv: torch.Tensor, V: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    u = preactivations(X, V)
    w = (curv @ u.flatten(-2).unsqueeze(-1)).reshape(u.shape)
    return pullback(X, w) + lam[..., None, None] * V.double()


def _sample_terms(grams: Grams, h: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """S, the data term per sample, dF/dS and E = dF/dA (A = h h^T, softmax taken row-wise)
    for preactivations h (B, c, n, L, r); F = ||S V - Y||^2 / (2d) per sample."""
    S = attention(h)
    vv, vy = grams.vv.unsqueeze(1), grams.vy.unsqueeze(1)
    S_vv = S @ vv
    data = 0.5 * ((S_vv * S).sum((-1, -2)) - 2 * (S * vy.transpose(-1, -2)).sum((-1, -2))
                  + grams.yy.unsqueeze(1))
    dS = S_vv - vy.transpose(-1, -2)  # dF/dS (Gvv symmetric)
    # the softmax backward, row by row: E_l = s_l * (dS_l - <s_l, dS_l>)
    E = S * (dS - (S * dS).sum(-1, keepdim=True))
    return S, data, dS, E


def _grad_h(E: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """dF/dh = (E + E^T) h, since dA = dh h^T + h dh^T."""
    return (E + E.transpose(-1, -2)) @ h


def _curvature(grams: Grams, h: torch.Tensor, S: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """d^2 F / dh dh per sample, (B, c, n, L r, L r), in closed form.

    With A_l (row l of h h^T) = D_l vec(h), D_l (L x L r), s_l = softmax(A_l),
    K_l = diag(s_l) - s_l s_l^T its Jacobian and e_l = row l of E:

        H = sum_l D_l^T (K_l Gvv K_l + diag(e_l) - s_l e_l^T - e_l s_l^T) D_l
            + (E + E^T) (x) I_r,

    the Gauss-Newton term, the softmax's second derivative contracted with dF/dS, and the
    second derivative of h h^T contracted with dF/dA.
    """
    L, r = h.shape[-2:]
    eye_L = torch.eye(L, dtype=h.dtype, device=h.device)
    # D[l, m, j, a] = dA_lm / dh_ja = delta_lj h_ma + delta_mj h_la
    D = (eye_L[:, None, :, None] * h[..., None, :, None, :]
         + eye_L[None, :, :, None] * h[..., :, None, None, :])
    D = D.reshape(*h.shape[:-2], L, L, L * r)
    K = torch.diag_embed(S) - S[..., :, :, None] * S[..., :, None, :]  # (..., l, m, m')
    vv = grams.vv[:, None, :, None]  # (B, 1, n, 1, L, L)
    se = S[..., :, :, None] * E[..., :, None, :]
    C = K @ vv @ K + torch.diag_embed(E) - se - se.transpose(-1, -2)
    H = (D.transpose(-1, -2) @ C @ D).sum(-3)
    EE = E + E.transpose(-1, -2)
    eye_r = torch.eye(r, dtype=h.dtype, device=h.device)
    return H + (EE[..., :, None, :, None] * eye_r[:, None, :]).reshape(H.shape)


class Risk:
    """R(Q) = sum_mu ||S(Q) X_mu - Y_mu||_F^2 / (2d) + (lam/2) ||Q||_F^2 for a batch of students.

    `lam` is a number or a (B, c) tensor (students on the same data may differ in lambda).
    """

    def __init__(self, X: torch.Tensor, Y: torch.Tensor, lam: float | torch.Tensor) -> None:
        self.X = X
        self.grams = Grams.of(X, Y)
        self.lam = torch.as_tensor(lam, dtype=torch.float64, device=X.device)

    @property
    def d(self) -> int:
        return self.X.shape[-1]

    def _data(self, h: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.grams.squared_error(attention(h)).sum(-1)

    def _ridge(self, Q: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.lam * (Q.double() ** 2).sum((-1, -2))

    def value(self, Q: torch.Tensor) -> torch.Tensor:
        """R for each student: (B, c), float64."""
        return self._data(preactivations(self.X, Q)) + self._ridge(Q)

    def value_and_grad(self, Q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """R and dR/dQ for each student: the gradient in the preactivations in closed form,
        then one explicit pass X^T dR/dh (two passes over X in all)."""
        h = preactivations(self.X, Q)
        _, data, _, E = _sample_terms(self.grams, h)
        grad = pullback(self.X, _grad_h(E, h)) + self.lam[..., None, None] * Q.double()
        return data.sum(-1) + self._ridge(Q), grad

    def value_grad_curvature(
        self, Q: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """R, dR/dQ and the per-sample Hessians of the data term in the preactivations,
        d^2 R / dh_mu dh_mu of shape (B, c, n, L r, L r) (the data term is a sum over samples
        of functions of h_mu alone), in closed form. Two passes over X, like `value_and_grad`."""
        h = preactivations(self.X, Q)
        S, data, _, E = _sample_terms(self.grams, h)
        grad = pullback(self.X, _grad_h(E, h)) + self.lam[..., None, None] * Q.double()
        return data.sum(-1) + self._ridge(Q), grad, _curvature(self.grams, h, S, E)

    def hvp(
        self, curv: torch.Tensor, V: torch.Tensor, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The Hessian of R at the point where `curv` was taken, applied to V (B, c, d, r):
        X^T (d^2 R / dh^2) X V / d + lam V. Two passes over X; with a boolean mask `rows`
        (B,), over the inputs of those data sets only (zero elsewhere). On a GPU the whole
        batch is one product, masked: a loop over data sets would cost a launch per set."""
        if rows is not None and self.X.is_cuda:
            return torch.where(rows[:, None, None, None], _hvp(self.X, curv, V, self.lam), 0.0)
        if rows is not None and not bool(rows.all()):
            out = torch.zeros_like(V, dtype=torch.float64)
            lam = self.lam.expand(V.shape[:2])
            for b in rows.nonzero().flatten().tolist():
                one = slice(b, b + 1)
                out[one] = _hvp(self.X[one], curv[one], V[one], lam[one])
            return out
        return _hvp(self.X, curv, V, self.lam)

    def restrict(self, rows: torch.Tensor, cols: torch.Tensor | None = None) -> Risk:
        """The risk of the data sets `rows` and the students `cols` only (all students when
        None); copies the inputs once unless `rows` is every data set."""
        sub = Risk.__new__(Risk)
        if rows.numel() == self.X.shape[0]:
            sub.X, sub.grams = self.X, self.grams
        else:
            sub.X = self.X[rows]
            sub.grams = Grams(self.grams.vv[rows], self.grams.vy[rows], self.grams.yy[rows])
        sub.lam = self.lam[rows] if self.lam.ndim else self.lam
        if cols is not None and sub.lam.ndim == 2 and sub.lam.shape[1] > 1:
            sub.lam = sub.lam[:, cols]
        return sub
