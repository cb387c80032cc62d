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
from ..stats import ESTIMATORS, Estimate, estimate, q_star_scalar
from ..transitions import global_minimiser, same_minimiser_as_zero, semantic_global

REQUIRED = ("d", "alpha", "omega", "sigma", "lam", "init", "seed", "eps_g", "eps_t", "m",
            "theta", "eps_g_lin")
# what identifies a run apart from its initialisation and seed, where the frame has it
IDENTITY = ("d", "alpha", "omega", "sigma", "lam", "L", "rank", "solver")
METRICS = ("eps_g", "eps_t", "m", "theta", "q", "q_star", "eps_g_lin")
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
    if "q_star" in df.columns:  # a float for r* = 1, else the r* x r* matrix as JSON text
        df["q_star"] = [q_star_scalar(v) for v in df["q_star"]]
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
    out["delta_eps_t"] = same_minimiser_as_zero(sem["eps_t"], pos["eps_t"])
    out["global_init"] = np.where(semantic_global(sem["eps_t"], pos["eps_t"]), "semantic",
                                  "positional")
    for c in cols:
        out[c] = global_minimiser(sem[c], pos[c], sem["eps_t"], pos["eps_t"])
    return out.reset_index()


def over_seeds(df: pd.DataFrame, by: Sequence[str], cols: Sequence[str],
               estimator: str = "cv") -> pd.DataFrame:
    """Seed averages of `cols` per group: `c_mean`, `c_sem` (its standard error), `c_std`
    (spread over seeds), `seeds`, and `estimator` (what `c_mean` is, see `stats.estimate`).

    `estimator="cv"` (default) adjusts each group's mean to the teacher norm's exact mean
    (q_star = 1) by the control variate, removing the seed-to-seed teacher-norm bias;
    `"plain"` is the plain mean.
    """
    if estimator not in ESTIMATORS:
        raise InputError(f"estimator {estimator!r}: must be one of {', '.join(ESTIMATORS)}")
    if estimator == "cv" and "q_star" not in df.columns:
        raise InputError("the control-variate estimator needs the runs' q_star column; "
                         "use plain means")
    rows = []
    for key, group in df.groupby(list(by), sort=True):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        q_star = group["q_star"].to_numpy(float) if estimator == "cv" else None
        methods = set()
        for c in cols:
            v = group[c].to_numpy(float)
            ok = np.isfinite(v) & (np.isfinite(q_star) if q_star is not None else True)
            est = (estimate(v[ok], None if q_star is None else q_star[ok], estimator)
                   if ok.any() else Estimate(float("nan"), float("nan"), 0))
            row[f"{c}_mean"], row[f"{c}_sem"] = est.mean, est.sem
            row[f"{c}_std"] = float(np.std(v[ok], ddof=1)) if ok.sum() > 1 else 0.0
            if est.n:
                methods.add(est.method)
        row["seeds"], row["estimator"] = len(group), "+".join(sorted(methods))
        rows.append(row)
    out = pd.DataFrame(rows)
    for c in cols:
        out[f"{c}_sem"] = out[f"{c}_sem"].fillna(0.0)
    return out


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
