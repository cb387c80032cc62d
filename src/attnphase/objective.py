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
        """R and dR/dQ for each student: autograd on the small tensors of preactivations,
        then one explicit pass X^T dR/dh (two passes over X in all)."""
        Q = Q.detach()
        with torch.enable_grad():
            h = preactivations(self.X, Q).requires_grad_(True)
            data = self._data(h)
            (dh,) = torch.autograd.grad(data.sum(), h)
        grad = pullback(self.X, dh) + self.lam[..., None, None] * Q.double()
        return data.detach() + self._ridge(Q), grad

    def value_grad_curvature(
        self, Q: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """R, dR/dQ and the per-sample Hessians of the data term in the preactivations,
        d^2 R / dh_mu dh_mu of shape (B, c, n, L r, L r) (the data term is a sum over samples
        of functions of h_mu alone). Two passes over X, like `value_and_grad`."""
        Q = Q.detach()
        with torch.enable_grad():
            h = preactivations(self.X, Q).requires_grad_(True)
            data = self._data(h)
            (dh,) = torch.autograd.grad(data.sum(), h, create_graph=True)
            L, r = h.shape[-2:]
            eye = torch.eye(L * r, dtype=h.dtype, device=h.device).reshape(L * r, L, r)
            cols = [torch.autograd.grad((dh * e).sum(), h, retain_graph=True)[0]
                    for e in eye]
        curv = torch.stack(cols, -1).reshape(*h.shape[:-2], L * r, L * r)
        grad = pullback(self.X, dh.detach()) + self.lam[..., None, None] * Q.double()
        return data.detach() + self._ridge(Q), grad, curv.detach()

    def hvp(
        self, curv: torch.Tensor, V: torch.Tensor, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The Hessian of R at the point where `curv` was taken, applied to V (B, c, d, r):
        X^T (d^2 R / dh^2) X V / d + lam V. Two passes over X; with a boolean mask `rows`
        (B,), over the inputs of those data sets only (zero elsewhere)."""
        if rows is not None and not bool(rows.all()):
            out = torch.zeros_like(V, dtype=torch.float64)
            lam = self.lam.expand(V.shape[:2])
            for b in rows.nonzero().flatten().tolist():
                one = slice(b, b + 1)
                out[one] = _hvp(self.X[one], curv[one], V[one], lam[one])
            return out
        return _hvp(self.X, curv, V, self.lam)

    def restrict(self, rows: torch.Tensor) -> Risk:
        """The risk of the data sets `rows` only (copies their inputs once)."""
        sub = Risk.__new__(Risk)
        sub.X = self.X[rows]
        sub.grams = Grams(self.grams.vv[rows], self.grams.vy[rows], self.grams.yy[rows])
        sub.lam = self.lam[rows] if self.lam.ndim else self.lam
        return sub
