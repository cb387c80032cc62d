"""Averages over seeds, with the teacher's norm as a control variate.

At finite d the teacher's q_star = ||Q*||_F^2 / (d r*) fluctuates by about sqrt(2/(d r*))
from seed to seed (4.5% at d = 1000, r* = 1), and theta, eps_g and eps_g_lin follow it
closely. Its exact mean (1 for Q* ~ N(0, I)) is known, so regressing a metric on q_star over
seeds and reading the fit at q_star = 1 removes that noise: the control-variate estimator.
The population linear fit evaluated at E[q_star] equals the metric's mean whatever the
(nonlinear) dependence, so the estimate is unbiased up to O(1/seeds) from the fitted slope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

ESTIMATORS = ("cv", "plain")  # control variate (default), plain mean over seeds
# Fewer seeds than this: plain means. The fitted slope is then too noisy, and every point of
# a grid shares the same few teachers, so its error shifts a whole figure the same way: Fig. 3
# with seeds 0-2 (q_star 0.893, 0.940, 0.934) gives alpha_c(0.3) = 0.82 by the control
# variate, 1.35 by plain means, against the theory's 1.24.
CV_MIN_SEEDS = 10


@dataclass
class Estimate:
    """A mean over seeds, its standard error, and how it was computed (`cv` or `plain`)."""

    mean: float
    sem: float
    n: int
    method: str = "plain"


def seed_mean(values: np.ndarray) -> Estimate:
    """Plain mean over seeds with its standard error."""
    v = np.asarray(values, dtype=float)
    sem = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
    return Estimate(float(v.mean()), sem, len(v), "plain")


def control_variate_mean(values: np.ndarray, q_star: np.ndarray, q_star_mean: float = 1.0
                         ) -> Estimate:
    """Mean of `values` over seeds adjusted to q_star = q_star_mean by a linear fit.

    The standard error is that of the fit's value at q_star_mean (residual variance, two
    fitted parameters); it needs at least three seeds and q_star that vary.
    """
    y, c = np.asarray(values, dtype=float), np.asarray(q_star, dtype=float)
    n = len(y)
    if n < 3:
        raise ValueError(f"control_variate_mean needs >= 3 seeds, got {n}")
    spread = ((c - c.mean()) ** 2).sum()
    if not spread > 0:
        raise ValueError("control_variate_mean needs q_star that vary over seeds")
    slope, intercept = np.polyfit(c, y, 1)
    resid = y - (slope * c + intercept)
    s2 = (resid**2).sum() / (n - 2)
    dc = q_star_mean - c.mean()
    se = np.sqrt(s2 * (1 / n + dc**2 / spread))
    return Estimate(float(slope * q_star_mean + intercept), float(se), n, "cv")


def estimate(values: np.ndarray, q_star: np.ndarray | None, method: str = "cv",
             min_seeds: int = CV_MIN_SEEDS) -> Estimate:
    """The seed mean by `method`: `cv` (control variate) or `plain`.

    `cv` falls back to the plain mean where it should not apply: fewer than `min_seeds`
    seeds, or q_star that do not vary (teachers on the sphere, where q_star = 1 exactly and
    the plain mean has no teacher-norm noise to remove). The result's `method` says which.
    """
    if method not in ESTIMATORS:
        raise ValueError(f"estimator {method!r}: must be one of {', '.join(ESTIMATORS)}")
    v = np.asarray(values, dtype=float)
    if method == "plain" or q_star is None or len(v) < max(3, min_seeds):
        return seed_mean(v)
    c = np.asarray(q_star, dtype=float)
    if np.ptp(c) <= 1e-12 * max(1.0, float(np.abs(c).max())):
        return seed_mean(v)
    return control_variate_mean(v, c)


def q_star_scalar(value: object) -> float:
    """q_star = ||Q*||_F^2 / (d r*) from a stored q_star: a float (r* = 1) or the r* x r*
    matrix Q*^T Q* / d (a nested list or its JSON text), whose trace / r* it is."""
    if isinstance(value, str):
        value = json.loads(value)
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return float(arr)
    arr = arr.reshape(int(np.sqrt(arr.size)), -1)
    return float(np.trace(arr) / arr.shape[0])
