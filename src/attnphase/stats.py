"""Averages over seeds, with the teacher's norm as a control variate.

At finite d the teacher's q_star = ||Q*||^2 / d fluctuates by about sqrt(2/d) from seed to
seed (4.5% at d = 1000), and theta, eps_g and eps_g_lin follow it closely. Its exact mean
(1 for Q* ~ N(0, I)) is known, so regressing a metric on q_star over seeds and reading the
fit at q_star = 1 removes that noise without bias: the control-variate estimator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Estimate:
    """A mean over seeds and its standard error."""

    mean: float
    sem: float
    n: int


def seed_mean(values: np.ndarray) -> Estimate:
    """Plain mean over seeds with its standard error."""
    v = np.asarray(values, dtype=float)
    sem = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
    return Estimate(float(v.mean()), sem, len(v))


def control_variate_mean(values: np.ndarray, q_star: np.ndarray, q_star_mean: float = 1.0
                         ) -> Estimate:
    """Mean of `values` over seeds adjusted to q_star = q_star_mean by a linear fit.

    The standard error is that of the fit's value at q_star_mean (residual variance, two
    fitted parameters); it needs at least three seeds.
    """
    y, c = np.asarray(values, dtype=float), np.asarray(q_star, dtype=float)
    n = len(y)
    if n < 3:
        raise ValueError(f"control_variate_mean needs >= 3 seeds, got {n}")
    slope, intercept = np.polyfit(c, y, 1)
    resid = y - (slope * c + intercept)
    s2 = (resid**2).sum() / (n - 2)
    dc = q_star_mean - c.mean()
    se = np.sqrt(s2 * (1 / n + dc**2 / ((c - c.mean()) ** 2).sum()))
    return Estimate(float(slope * q_star_mean + intercept), float(se), n)
