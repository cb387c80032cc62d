"""The theory behind each paper figure, as independent jobs run here or on worker processes.

A figure's theory is a list of independent solves (`jobs`: both branches along alpha, the
boundaries at each omega), put together by `assemble` into the dataclasses of
`attnphase.figures.theorydata`. `solve` runs the jobs here, one after the other; `submit`
puts them on a process pool, skipping jobs another figure already submitted, and
`solve_parallel` does that on a pool of its own. Branches and boundaries are memoised per
process. Points that are not usable (docs/model.md §5: not converged, or off their branch)
are NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache
from multiprocessing import get_context
from typing import Any

import numpy as np

from . import theory
from .figures.theorydata import (
    BRANCHES,
    FIELDS,
    ConcentrationTheory,
    Fig2Theory,
    Fig3Theory,
    TheoryCurves,
)
from .theory.fixed_point import values

WORKERS = 2  # processes solving the theory while the sweeps run in the main one

Job = tuple[Callable[..., Any], tuple]


def jobs(target: str, inputs: dict[str, Any]) -> list[Job]:
    """The independent solves behind a figure's theory: (function, arguments) pairs.

    `inputs`: fig2 {alphas, omega, sigma, lam}; fig3 {omegas, sigma, lam}; concentration
    {alpha, omega, sigma, lam}. Equal jobs of different figures are equal tuples.
    """
    sigma, lam = float(inputs["sigma"]), float(inputs["lam"])
    if target == "fig3":
        return [(boundary_at, (float(o), sigma, lam)) for o in sorted(inputs["omegas"])]
    omega = float(inputs["omega"])
    alphas = tuple(sorted(float(a) for a in inputs.get("alphas", [inputs.get("alpha")])))
    out = [(branch_values, (alphas, omega, sigma, lam, b)) for b in BRANCHES]
    if target == "fig2":
        out.append((boundary_at, (omega, sigma, lam)))
    return out


def assemble(target: str, inputs: dict[str, Any], results: list[Any]) -> Any:
    """A figure's theory object from the results of its `jobs`, in the same order."""
    sigma = float(inputs["sigma"])
    if target == "fig3":
        pairs = np.array(results, dtype=float).reshape(-1, 2)
        return Fig3Theory(np.asarray(sorted(inputs["omegas"]), dtype=float), pairs[:, 0],
                          pairs[:, 1])
    omega = float(inputs["omega"])
    branches = dict(zip(BRANCHES, results[:2], strict=True))
    lin = linear_level(omega, sigma)
    if target == "fig2":
        alphas = np.asarray(sorted(float(a) for a in inputs["alphas"]))
        return Fig2Theory(TheoryCurves(alphas, branches), *results[2], lin)
    points = {b: {f: float(v[f][0]) for f in FIELDS} for b, v in branches.items()}
    return ConcentrationTheory(points, lin)


def solve(target: str, inputs: dict[str, Any]) -> Any:
    """A figure's theory, solved here, one job after the other."""
    return assemble(target, inputs, [fn(*args) for fn, args in jobs(target, inputs)])


def pool() -> ProcessPoolExecutor:
    """A pool of WORKERS fresh processes (spawned: no torch state is inherited)."""
    return ProcessPoolExecutor(WORKERS, mp_context=get_context("spawn"))


def submit(executor: ProcessPoolExecutor, submitted: dict[tuple, Future], target: str,
           inputs: dict[str, Any]) -> Callable[[], Any]:
    """Submit the jobs of a figure's theory, except those already in `submitted`; return a
    function that waits for them and assembles the figure's theory."""
    futures = []
    for fn, args in jobs(target, inputs):
        key = (fn.__name__, args)
        if key not in submitted:
            submitted[key] = executor.submit(fn, *args)
        futures.append(submitted[key])
    return lambda: assemble(target, inputs, [f.result() for f in futures])


def solve_parallel(target: str, inputs: dict[str, Any]) -> Any:
    """A figure's theory, its jobs spread over a pool of worker processes."""
    with pool() as executor:
        return submit(executor, {}, target, inputs)()


def linear_level(omega: float, sigma: float) -> float:
    """eps_g of the linear baseline in the limit (docs/model.md §5)."""
    return float(theory.linear_theory(float(omega), float(sigma)).eps_g_lin)


@cache
def branch_values(alphas: tuple[float, ...], omega: float, sigma: float, lam: float,
                  branch: str) -> dict[str, np.ndarray]:
    """One branch along `alphas` (continuation); NaN where a point is not usable."""
    points = theory.curve(list(alphas), omega, sigma, lam, branch)
    return {f: values(points, f) for f in FIELDS}


@cache
def boundary_at(omega: float, sigma: float, lam: float) -> tuple[float, float]:
    """(alpha_c, alpha_l) at one omega; NaN where the theory finds none in its range."""
    (b,) = theory.boundary([omega], sigma, lam)
    return _num(b.alpha_c), _num(b.alpha_l)


def _num(x: float | None) -> float:
    return float("nan") if x is None else float(x)
