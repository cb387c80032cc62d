"""The adaptive xi-plane rule: exact on integrands whose jump ends inside the plane."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from attnphase.theory.adaptive import bisect_integral, integrand, xi_plane
from attnphase.theory.channel import Inputs, check_A
from attnphase.theory.prox import prox_global
from attnphase.theory.quadrature import eta_rule, gauss_hermite

# a direction tilted against both axes (neither the inner nor the outer lines align with it)
N = np.array([np.cos(0.4), np.sin(0.4)])
T = np.array([-N[1], N[0]])


def _sqrt_moment(a: float) -> float:
    """E sqrt(max(Z - a, 0)) for Z ~ N(0, 1), via Z = a + u^2 (a smooth integrand)."""
    return quad(lambda u: 2 * u * u * norm.pdf(a + u * u), 0, np.inf, epsabs=1e-15)[0]


def _plane(g, tol=1e-10):
    """E g(xi) over xi ~ N(0, I_2) by `xi_plane` (one eta node, unused by g)."""
    out, _ = xi_plane(np.zeros((1, 2)), lambda p: g(p[:, :2])[:, None], np.array([tol]))
    return out[0, 0]


def _product_rule(g, n=20):
    r = gauss_hermite(n, dim=2, prune=0.0)
    return r.weights @ g(r.nodes)


def test_bisect_integral_across_a_jump():
    """int_-R^R [x > 0.3] (x^2 + 1) phi(x) dx = 2 (1 - Phi(0.3)) + 0.3 phi(0.3)."""
    def fn(_, x):
        return (np.where(x > 0.3, x * x + 1.0, 0.0) * norm.pdf(x))[:, None]

    got, _ = bisect_integral(fn, 1, np.array([1e-13]), max_depth=40)
    assert got[0, 0] == pytest.approx(2 * norm.sf(0.3) + 0.3 * norm.pdf(0.3), abs=1e-11)


def test_jump_that_shrinks_to_zero_inside_the_plane():
    """g = [N.xi > 0.2] sqrt(max(T.xi - a, 0)): it jumps across the half-line
    {N.xi = 0.2, T.xi > a}, by sqrt(T.xi - a), which vanishes at the line's end (as the
    prox's jump does where its two minima merge). Exact: P(Z > 0.2) E sqrt(max(Z - a, 0))."""
    for a in (-0.8, 0.5):
        exact = norm.sf(0.2) * _sqrt_moment(a)

        def g(xi, a=a):
            return np.where(xi @ N > 0.2, np.sqrt(np.maximum(xi @ T - a, 0.0)), 0.0)

        assert _plane(g) == pytest.approx(exact, abs=1e-8), a
        assert abs(_product_rule(g) - exact) > 1e-4  # what a product rule makes of it


def test_jump_of_constant_size_ending_at_a_corner():
    """g = [N.xi > c] [T.xi > a] (1 + (N.xi)^2): the jumps run along two half-lines that
    meet at an interior corner. Exact: E[(1 + Z^2) [Z > c]] P(Z > a)."""
    c, a = -0.6, 0.9
    exact = (2 * norm.sf(c) + c * norm.pdf(c)) * norm.sf(a)

    def g(xi):
        u = xi @ N
        return np.where((u > c) & (xi @ T > a), 1.0 + u * u, 0.0)

    assert _plane(g) == pytest.approx(exact, abs=1e-8)
    assert abs(_product_rule(g) - exact) > 1e-4


def test_kink_along_a_curve():
    """g = |xi_1^2 + xi_2 - 0.5|: continuous, with a kink along a parabola. Exact by 1-D
    quadrature over xi_1 of the closed-form xi_2 integral."""
    def inner(x1):
        b = 0.5 - x1 * x1  # |xi_2 - b| integrated against phi: 2 phi(b) + b (2 Phi(b) - 1)
        return (2 * norm.pdf(b) + b * (2 * norm.cdf(b) - 1)) * norm.pdf(x1)

    exact = quad(inner, -np.inf, np.inf, epsabs=1e-14)[0]
    assert _plane(lambda xi: np.abs(xi[:, 0] ** 2 + xi[:, 1] - 0.5)) == pytest.approx(
        exact, abs=1e-8)


def test_eta_rule_folds_pairs():
    full, half = eta_rule(8), eta_rule(8, even=True)
    assert half.weights.sum() == pytest.approx(1.0)
    assert half.size < 0.6 * full.size
    for g in (lambda e: e[:, 0] ** 2 * e[:, 1] ** 2, lambda e: np.cos(e[:, 0] + 2 * e[:, 1])):
        assert half.weights @ g(half.nodes) == pytest.approx(full.weights @ g(full.nodes),
                                                             rel=1e-12)


def test_integrand_holds_the_global_minimiser():
    """The coarse search grid (9 x 9) the adaptive rule uses finds the same minimum as a
    41 x 41 one at the positional fixed point (alpha 1, omega 0.3), near the jump curves."""
    inputs = Inputs(0.2085, 0.248, 0.0, 0.5, 0.3, check_A(None))
    rng = np.random.default_rng(1)
    pts = np.concatenate([rng.normal(size=(3000, 2)) * 1.5 + [-1.5, 0.0],
                          np.tile([[2.0, 0.0]], (3000, 1)) + rng.normal(size=(3000, 2))], axis=1)
    g = integrand(pts, inputs, 16.44, 0.5, n_grid=9)
    w, Tt = inputs(pts)
    ref = prox_global(w, Tt, 16.44, 0.5, n_grid=41)
    np.testing.assert_allclose(g[:, 4], ref.value, rtol=0, atol=1e-12)


def test_adaptive_hats_match_the_channel_formulas():
    """`AdaptiveMap.hats` from the split channel's own node sums gives that channel's
    conjugates (the formulas are written twice: once per rule)."""
    from attnphase.theory.channel import Problem
    from attnphase.theory.fixed_point import _Channel
    from attnphase.theory.quadrature import line_rule
    from attnphase.theory.refined import AdaptiveMap

    for branch, x in (("positional", [0.0435, 0.248, 0.0, 16.4]),
                      ("semantic", [0.115, 0.0, 0.158, 12.7])):
        pb = Problem(1.0, 0.3, 0.5, 0.01, check_A(None), branch)
        ch = _Channel(pb, line_rule(6), 15)
        x = np.array(x)
        hats = ch.conjugates(x, global_search=True)
        nd = ch.nodes
        f = (nd.h - nd.w) / x[3]
        e = nd.weights @ np.stack([f[:, 0] - f[:, 1], np.sum(f * f, axis=1),
                                   np.sum(f * nd.points[:, :2], axis=1),
                                   np.sum(f * nd.points[:, 2:], axis=1)], axis=1)
        np.testing.assert_allclose(AdaptiveMap(pb).hats(x, e), hats, rtol=1e-12, atol=1e-15)


def test_corrector_reaches_the_adaptive_fixed_point():
    """A coarse adaptive map (2 eta nodes, tol 1e-3: fast, not accurate): the Broyden steps
    from the split rule's fixed point end where one more map step moves the state by less
    than step_tol."""
    from attnphase.theory.channel import Problem
    from attnphase.theory.fixed_point import _constrain, order_params, relative_change
    from attnphase.theory.refined import AdaptiveMap, solve_adaptive

    p = solve_adaptive(1.0, branch="positional", n_eta=2, tol=1e-3, step_tol=1e-7)
    assert p.converged and p.iterations <= 8
    pb = Problem(1.0, 0.3, 0.5, 0.01, check_A(None), "positional")
    amap = AdaptiveMap(pb, 2, 1e-3)
    x = np.array([p.th[k] for k in ("q_th", "m_th", "theta_th", "V")])
    fx = _constrain(order_params(amap.hats(x, amap.expectations(x)), pb), pb)
    assert relative_change(x, fx, pb) < 1e-7
    with pytest.raises(ValueError, match="init must come from `solve`"):
        solve_adaptive(1.0, branch="positional", n_eta=2, init=p)


def _positional_inputs():
    return Inputs(0.2085, 0.248, 0.0, 0.5, 0.3, check_A(None))


def test_critical_gap_is_the_hessian_at_zero():
    """Against the finite-difference Hessian of the prox objective at h = 0 (w = 0)."""
    from attnphase.theory.adaptive import critical_gap
    from attnphase.theory.prox import objective

    _, T = _positional_inputs()(np.random.default_rng(2).normal(size=(20, 4)) * 2)
    V, s, e = 16.4, 0.5, 1e-4
    for t in T:
        def f(h, t=t):
            return objective(np.array(h), np.zeros(2), t, V, s)

        H = np.array([[(f([e * (i == 0) + e * (j == 0), e * (i == 1) + e * (j == 1)])
                        - f([e * (i == 0), e * (i == 1)]) - f([e * (j == 0), e * (j == 1)])
                        + f([0.0, 0.0])) / e**2 for j in range(2)] for i in range(2)])
        assert critical_gap(t[None], V, s)[0] == pytest.approx(np.linalg.eigvalsh(H)[0],
                                                               abs=1e-6)


def test_eta_split_rule_cuts_at_the_critical_curve():
    """The rule integrates Gaussian moments, and it converges on g = |gap| (a kink along
    the curve): 16 and 24 nodes agree to 1e-7 (measured 6e-8), while the Gauss-Hermite
    product moves by 2% from 16 to 20 nodes."""
    from attnphase.theory.adaptive import critical_gap, eta_split_rule

    inputs, V = _positional_inputs(), 16.4

    def g(eta):
        return np.abs(critical_gap(inputs(np.concatenate([np.zeros_like(eta), eta], axis=1))[1],
                                   V, 0.5))

    rules = [eta_split_rule(n, inputs, V, 0.5) for n in (16, 24)]
    eta, w = rules[1]
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert w @ eta[:, 0] ** 4 == pytest.approx(3.0, abs=1e-9)
    split = [w @ g(eta) for eta, w in rules]
    gh = [r.weights @ g(r.nodes) for r in (eta_rule(16, even=True), eta_rule(20, even=True))]
    assert abs(split[0] - split[1]) < 1e-7 * split[1]
    assert abs(gh[0] - gh[1]) > 1e-3 * split[1]


@pytest.mark.slow
def test_positional_branch_converged_to_1e4():
    """alpha = 1, omega = 0.3: the adaptive rule at 6 and 8 eta nodes per variable agrees to
    1e-4 on every output (docs/theory.md table: 3.6e-5 at most, q), while the split rule's
    8-node default is 1.7% off in q (about 3 CPU minutes)."""
    from attnphase.theory import solve
    from attnphase.theory.refined import solve_adaptive

    start = solve(1.0, branch="positional")
    a = solve_adaptive(1.0, branch="positional", n_eta=6, init=start)
    b = solve_adaptive(1.0, branch="positional", n_eta=8, init=start, x0=a)
    assert a.converged and b.converged
    for f in ("q", "m", "V", "eps_g", "eps_t"):
        assert getattr(a, f) == pytest.approx(getattr(b, f), rel=1e-4), f
    assert abs(start.q / b.q - 1) > 5e-3
