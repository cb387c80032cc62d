"""phi-functions and their Lanczos action against dense eigendecompositions (small sizes)."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from attnphase.krylov import lanczos_phi, phi


def _phi_exact(k: int, z: float) -> float:
    """phi_k(z) = sum_j z^j / (j + k)!, summed in exact rational arithmetic (200 terms:
    the tail is below 1e-100 for |z| <= 20)."""
    total, term, zf = Fraction(0), Fraction(1, 6 if k == 3 else 1), Fraction(z)
    for j in range(200):
        total += term
        term = term * zf / (j + k + 1)
    return float(total)


@pytest.mark.parametrize("k", [1, 3])
def test_phi_matches_its_series_on_both_sides_of_the_switch(k):
    z = torch.tensor([-20.0, -3.0, -0.2500001, -0.2499999, -1e-9, 0.0, 1e-9, 0.24999, 0.25001,
                      0.50001, 2.0, 7.0], dtype=torch.float64)
    got = phi(k, z)
    want = torch.tensor([_phi_exact(k, float(v)) for v in z], dtype=torch.float64)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=0.0)


def _dense(H: np.ndarray, v: np.ndarray, tau: float, k: int) -> np.ndarray:
    lam, S = np.linalg.eigh(H)
    f = phi(k, torch.from_numpy(-tau * lam)).numpy()
    return tau * S @ (f * (S.T @ v))


def _matrices(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    A = rng.standard_normal((n, n))
    spd = A @ A.T / n + 0.01 * np.eye(n)
    indefinite = (A + A.T) / 2  # a saddle: negative eigenvalues too
    return [spd, indefinite]


@pytest.mark.parametrize("k", [1, 3])
def test_lanczos_phi_matches_dense_for_a_batch_of_students(k):
    """Two data sets x two students, (d, r) = (6, 2): each student has its own matrix,
    tau and vector; one student is inactive and returns zeros; H x comes from the Lanczos
    relation and equals the dense product."""
    rng = np.random.default_rng(0)
    n, B, c = 12, 2, 2
    Hs = [_matrices(n, rng) for _ in range(B)]
    H = torch.tensor(np.array(Hs))  # (B, c, n, n)
    v = torch.from_numpy(rng.standard_normal((B, c, 6, 2)))
    tau = torch.tensor([[0.3, 4.0], [50.0, 1.0]], dtype=torch.float64)
    active = torch.tensor([[True, True], [True, False]])

    def apply(V: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        out = (H @ V.reshape(B, c, n, 1)).reshape(V.shape)
        return torch.where(rows[:, None, None, None], out, 0.0)

    atol = torch.full((B, c), 1e-12, dtype=torch.float64)
    x, Hx, ok, products, _ = lanczos_phi(apply, v, tau, k, active, atol, 40, rtol=1e-12)
    assert bool(ok[active].all())
    assert products.tolist()[0] <= n + 1  # exact after n vectors (Krylov space is all)
    for b in range(B):
        for j in range(c):
            got = x[b, j].reshape(-1).numpy()
            if not active[b, j]:
                assert not got.any()
                continue
            want = _dense(Hs[b][j], v[b, j].reshape(-1).numpy(), float(tau[b, j]), k)
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10 * np.abs(want).max())
            np.testing.assert_allclose(Hx[b, j].reshape(-1).numpy(), Hs[b][j] @ want,
                                       rtol=1e-8, atol=1e-9 * np.abs(Hs[b][j] @ want).max())


def test_lanczos_phi_stops_early_on_a_loose_tolerance():
    """An eigenvector needs one product; a loose tolerance stops before the space is full,
    with an error no larger than a few times the tolerance."""
    rng = np.random.default_rng(1)
    n = 40
    lam = np.linspace(0.1, 5.0, n)
    S, _ = np.linalg.qr(rng.standard_normal((n, n)))
    H = torch.from_numpy(S @ np.diag(lam) @ S.T)

    def apply(V: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return (H @ V.reshape(1, 1, n, 1)).reshape(V.shape)

    one = torch.ones(1, 1, dtype=torch.bool)
    tau = torch.full((1, 1), 2.0, dtype=torch.float64)
    eig = torch.from_numpy(S[:, 3].copy()).reshape(1, 1, n, 1)
    x, _, _, products, _ = lanczos_phi(apply, eig, tau, 1, one, torch.full((1, 1), 1e-10), 40)
    assert int(products[0]) == 1  # the Krylov space is invariant after one product
    np.testing.assert_allclose(x.reshape(-1).numpy(), _dense(H.numpy(), S[:, 3], 2.0, 1),
                               atol=1e-12)
    v = torch.from_numpy(rng.standard_normal((1, 1, n, 1)))
    want = _dense(H.numpy(), v.reshape(-1).numpy(), 2.0, 1)
    tol = 1e-3 * np.linalg.norm(want)
    x, _, ok, products, _ = lanczos_phi(apply, v, tau, 1, one, torch.full((1, 1), tol), 40)
    assert bool(ok.all()) and int(products[0]) < n // 2
    assert np.linalg.norm(x.reshape(-1).numpy() - want) < 3 * tol
