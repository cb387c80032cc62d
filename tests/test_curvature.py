"""The closed-form gradient and per-sample Hessians of the data term in the preactivations
(objective.py) against autograd and central finite differences, for several L and r."""

import pytest
import torch

from attnphase.objective import Grams, Risk, _curvature, _grad_h, _sample_terms


def _problem(L: int, r: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    B, c, n, d = 2, 2, 5, 9
    X = torch.randn(B, n, L, d, generator=g, dtype=torch.float64)
    Y = torch.randn(B, n, L, d, generator=g, dtype=torch.float64)
    h = torch.randn(B, c, n, L, r, generator=g, dtype=torch.float64)
    return Grams.of(X, Y), h, X, Y


def _data(grams: Grams, h: torch.Tensor) -> torch.Tensor:
    return _sample_terms(grams, h)[1]


@pytest.mark.parametrize(("L", "r"), [(2, 1), (2, 2), (3, 1), (3, 2), (4, 3)])
def test_gradient_and_hessian_match_autograd(L, r):
    grams, h, _, _ = _problem(L, r)
    S, _, _, E = _sample_terms(grams, h)
    hh = h.clone().requires_grad_(True)
    (auto_g,) = torch.autograd.grad(_data(grams, hh).sum(), hh, create_graph=True)
    torch.testing.assert_close(_grad_h(E, h), auto_g.detach(), rtol=1e-12, atol=1e-12)
    cols = [torch.autograd.grad(auto_g.flatten(-2)[..., k].sum(), hh, retain_graph=True)[0]
            for k in range(L * r)]
    auto_H = torch.stack(cols, -1).reshape(*h.shape[:-2], L * r, L * r)
    torch.testing.assert_close(_curvature(grams, h, S, E), auto_H, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("L", "r"), [(2, 1), (3, 2)])
def test_gradient_and_hessian_match_finite_differences(L, r):
    """Central differences of the data term (error ~ step^2 ~ 1e-8, rounding ~ 1e-16 / step)."""
    grams, h, _, _ = _problem(L, r, seed=1)
    S, _, _, E = _sample_terms(grams, h)
    g, H = _grad_h(E, h), _curvature(grams, h, S, E)
    step = 1e-4
    for k in range(L * r):
        e = torch.zeros(L * r, dtype=torch.float64)
        e[k] = step
        e = e.reshape(L, r)
        fd_g = (_data(grams, h + e) - _data(grams, h - e)) / (2 * step)
        torch.testing.assert_close(fd_g, g.flatten(-2)[..., k], rtol=1e-6, atol=1e-8)
        hp, hm = h + e, h - e
        fd_H = (_grad_h(_sample_terms(grams, hp)[3], hp)
                - _grad_h(_sample_terms(grams, hm)[3], hm)) / (2 * step)
        torch.testing.assert_close(fd_H.flatten(-2), H[..., :, k], rtol=1e-6, atol=1e-8)


def test_risk_gradient_matches_autograd_through_the_inputs():
    """value_and_grad of the Risk = autograd through S X - Y (the slow obvious form)."""
    grams, _, X, Y = _problem(3, 2, seed=2)
    Q = torch.randn(2, 2, X.shape[-1], 2, generator=torch.Generator().manual_seed(3),
                    dtype=torch.float64)
    lam = torch.tensor([[0.1, 0.01], [0.0, 1.0]], dtype=torch.float64)
    risk = Risk(X, Y, lam)
    R, g = risk.value_and_grad(Q)
    Qa = Q.clone().requires_grad_(True)
    h = torch.einsum("bnld,bcdr->bcnlr", X, Qa) / X.shape[-1] ** 0.5
    S = torch.softmax(h @ h.transpose(-1, -2), -1)
    resid = S @ X[:, None] - Y[:, None]
    R_auto = (resid**2).sum((-1, -2, -3)) / (2 * X.shape[-1]) + 0.5 * lam * (Qa**2).sum((-1, -2))
    (g_auto,) = torch.autograd.grad(R_auto.sum(), Qa)
    torch.testing.assert_close(R, R_auto.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g, g_auto, rtol=1e-10, atol=1e-12)
