"""Global proximal step of the channel at all quadrature nodes.

    hp = argmin_h  sum_l (h_l - w_l)^2 / V + sigma^2 ||S(h) - T||_F^2

The loss term lies in [0, 4 sigma^2], so the minimiser lies in the disc
`|h - w|^2 <= V * loss(w)` around w. The global search evaluates the objective on a grid
covering that disc, keeps the best grid point of each of the six sign sectors of
(h_1, h_2, h_1 - h_2) (the regions where the softmax saturates differently, which covers
both half-planes), and polishes each with a safeguarded Newton method. The warm path
re-polishes the previously found local minima, which follow w continuously.
The per-node loops (grid search, Newton polish, candidate sorting) are compiled with numba:
they are many short loops on few rows, where numpy's per-call overhead dominated
(docs/theory.md, "Timings").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.special import expit

from .channel import loss

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


def polish(h, w, T, V: float, sigma: float, max_steps: int = 30, tol: float = 1e-11):
    """Safeguarded Newton descent from h (M, 2); returns (h, value). Never increases value.

    Per row: the Newton step of the Hessian shifted to be positive definite (eigenvalues
    >= 0.1 / V); where it does not descend, the shorter Newton steps and then gradient steps
    (scale V / 2, the quadratic term's inverse curvature), the first that descends taken.
    A row stops when its step is below `tol` (1 + |h|). Compiled (`_polish_rows`): the rows
    are few and the steps many, where numpy's per-call overhead would dominate.
    """
    h = np.array(h, dtype=float).reshape(-1, 2)
    w = np.ascontiguousarray(w, dtype=float).reshape(-1, 2)
    T = np.ascontiguousarray(T, dtype=float).reshape(-1, 2)
    val = np.empty(len(h))
    _polish_rows(h, val, w, T, float(V), float(sigma), int(max_steps), float(tol))
    return h, val


@njit(cache=True, error_model="numpy")
def _expit(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


@njit(cache=True, error_model="numpy")
def _value(h1, h2, w1, w2, t1, t2, V, c):
    """The objective at one point (`objective` for scalars; c = 2 sigma^2)."""
    d1, d2 = h1 - w1, h2 - w2
    gap = h1 - h2
    r1 = _expit(h1 * gap) - t1
    r2 = _expit(-h2 * gap) - t2
    return (d1 * d1 + d2 * d2) / V + c * (r1 * r1 + r2 * r2)


@njit(cache=True, error_model="numpy")
def _polish_rows(h, val, w, T, V, sigma, max_steps, tol):
    """`polish` in place on h (M, 2), the minimum into val (M,)."""
    c = 2.0 * sigma**2
    for i in range(h.shape[0]):
        h[i, 0], h[i, 1], val[i] = polish_point(h[i, 0], h[i, 1], w[i, 0], w[i, 1], T[i, 0],
                                                T[i, 1], V, c, max_steps, tol)


@njit(cache=True, error_model="numpy")
def polish_point(h1, h2, w1, w2, t1, t2, V, c, max_steps, tol):
    """`polish` of one point (compiled; c = 2 sigma^2): returns (h_1, h_2, value)."""
    v = _value(h1, h2, w1, w2, t1, t2, V, c)
    for _ in range(max_steps):
        # gradient and Hessian; logits a = h1 (h1 - h2), b = h2 (h2 - h1)
        gap = h1 - h2
        s1, s2 = _expit(h1 * gap), _expit(-h2 * gap)
        r1, r2 = s1 - t1, s2 - t2
        ds1, ds2 = s1 * (1.0 - s1), s2 * (1.0 - s2)
        ga0, ga1 = 2.0 * h1 - h2, -h1
        gb0, gb1 = -h2, 2.0 * h2 - h1
        k1, k2 = 2.0 * c * r1 * ds1, 2.0 * c * r2 * ds2
        j1 = 2.0 * c * (ds1 * ds1 + r1 * (ds1 * (1.0 - 2.0 * s1)))
        j2 = 2.0 * c * (ds2 * ds2 + r2 * (ds2 * (1.0 - 2.0 * s2)))
        g1 = 2.0 * (h1 - w1) / V + k1 * ga0 + k2 * gb0
        g2 = 2.0 * (h2 - w2) / V + k1 * ga1 + k2 * gb1
        # Hessians of the logits: [[2, -1], [-1, 0]] and [[0, -1], [-1, 2]]
        hxx = 2.0 / V + j1 * ga0 * ga0 + j2 * gb0 * gb0 + 2.0 * k1
        hxy = j1 * ga0 * ga1 + j2 * gb0 * gb1 - k1 - k2
        hyy = 2.0 / V + j1 * ga1 * ga1 + j2 * gb1 * gb1 + 2.0 * k2
        half_tr, half_gap = 0.5 * (hxx + hyy), np.hypot(0.5 * (hxx - hyy), hxy)
        shift = max(0.0, 0.1 / V - (half_tr - half_gap))
        a, d = hxx + shift, hyy + shift
        det = a * d - hxy * hxy
        st1 = -(d * g1 - hxy * g2) / det
        st2 = -(a * g2 - hxy * g1) / det
        scale = tol * (1.0 + max(abs(h1), abs(h2)))
        if not (abs(st1) > scale or abs(st2) > scale):
            break  # converged: the Newton step is below the tolerance
        moved = 0.0
        for k in range(2 * _STEPS.size):
            if k < _STEPS.size:
                e1, e2 = _STEPS[k] * st1, _STEPS[k] * st2
            else:
                f = _STEPS[k - _STEPS.size] * (-0.5 * V)
                e1, e2 = f * g1, f * g2
            tv = _value(h1 + e1, h2 + e2, w1, w2, t1, t2, V, c)
            if tv < v:
                h1, h2, v = h1 + e1, h2 + e2, tv
                moved = max(abs(e1), abs(e2))
                break
        if not moved > scale:
            break
    return h1, h2, v


def _unit_disc(n: int) -> np.ndarray:
    """Points of an n x n square grid on [-1, 1]^2 that lie in the unit disc (incl. centre)."""
    u = np.linspace(-1.0, 1.0, n)
    g = np.stack(np.meshgrid(u, u, indexing="ij"), axis=-1).reshape(-1, 2)
    return g[np.sum(g * g, axis=1) <= 1.0 + 1e-12]


# the six sign sectors of (h_1, h_2, h_1 - h_2), coded 4 [h_1 > 0] + 2 [h_2 > 0] + [h_1 > h_2]:
# the slot of each code in the candidates (codes 3 and 4 cannot occur)
_SLOT = np.array([0, 1, 2, -1, -1, 3, 4, 5])


def prox_global(w, T, V: float, sigma: float, n_grid: int = 15, keep: int = 2) -> ProxResult:
    """Global minimiser for every row of w (N, 2), T (N, 2): disc grid, then Newton per sector;
    `offsets` holds the `keep` (at most 6) best distinct local minima found."""
    w = np.ascontiguousarray(w, dtype=float)
    T = np.ascontiguousarray(T, dtype=float)
    radius = np.sqrt(V * loss(w, T, sigma)) * (1.0 + 1e-6) + 1e-12
    starts = np.full((len(w), 6, 2), np.nan)  # sectors the disc misses stay NaN
    _grid_starts(w, T, radius, _unit_disc(n_grid), float(V), 2.0 * sigma**2, _SLOT, starts)
    return refine(w, T, V, sigma, starts - w[:, None, :], keep)


@njit(cache=True, error_model="numpy")
def _grid_starts(w, T, radius, unit, V, c, slot, starts):
    """Best point of each sign sector on the disc grid `w + radius unit`, into starts (N, 6, 2)."""
    best = np.empty(8)
    for i in range(w.shape[0]):
        best[:] = np.inf
        for j in range(unit.shape[0]):
            h1, h2 = w[i, 0] + radius[i] * unit[j, 0], w[i, 1] + radius[i] * unit[j, 1]
            code = 4 * (h1 > 0) + 2 * (h2 > 0) + (h1 > h2)
            v = _value(h1, h2, w[i, 0], w[i, 1], T[i, 0], T[i, 1], V, c)
            if v < best[code]:
                best[code] = v
                starts[i, slot[code], 0], starts[i, slot[code], 1] = h1, h2


def refine(w, T, V: float, sigma: float, offsets: np.ndarray, keep: int = 2) -> ProxResult:
    """Polish candidate minima `w + offsets` (N, K, 2); keep the `keep` best distinct ones.

    NaN offsets mark missing candidates; every row needs at least one.
    """
    N, K, _ = offsets.shape
    kept = min(keep, K)
    hh, vv = np.empty((N, kept, 2)), np.empty((N, kept))
    w = np.ascontiguousarray(w, dtype=float)
    _refine_rows(w, np.ascontiguousarray(T, dtype=float),
                 np.ascontiguousarray(offsets, dtype=float), float(V), 2.0 * sigma**2, hh, vv)
    return ProxResult(hh[:, 0], vv[:, 0], hh - w[:, None, :])


@njit(cache=True, error_model="numpy")
def _refine_rows(w, T, offsets, V, c, hh, vv):
    """`refine` per row into hh (N, keep, 2), vv (N, keep): polish each live candidate (a
    start equal to an earlier one's is not polished again: same result), sort by value
    (stable), then move duplicates of better minima behind the distinct ones and truncate."""
    K, keep = offsets.shape[1], hh.shape[1]
    ch, cv = np.empty((K, 2)), np.empty(K)
    order, dup = np.empty(K, np.int64), np.empty(K, np.bool_)
    for i in range(w.shape[0]):
        w1, w2, t1, t2 = w[i, 0], w[i, 1], T[i, 0], T[i, 1]
        for k in range(K):
            o1, o2 = offsets[i, k, 0], offsets[i, k, 1]
            ch[k, 0] = w1 + (0.0 if np.isnan(o1) else o1)
            ch[k, 1] = w2 + (0.0 if np.isnan(o2) else o2)
            cv[k] = np.inf
            if np.isnan(o1):
                continue
            same = -1
            for k2 in range(k):
                if offsets[i, k2, 0] == o1 and offsets[i, k2, 1] == o2:
                    same = k2
                    break
            if same >= 0:
                ch[k, 0], ch[k, 1], cv[k] = ch[same, 0], ch[same, 1], cv[same]
            else:
                ch[k, 0], ch[k, 1], cv[k] = polish_point(ch[k, 0], ch[k, 1], w1, w2, t1, t2,
                                                         V, c, 30, 1e-11)
        for k in range(K):  # stable insertion sort by value, NaN last
            j = k
            while j > 0 and (cv[k] < cv[order[j - 1]]
                             or (np.isnan(cv[order[j - 1]]) and not np.isnan(cv[k]))):
                order[j] = order[j - 1]
                j -= 1
            order[j] = k
        if keep < K:
            # duplicates of a better distinct candidate go behind the others
            for k in range(K):
                dup[k] = False
                for k2 in range(k):
                    a, b = ch[order[k]], ch[order[k2]]
                    if not dup[k2] and max(abs(a[0] - b[0]), abs(a[1] - b[1])) < 1e-6:
                        dup[k] = True
                        break
            n = 0
            for flag in (False, True):
                for k in range(K):
                    if dup[k] == flag and n < keep:
                        hh[i, n, 0], hh[i, n, 1] = ch[order[k], 0], ch[order[k], 1]
                        vv[i, n] = cv[order[k]]
                        n += 1
        else:
            for k in range(K):
                hh[i, k, 0], hh[i, k, 1], vv[i, k] = ch[order[k], 0], ch[order[k], 1], cv[order[k]]
