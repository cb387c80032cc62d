"""The student: Gram-form risk against the module, gradients, invariances, initialisations."""

import math

import numpy as np
import torch

from attnphase.objective import Risk
from attnphase.student import TiedAttention, initial_Q


def _tensors(ds):
    return torch.from_numpy(ds.X), torch.from_numpy(ds.Y)


def slow_risk(X, Y, Q, lam):
    """R(Q) with loops over samples and tokens."""
    n, L, d = X.shape
    total = 0.0
    for mu in range(n):
        h = X[mu] @ Q / math.sqrt(d)
        for l in range(L):
            s = np.array([h[l] @ h[k] for k in range(L)])
            w = np.exp(s - s.max())
            w /= w.sum()
            total += ((w @ X[mu] - Y[mu, l]) ** 2).sum() / (2 * d)
    return total + lam / 2 * (Q**2).sum()


def test_gram_risk_matches_module_and_loops(small_data):
    X, Y = _tensors(small_data)
    rng = np.random.default_rng(0)
    Q = rng.standard_normal((small_data.d, 2))
    module = TiedAttention(torch.from_numpy(Q))
    r_module = float(module.risk(X, Y, 0.01).detach())
    r_gram = float(Risk(X[None], Y[None], 0.01).value(torch.from_numpy(Q)[None, None])[0, 0])
    r_slow = slow_risk(small_data.X, small_data.Y, Q, 0.01)
    assert abs(r_module - r_slow) < 1e-9 * abs(r_slow)
    assert abs(r_gram - r_slow) < 1e-9 * abs(r_slow)


def test_gradient_matches_finite_differences(small_data):
    X, Y = _tensors(small_data)
    risk = Risk(X[None], Y[None], 0.05)
    Q = torch.from_numpy(np.random.default_rng(1).standard_normal((small_data.d, 1)))[None, None]
    _, grad = risk.value_and_grad(Q)
    eps = 1e-6
    for i in (0, 7, 23):
        e = torch.zeros_like(Q)
        e[0, 0, i, 0] = eps
        fd = (risk.value(Q + e) - risk.value(Q - e)) / (2 * eps)
        assert abs(float(fd) - float(grad[0, 0, i, 0])) < 1e-6 * max(1.0, abs(float(fd)))
    # the module's autograd gradient agrees too
    module = TiedAttention(Q[0, 0])
    module.risk(X, Y, 0.05).backward()
    torch.testing.assert_close(module.Q.grad, grad[0, 0], rtol=1e-9, atol=1e-12)


def test_sign_invariance(small_data):
    X, Y = _tensors(small_data)
    Q = torch.from_numpy(np.random.default_rng(2).standard_normal((small_data.d, 1)))
    module = TiedAttention(Q)
    flipped = TiedAttention(-Q)
    torch.testing.assert_close(module(X), flipped(X))
    assert float(module.risk(X, Y, 0.1).detach()) == float(flipped.risk(X, Y, 0.1).detach())


def test_initialisations(small_data):
    ds = small_data
    sem = initial_Q("semantic", ds.d, 1, ds.Q_star, ds.P, 0)
    np.testing.assert_array_equal(sem, ds.Q_star)
    pos = initial_Q("positional", ds.d, 1, ds.Q_star, ds.P, 0)
    np.testing.assert_allclose(pos[:, 0], np.ones(ds.d) / math.sqrt(ds.d))
    rnd = initial_Q("random", 4000, 1, np.zeros((4000, 1)), np.zeros((2, 4000)), 0)
    assert abs(rnd.std() - 0.1) < 5 * 0.1 / math.sqrt(2 * 4000)
    wide = initial_Q("semantic", ds.d, 3, ds.Q_star, ds.P, 0)
    np.testing.assert_array_equal(wide[:, :1], ds.Q_star)
    assert wide.shape == (ds.d, 3)


def test_gram_hessian_matches_the_module(small_data):
    """The solver's Hessian-vector product is the module's Hessian (autograd) applied."""
    X, Y = _tensors(small_data)
    X, Y = X[:20], Y[:20]
    d = small_data.d
    Q = torch.from_numpy(np.random.default_rng(3).standard_normal((d, 1)))
    V = torch.from_numpy(np.random.default_rng(4).standard_normal((d, 1)))

    _, Hv = torch.autograd.functional.hvp(
        lambda q: torch.func.functional_call(TiedAttention(Q), {"Q": q}, (X,)).sub(Y).pow(2)
        .sum() / (2 * d) + 0.01 * (q**2).sum(), Q, V)
    risk = Risk(X[None], Y[None], 0.02)
    _, _, curv = risk.value_grad_curvature(Q[None, None])
    torch.testing.assert_close(risk.hvp(curv, V[None, None])[0, 0], Hv, rtol=1e-9, atol=1e-11)
