"""The teacher against a slow loop version, and the seeding rules of the sample streams."""

import math

import numpy as np
import pytest

from attnphase.config import Config
from attnphase.data import generate
from attnphase.errors import InputError
from attnphase.experiment import teacher_key
from attnphase.teacher import Teacher, positional_encodings


def slow_targets(Z, Q_star, A, omega):
    """Y = (1 - omega) S* Z + omega A Z with explicit loops (docs/model.md §1)."""
    n, L, d = Z.shape
    Y = np.zeros_like(Z)
    for mu in range(n):
        h = [Q_star.T @ Z[mu, l] / math.sqrt(d) for l in range(L)]
        for l in range(L):
            scores = [float(h[l] @ h[k]) for k in range(L)]
            w = np.exp(np.array(scores) - max(scores))
            s = w / w.sum()
            for k in range(L):
                Y[mu, l] += ((1 - omega) * s[k] + omega * A[l][k]) * Z[mu, k]
    return Y


@pytest.mark.parametrize("L,r_star", [(2, 1), (3, 2)])
def test_teacher_matches_loops(L, r_star):
    A = [[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]] if L == 3 else "appendix"
    cfg = Config(d=17, n=9, L=L, teacher_rank=r_star, A=A, omega=0.35, seed=5)
    ds = generate(cfg)
    T = Teacher.from_config(cfg)
    Z = ds.X - ds.P
    np.testing.assert_allclose(ds.Y, slow_targets(Z, T.Q_star, cfg.A_matrix, 0.35), atol=1e-12)
    assert ds.Q_star.shape == (17, r_star)


def test_samples_statistics():
    """Semantic parts are N(0, sigma^2): the sample variance is within 5 standard errors."""
    ds = generate(Config(d=200, n=500, sigma=0.7, seed=1))
    Z = ds.X - ds.P
    var, se = Z.var(), 0.49 * math.sqrt(2 / Z.size)
    assert abs(var - 0.49) < 5 * se
    assert abs(Z.mean()) < 5 * 0.7 / math.sqrt(Z.size)


def test_positional_encodings():
    P = positional_encodings(2, 50, seed=0)
    np.testing.assert_allclose(P[0], np.ones(50) / math.sqrt(50))
    np.testing.assert_allclose(P[1], -P[0])
    P4 = positional_encodings(4, 50, seed=0)
    np.testing.assert_allclose(np.linalg.norm(P4, axis=1), 1.0)
    np.testing.assert_array_equal(P4, positional_encodings(4, 50, seed=0))
    assert not np.allclose(P4, positional_encodings(4, 50, seed=1))


def test_chunking_and_prefix_do_not_change_samples():
    cfg = Config(d=30, n=50, seed=7)
    T = Teacher.from_config(cfg)
    whole = np.concatenate([x for x, _ in T.sample_chunks(50, "train")])
    chunked = np.concatenate([x for x, _ in T.sample_chunks(50, "train", chunk=7)])
    np.testing.assert_array_equal(whole, chunked)
    np.testing.assert_array_equal(generate(cfg.replace(n=20)).X, generate(cfg).X[:20])


def test_determinism_and_independent_streams():
    cfg = Config(d=20, n=10, seed=11)
    a, b = generate(cfg), generate(cfg)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.Y, b.Y)
    c = generate(cfg.replace(seed=12))
    assert not np.allclose(a.X, c.X)
    test = next(Teacher.from_config(cfg).semantic_chunks(10, "test"))
    assert not np.allclose(test, a.X - a.P)


def test_float32_is_the_same_sample():
    cfg = Config(d=20, n=10, seed=2)
    a, b = generate(cfg), generate(cfg.replace(dtype="float32"))
    assert b.X.dtype == np.float32
    np.testing.assert_allclose(a.X, b.X, rtol=1e-6, atol=1e-7)


def test_sphere_teacher_has_the_exact_norm_and_the_gaussian_direction():
    """teacher_norm = sphere: ||Q*||_F^2 = d r* exactly, the direction of the same seed's
    Gaussian draw; a different teacher (key and hash), while the default keeps old hashes."""
    gauss = Config(d=40, teacher_rank=2, seed=5)
    sphere = gauss.replace(teacher_norm="sphere")
    Qg, Qs = (Teacher.from_config(c).Q_star for c in (gauss, sphere))
    assert (Qs**2).sum() == pytest.approx(40 * 2, rel=1e-12)
    np.testing.assert_allclose(Qs / np.linalg.norm(Qs), Qg / np.linalg.norm(Qg), rtol=1e-12)
    assert teacher_key(gauss) != teacher_key(sphere) and gauss.hash() != sphere.hash()
    with pytest.raises(InputError, match="teacher_norm = 'unit'"):
        gauss.replace(teacher_norm="unit")


def test_default_config_hash_is_unchanged_by_the_teacher_norm_field():
    """Stores made before the field existed resume: this hash was printed by the package
    without teacher_norm (main at 962b1b4)."""
    assert Config(d=30, alpha=1.0, seed=2).hash() == "b57fc96626d0e887"
