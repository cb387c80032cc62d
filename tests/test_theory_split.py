"""The split quadrature: exact on integrands with known jumps; the prox's switches located."""

import numpy as np
import pytest
from scipy.stats import norm

from attnphase.theory.channel import Inputs, check_A, teacher_diag
from attnphase.theory.prox import objective, prox_global
from attnphase.theory.quadrature import LineRule, half_hermite, line_points, split_line
from attnphase.theory.split import split_nodes


def test_half_hermite_moments():
    t, u = half_hermite(8)
    # int_0^inf t^k phi(t) dt = 2^(k/2 - 1) Gamma((k + 1) / 2) / sqrt(pi)
    from math import gamma, pi, sqrt
    for k in range(16):
        exact = 2 ** (k / 2 - 1) * gamma((k + 1) / 2) / sqrt(pi)
        assert u @ t**k == pytest.approx(exact, rel=1e-10), k


@pytest.mark.parametrize(("c", "tol"), [(-4.0, 1e-8), (-1.3, 1e-11), (0.0, 1e-11),
                                         (0.7, 1e-11), (2.5, 1e-11), (6.0, 2e-6)])
def test_split_line_is_exact_across_a_jump(c, tol):
    """g = cos(x) + [x > c] (x^2 + 1): the exact integral against phi is
    exp(-1/2) + 2 (1 - Phi(c)) + c phi(c). A far cut leaves one long Gauss-Legendre piece
    [0, c], hence the looser tolerance there; a plain Gauss-Hermite rule is off by ~1e-2."""
    exact = np.exp(-0.5) + 2 * norm.sf(c) + c * norm.pdf(c)
    x, w = split_line(np.array([[c]]), 10, 10)
    g = np.cos(x) + np.where(x > c, x**2 + 1, 0.0)
    assert (w * g).sum() == pytest.approx(exact, abs=tol)
    xg, wg = np.polynomial.hermite_e.hermegauss(20)
    plain = (wg / wg.sum()) @ (np.cos(xg) + np.where(xg > c, xg**2 + 1, 0.0))
    if 0 < abs(c) < 5:  # (a jump at 0 sits between symmetric nodes: a lucky case)
        assert abs(plain - exact) > 100 * tol


def test_split_line_two_jumps_and_unused_slots():
    """Jumps at -0.5 and 1.2 (NaN: an unused slot): g = [-0.5 < x < 1.2] x."""
    x, w = split_line(np.array([[1.2, -0.5, np.nan]]), 8, 8)
    g = np.where((x > -0.5) & (x < 1.2), x, 0.0)
    assert (w * g).sum() == pytest.approx(norm.pdf(-0.5) - norm.pdf(1.2), abs=1e-12)


def _line_setup(V=16.6, q=0.0437, m=0.247, eta=(-2.5, 0.0), n=12):
    """Lines of the positional fixed point at alpha = 1, omega = 0.3 (theta = 0), at one eta
    where the global prox switches basin along most lines."""
    xo = np.linspace(-3.0, 3.0, 13)
    outer = np.stack([xo, np.full_like(xo, eta[0]), np.full_like(xo, eta[1])], axis=1)
    x, w = np.polynomial.hermite_e.hermegauss(n)
    rule = LineRule(outer, np.ones(len(xo)), x, w / w.sum())
    # w = sqrt(q) xi + (m, -m), T = teacher_diag(0.5 eta)
    return rule, Inputs(float(np.sqrt(q)), m, 0.0, 0.5, 0.3, check_A(None)), V


def test_split_nodes_hold_the_global_minimiser_and_sum_to_one():
    rule, inputs, V = _line_setup()
    w, T = inputs(rule.probes)
    nd = split_nodes(rule, prox_global(w, T, V, 0.5), inputs, V, 0.5)
    assert nd.switches >= 5
    # per line the weights integrate phi over the real line
    lines = np.searchsorted(rule.outer[:, 0], nd.points[:, 0] - 1e-12)
    np.testing.assert_allclose(np.bincount(lines, nd.weights), 1.0, atol=1e-10)
    # every node's minimiser is the global one (checked against a fresh global search)
    ref = prox_global(nd.w, nd.T, V, 0.5, n_grid=31)
    assert np.all(nd.value <= ref.value + 1e-10)
    np.testing.assert_allclose(nd.value, objective(nd.h, nd.w, nd.T, V, 0.5))


def test_line_integrals_converge_with_the_split():
    """Per line, the integral of the prox residual with 12 probes matches 24 probes to 1e-4
    of its scale 0.02 (to 1e-8 away from the line where the switch curve ends, x1 = -2.5);
    the plain rule is off by up to ~1e-3."""
    out = {}
    for n in (12, 24):
        rule, inputs, V = _line_setup(n=n)
        w, T = inputs(rule.probes)
        res = prox_global(w, T, V, 0.5)
        nd = split_nodes(rule, res, inputs, V, 0.5)
        g = (nd.h - nd.w)[:, 0] / V
        lines = np.searchsorted(rule.outer[:, 0], nd.points[:, 0] - 1e-12)
        out[n] = np.bincount(lines, nd.weights * g)
        if n == 12:
            plain = np.bincount(np.repeat(np.arange(rule.lines), n),
                                rule.weights * (res.h - w)[:, 0] / V)
    np.testing.assert_allclose(out[12], out[24], atol=1e-4)
    np.testing.assert_allclose(out[12][2:], out[24][2:], atol=1e-8)
    assert np.max(np.abs(plain - out[24])) > 3e-4


def test_line_points_layout():
    outer = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    p = line_points(outer, np.array([[7.0, 8.0], [9.0, 10.0]]))
    np.testing.assert_array_equal(p, [[1, 7, 2, 3], [1, 8, 2, 3], [4, 9, 5, 6], [4, 10, 5, 6]])


def test_inputs_match_the_channel():
    """`Inputs` against the formulas written out: w = sq xi + (m, -m), T = teacher_diag(h*)."""
    p = np.random.default_rng(3).normal(size=(50, 4))
    A = check_A([[0.3, 0.7], [0.8, 0.2]])
    w, T = Inputs(0.4, 0.2, 0.7, 0.3, 0.25, A)(p)
    for i in range(len(p)):
        xi, eta = p[i, :2], p[i, 2:]
        np.testing.assert_allclose(w[i], [0.4 * xi[0] + 0.2, 0.4 * xi[1] - 0.2], rtol=1e-14)
        np.testing.assert_allclose(T[i], teacher_diag(0.7 * xi + 0.3 * eta, 0.25, A), rtol=1e-14)
