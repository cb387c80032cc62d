"""Quadrature that follows the global prox across its jumps (docs/theory.md, "Split rule").

The global minimiser of the prox switches between two local minima (typically mirror
images) across a curve in the integration space, so the integrands are discontinuous there
and a product Gauss rule converges slowly and erratically. Here the 4-D rule is arranged as
lines (`quadrature.LineRule`): outer Gauss-Hermite nodes over (xi_1, eta_1, eta_2), an inner
line in xi_2. On each line the minimiser is found at the inner Gauss-Hermite nodes (the
probes); where the minimiser at probe j + 1 is not the continuation of the one at probe j,
the switch point is located by regula falsi (Illinois) on the difference of the two local
minima's values, each followed by Newton polishing, and the line is re-integrated with
`quadrature.split_line`, cut at the switch points. Lines without a switch keep the probes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .prox import ProxResult, polish
from .quadrature import LineRule, line_points, split_line

# maps 4-D points (N, 4) to the prox inputs: student means w (N, 2), teacher diagonals T (N, 2)
Inputs = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class Nodes:
    """The integration nodes of one state: 4-D points, weights and the prox there."""

    points: np.ndarray
    weights: np.ndarray
    w: np.ndarray
    T: np.ndarray
    h: np.ndarray
    value: np.ndarray
    switches: int = 0


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.max(np.abs(a - b), axis=-1) < 1e-6 * (1.0 + np.max(np.abs(b), axis=-1))


def _switch_points(rule: LineRule, probes: ProxResult, inputs: Inputs, V: float, sigma: float,
                   iters: int = 16, substeps: int = 1) -> tuple[np.ndarray, np.ndarray, dict]:
    """Lines and inner positions where the global minimiser switches basin between probes.

    Returns (line index, switch position) per switch, and the polished local minima on both
    sides of each switch (to start the nodes next to it from).
    """
    M, n = rule.lines, len(rule.inner)
    h = probes.h.reshape(M, n, 2)
    val = probes.value.reshape(M, n)
    w, T = inputs(rule.probes)
    w, T = w.reshape(M, n, 2), T.reshape(M, n, 2)
    # continuation of the minimiser of probe j to probe j + 1 and back, in `substeps` steps
    # (a long step can slide into the other basin where the two are shallow); the basin
    # switches between the probes iff either continuation misses the other end's minimiser
    # (one basin may vanish on the way, so one direction is not enough)
    # only pairs where one end knows two distinct local minima can switch (a basin born and
    # another one vanishing between two probes is not looked for)
    two = ~_same(probes.offsets[:, 0], probes.offsets[:, -1]).reshape(M, n)
    line, j = np.nonzero(two[:, :-1] | two[:, 1:])
    t0, t1 = rule.inner[j], rule.inner[j + 1]

    # both directions in one batch: from probe j forwards, from probe j + 1 backwards
    hh, vv = np.concatenate([h[line, j], h[line, j + 1]]), None
    frm, to = np.concatenate([t0, t1]), np.concatenate([t1, t0])
    outer2 = np.concatenate([rule.outer[line], rule.outer[line]])
    for k in range(1, substeps + 1):
        tk = frm + (to - frm) * k / substeps
        wk, Tk = inputs(line_points(outer2, tk[:, None]))
        hh, vv = polish(hh, wk, Tk, V, sigma)
    hc, hb = np.split(hh, 2)
    vc, vb = np.split(vv, 2)
    jump = ~_same(hc, h[line, j + 1]) | ~_same(hb, h[line, j])
    line, j, hc, vc, hb, vb = line[jump], j[jump], hc[jump], vc[jump], hb[jump], vb[jump]
    if line.size == 0:
        return line, np.zeros(0), {}
    a, b = rule.inner[j].astype(float), rule.inner[j + 1].astype(float)
    fa = val[line, j] - vb          # D = value(A) - value(B) <= 0 at a
    fb = vc - val[line, j + 1]  # >= 0 at b
    hA, hB = h[line, j].copy(), h[line, j + 1].copy()
    outer = rule.outer[line]
    # where one basin does not reach the other end of the interval D is undefined there:
    # bisect (a vanished basin counts as losing) instead of interpolating
    bisect = _same(hb, h[line, j]) | _same(hc, h[line, j + 1])
    side = np.zeros(line.size)
    c = b.copy()
    active = np.ones(line.size, dtype=bool)
    for _ in range(iters):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        den = fb[idx] - fa[idx]
        mid = 0.5 * (a[idx] + b[idx])
        cc = np.where(bisect[idx] | ~(den > 0), mid,
                      b[idx] - fb[idx] * (b[idx] - a[idx]) / np.where(den > 0, den, 1.0))
        cc = np.clip(cc, a[idx] + 1e-3 * (b[idx] - a[idx]), b[idx] - 1e-3 * (b[idx] - a[idx]))
        wc, Tc = inputs(line_points(outer[idx], cc[:, None]))
        hab, vab = polish(np.concatenate([hA[idx], hB[idx]]), np.concatenate([wc, wc]),
                          np.concatenate([Tc, Tc]), V, sigma)
        (ha, hb_), (va, vb_) = np.split(hab, 2), np.split(vab, 2)
        fc = va - vb_
        gone = _same(ha, hb_)
        # both polishes reached one minimum: the basin it is not nearer to has vanished
        a_won = np.sum((ha - hA[idx]) ** 2, 1) <= np.sum((ha - hB[idx]) ** 2, 1)
        fc = np.where(gone, np.where(a_won, -1.0, 1.0), fc)
        bisect[idx] = gone
        hA[idx] = np.where((gone & ~a_won)[:, None], hA[idx], ha)
        hB[idx] = np.where((gone & a_won)[:, None], hB[idx], hb_)
        c[idx] = cc
        neg = fc <= 0
        i_n, i_p = idx[neg], idx[~neg]
        a[i_n], fa[i_n] = cc[neg], fc[neg]
        fb[i_n[side[i_n] == -1]] /= 2.0
        side[i_n] = -1
        b[i_p], fb[i_p] = cc[~neg], fc[~neg]
        fa[i_p[side[i_p] == 1]] /= 2.0
        side[i_p] = 1
        active[idx] = (b[idx] - a[idx] > 1e-8) & ((np.abs(fc) > 1e-15) | gone)
    return line, c, {"j": j, "hA": hA, "hB": hB}


def split_nodes(rule: LineRule, probes: ProxResult, inputs: Inputs, V: float, sigma: float,
                n_half: int = 8, n_leg: int = 8) -> Nodes:
    """Integration nodes for the state whose probe minimisers are `probes`.

    Lines without a basin switch keep their probes; the others get `split_line` nodes cut at
    the switches, each node's minimiser polished from the probe minimiser on its side (or
    from the local minimum tracked to the switch, inside a switch interval).
    """
    M, n = rule.lines, len(rule.inner)
    pts0 = rule.probes
    w0, T0 = inputs(pts0)
    line, c, info = _switch_points(rule, probes, inputs, V, sigma)
    if line.size == 0:
        return Nodes(pts0, rule.weights, w0, T0, probes.h, probes.value)
    lines = np.unique(line)
    K = np.bincount(line, minlength=M)[lines].max()
    breaks = np.full((lines.size, K), np.nan)
    slot = np.searchsorted(lines, line)
    order = np.lexsort((c, slot))
    rank = np.arange(line.size) - np.searchsorted(slot[order], slot[order])
    breaks[slot[order], rank] = c[order]
    t, wt = split_line(breaks, n_half, n_leg)
    pts = line_points(rule.outer[lines], t)
    w, T = inputs(pts)
    # start each node from the probe minimiser of its interval, or from the tracked minimum
    # on its side of a switch inside that interval
    h = probes.h.reshape(M, n, 2)[lines]
    pos = np.clip(np.searchsorted(rule.inner, t), 0, n - 1)  # first probe >= t
    below = np.clip(pos - 1, 0, n - 1)
    start = np.where((np.abs(t - rule.inner[below]) <= np.abs(t - rule.inner[pos]))[..., None],
                     np.take_along_axis(h, below[..., None], axis=1),
                     np.take_along_axis(h, pos[..., None], axis=1))
    for s in range(line.size):
        k, j = slot[s], info["j"][s]
        inside = (t[k] > rule.inner[j]) & (t[k] < rule.inner[j + 1])
        start[k, inside & (t[k] < c[s])] = info["hA"][s]
        start[k, inside & (t[k] >= c[s])] = info["hB"][s]
    hh, vv = polish(start.reshape(-1, 2), w, T, V, sigma)
    keep = np.ones(M, dtype=bool)
    keep[lines] = False
    kp = np.repeat(keep, n)
    weights = np.concatenate([rule.weights[kp],
                              (rule.w_outer[lines][:, None] * wt).ravel()])
    return Nodes(np.concatenate([pts0[kp], pts]), weights, np.concatenate([w0[kp], w]),
                 np.concatenate([T0[kp], T]), np.concatenate([probes.h[kp], hh]),
                 np.concatenate([probes.value[kp], vv]), int(line.size))
