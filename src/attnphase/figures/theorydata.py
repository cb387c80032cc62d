"""Theory inputs of the figures, as plain arrays.

The figure functions take these dataclasses (or None, for simulations only), so tests can
give them arrays directly; `attnphase.theoryjobs` fills them from `attnphase.theory`. Values
are in the public normalisation of docs/model.md §4; unusable points are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import BRANCH_INITS
from ..transitions import global_minimiser, semantic_global

BRANCHES = BRANCH_INITS  # the theory branch of each initialisation bears its name
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
        """True where the semantic branch is the global minimiser (attnphase.transitions)."""
        return semantic_global(self.values["semantic"]["eps_t"],
                               self.values["positional"]["eps_t"])

    def global_values(self, name: str) -> np.ndarray:
        """`name` on the branch that is the global minimiser."""
        sem, pos = self.values["semantic"], self.values["positional"]
        return global_minimiser(sem[name], pos[name], sem["eps_t"], pos["eps_t"])

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


@dataclass
class Rank2Theory:
    """The rank-2 theory's alpha_l(omega) with its error bars (docs/theory_rank2.md §10);
    NaN alpha_l where no crossing lies on the theory's alpha grid."""

    omega: np.ndarray
    alpha_l: np.ndarray
    alpha_l_err: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"omega": self.omega, "alpha_l": self.alpha_l,
                             "alpha_l_err": self.alpha_l_err})
