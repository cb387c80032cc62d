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

from dataclasses import dataclass

import numpy as np
from numba import njit

from .channel import Inputs
from .prox import ProxResult, polish, polish_point
from .quadrature import LineRule, line_points, split_line


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
    """Lines and inner positions where the global minimiser switches basin between probes
    (minimisers `probes` at `rule.probes`).

    Returns (line index, switch position) per switch, and the polished local minima on both
    sides of each switch (to start the nodes next to it from).
    """
    M, n = rule.lines, len(rule.inner)
    h = probes.h.reshape(M, n, 2)
    val = probes.value.reshape(M, n)
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
    # where one basin does not reach the other end of the interval D is undefined there:
    # bisect (a vanished basin counts as losing) instead of interpolating
    bisect = _same(hb, h[line, j]) | _same(hc, h[line, j + 1])
    c = np.empty(line.size)
    _regula_falsi(np.ascontiguousarray(rule.outer[line]), a, b, fa, fb, hA, hB, bisect,
                  inputs.params(), float(V), 2.0 * sigma**2, iters, c)
    return line, c, {"j": j, "hA": hA, "hB": hB}


@njit(cache=True, error_model="numpy")
def _regula_falsi(outer, a, b, fa, fb, hA, hB, bisect, params, V, c2, iters, c):
    """Per switch, Illinois regula falsi on D = value(A) - value(B) over [a, b] of its line
    (`outer` (S, 3)), each trial point's two local minima polished from the last ones;
    the switch position into c, the tracked minima updated in hA, hB (S, 2).

    `params` is `Inputs.params()`: the prox inputs at (xi_1, t, eta_1, eta_2) on a line.
    """
    sq, m, ca, cb, mix, tA1, tA2 = params
    for s in range(outer.shape[0]):
        xi1, eta1, eta2 = outer[s, 0], outer[s, 1], outer[s, 2]
        lo, hi, flo, fhi, bis, side = a[s], b[s], fa[s], fb[s], bisect[s], 0
        a1, a2, b1, b2 = hA[s, 0], hA[s, 1], hB[s, 0], hB[s, 1]
        cc = hi
        for _ in range(iters):
            den = fhi - flo
            cc = 0.5 * (lo + hi) if bis or not den > 0 else hi - fhi * (hi - lo) / den
            cc = min(max(cc, lo + 1e-3 * (hi - lo)), hi - 1e-3 * (hi - lo))
            w1, w2 = sq * xi1 + m, sq * cc - m
            hs1, hs2 = ca * xi1 + cb * eta1, ca * cc + cb * eta2
            gap = hs1 - hs2
            t1 = mix * (1.0 / (1.0 + np.exp(-(hs1 * gap)))) + tA1
            t2 = mix * (1.0 / (1.0 + np.exp(-(-hs2 * gap)))) + tA2
            pa1, pa2, va = polish_point(a1, a2, w1, w2, t1, t2, V, c2, 30, 1e-11)
            pb1, pb2, vb = polish_point(b1, b2, w1, w2, t1, t2, V, c2, 30, 1e-11)
            fc = va - vb
            gone = max(abs(pa1 - pb1), abs(pa2 - pb2)) < 1e-6 * (1.0 + max(abs(pb1), abs(pb2)))
            # both polishes reached one minimum: the basin it is not nearer to has vanished
            a_won = ((pa1 - a1) ** 2 + (pa2 - a2) ** 2) <= ((pa1 - b1) ** 2 + (pa2 - b2) ** 2)
            if gone:
                fc = -1.0 if a_won else 1.0
            bis = gone
            if not (gone and not a_won):
                a1, a2 = pa1, pa2
            if not (gone and a_won):
                b1, b2 = pb1, pb2
            if fc <= 0:
                lo, flo = cc, fc
                if side == -1:
                    fhi /= 2.0
                side = -1
            else:
                hi, fhi = cc, fc
                if side == 1:
                    flo /= 2.0
                side = 1
            if not (hi - lo > 1e-8 and (abs(fc) > 1e-15 or gone)):
                break
        c[s] = cc
        hA[s, 0], hA[s, 1], hB[s, 0], hB[s, 1] = a1, a2, b1, b2


def split_nodes(rule: LineRule, probes: ProxResult, inputs: Inputs, V: float, sigma: float,
                n_half: int = 8, n_leg: int = 8,
                at_probes: tuple[np.ndarray, np.ndarray] | None = None) -> Nodes:
    """Integration nodes for the state whose probe minimisers are `probes`.

    Lines without a basin switch keep their probes; the others get `split_line` nodes cut at
    the switches, each node's minimiser polished from the probe minimiser on its side (or
    from the local minimum tracked to the switch, inside a switch interval). `at_probes`:
    `inputs(rule.probes)`, where the caller has it already.
    """
    M, n = rule.lines, len(rule.inner)
    pts0 = rule.probes
    w0, T0 = inputs(pts0) if at_probes is None else at_probes
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
    # (each switch has its own probe interval: the sets of nodes set here are disjoint)
    j = info["j"]
    ts = t[slot]
    sw, p = np.nonzero((ts > rule.inner[j][:, None]) & (ts < rule.inner[j + 1][:, None]))
    start[slot[sw], p] = np.where((ts[sw, p] < c[sw])[:, None], info["hA"][sw], info["hB"][sw])
    hh, vv = polish(start.reshape(-1, 2), w, T, V, sigma)
    keep = np.ones(M, dtype=bool)
    keep[lines] = False
    kp = np.repeat(keep, n)
    weights = np.concatenate([rule.weights[kp],
                              (rule.w_outer[lines][:, None] * wt).ravel()])
    return Nodes(np.concatenate([pts0[kp], pts]), weights, np.concatenate([w0[kp], w]),
                 np.concatenate([T0[kp], T]), np.concatenate([probes.h[kp], hh]),
                 np.concatenate([probes.value[kp], vv]), int(line.size))
