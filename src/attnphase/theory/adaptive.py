"""Adaptive quadrature over the xi plane, per eta node (docs/theory.md, "the adaptive rule").

Why: on the theta = 0 branches the global prox jumps across a curve in the (xi_1, xi_2)
plane that ends inside it (the two minima merge there), and near the end the minimiser
moves steeply but continuously; lines in xi_2 that pass near the end see a steep step
that no fixed set of probes resolves, and the line integrals are not smooth in xi_1 there.
Both are integrable to any accuracy by bisection with an error estimate: the xi plane is
integrated by nested adaptive Gauss-Lobatto rules (outer in xi_1, inner in xi_2, each
piece compared with the sum of its two halves). In eta the xi-plane integrals have a jump
in their second derivative along the curve where the prox's two mirror minima are born
(`critical_gap`), so on the theta = 0 branches the eta plane is integrated on lines cut
there (`eta_split_rule`). The global prox is solved afresh at every node (no tracking: the
nodes move with the state). It costs 15 to 60 CPU s per evaluation, so `refined.py` uses it
for a few corrector steps from the split rule's fixed point, not for the whole iteration.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from .channel import Inputs, loss
from .prox import prox_global
from .quadrature import lobatto, split_line

R = 7.5  # the xi range [-R, R]: the Gaussian weight beyond it is 6e-14 (integrands bounded)
PIECES = 6  # initial pieces of [-R, R]
N_LOB = 9  # Gauss-Lobatto nodes per piece (exact to degree 15)


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
    """The K = 6 components at 4-D points (N, 4), with the global prox solved there:
    f_1 - f_2, |f|^2, f . xi, f . eta, the prox value and loss(w, T), f = (h - w) / V."""
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


def critical_gap(T: np.ndarray, V: float, sigma: float) -> np.ndarray:
    """Smallest eigenvalue of the prox objective's Hessian at h = 0 for teacher diagonals T
    (N, 2): `2 I / V + sigma^2 sum_l (1/2 - T_l) H_l`, H_l the Hessians of the logits.

    At w = 0, h = 0 is a stationary point (the loss is even in h); where this eigenvalue
    turns negative two mirror minima split off it (a pitchfork), and the jump curve of the
    prox in the xi plane is born. Across the eta curve where it vanishes the xi-plane
    integrals have a jump in their second derivative (measured: third differences of
    E |f|^2 along eta_1 jump from +5e-5 to -2e-4 there), which a Gauss rule in eta sees.
    """
    g1, g2 = sigma**2 * (0.5 - T[:, 0]), sigma**2 * (0.5 - T[:, 1])
    a, d, b = 2.0 / V + 2.0 * g1, 2.0 / V + 2.0 * g2, -(g1 + g2)  # H_1 = [[2,-1],[-1,0]] ...
    return 0.5 * (a + d) - np.hypot(0.5 * (a - d), b)


def eta_split_rule(n: int, inputs, V: float, sigma: float, span: float = 10.0,
                   grid: int = 801) -> tuple[np.ndarray, np.ndarray]:
    """Eta nodes (N, 2) and weights (N,) for integrands even in eta whose only non-smooth
    place is the curve `critical_gap = 0` (the theta = 0 branches: T depends on eta only).

    In rotated coordinates u = (eta_1 - eta_2) / sqrt 2, v = (eta_1 + eta_2) / sqrt 2 (the
    curve runs along v: T is constant on the diagonal u = 0), v takes the n-point
    Gauss-Hermite nodes v >= 0 (twice the weight for v > 0: the line at -v is the mirror
    image), and each line in u is cut where the curve crosses it (`split_line`, with
    n // 2 + 2 nodes per piece and per tail). Crossings are found on a grid of `grid`
    points over [-span, span], then by bisection.
    """
    x, w = hermegauss(n)
    keep = x >= 0
    v, wv = x[keep], (w / w.sum())[keep] * np.where(x[keep] > 0, 2.0, 1.0)
    u = np.linspace(-span, span, grid)

    def gap(uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
        eta = np.stack([(vv + uu) / np.sqrt(2.0), (vv - uu) / np.sqrt(2.0)], axis=-1)
        pts = np.concatenate([np.zeros(eta.shape[:-1] + (2,)), eta], axis=-1)
        _, T = inputs(pts.reshape(-1, 4))
        return critical_gap(T, V, sigma).reshape(uu.shape)

    G = gap(np.broadcast_to(u, (len(v), grid)), np.broadcast_to(v[:, None], (len(v), grid)))
    line, j = np.nonzero(np.sign(G[:, :-1]) * np.sign(G[:, 1:]) < 0)
    lo, hi, glo = u[j], u[j + 1], G[line, j]
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        gm = gap(mid, v[line])
        left = np.sign(gm) == np.sign(glo)
        lo, glo = np.where(left, mid, lo), np.where(left, gm, glo)
        hi = np.where(left, hi, mid)
    K = max(int(np.bincount(line, minlength=len(v)).max()) if line.size else 0, 1)
    breaks = np.full((len(v), K), np.nan)
    rank = np.arange(line.size) - np.searchsorted(line, line)
    breaks[line, rank] = 0.5 * (lo + hi)
    m = n // 2 + 2
    t, wt = split_line(breaks, m, m)
    vv = np.broadcast_to(v[:, None], t.shape)
    weights = (wv[:, None] * wt).ravel()
    eta = np.stack([((vv + t) / np.sqrt(2.0)).ravel(), ((vv - t) / np.sqrt(2.0)).ravel()], 1)
    used = weights > 1e-14
    return eta[used], weights[used]
