"""Global proximal step of the rank-2 channel (4-D, not convex), vectorised over nodes.

    hp = argmin_h  sum_l (h_l - w_l)^T V^-1 (h_l - w_l) + sigma^2 ||S(h) - T||_F^2

As for rank 1 (docs/theory.md, "Global prox") the loss lies in [0, 4 sigma^2], so the
minimiser lies in the ellipsoid `(h - w)^T V^-1 (h - w) <= loss(w)` (both tokens). The
global search evaluates the objective on a fixed point set filling that ellipsoid, keeps the
best point of each of the eight classes sign(a), sign(b), sign(h_1 . h_2) (the regimes in
which the softmax saturates differently, so that mirror basins are all represented) and
polishes each by a safeguarded Newton method. The warm path re-polishes tracked minima.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .rank2_channel import grad_hess, logits, loss, objective

_STEPS = np.array([1.0, 0.5, 0.2, 0.05])


@dataclass
class Prox2:
    """Minimiser `h` (N, 2, 2), minimum `value` (N,), local minima `offsets` (N, K, 2, 2) - w."""

    h: np.ndarray
    value: np.ndarray
    offsets: np.ndarray


def polish(h, w, T, Vinv: np.ndarray, sigma: float, max_steps: int = 40,
           tol: float = 1e-11) -> tuple[np.ndarray, np.ndarray]:
    """Safeguarded Newton descent from h (M, 2, 2); returns (h, value), value never increases.

    The Hessian is shifted to have eigenvalues >= 0.1 min eig(2 V^-1); where the Newton
    direction does not descend, backtracking and then gradient steps (scaled by V / 2).
    """
    h = np.array(h, dtype=float)
    val = objective(h, w, T, Vinv, sigma)
    floor = 0.2 * np.linalg.eigvalsh(Vinv)[0]
    Vhalf = np.kron(np.eye(2), np.linalg.inv(Vinv)) / 2.0
    active = np.arange(len(h))
    for _ in range(max_steps):
        if active.size == 0:
            break
        ha, wa, Ta = h[active], w[active], T[active]
        g, H = grad_hess(ha, wa, Ta, Vinv, sigma)
        lam, U = np.linalg.eigh(H)
        lam = np.maximum(lam, floor)
        step = -np.einsum("mij,mj->mi", U, np.einsum("mji,mj->mi", U, g) / lam)
        scale = tol * (1.0 + np.max(np.abs(ha.reshape(-1, 4)), axis=1))
        going = np.max(np.abs(step), axis=1) > scale
        active, ha, wa, Ta = active[going], ha[going], wa[going], Ta[going]
        g, step, scale = g[going], step[going], scale[going]
        newh, newval = ha.copy(), val[active].copy()
        moved = np.zeros(active.size)
        todo = np.arange(active.size)
        for direction in (step, -g @ Vhalf):
            for t in _STEPS:
                trial = ha[todo] + t * direction[todo].reshape(-1, 2, 2)
                tval = objective(trial, wa[todo], Ta[todo], Vinv, sigma)
                ok = tval < newval[todo]
                done = todo[ok]
                newh[done], newval[done] = trial[ok], tval[ok]
                moved[done] = t * np.max(np.abs(direction[done]), axis=1)
                todo = todo[~ok]
                if todo.size == 0:
                    break
            if todo.size == 0:
                break
        h[active], val[active] = newh, newval
        active = active[moved > scale]
    return h, val


@lru_cache(maxsize=4)
def unit_ball(n: int) -> np.ndarray:
    """Points of an n^4 grid on [-1, 1]^4 inside the unit ball (the centre included)."""
    u = np.linspace(-1.0, 1.0, n)
    g = np.stack(np.meshgrid(u, u, u, u, indexing="ij"), axis=-1).reshape(-1, 4)
    g = g[np.sum(g * g, axis=1) <= 1.0 + 1e-12]
    g.setflags(write=False)
    return g


def _classes(h: np.ndarray) -> np.ndarray:
    """Class code 4 [a > 0] + 2 [b > 0] + [h_1 . h_2 > 0] of points h (..., 2, 2)."""
    ab = logits(h)
    dot = np.sum(h[..., 0, :] * h[..., 1, :], axis=-1)
    return (4 * (ab[..., 0] > 0) + 2 * (ab[..., 1] > 0) + (dot > 0)).astype(np.int8)


def prox_global(w, T, V: np.ndarray, sigma: float, n_grid: int = 7,
                chunk: int = 256) -> Prox2:
    """Global minimiser for every node: ellipsoid point set, best per class, Newton polish."""
    Vinv = np.linalg.inv(V)
    C = np.linalg.cholesky(V)
    unit = unit_ball(n_grid).reshape(-1, 2, 2) @ C.T  # (P, 2, 2): (h - w) with |.|_V^-1 <= 1
    radius = np.sqrt(loss(w, T, sigma)) * (1.0 + 1e-6) + 1e-12
    starts = np.full((len(w), 8, 2, 2), np.nan)
    for lo in range(0, len(w), chunk):
        sl = slice(lo, lo + chunk)
        grid = w[sl, None] + radius[sl, None, None, None] * unit[None]
        vals = objective(grid, w[sl, None], T[sl, None], Vinv, sigma)
        code = _classes(grid)
        rows = np.arange(len(vals))
        for k in range(8):
            j = np.argmin(np.where(code == k, vals, np.inf), axis=1)
            hit = code[rows, j] == k
            starts[sl, k][hit] = grid[rows[hit], j[hit]]
    return refine(w, T, V, sigma, starts - w[:, None])


def refine(w, T, V: np.ndarray, sigma: float, offsets: np.ndarray, keep: int = 2) -> Prox2:
    """Polish candidates `w + offsets` (N, K, 2, 2; NaN: missing); keep `keep` distinct best."""
    N, K = offsets.shape[:2]
    Vinv = np.linalg.inv(V)
    cand = (w[:, None] + np.nan_to_num(offsets)).reshape(-1, 2, 2)
    live = np.isfinite(offsets[..., 0, 0]).ravel()
    hh, vv = cand.copy(), np.full(N * K, np.inf)
    hh[live], vv[live] = polish(cand[live], np.repeat(w, K, axis=0)[live],
                                np.repeat(T, K, axis=0)[live], Vinv, sigma)
    hh, vv = hh.reshape(N, K, 2, 2), vv.reshape(N, K)
    order = np.argsort(vv, axis=1)
    hh = np.take_along_axis(hh, order[:, :, None, None], axis=1)
    vv = np.take_along_axis(vv, order, axis=1)
    if keep < K:
        dup = np.zeros((N, K), dtype=bool)
        for i in range(1, K):
            diff = np.abs(hh[:, i:i + 1] - hh[:, :i]).max(axis=(2, 3))
            dup[:, i] = np.any((diff < 1e-6) & ~dup[:, :i], axis=1)
        order = np.argsort(dup, axis=1, kind="stable")[:, :keep]
        hh = np.take_along_axis(hh, order[:, :, None, None], axis=1)
        vv = np.take_along_axis(vv, order, axis=1)
    return Prox2(hh[:, 0], vv[:, 0], hh - w[:, None])
