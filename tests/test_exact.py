"""Exact eps_g (Gauss-Hermite over span(Q, Q*), closed-form orthogonal part) against Monte
Carlo on fresh samples, within 3 standard errors; and the quadrature's convergence."""

import math

import numpy as np
import pytest
import torch

from attnphase import metrics
from attnphase.config import Config
from attnphase.exact import eps_g_auto, eps_g_exact, eps_g_lin_exact, eps_g_qmc
from attnphase.teacher import Teacher


def _student(te: Teacher, rank: int, m: float, seed: int = 0) -> np.ndarray:
    """A student with some teacher overlap, positional part m and noise."""
    rng = np.random.default_rng(seed)
    d = te.d
    Q = 0.6 * te.Q_star[:, :rank] + 0.3 * rng.standard_normal((d, rank))
    return Q + m * math.sqrt(d) * te.P[0][:, None]


def _monte_carlo(te: Teacher, Q: np.ndarray, B: np.ndarray, samples: int, chunks: int = 32):
    """Means and standard errors of eps_g and eps_g_lin over `chunks` independent test sets
    (enough of them that the estimated standard error is itself accurate to ~13%)."""
    vals = []
    for c in range(chunks):
        fresh = Teacher(te.Q_star, te.P, te.A, te.sigma, te.omega, 10_000 + c)
        g, lin = metrics.test_errors(fresh, torch.from_numpy(Q)[None], samples // chunks,
                             torch.from_numpy(B)[None])
        vals.append((float(g[0]), float(lin[0])))
    v = np.array(vals)
    return v.mean(0), v.std(0, ddof=1) / math.sqrt(chunks)


def _check(cfg: Config, m: float, samples: int) -> None:
    te = Teacher.from_config(cfg)
    Q = _student(te, cfg.rank, m)
    B = 0.5 * np.asarray(cfg.A_matrix) + 0.5 / cfg.L
    mean, se = _monte_carlo(te, Q, B, samples)
    assert abs(eps_g_auto(te, Q) - mean[0]) < 3 * se[0]
    assert abs(eps_g_lin_exact(te, B) - mean[1]) < 3 * se[1]


@pytest.mark.parametrize("kw", [dict(d=20, sigma=0.5), dict(d=40, sigma=1.0, omega=0.6),
                                dict(d=30, sigma=0.7, rank=2, teacher_rank=2)])
def test_exact_matches_monte_carlo(kw):
    _check(Config(seed=1, **kw), m=0.2, samples=40_000)


@pytest.mark.slow
@pytest.mark.parametrize("kw", [
    dict(d=50), dict(d=1000), dict(d=200, sigma=1.0, A="appendix"),
    dict(d=100, rank=2, teacher_rank=2), dict(d=60, L=3, A=[[0.5, 0.25, 0.25],
                                                             [0.2, 0.6, 0.2], [0.1, 0.1, 0.8]]),
])
def test_exact_matches_a_million_samples(kw):
    _check(Config(seed=2, **kw), m=0.3, samples=1_000_000)


def test_quadrature_has_converged():
    te = Teacher.from_config(Config(d=100, seed=3, sigma=0.7))
    Q = _student(te, 1, 0.2)
    assert eps_g_exact(te, Q) == pytest.approx(eps_g_exact(te, Q, points=32), rel=1e-6)
    B = np.asarray(te.A)
    assert eps_g_lin_exact(te, B) == pytest.approx(eps_g_lin_exact(te, B, points=30), rel=1e-6)


def test_orthogonal_part_in_closed_form():
    """A student orthogonal to everything it sees has S = 1/L; then eps_g is a sum of
    closed-form terms plus the teacher's part, the same with any number of nodes."""
    te = Teacher.from_config(Config(d=30, seed=4, omega=1.0))  # T = A: no integral left
    Q = np.zeros((30, 1))
    S = np.full((2, 2), 0.5)
    D = S - te.A
    want = (te.sigma**2 * 30 * (D**2).sum() + (S @ te.P @ te.P.T * S).sum()) / 60
    assert eps_g_exact(te, Q) == pytest.approx(want, rel=1e-12)


def test_diverged_student_has_nan_eps_g():
    te = Teacher.from_config(Config(d=10, seed=5))
    assert math.isnan(eps_g_exact(te, np.full((10, 1), np.inf)))


@pytest.mark.parametrize("sigma", [0.5, 1.0])
def test_qmc_matches_the_tensor_rule_within_its_error(sigma):
    """On 4 Gaussian variables the tensor rule is converged to 1e-6 (above): the
    quasi-Monte Carlo mean lies within 4 of its standard errors of it, and that error
    is small (RQMC converges nearly as 1/N, far below Monte Carlo's 1/sqrt(N))."""
    te = Teacher.from_config(Config(d=100, seed=3, sigma=sigma))
    Q = _student(te, 1, 0.2)
    want = eps_g_exact(te, Q, points=32)
    mean, se = eps_g_qmc(te, Q, log2_points=12)
    assert 0 < se < 2e-3 * want
    assert abs(mean - want) < 4 * se


def test_qmc_error_estimate_is_honest_in_eight_dimensions():
    """Rank-2 teacher and student (8 variables): the errors of independent small RQMC
    estimates, measured against a 64x larger one, are of the size their standard errors
    say: with 8 replicates the z-scores are t(7)-distributed, so the mean of 20 squared
    ones is 1.4 +- 0.6; a standard error off by a factor 2 gives 0.35 or 5.6."""
    te = Teacher.from_config(Config(d=200, seed=4, sigma=0.7, rank=2, teacher_rank=2))
    Q = _student(te, 2, 0.3)
    ref, ref_se = eps_g_qmc(te, Q, log2_points=16, seed=1000)
    z = []
    for s in range(20):
        mean, se = eps_g_qmc(te, Q, log2_points=10, seed=100 * s)
        z.append((mean - ref) / math.hypot(se, ref_se))
    assert 0.3 < float(np.mean(np.square(z))) < 3.5
    assert eps_g_auto(te, Q) == pytest.approx(ref, abs=4 * ref_se * math.sqrt(8))


def test_node_attention_equals_the_models():
    """The integrator's L = 2 logistic form of the attention is the model's softmax, also where
    it saturates; other L go through the model's function."""
    from attnphase.exact import _attention
    from attnphase.teacher import attention

    gen = torch.Generator().manual_seed(0)
    for L, r, scale in ((2, 1, 1.0), (2, 2, 1.0), (2, 1, 40.0), (3, 1, 1.0)):
        h = scale * torch.randn(500, L, r, dtype=torch.float64, generator=gen)
        assert torch.allclose(_attention(h), attention(h), rtol=0, atol=1e-15)
