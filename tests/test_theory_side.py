"""The init-side prox and its fixed points (theory/side.py)."""

from __future__ import annotations

import numpy as np
import pytest

from attnphase.theory.channel import Problem, check_A, loss, teacher_diag
from attnphase.theory.fixed_point import order_params
from attnphase.theory.prox import objective, polish, prox_global
from attnphase.theory.side import SideMap, gaussian_points, prox_side, side_curve, solve_side

SIGMA = 0.5
FORWARD = np.array([1.0, -1.0])  # the positional init's side: h_1 - h_2 >= 0


def _rows(n: int, seed: int, V: float, m: float = 0.25, sq: float = 0.4):
    """Prox inputs as on the positional branch: w = sq xi + (m, -m), T of a random teacher."""
    rng = np.random.default_rng(seed)
    w = sq * rng.standard_normal((n, 2)) + np.array([m, -m])
    T = teacher_diag(SIGMA * rng.standard_normal((n, 2)), 0.1, check_A(None))
    return w, T


def _brute_side(w, T, r, V: float, half: float = 4.0, n: int = 401):
    """Slow reference: every strict local minimum of the objective on an n x n grid of
    [w - half, w + half]^2 with h . r >= 0, polished; the lowest (None if there is none)."""
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
    ok = h @ r >= 0
    return h[ok][np.argmin(val[ok])] if ok.any() else None


def test_prox_side_against_a_grid_search():
    """Positional side: on rows where the global minimiser is reversed (h_1 < h_2) the prox
    is the lowest forward local minimum a dense grid finds; elsewhere the global one."""
    V = 20.0
    w, T = _rows(4000, 0, V, m=0.1)
    glob = prox_global(w, T, V, SIGMA).h
    fwd = prox_side(w, T, FORWARD, V, SIGMA)
    same = glob[:, 0] >= glob[:, 1]
    assert same.mean() > 0.5 and (~same).sum() >= 10
    np.testing.assert_allclose(fwd[same], glob[same], atol=1e-8)
    moved = ~same & np.any(np.abs(fwd - glob) > 1e-8, axis=1)
    kept = ~same & ~moved
    assert moved.sum() >= 8 and kept.sum() >= 8
    for i in np.flatnonzero(moved)[:8]:  # a forward minimum: the grid's lowest one
        np.testing.assert_allclose(fwd[i], _brute_side(w[i], T[i], FORWARD, V), atol=1e-6)
    for i in np.flatnonzero(kept)[:8]:  # none: the grid finds none either
        assert _brute_side(w[i], T[i], FORWARD, V) is None


def test_prox_side_semantic_against_a_grid_search():
    """Semantic side (r = h*, a different r per row): the lowest local minimum with
    h . r >= 0 that a dense grid finds, where the global minimiser lies on the other side."""
    V = 10.0
    rng = np.random.default_rng(5)
    w, T = _rows(3000, 2, V, m=0.0, sq=0.5)
    r = w + 0.3 * rng.standard_normal(w.shape)  # teacher preactivations, correlated with w
    glob = prox_global(w, T, V, SIGMA).h
    side = prox_side(w, T, r, V, SIGMA)
    other = np.sum(glob * r, axis=1) < 0
    moved = other & np.any(np.abs(side - glob) > 1e-8, axis=1)
    np.testing.assert_allclose(side[~other], glob[~other], atol=1e-8)
    assert moved.sum() >= 5
    assert np.all(np.sum(side[moved] * r[moved], axis=1) >= 0)
    for i in np.flatnonzero(moved)[:5]:
        np.testing.assert_allclose(side[i], _brute_side(w[i], T[i], r[i], V), atol=1e-6)


def test_prox_side_is_a_local_minimum_on_its_side():
    """Where it is not the global minimiser, the positional side's output has h_1 >= h_2, a
    zero gradient (central differences) and a value above the global minimum."""
    V = 20.0
    w, T = _rows(3000, 1, V, m=0.1)
    glob = prox_global(w, T, V, SIGMA)
    fwd = prox_side(w, T, FORWARD, V, SIGMA)
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


@pytest.mark.parametrize("branch", ["positional", "semantic"])
def test_side_fixed_point_and_its_training_loss(branch):
    """At the solved point one more step of the map returns it, and eps_t = -Phi equals the
    training loss alpha/2 E[loss(hp)] + lambda/2 q computed from the prox outputs."""
    pt = solve_side(0.75, 0.1, branch=branch, log2n=11, seed=0)
    assert pt.converged and pt.branch == branch
    pb = Problem(0.75, 0.1, SIGMA, 0.01, check_A(None), branch)
    smap = SideMap(pb, gaussian_points(11, 0))
    x = np.array([pt.th[k] for k in ("q_th", "m_th", "theta_th", "V")])
    np.testing.assert_allclose(smap(x), x, rtol=1e-6, atol=1e-9)
    _, w, T, hp = smap.hats(x)
    direct = 0.75 / 2 * np.mean(loss(hp, T, SIGMA)) + 0.01 / 2 * pt.q
    assert pt.eps_t == pytest.approx(direct, rel=1e-6)
    assert pt.eps_g == pytest.approx(0.5 * np.mean(loss(w, T, SIGMA)), rel=1e-12)


def test_map_uses_the_published_order_parameter_updates():
    """The map is order_params of the conjugates, with theta held at 0."""
    pb = Problem(0.5, 0.3, SIGMA, 0.01, check_A(None), "positional")
    smap = SideMap(pb, gaussian_points(8, 0))
    x = np.array([0.02, 0.15, 0.0, 15.0])
    hats = smap.hats(x)[0]
    assert hats[2] == 0.0
    np.testing.assert_allclose(smap(x), order_params(hats, pb))
    assert smap(x)[2] == 0.0


def test_side_points_lie_off_the_global_ones():
    """At alpha 0.75, omega 0.1 the positional side point has fewer reversed samples, a larger
    m and a smaller q than the global prox's positional point (q 0.1984, m 0.1886, reversed
    0.029), and the semantic side point a larger theta than the global semantic one (0.331;
    docs/theory.md): the differences (8%, 14%, 3.5x, 8%) are 10 to 100 times the spread over
    scramblings at 2^12 and 2^13 points (~2e-4 to 3e-3)."""
    pos = side_curve([0.75], 0.1, log2n=12, scrambles=3)[0]
    assert pos["converged"] and pos["scrambles"] == 3 and pos["branch"] == "positional"
    assert pos["err_q"] < 2e-3 and pos["err_m"] < 2e-3
    assert pos["q"] == pytest.approx(0.182, abs=0.006)
    assert pos["m"] == pytest.approx(0.216, abs=0.006)
    assert pos["reversed"] < 0.015
    assert pos["eps_t"] > 0.002001  # above the global positional point's
    sem = side_curve([0.75], 0.1, branch="semantic", log2n=13, scrambles=2)[0]
    assert sem["converged"] and sem["err_theta"] < 3e-3
    assert sem["theta"] == pytest.approx(0.358, abs=0.01)


def test_side_input_errors():
    with pytest.raises(ValueError, match="log2n=4"):
        solve_side(0.5, log2n=4)
    with pytest.raises(ValueError, match="alpha=-1"):
        solve_side(-1.0)
    with pytest.raises(ValueError, match="branch='trivial'"):
        solve_side(0.5, branch="trivial")
    with pytest.raises(ValueError, match="scrambles=0"):
        side_curve([0.5], scrambles=0)
    assert side_curve([0.5], log2n=8, scrambles=1)[0]["err_q"] is None


def test_side_boundary_crossings_over_scramblings(monkeypatch):
    """side_boundary: per scrambling the last down-crossing of eps_t(semantic) -
    eps_t(positional) (a stand-in solver with known values), continued from the largest
    alpha down, semantic points that fell onto theta = 0 left out; mean ± standard error."""
    from types import SimpleNamespace

    from attnphase.theory import side
    from attnphase.transitions import downcrossing

    calls = []

    def fake(alpha, omega, sigma, lam, A, branch, init=None, log2n=14, seed=0):
        calls.append((seed, branch, alpha, init))
        gap = 0.5 + 0.01 * seed - alpha**2 / 2
        sem = branch == "semantic"
        return SimpleNamespace(converged=True, theta=0.3 if alpha >= 0.6 or not sem else 0.0,
                               eps_t=1.0 + (gap if sem else 0.0), alpha=alpha)

    monkeypatch.setattr(side, "solve_side", fake)
    alphas = [0.5, 0.75, 1.0, 1.25, 1.5]
    res = side.side_boundary(0.3, alphas, scrambles=3)
    roots = []
    for seed in range(3):
        y = [np.nan] + [0.5 + 0.01 * seed - a**2 / 2 for a in alphas[1:]]
        roots.append(downcrossing(alphas, y))
    assert res["alpha_c"] == pytest.approx(np.mean(roots), rel=1e-12)
    assert res["alpha_c_err"] == pytest.approx(np.std(roots, ddof=1) / np.sqrt(3), rel=1e-9)
    assert res["crossing_scramblings"] == 3
    assert res["delta_eps_t"].split()[0] == "nan"
    first = [c for c in calls if c[0] == 0 and c[1] == "semantic"]
    assert [c[2] for c in first] == alphas[::-1]  # from the largest alpha down
    assert first[0][3] is None and first[1][3].alpha == 1.5  # warm starts
    assert first[-1][3].alpha == 0.75  # 0.5 starts from the last usable point
