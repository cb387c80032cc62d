"""The control-variate mean: unbiased, and much tighter when the metric follows q_star."""

import numpy as np

from attnphase.stats import control_variate_mean, seed_mean


def test_control_variate_removes_the_teacher_norm_noise():
    rng = np.random.default_rng(0)
    hits, widths = 0, []
    for _ in range(400):
        q_star = 1 + 0.045 * rng.standard_normal(8)
        y = 0.63 + 0.7 * (q_star - 1) + 0.005 * rng.standard_normal(8)
        est = control_variate_mean(y, q_star)
        hits += abs(est.mean - 0.63) < 2 * est.sem
        widths.append(est.sem / seed_mean(y).sem)
    # a 2-sigma interval of a t-like estimate with 6 dof covers ~90% of the time
    assert 0.85 < hits / 400 < 0.99
    assert np.median(widths) < 0.3
