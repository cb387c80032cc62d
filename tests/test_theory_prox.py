"""The global prox against a brute-force fine grid, and its symmetries."""

import numpy as np
import pytest

from attnphase.theory.channel import check_A, teacher_diag
from attnphase.theory.prox import objective, polish, prox_global


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
