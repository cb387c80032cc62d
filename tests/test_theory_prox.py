"""The global prox against a brute-force fine grid, and its symmetries."""

import numpy as np
import pytest

from attnphase.theory.channel import check_A, teacher_diag
from attnphase.theory.prox import objective, polish, prox_global, refine


def _inputs(seed: int, n: int, omega: float = 0.3, A=None):
    rng = np.random.default_rng(seed)
    shift = rng.choice([0.0, 0.3, 1.0], size=(n, 1)) * np.array([1.0, -1.0])
    w = rng.normal(size=(n, 2)) * rng.choice([0.2, 0.6], size=(n, 1)) + shift
    hstar = rng.normal(size=(n, 2)) * 0.5 * rng.choice([1.0, 3.0], size=(n, 1))
    return w, teacher_diag(hstar, omega, check_A(A))


def _brute(w, T, V, sigma, points=501):
    radius = 2.0 * sigma * np.sqrt(V)  # the loss is at most 4 sigma^2
    u = np.linspace(-radius, radius, points)
    grid = np.stack(np.meshgrid(u, u, indexing="ij"), axis=-1).reshape(-1, 2)
    best = np.empty(len(w))
    for i in range(len(w)):
        best[i] = objective(w[i] + grid, w[i], T[i], V, sigma).min()
    return best


@pytest.mark.parametrize("V", [0.1, 1.0, 5.0, 30.0])
@pytest.mark.parametrize("A", [None, [[0.3, 0.7], [0.8, 0.2]]])
def test_global_prox_matches_brute_force(V, A):
    sigma = 0.5
    w, T = _inputs(int(V * 10), 40, A=A)
    res = prox_global(w, T, V, sigma)
    brute = _brute(w, T, V, sigma)
    # never worse than the best fine-grid point, and a true stationary point
    assert np.all(res.value <= brute + 1e-10)
    np.testing.assert_allclose(res.value, objective(res.h, w, T, V, sigma))


def test_prox_is_odd_in_w():
    w, T = _inputs(1, 200)
    a = prox_global(w, T, 3.0, 0.5)
    b = prox_global(-w, T, 3.0, 0.5)
    np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.h, -b.h, atol=1e-6)


def test_polish_never_increases_the_objective():
    w, T = _inputs(2, 300)
    rng = np.random.default_rng(0)
    h0 = w + rng.normal(size=w.shape)
    h, val = polish(h0, w, T, 2.0, 0.5)
    assert np.all(val <= objective(h0, w, T, 2.0, 0.5) + 1e-15)


def test_polish_ends_at_a_local_minimum():
    """Compiled Newton: a zero finite-difference gradient and no lower neighbour."""
    w, T = _inputs(4, 200)
    V, sigma = 2.0, 0.5
    h0 = w + np.random.default_rng(1).normal(size=w.shape) * 0.3
    h, val = polish(h0, w, T, V, sigma)
    np.testing.assert_allclose(val, objective(h, w, T, V, sigma), rtol=1e-13)
    eps = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = eps
        up, down = objective(h + e, w, T, V, sigma), objective(h - e, w, T, V, sigma)
        # central differences: error ~ eps^2 f''' plus rounding ~ 1e-16 / eps
        np.testing.assert_allclose((up - down) / (2 * eps), 0.0, atol=1e-7)
        assert np.all(up >= val - 1e-15) and np.all(down >= val - 1e-15)


def _refine_slow(w, T, V, sigma, offsets, keep):
    """`refine` row by row: polish each live candidate, sort by value, distinct ones first."""
    hs, vs = [], []
    for i in range(len(w)):
        c = []
        for off in offsets[i]:
            if np.isnan(off[0]):
                c.append((np.inf, w[i].copy()))
            else:
                h, v = polish((w[i] + off)[None], w[i][None], T[i][None], V, sigma)
                c.append((v[0], h[0]))
        c.sort(key=lambda p: p[0])  # stable: ties keep candidate order
        distinct = []
        for k, (_, h) in enumerate(c):
            dup = any(np.max(np.abs(h - c[j][1])) < 1e-6 for j in distinct)
            if not dup:
                distinct.append(k)
        order = distinct + [k for k in range(len(c)) if k not in distinct]
        order = order[:keep] if keep < len(c) else list(range(len(c)))
        hs.append([c[k][1] for k in order])
        vs.append([c[k][0] for k in order])
    return np.array(hs), np.array(vs)


@pytest.mark.parametrize("keep", [2, 8])
def test_refine_matches_a_row_by_row_version(keep):
    w, T = _inputs(5, 60)
    rng = np.random.default_rng(2)
    offsets = rng.normal(size=(60, 5, 2))
    offsets[:, 1] = offsets[:, 0]  # a repeated start
    offsets[::3, 2] = np.nan  # missing candidates
    offsets[:, 3] = -offsets[:, 4]
    res = refine(w, T, 3.0, 0.5, offsets, keep=keep)
    hs, vs = _refine_slow(w, T, 3.0, 0.5, offsets, keep)
    np.testing.assert_allclose(res.offsets, hs - w[:, None], atol=1e-12)
    np.testing.assert_allclose(res.value, vs[:, 0], rtol=1e-14)
