"""Theory inputs of the figures, as plain arrays.

The figure functions take these dataclasses (or None, for simulations only), so tests can
give them arrays directly; `attnphase.theoryjobs` fills them from `attnphase.theory`. Values
are in the public normalisation of docs/model.md §4; unusable points are NaN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
    """The phase boundaries alpha_c(omega) and alpha_l(omega) (split rule, 8 nodes), and
    optionally the refined ones with their error bars (`refined_rows`) and the init-side
    prox's alpha_c (`side_rows`)."""

    omega: np.ndarray
    alpha_c: np.ndarray
    alpha_l: np.ndarray
    refined: pd.DataFrame | None = None  # omega, alpha_c, alpha_c_err, alpha_l, alpha_l_err
    side: pd.DataFrame | None = None  # omega, alpha_c_side, alpha_c_side_err

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"omega": self.omega, "alpha_c": self.alpha_c,
                             "alpha_l": self.alpha_l})


REFINED_BOUNDARY = "theory_boundary_refined.csv"  # `attnphase theory boundary --refine --csv`
REFINED_COLUMNS = ["omega", "alpha_c", "alpha_c_err", "alpha_l", "alpha_l_err"]
# `benchmarks/side_prox.py crossings`: the init-side prox's alpha_c (docs/theory.md)
SIDE_CROSSINGS = ("theory_side_crossings.csv", "theory_side_crossings_omega0.csv")
SIDE_COLUMNS = ["omega", "alpha_c_side", "alpha_c_side_err"]


def refined_rows(folder: str | Path, sigma: float, lam: float, A: str,
                 omega_range: tuple[float, float]) -> pd.DataFrame | None:
    """The refined boundary's rows in `folder`/REFINED_BOUNDARY made at (sigma, lam, A: the
    runs' JSON form) with omega in `omega_range`; None where there are none (or the file
    does not say its parameters)."""
    return _stored([Path(folder) / REFINED_BOUNDARY], REFINED_COLUMNS, sigma, lam, A,
                   omega_range)


def side_rows(folder: str | Path, sigma: float, lam: float, A: str,
              omega_range: tuple[float, float]) -> pd.DataFrame | None:
    """The init-side alpha_c rows in `folder`/SIDE_CROSSINGS, as `refined_rows`."""
    return _stored([Path(folder) / name for name in SIDE_CROSSINGS], SIDE_COLUMNS, sigma, lam,
                   A, omega_range)


def _stored(paths: list[Path], columns: list[str], sigma: float, lam: float, A: str,
            omega_range: tuple[float, float]) -> pd.DataFrame | None:
    """Rows of the CSVs in `paths` that exist and say their (sigma, lam, A), made at these,
    with omega in `omega_range`, sorted by omega; None where there are none."""
    frames = [pd.read_csv(p) for p in paths if p.is_file()]
    frames = [df for df in frames if {"sigma", "lam", "A", *columns} <= set(df.columns)]
    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)
    same_A = df["A"].map(lambda a: np.allclose(json.loads(a), json.loads(A)))
    keep = (np.isclose(df["sigma"], sigma) & np.isclose(df["lam"], lam) & same_A
            & df["omega"].between(omega_range[0] - 1e-9, omega_range[1] + 1e-9))
    rows = df.loc[keep, columns].sort_values("omega").reset_index(drop=True)
    return rows if len(rows) else None


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
