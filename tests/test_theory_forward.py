"""The forward prox and its theta = 0 fixed point (theory/forward.py)."""

from __future__ import annotations

import numpy as np
import pytest

from attnphase.theory.channel import Problem, check_A, loss, teacher_diag
from attnphase.theory.fixed_point import order_params
from attnphase.theory.forward import (
    ForwardMap,
    forward_curve,
    gaussian_points,
    prox_forward,
    solve_forward,
)
from attnphase.theory.prox import objective, polish, prox_global

SIGMA = 0.5


def _rows(n: int, seed: int, V: float, m: float = 0.25, sq: float = 0.4):
    """Prox inputs as on the positional branch: w = sq xi + (m, -m), T of a random teacher."""
    rng = np.random.default_rng(seed)
    w = sq * rng.standard_normal((n, 2)) + np.array([m, -m])
    T = teacher_diag(SIGMA * rng.standard_normal((n, 2)), 0.1, check_A(None))
    return w, T


def _brute_forward(w, T, V: float, half: float = 4.0, n: int = 401):
    """Slow reference: every strict local minimum of the objective on an n x n grid of
    [w - half, w + half]^2 with h_1 >= h_2, polished; the lowest (None if there is none)."""
    u = np.linspace(-half, half, n)
    H = np.stack(np.meshgrid(w[0] + u, w[1] + u, indexing="ij"), axis=-1)
    F = objective(H, w, T, V, SIGMA)
    c = F[1:-1, 1:-1]
    is_min = np.ones_like(c, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= c < F[1 + di:n - 1 + di, 1 + dj:n - 1 + dj]
    starts = H[1:-1, 1:-1][is_min]
    if len(starts) == 0:
        return None
    h, val = polish(starts, np.tile(w, (len(starts), 1)), np.tile(T, (len(starts), 1)),
                    V, SIGMA, max_steps=200)
    ok = h[:, 0] >= h[:, 1]
    return h[ok][np.argmin(val[ok])] if ok.any() else None


def test_prox_forward_against_a_grid_search():
    """On rows where the global minimiser is reversed (h_1 < h_2) the forward prox is the
    lowest forward local minimum a dense grid finds; elsewhere it is the global minimiser."""
    V = 20.0
    w, T = _rows(4000, 0, V, m=0.1)
    glob = prox_global(w, T, V, SIGMA).h
    fwd = prox_forward(w, T, V, SIGMA)
    same = glob[:, 0] >= glob[:, 1]
    assert same.mean() > 0.5 and (~same).sum() >= 10
    np.testing.assert_allclose(fwd[same], glob[same], atol=1e-8)
    moved = ~same & np.any(np.abs(fwd - glob) > 1e-8, axis=1)
    kept = ~same & ~moved
    assert moved.sum() >= 8 and kept.sum() >= 8
    for i in np.flatnonzero(moved)[:8]:  # a forward minimum: the grid's lowest one
        np.testing.assert_allclose(fwd[i], _brute_forward(w[i], T[i], V), atol=1e-6)
    for i in np.flatnonzero(kept)[:8]:  # none: the grid finds none either
        assert _brute_forward(w[i], T[i], V) is None


def test_prox_forward_is_a_forward_local_minimum():
    """Where it is not the global minimiser, the forward output has h_1 >= h_2, a zero
    gradient (central differences) and a value above the global minimum."""
    V = 20.0
    w, T = _rows(3000, 1, V, m=0.1)
    glob = prox_global(w, T, V, SIGMA)
    fwd = prox_forward(w, T, V, SIGMA)
    moved = np.any(np.abs(fwd - glob.h) > 1e-8, axis=1)
    assert moved.sum() >= 10
    h, wm, Tm = fwd[moved], w[moved], T[moved]
    assert np.all(h[:, 0] >= h[:, 1])
    eps = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = eps
        g = (objective(h + e, wm, Tm, V, SIGMA) - objective(h - e, wm, Tm, V, SIGMA)) / (2 * eps)
        assert np.max(np.abs(g)) < 1e-5
    assert np.all(objective(h, wm, Tm, V, SIGMA) >= glob.value[moved] - 1e-12)


def test_forward_fixed_point_and_its_training_loss():
    """At the solved point one more step of the map returns it, and eps_t = -Phi equals the
    training loss alpha/2 E[loss(hp)] + lambda/2 q computed from the prox outputs."""
    pt = solve_forward(0.75, 0.1, log2n=11, seed=3)
    assert pt.converged and pt.branch == "forward"
    pb = Problem(0.75, 0.1, SIGMA, 0.01, check_A(None), "positional")
    fmap = ForwardMap(pb, gaussian_points(11, 3))
    x = np.array([pt.th["q_th"], pt.th["m_th"], pt.V])
    np.testing.assert_allclose(fmap(x), x, rtol=1e-6)
    _, w, hp = fmap.hats(x)
    direct = 0.75 / 2 * np.mean(loss(hp, fmap.T, SIGMA)) + 0.01 / 2 * pt.q
    assert pt.eps_t == pytest.approx(direct, rel=1e-6)
    assert pt.eps_g == pytest.approx(0.5 * np.mean(loss(w, fmap.T, SIGMA)), rel=1e-12)


def test_map_uses_the_published_order_parameter_updates():
    """The map is order_params of the conjugates, with theta held at 0."""
    pb = Problem(0.5, 0.3, SIGMA, 0.01, check_A(None), "positional")
    fmap = ForwardMap(pb, gaussian_points(8, 0))
    x = np.array([0.02, 0.15, 15.0])
    hats = fmap.hats(x)[0]
    assert hats[2] == 0.0
    q, m, th, V = order_params(hats, pb)
    np.testing.assert_allclose(fmap(x), [q, m, V])
    assert th == 0.0


def test_forward_point_lies_off_the_global_one():
    """At alpha 0.75, omega 0.1 the forward point has fewer reversed samples, a larger m and
    a smaller q than the global prox's positional point (q 0.1984, m 0.1886, reversed
    0.029; docs/theory.md): the differences (8%, 14%, 3.5x) are 10 to 100 times the spread
    over scramblings at 2^12 points (err_q ~ 2e-4, err_m ~ 3e-4)."""
    row = forward_curve([0.75], 0.1, log2n=12, scrambles=3)[0]
    assert row["converged"] and row["scrambles"] == 3
    assert row["err_q"] < 2e-3 and row["err_m"] < 2e-3
    assert row["q"] == pytest.approx(0.182, abs=0.006)
    assert row["m"] == pytest.approx(0.216, abs=0.006)
    assert row["reversed"] < 0.015
    assert row["eps_t"] > 0.002001  # above the global positional point's


def test_forward_input_errors():
    with pytest.raises(ValueError, match="log2n=4"):
        solve_forward(0.5, log2n=4)
    with pytest.raises(ValueError, match="alpha=-1"):
        solve_forward(-1.0)
    with pytest.raises(ValueError, match="scrambles=0"):
        forward_curve([0.5], scrambles=0)
    assert forward_curve([0.5], log2n=8, scrambles=1)[0]["err_q"] is None
