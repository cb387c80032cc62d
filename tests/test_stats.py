"""The control-variate mean: unbiased, with a correct standard error, and much tighter than
the plain mean when the metric follows the teacher norm q_star."""

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from attnphase.stats import control_variate_mean, estimate, q_star_scalar, seed_mean

D = 1000  # q_star = ||Q*||^2 / d ~ chi2_d / d: mean 1, spread sqrt(2/d)


def draws(rng, reps: int, seeds: int, f, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """`reps` repetitions of `seeds` teachers: q_star ~ chi2_D / D and y = f(q_star) + noise."""
    q_star = rng.chisquare(D, (reps, seeds)) / D
    return q_star, f(q_star) + noise * rng.standard_normal((reps, seeds))


def test_control_variate_removes_the_teacher_norm_noise():
    rng = np.random.default_rng(0)
    q_star, y = draws(rng, 400, 8, lambda c: 0.63 + 0.7 * (c - 1), 0.005)
    cv = [control_variate_mean(yy, cc) for yy, cc in zip(y, q_star, strict=True)]
    widths = [e.sem / seed_mean(yy).sem for e, yy in zip(cv, y, strict=True)]
    assert np.median(widths) < 0.3


@pytest.mark.parametrize("seeds", [10, 20])
def test_unbiased_and_one_sigma_interval_covers_as_a_t_interval(seeds):
    """Known answer: y = 0.63 + 0.7 (q_star - 1) + noise has E[y] = 0.63 exactly.

    Over 4000 repetitions the estimates average to 0.63 (within 4 standard errors of that
    average), and |estimate - 0.63| < s.e. holds with the probability of a t variable with
    seeds - 2 degrees of freedom, P(|t| < 1) = 0.657 (10 seeds) and 0.670 (20 seeds): the
    ~68% of a 1-sigma interval. Tolerance: 4 binomial standard deviations (0.03).
    """
    rng = np.random.default_rng(seeds)
    reps = 4000
    q_star, y = draws(rng, reps, seeds, lambda c: 0.63 + 0.7 * (c - 1), 0.005)
    est = [control_variate_mean(yy, cc) for yy, cc in zip(y, q_star, strict=True)]
    means = np.array([e.mean for e in est])
    sems = np.array([e.sem for e in est])
    assert abs(means.mean() - 0.63) < 4 * means.std() / math.sqrt(reps)
    covered = np.mean(np.abs(means - 0.63) < sems)
    expected = 2 * sps.t.cdf(1, seeds - 2) - 1
    assert abs(covered - expected) < 4 * math.sqrt(expected * (1 - expected) / reps)
    assert abs(covered - 0.68) < 0.04
    # the stated standard error is the spread of the estimates
    assert np.sqrt(np.mean(sems**2)) == pytest.approx(means.std(), rel=0.06)


def test_unbiased_for_a_nonlinear_dependence_on_q_star():
    """y = exp(3 (q_star - 1)) + noise: the fit at q_star = 1 still estimates E[y] (the linear
    projection at the control's mean is the mean); the plain mean of seeds with weak
    teachers (q_star < 1 selected) is off, the control variate is not.

    Exact answer: E exp(t c) = (1 - 2t/D)^(-D/2) for c ~ chi2_D / D. The fitted slope leaves
    a bias of order curvature x var(q_star) / seeds = 4.5 x 0.002 / 20 ~ 5e-4 (x 2 at most),
    far below the plain mean's bias on weak teachers (~0.05)."""
    rng = np.random.default_rng(7)
    f = np.exp
    exact = (1 - 6 / D) ** (-D / 2) * math.exp(-3)
    q_star, y = draws(rng, 3000, 20, lambda c: f(3 * (c - 1)), 0.002)
    means = np.array([control_variate_mean(yy, cc).mean for yy, cc in zip(y, q_star,
                                                                           strict=True)])
    assert abs(means.mean() - exact) < 4 * means.std() / math.sqrt(len(means)) + 1e-3
    weak = q_star.mean(axis=1) < 0.99  # repetitions whose seeds drew weak teachers
    plain_weak = y[weak].mean(axis=1).mean()
    cv_weak = means[weak].mean()
    assert plain_weak < exact - 0.02
    assert abs(cv_weak - exact) < 0.01


def test_estimate_falls_back_to_the_plain_mean_where_the_control_should_not_apply():
    y = np.arange(12.0)
    c = np.linspace(0.95, 1.05, 12)
    assert estimate(y, np.ones(12)).method == "plain"  # teachers on the sphere
    assert estimate(y[:9], c[:9]).method == "plain"  # fewer than CV_MIN_SEEDS = 10
    assert estimate(y[:4], c[:4], min_seeds=3).method == "cv"
    assert estimate(y, c, "plain").mean == pytest.approx(5.5)
    cv = estimate(y, c)
    assert cv.method == "cv" and cv.n == 12 and cv.mean == pytest.approx(5.5)
    with pytest.raises(ValueError, match="estimator 'median'"):
        estimate(y, None, "median")


def test_q_star_scalar_is_the_normalised_squared_norm():
    rng = np.random.default_rng(3)
    Q = rng.standard_normal((50, 2))
    gram = Q.T @ Q / 50
    want = float((Q**2).sum() / (50 * 2))
    assert q_star_scalar(json.dumps(gram.tolist())) == pytest.approx(want)
    assert q_star_scalar(gram.tolist()) == pytest.approx(want)
    assert q_star_scalar(0.97) == 0.97
    assert math.isnan(q_star_scalar(float("nan")))
