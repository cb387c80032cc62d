"""Adaptive quadrature over the xi plane, per eta node (docs/theory.md, "Adaptive rule").

Why: on the theta = 0 branches the global prox jumps across a curve in the (xi_1, xi_2)
plane that ends inside it (the two minima merge there), and near the end the minimiser
moves steeply but continuously; lines in xi_2 that pass near the end see a steep step
that no fixed set of probes resolves, and the line integrals are not smooth in xi_1 there.
Both are integrable to any accuracy by bisection with an error estimate: the xi plane is
integrated by nested adaptive Gauss-Lobatto rules (outer in xi_1, inner in xi_2, each
piece compared with the sum of its two halves), the eta plane by a Gauss-Hermite product.
The global prox is solved afresh at every node (no tracking: the nodes move with the
state). It costs seconds per evaluation, so `refined.py` uses it for a few corrector
steps from the split rule's fixed point, not for the whole iteration.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .channel import Inputs, loss
from .prox import prox_global
from .quadrature import lobatto

R = 7.5  # the xi range [-R, R]: the Gaussian weight beyond it is 6e-14 (integrands bounded)
PIECES = 6  # initial pieces of [-R, R]
N_LOB = 9  # Gauss-Lobatto nodes per piece (exact to degree 15)
# components of the integrand: f_1 - f_2, |f|^2, f . xi, f . eta, prox value, loss(w, T)
K = 6


def bisect_integral(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], problems: int,
                    tol: np.ndarray, max_depth: int = 40,
                    lo: float = -R, hi: float = R) -> tuple[np.ndarray, int]:
    """`int_lo^hi fn(p, x) dx` (fn: problem ids (N,), points (N,) -> values (N, K)) for each
    of `problems` problems, by adaptive bisection.

    Each piece's N_LOB-point Gauss-Lobatto value is compared with the sum over its two
    halves; a piece is accepted (with the halves' sum) when every component differs by at
    most `tol` (K,), else both halves are bisected further, at most `max_depth` times.
    Lobatto, not Gauss: a jump or kink between a piece's end and its first Gauss node
    spoils a piece and its halves alike (their difference stays small; measured: 4e-5
    errors accepted at tol 2e-12), while the end nodes of Lobatto rules see it.
    Returns the integrals (problems, K) and the number of pieces evaluated.
    """
    edges = np.linspace(lo, hi, PIECES + 1)
    pid = np.repeat(np.arange(problems), PIECES)
    a, b = np.tile(edges[:-1], problems), np.tile(edges[1:], problems)
    Q = _pieces(fn, pid, a, b)
    total = np.zeros((problems, Q.shape[1]))
    count = pid.size
    for _ in range(max_depth):
        if pid.size == 0:
            break
        mid = 0.5 * (a + b)
        cp, ca, cb = np.tile(pid, 2), np.concatenate([a, mid]), np.concatenate([mid, b])
        cq = _pieces(fn, cp, ca, cb)
        count += cp.size
        n = pid.size
        both = cq[:n] + cq[n:]
        ok = np.all(np.abs(both - Q) <= tol, axis=1)
        np.add.at(total, pid[ok], both[ok])
        go = np.tile(~ok, 2)
        pid, a, b, Q = cp[go], ca[go], cb[go], cq[go]
    np.add.at(total, pid, Q)  # the pieces left at the depth limit
    return total, count


def _pieces(fn, pid: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Gauss-Lobatto value of each piece [a, b] of problem pid, (pieces, K)."""
    x, w = lobatto(N_LOB)
    half = 0.5 * (b - a)
    t = 0.5 * (a + b)[:, None] + half[:, None] * x[None]
    vals = fn(np.repeat(pid, N_LOB), t.ravel()).reshape(len(pid), N_LOB, -1)
    return np.einsum("pn,pnk->pk", half[:, None] * w[None], vals)


def _phi(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def integrand(points: np.ndarray, inputs: Inputs, V: float, sigma: float,
              n_grid: int = 15) -> np.ndarray:
    """The K components at 4-D points (N, 4), with the global prox solved there."""
    w, T = inputs(points)
    res = prox_global(w, T, V, sigma, n_grid)
    f = (res.h - w) / V
    return np.stack([f[:, 0] - f[:, 1], np.sum(f * f, axis=1),
                     np.sum(f * points[:, :2], axis=1), np.sum(f * points[:, 2:], axis=1),
                     res.value, loss(w, T, sigma)], axis=1)


def xi_plane(eta: np.ndarray, g: Callable[[np.ndarray], np.ndarray], tol: np.ndarray,
             inner: float = 0.02) -> tuple[np.ndarray, int]:
    """`E_xi g(xi, eta)` (xi ~ N(0, I_2)) per row of eta (P, 2), for g: 4-D points -> (N, K).

    Nested `bisect_integral`: the outer one in xi_1 to `tol`, the inner one in xi_2 (one
    line per outer node) to `inner` times `tol`, so that its errors stay below the outer
    estimate's resolution. Returns (P, K) and the number of points evaluated.
    """
    evals = 0

    def line(lid: np.ndarray, t: np.ndarray, outer: np.ndarray) -> np.ndarray:
        o = outer[lid]
        pts = np.stack([o[:, 0], t, o[:, 1], o[:, 2]], axis=1)
        return g(pts) * _phi(t)[:, None]

    def along_xi1(pid: np.ndarray, s: np.ndarray) -> np.ndarray:
        nonlocal evals
        outer = np.stack([s, eta[pid, 0], eta[pid, 1]], axis=1)
        vals, n = bisect_integral(lambda lid, t: line(lid, t, outer), len(s), inner * tol)
        evals += n * N_LOB
        return vals * _phi(s)[:, None]

    out, _ = bisect_integral(along_xi1, len(eta), tol)
    return out, evals
