"""Damped fixed-point steps with Anderson acceleration, shared by the rank-1 and rank-2 solvers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def mix(x: np.ndarray, fx: np.ndarray, xs: list, gs: list, damping: float, memory: int,
             admit: Callable[[np.ndarray], np.ndarray | None]) -> np.ndarray:
    """The next iterate after x -> fx: the damped step, or its Anderson extrapolation over
    the last `memory` steps (kept in `xs`, `gs`) where `admit` accepts it.

    `admit(candidate)` returns the state to use (constrained to its branch) or None when the
    extrapolation is not a valid state; then the history is dropped and the damped step taken.
    """
    g = fx - x
    xs.append(x.copy())
    gs.append(g.copy())
    del xs[:-(memory + 1)], gs[:-(memory + 1)]
    step = x + (1.0 - damping) * g
    if memory > 0 and len(xs) > 1:
        dX = np.diff(np.array(xs), axis=0).T
        dG = np.diff(np.array(gs), axis=0).T
        gamma, *_ = np.linalg.lstsq(dG, g, rcond=None)
        admitted = admit(step - (dX + (1.0 - damping) * dG) @ gamma)
        if admitted is not None:
            return admitted
        xs.clear()
        gs.clear()
    return step
