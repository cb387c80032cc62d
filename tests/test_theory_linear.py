"""Linear-baseline theory against Monte Carlo over the teacher's attention."""

import numpy as np
import pytest
from scipy.special import softmax

from attnphase.theory import linear_theory


@pytest.mark.parametrize("omega, A", [(0.3, None), (0.1, [[0.3, 0.7], [0.8, 0.2]])])
def test_linear_theory_matches_monte_carlo(omega, A):
    sigma, n = 0.5, 200_000
    A_mat = np.array([[0.6, 0.4], [0.4, 0.6]] if A is None else A)
    rng = np.random.default_rng(0)
    h = sigma * rng.normal(size=(n, 2))
    S = softmax(h[:, :, None] * h[:, None, :], axis=2)  # row-wise softmax of h h^T
    T = (1 - omega) * S + omega * A_mat
    th = linear_theory(omega, sigma, A)
    mean_T = T.mean(axis=0)
    se_T = T.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(th.B_star - mean_T) < 5 * se_T + 1e-12)
    err = 0.5 * sigma**2 * np.sum((th.B_star - T) ** 2, axis=(1, 2))
    se = err.std() / np.sqrt(n)  # standard error of the Monte Carlo mean
    assert abs(err.mean() - th.eps_g_lin) < 5 * se
    np.testing.assert_allclose(th.B_star.sum(axis=1), 1.0)
