"""Gauss-Hermite product rules for expectations over independent standard Gaussians."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import roots_legendre


@dataclass(frozen=True)
class Rule:
    """Nodes (N, dim) and weights (N,) with `sum(weights * g(nodes)) ~ E g(x)`, x ~ N(0, I)."""

    nodes: np.ndarray
    weights: np.ndarray

    @property
    def size(self) -> int:
        return len(self.weights)


@lru_cache(maxsize=16)
def gauss_hermite(n: int, dim: int = 4, prune: float = 1e-8) -> Rule:
    """Tensor-product Gauss-Hermite rule with `n` nodes per variable.

    Nodes whose product weight is below `prune` (relative to the largest) are dropped and
    the remaining weights renormalised: in 4 dimensions this removes a fifth (n = 8) to a half
    (n = 16) of the nodes, dropping a total weight below 1e-7, far below the rule's own error.
    """
    if n < 1 or dim < 1:
        raise ValueError(f"gauss_hermite: n={n}, dim={dim}: both must be >= 1")
    x, w = hermegauss(n)
    w = w / w.sum()
    grids = np.meshgrid(*([x] * dim), indexing="ij")
    wgrids = np.meshgrid(*([w] * dim), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    weights = np.prod(np.stack([g.ravel() for g in wgrids], axis=1), axis=1)
    keep = weights >= prune * weights.max()
    nodes, weights = nodes[keep], weights[keep] / weights[keep].sum()
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return Rule(nodes, weights)


@lru_cache(maxsize=8)
def half_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss rule (t, u) with `sum(u * g(t)) ~ int_0^inf g(t) phi(t) dt`, phi the N(0, 1) density.

    The recurrence of the orthogonal polynomials comes from the Stieltjes procedure on a
    discretisation of the measure (240-point Gauss-Legendre on [0, 14], exact far beyond
    the degrees used here; the tail beyond 14 weighs < 1e-44), which is stable where the
    moment (Hankel) route is not.
    """
    if n < 1:
        raise ValueError(f"half_hermite: n={n}: must be >= 1")
    x, w = roots_legendre(240)
    t = 7.0 * (x + 1.0)
    mu = 7.0 * w * np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi)
    a, b = np.zeros(n), np.zeros(n)
    p_prev, p = np.zeros_like(t), np.ones_like(t)
    norm_prev = 1.0
    for k in range(n):
        norm = mu @ (p * p)
        a[k] = mu @ (t * p * p) / norm
        if k > 0:
            b[k] = norm / norm_prev
        p_prev, p, norm_prev = p, (t - a[k]) * p - (b[k] if k > 0 else 0.0) * p_prev, norm
    J = np.diag(a) + np.diag(np.sqrt(b[1:]), 1) + np.diag(np.sqrt(b[1:]), -1)
    nodes, vecs = np.linalg.eigh(J)
    weights = mu.sum() * vecs[0] ** 2
    return nodes, weights


def split_line(breaks: np.ndarray, n_half: int = 8,
               n_leg: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (M, P) for `int g(x) phi(x) dx` over the real line, per row of `breaks`.

    Row i of `breaks` (M, K) holds the points where g may jump (NaN: unused). The line is cut
    at those points and at 0; the pieces between cuts get `n_leg`-point Gauss-Legendre rules
    (phi folded into the weights), and the two tails the half-line rule anchored at the
    outermost cut: for a cut c <= 0, `int_-inf^c g phi = int_0^inf g(c - t) phi(t)
    exp(c t - c^2 / 2) dt`, whose extra factor decays (and the mirror image for c >= 0).
    Every row has P = 2 n_half + (K + 1) n_leg nodes; unused pieces have zero length and
    weight.
    """
    breaks = np.atleast_2d(np.asarray(breaks, dtype=float))
    M = len(breaks)
    cuts = np.concatenate([np.zeros((M, 1)), breaks], axis=1)
    lo, hi = np.nanmin(cuts, axis=1), np.nanmax(cuts, axis=1)
    cuts = np.sort(np.where(np.isnan(cuts), hi[:, None], cuts), axis=1)  # pad: zero-length
    t, u = half_hermite(n_half)
    x, w = _legendre(n_leg)
    left = lo[:, None] - t[None]
    wl = u[None] * np.exp(lo[:, None] * t[None] - 0.5 * lo[:, None] ** 2)
    right = hi[:, None] + t[None]
    wr = u[None] * np.exp(-hi[:, None] * t[None] - 0.5 * hi[:, None] ** 2)
    a, b = cuts[:, :-1, None], cuts[:, 1:, None]
    mid = 0.5 * (a + b) + 0.5 * (b - a) * x
    wm = 0.5 * (b - a) * w * np.exp(-0.5 * mid * mid) / np.sqrt(2.0 * np.pi)
    nodes = np.concatenate([left, mid.reshape(M, -1), right], axis=1)
    weights = np.concatenate([wl, wm.reshape(M, -1), wr], axis=1)
    return nodes, weights


@lru_cache(maxsize=8)
def lobatto(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n-point Gauss-Lobatto rule on [-1, 1] (both ends among the nodes; n >= 3)."""
    p = np.polynomial.legendre.Legendre.basis(n - 1)
    x = np.concatenate([[-1.0], np.sort(p.deriv().roots().real), [1.0]])
    return x, 2.0 / (n * (n - 1) * p(x) ** 2)


@lru_cache(maxsize=8)
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    return roots_legendre(n)


@dataclass(frozen=True)
class LineRule:
    """A 4-D rule arranged as lines: outer Gauss-Hermite nodes over (xi_1, eta_1, eta_2), each
    carrying an inner Gauss-Hermite line in xi_2 (the probes, where the integrand is smooth
    along the line; otherwise `split_line` replaces them).

    `probes` (M n, 4) lists the points line by line in the variable order (xi_1, xi_2, eta_1,
    eta_2) used by `gauss_hermite`.
    """

    outer: np.ndarray
    w_outer: np.ndarray
    inner: np.ndarray
    w_inner: np.ndarray

    @property
    def lines(self) -> int:
        return len(self.w_outer)

    @cached_property
    def probes(self) -> np.ndarray:
        p = line_points(self.outer, np.broadcast_to(self.inner, (self.lines, len(self.inner))))
        p.setflags(write=False)
        return p

    @property
    def weights(self) -> np.ndarray:
        return (self.w_outer[:, None] * self.w_inner[None]).ravel()


def line_points(outer: np.ndarray, t: np.ndarray) -> np.ndarray:
    """4-D points (M P, 4) of the lines `outer` (M, 3) at inner positions t (M, P)."""
    M, P = t.shape
    o = np.repeat(outer, P, axis=0)
    return np.stack([o[:, 0], t.ravel(), o[:, 1], o[:, 2]], axis=1)


@lru_cache(maxsize=16)
def line_rule(n: int, n_inner: int | None = None, prune: float = 1e-8,
              even_in_eta: bool = False) -> LineRule:
    """Outer `n`-point Gauss-Hermite product over (xi_1, eta_1, eta_2), pruned as in
    `gauss_hermite`, with an inner `n_inner`-point (default n) Gauss-Hermite line in xi_2.

    `even_in_eta`: for integrands even in eta (the theta = 0 branches, where eta enters only
    through the teacher's quadratic logits) keep one node of each pair (eta, -eta), with
    twice the weight: half the nodes, the same sums.
    """
    outer = gauss_hermite(n, dim=3, prune=prune)
    nodes, weights = outer.nodes, outer.weights
    if even_in_eta:
        nodes, weights = _fold_eta(nodes, weights, nodes[:, 1:])
    x, w = hermegauss(n_inner or n)
    rule = LineRule(nodes, weights, x, w / w.sum())
    for a in (rule.inner, rule.w_inner):
        a.setflags(write=False)
    return rule


def _fold_eta(nodes: np.ndarray, weights: np.ndarray,
              eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One node of each pair (eta, -eta) of a symmetric rule, with twice the weight."""
    e1, e2 = eta[:, 0], eta[:, 1]
    keep = (e1 > 0) | ((e1 == 0) & (e2 >= 0))
    weights = np.where((e1 == 0) & (e2 == 0), 1.0, 2.0) * weights
    return nodes[keep], weights[keep]


@lru_cache(maxsize=16)
def eta_rule(n: int, prune: float = 1e-8, even: bool = False) -> Rule:
    """The `n`-point Gauss-Hermite product over (eta_1, eta_2), pruned as in `gauss_hermite`;
    `even`: folded for integrands even in eta, as in `line_rule`."""
    rule = gauss_hermite(n, dim=2, prune=prune)
    if not even:
        return rule
    nodes, weights = _fold_eta(rule.nodes, rule.weights, rule.nodes)
    return Rule(nodes, weights)
