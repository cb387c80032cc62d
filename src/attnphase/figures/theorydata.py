"""Theory inputs of the figures, from `attnphase.theory`, as plain arrays.

The figure functions take these dataclasses (or None, for simulations only), so tests can
give them arrays directly. Values are in the public normalisation of SPEC section 4; points
that did not converge are NaN. Solved curves and boundaries are memoised per process, so
`reproduce all` solves each once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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


def fig2_theory(alphas: list[float], omega: float, sigma: float, lam: float) -> Fig2Theory:
    """Both branches on `alphas`, the boundaries at `omega` and the linear level."""
    bound = _boundary(float(omega), float(sigma), float(lam))
    return Fig2Theory(curves(alphas, omega, sigma, lam), bound[0], bound[1],
                      linear_level(omega, sigma))


def fig3_theory(omegas: list[float], sigma: float, lam: float) -> Fig3Theory:
    """alpha_c and alpha_l at each omega."""
    om = np.asarray(sorted(omegas), dtype=float)
    pairs = np.array([_boundary(float(o), float(sigma), float(lam)) for o in om]).reshape(-1, 2)
    return Fig3Theory(om, pairs[:, 0], pairs[:, 1])


def concentration_theory(alpha: float, omega: float, sigma: float,
                         lam: float) -> ConcentrationTheory:
    """Both branches at one alpha."""
    c = curves([alpha], omega, sigma, lam)
    points = {b: {f: float(c.values[b][f][0]) for f in FIELDS} for b in BRANCHES}
    return ConcentrationTheory(points, linear_level(omega, sigma))


def curves(alphas: list[float], omega: float, sigma: float, lam: float) -> TheoryCurves:
    """Both branches along sorted `alphas`."""
    a = tuple(sorted(float(x) for x in alphas))
    values = {b: _curve(a, float(omega), float(sigma), float(lam), b) for b in BRANCHES}
    return TheoryCurves(np.asarray(a), values)


def linear_level(omega: float, sigma: float) -> float:
    """eps_g of the linear baseline in the limit (SPEC section 5)."""
    return _linear(float(omega), float(sigma))


@cache
def _curve(alphas: tuple[float, ...], omega: float, sigma: float, lam: float,
           branch: str) -> dict[str, np.ndarray]:
    from .. import theory

    points = theory.curve(list(alphas), omega, sigma, lam, branch)
    return {f: np.array([getattr(p, f) if p.converged else np.nan for p in points], dtype=float)
            for f in FIELDS}


@cache
def _boundary(omega: float, sigma: float, lam: float) -> tuple[float, float]:
    from .. import theory

    (b,) = theory.boundary([omega], sigma, lam)
    return _num(b.alpha_c), _num(b.alpha_l)


@cache
def _linear(omega: float, sigma: float) -> float:
    from .. import theory

    return float(theory.linear_theory(omega, sigma).eps_g_lin)


def _num(x: float | None) -> float:
    return float("nan") if x is None else float(x)
