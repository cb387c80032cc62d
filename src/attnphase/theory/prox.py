"""Global proximal step of the channel, vectorised over all quadrature nodes.

    hp = argmin_h  sum_l (h_l - w_l)^2 / V + sigma^2 ||S(h) - T||_F^2

The loss term lies in [0, 4 sigma^2], so the minimiser lies in the disc
`|h - w|^2 <= V * loss(w)` around w. The global search evaluates the objective on a grid
covering that disc, keeps the best grid point of each of the six sign sectors of
(h_1, h_2, h_1 - h_2) (the regions where the softmax saturates differently, which covers
both half-planes), and polishes each with a safeguarded Newton method. The warm path
re-polishes the previously found local minima, which follow w continuously.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .channel import logits, loss

_STEPS = np.array([1.0, 0.5, 0.2, 0.05])


@dataclass
class ProxResult:
    """Minimiser `h` (N, 2), minimum `value` (N,) and local minima `offsets` (N, K, 2) - w."""

    h: np.ndarray
    value: np.ndarray
    offsets: np.ndarray


def objective(h: np.ndarray, w: np.ndarray, T: np.ndarray, V: float, sigma: float) -> np.ndarray:
    """Prox objective at h (broadcasting over leading axes)."""
    h1, h2 = h[..., 0], h[..., 1]
    d1, d2 = h1 - w[..., 0], h2 - w[..., 1]
    gap = h1 - h2
    r1 = expit(h1 * gap) - T[..., 0]
    r2 = expit(-h2 * gap) - T[..., 1]
    return (d1 * d1 + d2 * d2) / V + (2.0 * sigma**2) * (r1 * r1 + r2 * r2)


def _grad_hess(h, w, T, V, sigma):
    """Gradient (M, 2) and Hessian entries (hxx, hxy, hyy) of the objective."""
    c = 2.0 * sigma**2
    h1, h2 = h[:, 0], h[:, 1]
    s = expit(logits(h))
    r = s - T
    ds = s * (1.0 - s)
    d2s = ds * (1.0 - 2.0 * s)
    # gradients of the logits a = h1 (h1 - h2), b = h2 (h2 - h1)
    ga = (2.0 * h1 - h2, -h1)
    gb = (-h2, 2.0 * h2 - h1)
    k1, k2 = 2.0 * c * r[:, 0] * ds[:, 0], 2.0 * c * r[:, 1] * ds[:, 1]
    j1 = 2.0 * c * (ds[:, 0] ** 2 + r[:, 0] * d2s[:, 0])
    j2 = 2.0 * c * (ds[:, 1] ** 2 + r[:, 1] * d2s[:, 1])
    g = np.stack(
        [2.0 * (h1 - w[:, 0]) / V + k1 * ga[0] + k2 * gb[0],
         2.0 * (h2 - w[:, 1]) / V + k1 * ga[1] + k2 * gb[1]],
        axis=1,
    )
    # Hessians of the logits: [[2, -1], [-1, 0]] and [[0, -1], [-1, 2]]
    hxx = 2.0 / V + j1 * ga[0] ** 2 + j2 * gb[0] ** 2 + 2.0 * k1
    hxy = j1 * ga[0] * ga[1] + j2 * gb[0] * gb[1] - k1 - k2
    hyy = 2.0 / V + j1 * ga[1] ** 2 + j2 * gb[1] ** 2 + 2.0 * k2
    return g, hxx, hxy, hyy


def polish(h, w, T, V: float, sigma: float, max_steps: int = 30, tol: float = 1e-11):
    """Safeguarded Newton descent from h (M, 2); returns (h, value). Never increases value."""
    h = np.array(h, dtype=float)
    val = objective(h, w, T, V, sigma)
    active = np.arange(len(h))
    for _ in range(max_steps):
        if active.size == 0:
            break
        ha, wa, Ta = h[active], w[active], T[active]
        g, hxx, hxy, hyy = _grad_hess(ha, wa, Ta, V, sigma)
        # shift the Hessian to be positive definite (eigenvalues >= 0.1 / V) where it is not
        half_tr, half_gap = 0.5 * (hxx + hyy), np.hypot(0.5 * (hxx - hyy), hxy)
        shift = np.maximum(0.0, 0.1 / V - (half_tr - half_gap))
        a, d = hxx + shift, hyy + shift
        det = a * d - hxy * hxy
        step = -np.stack([d * g[:, 0] - hxy * g[:, 1], a * g[:, 1] - hxy * g[:, 0]], axis=1)
        step /= det[:, None]
        # converged: the Newton step is below the tolerance
        scale = tol * (1.0 + np.max(np.abs(ha), axis=1))
        going = np.max(np.abs(step), axis=1) > scale
        if not going.all():
            active, ha, wa, Ta = active[going], ha[going], wa[going], Ta[going]
            g, step, scale = g[going], step[going], scale[going]
        # backtracking: the full Newton step first; where it does not descend, the shorter
        # Newton steps and then gradient steps (scale V / 2, the quadratic term's inverse
        # curvature), all tried in one batch, the first that descends in that order is taken
        newh, newval = ha.copy(), val[active].copy()
        moved = np.zeros(active.size)
        trial = ha + step
        tval = objective(trial, wa, Ta, V, sigma)
        ok = tval < newval
        newh[ok], newval[ok] = trial[ok], tval[ok]
        moved[ok] = np.max(np.abs(step[ok]), axis=1)
        todo = np.nonzero(~ok)[0]
        if todo.size:
            dirs = np.concatenate([_STEPS[1:, None, None] * step[todo][None],
                                   _STEPS[:, None, None] * (-0.5 * V) * g[todo][None]])
            trial = ha[todo][None] + dirs                       # (7, n, 2)
            tval = objective(trial, wa[todo][None], Ta[todo][None], V, sigma)
            ok = tval < newval[todo][None]
            first = np.argmax(ok, axis=0)
            hit = ok[first, np.arange(todo.size)]
            k, sel = first[hit], todo[hit]
            newh[sel], newval[sel] = trial[k, hit], tval[k, hit]
            moved[sel] = np.max(np.abs(dirs[k, hit]), axis=1)
        h[active], val[active] = newh, newval
        active = active[moved > scale]
    return h, val


def _unit_disc(n: int) -> np.ndarray:
    """Points of an n x n square grid on [-1, 1]^2 that lie in the unit disc (incl. centre)."""
    u = np.linspace(-1.0, 1.0, n)
    g = np.stack(np.meshgrid(u, u, indexing="ij"), axis=-1).reshape(-1, 2)
    return g[np.sum(g * g, axis=1) <= 1.0 + 1e-12]


# the six sign patterns of (h_1, h_2, h_1 - h_2) that occur (codes 3 and 4 cannot)
_SECTORS = (0, 1, 2, 5, 6, 7)


def _sector(h: np.ndarray) -> np.ndarray:
    """Sign sector of (h_1, h_2, h_1 - h_2) as the code 4 [h_1 > 0] + 2 [h_2 > 0] + [h_1 > h_2]."""
    h1, h2 = h[..., 0], h[..., 1]
    return (4 * (h1 > 0) + 2 * (h2 > 0) + (h1 > h2)).astype(np.int8)


def prox_global(w, T, V: float, sigma: float, n_grid: int = 15, chunk: int = 4096) -> ProxResult:
    """Global minimiser for every row of w (N, 2), T (N, 2): disc grid, then Newton per sector."""
    unit = _unit_disc(n_grid)
    radius = np.sqrt(V * loss(w, T, sigma)) * (1.0 + 1e-6) + 1e-12
    starts = np.full((len(w), len(_SECTORS), 2), np.nan)
    for lo in range(0, len(w), chunk):
        sl = slice(lo, lo + chunk)
        grid = w[sl, None, :] + radius[sl, None, None] * unit[None]
        vals = objective(grid, w[sl, None, :], T[sl, None, :], V, sigma)
        code = _sector(grid)
        rows = np.arange(len(vals))
        for s, k in enumerate(_SECTORS):
            j = np.argmin(np.where(code == k, vals, np.inf), axis=1)
            hit = code[rows, j] == k  # sectors the disc misses stay NaN: nothing to polish
            starts[sl, s][hit] = grid[rows[hit], j[hit]]
    return refine(w, T, V, sigma, starts - w[:, None, :])


def refine(w, T, V: float, sigma: float, offsets: np.ndarray, keep: int = 2) -> ProxResult:
    """Polish candidate minima `w + offsets` (N, K, 2); keep the `keep` best distinct ones.

    NaN offsets mark missing candidates; every row needs at least one.
    """
    N, K, _ = offsets.shape
    cand = (w[:, None, :] + np.nan_to_num(offsets)).reshape(-1, 2)
    live = np.isfinite(offsets[..., 0]).ravel()
    hh, vv = cand.copy(), np.full(N * K, np.inf)
    hh[live], vv[live] = polish(cand[live], np.repeat(w, K, axis=0)[live],
                                np.repeat(T, K, axis=0)[live], V, sigma)
    hh, vv = hh.reshape(N, K, 2), vv.reshape(N, K)
    order = np.argsort(vv, axis=1)
    hh = np.take_along_axis(hh, order[:, :, None], axis=1)
    vv = np.take_along_axis(vv, order, axis=1)
    if keep < K:
        # replace duplicates of a better candidate before truncating, so distinct minima survive
        dup = np.zeros((N, K), dtype=bool)
        for i in range(1, K):
            diff = np.abs(hh[:, i:i + 1] - hh[:, :i]).max(axis=2)
            dup[:, i] = np.any((diff < 1e-6) & ~dup[:, :i], axis=1)
        order = np.argsort(dup, axis=1, kind="stable")[:, :keep]
        hh = np.take_along_axis(hh, order[:, :, None], axis=1)
        vv = np.take_along_axis(vv, order, axis=1)
    return ProxResult(hh[:, 0], vv[:, 0], hh - w[:, None, :])
