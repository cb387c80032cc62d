"""phi-functions of the Hessian applied to a vector, tau phi_k(-tau H) v, by the Lanczos
method, batched over students (B, c); the matrix is only applied (Hessian-vector products).

phi_1(z) = (e^z - 1) / z and phi_3(z) = (e^z - 1 - z - z^2/2) / z^3 are the functions of
exponential integrators: tau phi_1(-tau H) v is the exact flow of dQ/dt = v - H (Q - Q0)
after time tau, the gradient flow of a quadratic. With m Lanczos vectors V_m and the
tridiagonal T_m = V_m^T H V_m, f(H) v ~ ||v|| V_m f(T_m) e_1 (Saad 1992), exact for m up to
the number of distinct eigenvalues H has on v. An eigenvalue of T_m below 0 (negative
curvature: a saddle) is handled the same way; there phi grows like e^{tau |theta|}, the
flow's own escape.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Apply = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Z_MAX = 60.0  # exponents are clamped here: beyond, the step is rejected anyway


def phi(k: int, z: torch.Tensor) -> torch.Tensor:
    """phi_k(z) for k in {1, 3}, element-wise, without cancellation near z = 0."""
    z = z.clamp_max(Z_MAX)
    if k == 1:  # expm1 is accurate near 0, and so is its quotient by z
        return torch.where(z == 0, 1.0, torch.expm1(z) / torch.where(z == 0, 1.0, z))
    if k != 3:
        raise ValueError(f"phi_{k} is not implemented; k must be 1 or 3")
    small = z.abs() < 0.25
    zs = torch.where(small, 1.0, z)
    direct = (torch.expm1(zs) - zs - 0.5 * zs**2) / zs**3  # cancels to ~6 eps / z^2 relative
    if not bool(small.any()):
        return direct
    series = torch.full_like(z, 1.0 / math.factorial(3 + 11))
    for j in range(10, -1, -1):  # Horner; |z| < 0.25: the 12th term is below 1e-18 relative
        series = series * z + 1.0 / math.factorial(3 + j)
    return torch.where(small, series, direct)


def inner(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The Frobenius inner product of the (d, r) matrices of a batch of students."""
    return (a * b).sum((-1, -2))


def lanczos_extend(apply: Apply, basis: list[torch.Tensor], rows: torch.Tensor,
                   running: torch.Tensor, alpha: list[torch.Tensor], beta: list[torch.Tensor]
                   ) -> tuple[torch.Tensor, ...]:
    """One Lanczos step from the last vector of `basis`: w = H v_m (on the data sets `rows`)
    orthogonalised against the basis, its coefficients a = alpha_m, b = beta_m appended to
    `alpha`, `beta` (0 for students not `running`), and the tridiagonal T_m.
    Returns (w, a, b, V_m (B, c, m, d, r), T_m (B, c, m, m))."""
    w = apply(basis[-1], rows)
    a = inner(w, basis[-1])
    Vm = torch.stack(basis, 2)
    for _ in range(2):  # full reorthogonalisation, classical Gram-Schmidt twice (CGS2:
        # orthogonal to rounding, as twice-modified, in two products instead of 2m)
        w = w - (inner(Vm, w[:, :, None])[..., None, None] * Vm).sum(2)
    b = inner(w, w).sqrt()
    alpha.append(torch.where(running, a, 0.0))
    beta.append(torch.where(running, b, 0.0))
    T = torch.diag_embed(torch.stack(alpha, -1))
    if len(alpha) > 1:
        off = torch.diag_embed(torch.stack(beta[:-1], -1), offset=1)
        T = T + off + off.transpose(-1, -2)
    return w, a, b, Vm, T


def lanczos_phi(
    apply: Apply,
    v: torch.Tensor,
    tau: torch.Tensor,
    k: int,
    active: torch.Tensor,
    atol: torch.Tensor,
    iters: int,
    rtol: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """x = tau phi_k(-tau H) v per student (v, x: (B, c, d, r); tau, atol: (B, c)), with H
    applied by `apply(V, rows)` (needed only on the data sets `rows`, (B,) bool).

    A student stops when two successive Lanczos approximations differ by at most its atol
    and at most rtol of their norm (an estimate of the error of the earlier one; the later
    one is returned): the absolute bound keeps the flow's path accurate, the relative one
    keeps the steps near a minimiser Newton-like (tau phi_1(-tau H) -> H^-1 as tau grows). Full
    reorthogonalisation keeps the basis orthonormal (m is small; the products dominate).

    Returns (x, H x, converged, products per data set (B,), rayleigh); H x is exact in exact
    arithmetic from the Lanczos relation H V_m = V_m T_m + beta_m v_{m+1} e_m^T, so it costs
    no further product; rayleigh (B, c) is the first Lanczos coefficient v^T H v / v^T v, the
    curvature of H along v. Inactive students, and those with v = 0, return x = 0 and
    rayleigh = 0.
    """
    B, c = v.shape[:2]
    norm = inner(v, v).sqrt()
    running = active & (norm > 0)
    x = torch.zeros_like(v)
    Hx = torch.zeros_like(v)
    done = ~running
    products = torch.zeros(B, dtype=torch.long, device=v.device)
    basis = [torch.where(running[..., None, None], v / norm.clamp_min(1e-300)[..., None, None],
                         0.0)]
    alpha: list[torch.Tensor] = []
    beta: list[torch.Tensor] = []
    prev = torch.zeros_like(v)
    for _ in range(iters):
        rows = running.any(1)
        if not bool(rows.any()):
            break
        products += rows.long()
        w, a, b, Vm, T = lanczos_extend(apply, basis, rows, running, alpha, beta)
        theta, S = torch.linalg.eigh(T)
        coef = S @ (tau[..., None] * phi(k, -tau[..., None] * theta) * S[..., 0, :])[..., None]
        coef = norm[..., None] * coef[..., 0]  # (B, c, m): x_m in the basis
        x_m = (coef[..., None, None] * Vm).sum(2)
        change = inner(x_m - prev, x_m - prev).sqrt()
        small = (change <= atol) & (change <= rtol * inner(x_m, x_m).sqrt())
        stop = running & (small | (b <= 1e-14 * a.abs().clamp_min(1e-300)))
        beta[-1] = torch.where(stop, 0.0, beta[-1])
        if bool(stop.any()):
            Tc = (T @ coef[..., None])[..., 0]
            Hx_m = (Tc[..., None, None] * Vm).sum(2) + (b * coef[..., -1])[..., None, None] * (
                w / b.clamp_min(1e-300)[..., None, None])
            s4 = stop[..., None, None]
            x = torch.where(s4, x_m, x)
            Hx = torch.where(s4, Hx_m, Hx)
            done |= stop
            running &= ~stop
        prev = x_m
        basis.append(torch.where(running[..., None, None],
                                 w / b.clamp_min(1e-300)[..., None, None], 0.0))
        # a stopped student's later alphas and betas stay 0: T_m splits into blocks and
        # its first block, the only one e_1 sees, keeps the coefficients it stopped with
    rayleigh = alpha[0] if alpha else torch.zeros(B, c, dtype=v.dtype, device=v.device)
    return x, Hx, done, products, rayleigh
