"""The linear positional baseline: Yhat = B Z with B (L x L) fitted by ridge regression.

Minimising sum_mu ||B Z_mu - Y_mu||_F^2 / (2d) + (lam_lin/2) ||B||_F^2 gives
B (C_zz + lam_lin I) = C_yz with C_zz = sum_mu Z_mu Z_mu^T / d, C_yz = sum_mu Y_mu Z_mu^T / d.
"""

from __future__ import annotations

import torch


def fit_linear(Z: torch.Tensor, Y: torch.Tensor, lam_lin: float) -> torch.Tensor:
    """Closed-form ridge fit for batches of data sets: Z, Y (B, n, L, d) -> B (B, L, L)."""
    d, L = Z.shape[-1], Z.shape[-2]
    Z64, Y64 = Z.double(), Y.double()
    C_zz = torch.einsum("bnkd,bnjd->bkj", Z64, Z64) / d
    C_yz = torch.einsum("bnld,bnjd->blj", Y64, Z64) / d
    eye = torch.eye(L, dtype=torch.float64, device=Z.device)
    # B M = C_yz with M symmetric  <=>  M B^T = C_yz^T
    return torch.linalg.solve(C_zz + lam_lin * eye, C_yz.transpose(-1, -2)).transpose(-1, -2)


def linear_risk(Z: torch.Tensor, Y: torch.Tensor, B: torch.Tensor, lam_lin: float) -> torch.Tensor:
    """sum_mu ||B Z_mu - Y_mu||_F^2 / (2d) + (lam_lin/2) ||B||_F^2 per data set (B,)."""
    d = Z.shape[-1]
    resid = torch.einsum("blk,bnkd->bnld", B, Z.double()) - Y.double()
    return (resid**2).sum((1, 2, 3)) / (2 * d) + 0.5 * lam_lin * (B**2).sum((-1, -2))
