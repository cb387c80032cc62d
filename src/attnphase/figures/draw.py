"""One swept figure by name, from its runs and theory, with the data files beside it.

For `fig2`, `fig3` and `concentration` this writes `<figure>.png` and `.pdf`,
`<figure>_theory.csv` (when a theory is given) and `<figure>_summary.json`: the figure's
scalar results (alpha_c, alpha_l, from the simulations and the theory) and its run counts.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import write_csv_atomic, write_text_atomic
from . import concentration, fig2, fig3
from .summary import clean, fig2_omega, single
from .theorydata import refined_rows, side_rows


def draw(target: str, frame: pd.DataFrame, out: Path, th: Any = None,
         estimator: str = "cv") -> list[Path]:
    """Draw one swept figure from its runs and its theory (None: simulations only); seed
    means by `estimator` (`summary.over_seeds`)."""
    df = clean(frame, target)
    theory_frame = None
    if target == "fig2":
        result = fig2.make(df, out, th, omega=fig2_omega(df), estimator=estimator)
        if th is not None:
            theory_frame = th.curves.to_frame().assign(
                omega=fig2_omega(df), alpha_c=th.alpha_c, alpha_l=th.alpha_l,
                eps_g_lin=th.eps_g_lin)
    elif target == "fig3":
        if th is not None:
            th = replace(th, refined=th.refined if th.refined is not None
                         else _beside(df, out, refined_rows),
                         side=th.side if th.side is not None else _beside(df, out, side_rows))
        result = fig3.make(df, out, th, estimator=estimator)
        theory_frame = None if th is None else th.to_frame()
    else:
        alpha, omega = single(df, "alpha", target), single(df, "omega", target)
        result = concentration.make(df, out, th, alpha=alpha, omega=omega,
                                    estimator=estimator)
        if th is not None:
            theory_frame = pd.DataFrame(
                [{"branch": b, "alpha": alpha, "omega": omega, **v} for b, v in th.points.items()]
            ).assign(eps_g_lin=th.eps_g_lin)
    files = list(result.files)
    if theory_frame is not None:
        files.append(write_csv_atomic(out / f"{target}_theory.csv", theory_frame))
    files.append(out / f"{target}_summary.json")
    write_text_atomic(files[-1], json.dumps(summary(result.arrays, df), indent=1) + "\n")
    return files


def _beside(df: pd.DataFrame, out: Path, rows) -> pd.DataFrame | None:
    """Theory rows stored beside the figure (`refined_rows`, `side_rows`), at the runs'
    sigma, lambda and A."""
    A = df["A"].unique() if "A" in df.columns else []
    if len(A) != 1:
        return None
    omega = df["omega"].to_numpy(float)
    return rows(out, single(df, "sigma", "fig3"), single(df, "lam", "fig3"), str(A[0]),
                (omega.min(), omega.max()))


def summary(arrays: dict[str, Any], df: pd.DataFrame) -> dict[str, Any]:
    """Scalar results of a figure (alpha_c, alpha_l, ...) and counts of its runs."""
    out: dict[str, Any] = {"runs": len(df), "seed_means": arrays.get("estimator")}
    if "converged" in df.columns:
        out["not_converged"] = int((~df["converged"].fillna(False).astype(bool)).sum())
    for key, value in arrays.items():
        scalar_theory = key.startswith(("theory_eps_g", "eps_g_lin_theory")) and np.ndim(
            value) == 0
        if key.startswith(("alpha_c", "alpha_l")) or scalar_theory:
            vals = [None if not math.isfinite(v) else float(v)
                    for v in np.atleast_1d(np.asarray(value, dtype=float))]
            out[key] = vals[0] if np.ndim(value) == 0 else vals
    for key in ("omega", "refined_omega", "side_omega"):
        if key in arrays and np.ndim(arrays[key]) == 1:
            out[key] = [float(v) for v in arrays[key]]
    return out

