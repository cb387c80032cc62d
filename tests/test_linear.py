"""The closed-form linear baseline against a numerical optimiser."""

import numpy as np
import torch
from scipy.optimize import minimize

from attnphase.linear import fit_linear, linear_risk


def test_closed_form_is_the_minimiser(small_data):
    Z = torch.from_numpy(small_data.Z)[None]
    Y = torch.from_numpy(small_data.Y)[None]
    lam_lin = 0.3
    B = fit_linear(Z, Y, lam_lin)[0]

    def f(b):
        return float(linear_risk(Z, Y, torch.from_numpy(b.reshape(1, 2, 2)), lam_lin)[0])

    opt = minimize(f, np.full(4, 0.5), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(B.numpy().ravel(), opt.x, atol=1e-6)
    assert f(B.numpy().ravel()) <= opt.fun + 1e-12


def test_large_sample_limit_recovers_the_mixing():
    """With omega = 1 the target is A Z exactly, so B -> A as lam_lin -> 0."""
    from attnphase.config import Config
    from attnphase.data import generate

    ds = generate(Config(d=50, n=200, omega=1.0, A="appendix", seed=0))
    B = fit_linear(torch.from_numpy(ds.Z)[None], torch.from_numpy(ds.Y)[None], 1e-10)[0]
    np.testing.assert_allclose(B.numpy(), [[0.3, 0.7], [0.8, 0.2]], atol=1e-8)
