"""Toy theory curves (both branches, crossing inside [0.5, 2]) for the figure tests."""

import numpy as np

from attnphase.figures.theorydata import TheoryCurves


def toy_curves(alphas):
    a = np.asarray(alphas, dtype=float)
    sem = {"eps_t": 0.004 - 0.002 * a, "eps_g": 0.003 - a / 1000, "m": 0 * a, "theta": a / 4,
           "q": a}
    pos = {"eps_t": 0.003 - 0.001 * a, "eps_g": 0.0033 + 0 * a, "m": 0.25 + 0 * a,
           "theta": 0 * a, "q": a}
    return TheoryCurves(a, {"semantic": sem, "positional": pos})
