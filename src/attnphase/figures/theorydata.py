"""Theory inputs of the figures, from `attnphase.theory`, as plain arrays.

The figure functions take these dataclasses (or None, for simulations only), so tests can
give them arrays directly. Values are in the public normalisation of docs/model.md §4; points
that did not converge are NaN. A figure's theory is a list of independent jobs (`jobs`),
which `reproduce` spreads over worker processes, put together by `assemble`; `solve` does
both here. Branches and boundaries are memoised per process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

BRANCHES = ("semantic", "positional")
FIELDS = ("eps_g", "eps_t", "m", "theta", "q")


@dataclass
class TheoryCurves:
    """Both branches along alpha: `values[branch][field]` is an array like `alpha`."""

    alpha: np.ndarray
    values: dict[str, dict[str, np.ndarray]]

    def delta_eps_t(self) -> np.ndarray:
        """eps_t(semantic) - eps_t(positional)."""
        return self.values["semantic"]["eps_t"] - self.values["positional"]["eps_t"]

    def semantic_global(self) -> np.ndarray:
        """True where the semantic branch has the lower eps_t (or only it converged)."""
        sem, pos = self.values["semantic"]["eps_t"], self.values["positional"]["eps_t"]
        return (sem <= pos) | np.isnan(pos)

    def global_values(self, name: str) -> np.ndarray:
        """`name` on the branch with the lower eps_t."""
        sem, pos = self.values["semantic"], self.values["positional"]
        return np.where(self.semantic_global(), sem[name], pos[name])

    def to_frame(self) -> pd.DataFrame:
        """One row per alpha and branch."""
        return pd.concat([pd.DataFrame({"alpha": self.alpha, "branch": b, **self.values[b]})
                          for b in BRANCHES], ignore_index=True)


@dataclass
class Fig2Theory:
    """Fig. 2 theory at one omega: both branches, alpha_c, alpha_l and the linear level."""

    curves: TheoryCurves
    alpha_c: float
    alpha_l: float
    eps_g_lin: float


@dataclass
class Fig3Theory:
    """The phase boundaries alpha_c(omega) and alpha_l(omega)."""

    omega: np.ndarray
    alpha_c: np.ndarray
    alpha_l: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"omega": self.omega, "alpha_c": self.alpha_c,
                             "alpha_l": self.alpha_l})


@dataclass
class ConcentrationTheory:
    """Both branches at one (alpha, omega): `points[branch][field]`, and eps_g_lin."""

    points: dict[str, dict[str, float]]
    eps_g_lin: float


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
    values = dict(zip(BRANCHES, results[:2], strict=True))
    lin = linear_level(omega, sigma)
    if target == "fig2":
        alphas = np.asarray(sorted(float(a) for a in inputs["alphas"]))
        return Fig2Theory(TheoryCurves(alphas, values), *results[2], lin)
    points = {b: {f: float(v[f][0]) for f in FIELDS} for b, v in values.items()}
    return ConcentrationTheory(points, lin)


def solve(target: str, inputs: dict[str, Any]) -> Any:
    """A figure's theory, solved here, one job after the other."""
    return assemble(target, inputs, [fn(*args) for fn, args in jobs(target, inputs)])


def linear_level(omega: float, sigma: float) -> float:
    """eps_g of the linear baseline in the limit (docs/model.md §5)."""
    from .. import theory

    return float(theory.linear_theory(float(omega), float(sigma)).eps_g_lin)


@cache
def branch_values(alphas: tuple[float, ...], omega: float, sigma: float, lam: float,
                  branch: str) -> dict[str, np.ndarray]:
    """One branch along `alphas` (continuation); NaN where a point did not converge."""
    from .. import theory

    points = theory.curve(list(alphas), omega, sigma, lam, branch)
    return {f: np.array([getattr(p, f) if p.converged else np.nan for p in points], dtype=float)
            for f in FIELDS}


@cache
def boundary_at(omega: float, sigma: float, lam: float) -> tuple[float, float]:
    """(alpha_c, alpha_l) at one omega; NaN where the theory finds none in its range."""
    from .. import theory

    (b,) = theory.boundary([omega], sigma, lam)
    return _num(b.alpha_c), _num(b.alpha_l)


def _num(x: float | None) -> float:
    return float("nan") if x is None else float(x)
