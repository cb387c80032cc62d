"""From a results frame to what the figures plot: clean runs, global minimisers, seed averages.

A results frame has one row per trained student, with the columns of
`attnphase.sweep.results_frame` (at least those in REQUIRED). The global minimiser of an
(alpha, omega, seed) is chosen by the rule of `attnphase.transitions` (the lower eps_t).
Which runs count: failed ones (status `failed...`, no metrics) are dropped; runs that stopped
before the solver's tolerance (`converged` false) are kept, as in the paper's fixed step
budgets, and counted in each figure's summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..config import BRANCH_INITS
from ..errors import InputError
from ..transitions import global_minimiser, semantic_global

REQUIRED = ("d", "alpha", "omega", "sigma", "lam", "init", "seed", "eps_g", "eps_t", "m",
            "theta", "eps_g_lin")
# what identifies a run apart from its initialisation and seed, where the frame has it
IDENTITY = ("d", "alpha", "omega", "sigma", "lam", "L", "rank", "solver")
METRICS = ("eps_g", "eps_t", "m", "theta", "q", "eps_g_lin")
INITS = BRANCH_INITS


def frame_from_results(results: Iterable) -> pd.DataFrame:
    """A results frame from `experiment.train_many` results (no store needed)."""
    rows = []
    for r in results:
        row = r.to_dict()
        cfg = row.pop("config")
        row.update({k: cfg[k] for k in ("L", "rank") if k in cfg})
        rows.append(row)
    return pd.DataFrame(rows)


def clean(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Semantic/positional runs with metrics (not failed); keys rounded, duplicates dropped."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"{what}: results lack the columns {', '.join(missing)}")
    df = frame
    if "status" in df.columns:  # runs that raised or diverged have no metrics
        df = df[~df["status"].fillna("ok").astype(str).str.startswith("failed")]
    df = df[df["init"].isin(INITS)].copy()
    for col in METRICS:
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    df = df[np.isfinite(df["eps_t"])]
    for col in ("alpha", "omega", "sigma", "lam"):
        df[col] = df[col].astype(float).round(10)
    df["d"] = df["d"].astype(int)
    df["seed"] = df["seed"].astype(int)
    keys = [c for c in IDENTITY if c in df.columns] + ["init", "seed"]
    df = df.drop_duplicates(subset=keys, keep="last")
    if df.empty:
        raise InputError(f"{what}: no finished semantic or positional runs in the results")
    return df.reset_index(drop=True)


def identity(df: pd.DataFrame) -> list[str]:
    """The identity columns present in `df`."""
    return [c for c in IDENTITY if c in df.columns]


def paired(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run identity and seed with both initialisations trained.

    Columns: the identity and seed, eps_t_semantic, eps_t_positional, eps_g_semantic,
    eps_g_positional, delta_eps_t, global_init, and eps_g, eps_t, m, theta, eps_g_lin of the
    global minimiser.
    """
    keys = identity(df) + ["seed"]
    cols = [c for c in METRICS if c in df.columns]
    wide = df.pivot_table(index=keys, columns="init", values=cols, aggfunc="last")
    both = set(INITS) <= set(wide.columns.get_level_values("init"))
    if both:
        wide = wide.dropna(subset=[("eps_t", i) for i in INITS])
    if not both or wide.empty:
        raise InputError("no run has both a semantic and a positional initialisation")
    sem, pos = wide.xs("semantic", axis=1, level="init"), wide.xs("positional", axis=1,
                                                                   level="init")
    out = pd.DataFrame(index=wide.index)
    for c in ("eps_t", "eps_g"):
        out[f"{c}_semantic"], out[f"{c}_positional"] = sem[c], pos[c]
    out["delta_eps_t"] = sem["eps_t"] - pos["eps_t"]
    out["global_init"] = np.where(semantic_global(sem["eps_t"], pos["eps_t"]), "semantic",
                                  "positional")
    for c in cols:
        out[c] = global_minimiser(sem[c], pos[c], sem["eps_t"], pos["eps_t"])
    return out.reset_index()


def over_seeds(df: pd.DataFrame, by: Sequence[str], cols: Sequence[str]) -> pd.DataFrame:
    """Mean and standard deviation over seeds of `cols` per group: `c_mean`, `c_std`, `seeds`."""
    g = df.groupby(list(by), sort=True)
    out = pd.concat([g[list(cols)].mean().add_suffix("_mean"),
                     g[list(cols)].std(ddof=1).fillna(0.0).add_suffix("_std"),
                     g.size().rename("seeds")], axis=1)
    return out.reset_index()


def select(df: pd.DataFrame, what: str, **values: float | None) -> pd.DataFrame:
    """Rows whose columns equal the given values (None: the column must hold one value)."""
    for col, value in values.items():
        present = np.unique(df[col].to_numpy())
        if value is None:
            if len(present) > 1:
                raise InputError(f"{what}: the results hold several {col} "
                                 f"({', '.join(map(str, present))}); choose one")
            continue
        hit = np.isclose(df[col].to_numpy(dtype=float), float(value), rtol=1e-9, atol=1e-12)
        if not hit.any():
            raise InputError(f"{what}: no runs at {col} = {value} (present: "
                             f"{', '.join(f'{v:g}' for v in present)})")
        df = df[hit]
    return df


def single(df: pd.DataFrame, col: str, what: str) -> float:
    """The one value of `col` in the runs; InputError if they hold several."""
    values = np.unique(df[col].to_numpy(float))
    if len(values) != 1:
        raise InputError(f"{what}: the runs hold several {col} "
                         f"({', '.join(f'{v:g}' for v in values)}); expected one")
    return float(values[0])


def fig2_omega(df: pd.DataFrame) -> float:
    """Fig. 2 is at omega = 0.3 where the runs have it, else at their single omega."""
    return 0.3 if np.isclose(df["omega"].to_numpy(float), 0.3).any() else single(
        df, "omega", "fig2")
