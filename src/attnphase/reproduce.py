"""`attnphase reproduce`: the sweeps of the paper's figures, their theory, and the figures.

Each figure has a sweep config in `configs/paper/` (full scale) and `configs/quick/` (d = 100,
a few seeds, a coarse grid). Sweeps resume from the results store: what is already there is
not run again. For each figure the output folder receives `<figure>.png`, `.pdf`, `.csv` (the
runs), `<figure>_theory.csv` (unless --no-theory) and `<figure>_summary.json` (alpha_c and
alpha_l read from the simulations and from the theory, and the run counts).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Config
from .errors import InputError
from .io import atomic_path, write_text_atomic

SWEPT = ("fig2", "fig3", "concentration")
TARGETS = (*SWEPT, "lambda-cv")
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@dataclass(frozen=True)
class Scale:
    """What differs between the full-scale and the --quick reproduction, apart from configs."""

    folder: str
    theory_points: int  # alphas on each theory branch of Fig. 2
    cv: dict[str, Any]  # cross-validation settings


PAPER = Scale("paper", 40, {"d": 1000, "alpha": 1.5, "omega": 0.3, "seed": 0,
                            "lams": np.geomspace(1e-4, 10, 11).tolist(),
                            "lam_lins": np.geomspace(1e-6, 10, 8).tolist(), "folds": 5})
QUICK = Scale("quick", 14, {**PAPER.cv, "d": 100})


def targets(name: str) -> list[str]:
    """The figures of a `reproduce` target (`all`: every one)."""
    if name == "all":
        return list(TARGETS)
    if name not in TARGETS:
        raise InputError(f"reproduce {name!r}: must be one of {', '.join(TARGETS)} or all")
    return [name]


def config_path(target: str, quick: bool) -> Path:
    """The sweep config of a figure: `CONFIGS/paper/<target>.yaml` or `CONFIGS/quick/...`."""
    path = CONFIGS / (QUICK if quick else PAPER).folder / f"{target}.yaml"
    if not path.is_file():
        raise InputError(f"{path}: no such sweep config (expected configs/paper/ and "
                         "configs/quick/ beside src/)")
    return path


def reproduce(name: str, out: str | Path, db: str | Path, quick: bool = False,
              theory: bool = True, workers: int = 0, progress: bool = True) -> list[Path]:
    """Run what `name` needs and write its figures into `out`; return the files written."""
    from .sweep import load_spec, results_frame, run_sweep

    scale = QUICK if quick else PAPER
    files: list[Path] = []
    for target in targets(name):
        if target == "lambda-cv":
            files += reproduce_cv(scale, Path(out), progress)
            continue
        path = config_path(target, quick)
        spec = load_spec(path)
        summary = run_sweep(path, db=db, workers=workers, progress=progress)
        _say(str(summary), progress)
        frame = results_frame(db, spec.name)
        files.append(_write_csv(frame, Path(out) / f"{target}.csv"))
        files += figure(target, frame, Path(out), theory, scale.theory_points)
    return files


def reproduce_cv(scale: Scale, out: Path, progress: bool = True) -> list[Path]:
    """Cross-validation of lambda and lambda_lin at the scale's settings, and its figure."""
    from .cv import cross_validate
    from .figures import cv as cv_figure

    s = scale.cv
    cfg = Config(d=s["d"], alpha=s["alpha"], omega=s["omega"], seed=s["seed"])
    result = cross_validate(cfg, s["lams"], s["lam_lins"], s["folds"])
    _say(f"lambda-cv: chosen {result.chosen} ({result.wall_s:.1f} s)", progress)
    json_path = result.save(out / "lambda_cv.json")
    return [json_path, *cv_figure.make(result, out).files]


def figure(target: str, frame: pd.DataFrame, out: Path, theory: bool,
           theory_points: int = PAPER.theory_points) -> list[Path]:
    """Draw one swept figure from its runs, with the theory unless `theory` is False."""
    from .figures import concentration, fig2, fig3, theorydata
    from .figures.summary import clean

    df = clean(frame, target)
    sigma, lam = _single(df, "sigma", target), _single(df, "lam", target)
    th = None
    if target == "fig2":
        omega = 0.3 if np.isclose(df["omega"], 0.3).any() else _single(df, "omega", target)
        if theory:
            lo, hi = float(df["alpha"].min()), float(df["alpha"].max())
            th = theorydata.fig2_theory(np.linspace(lo, hi, theory_points).tolist(), omega,
                                        sigma, lam)
        result = fig2.make(df, out, th, omega=omega)
        theory_frame = None if th is None else th.curves.to_frame().assign(
            omega=omega, alpha_c=th.alpha_c, alpha_l=th.alpha_l, eps_g_lin=th.eps_g_lin)
    elif target == "fig3":
        if theory:
            th = theorydata.fig3_theory(sorted(df["omega"].unique()), sigma, lam)
        result = fig3.make(df, out, th)
        theory_frame = None if th is None else th.to_frame()
    else:
        alpha, omega = _single(df, "alpha", target), _single(df, "omega", target)
        if theory:
            th = theorydata.concentration_theory(alpha, omega, sigma, lam)
        result = concentration.make(df, out, th, alpha=alpha, omega=omega)
        theory_frame = None if th is None else pd.DataFrame(
            [{"branch": b, "alpha": alpha, "omega": omega, **v} for b, v in th.points.items()]
        ).assign(eps_g_lin=th.eps_g_lin)
    files = list(result.files)
    if theory_frame is not None:
        files.append(_write_csv(theory_frame, out / f"{target}_theory.csv"))
    summary = _summary(result.arrays, df)
    files.append(out / f"{target}_summary.json")
    write_text_atomic(files[-1], json.dumps(summary, indent=1) + "\n")
    return files


def _summary(arrays: dict[str, Any], df: pd.DataFrame) -> dict[str, Any]:
    """Scalar results of a figure (alpha_c, alpha_l, ...) and counts of its runs."""
    out: dict[str, Any] = {"runs": len(df)}
    if "converged" in df.columns:
        out["not_converged"] = int((~df["converged"].fillna(False).astype(bool)).sum())
    for key, value in arrays.items():
        if key.startswith(("alpha_c", "alpha_l", "theory_eps_g", "eps_g_lin_theory")):
            vals = np.atleast_1d(np.asarray(value, dtype=float))
            clean = [None if not math.isfinite(v) else float(v) for v in vals]
            out[key] = clean[0] if np.ndim(value) == 0 else clean
    if "omega" in arrays and np.ndim(arrays["omega"]) == 1:
        out["omega"] = [float(v) for v in arrays["omega"]]
    return out


def _single(df: pd.DataFrame, col: str, what: str) -> float:
    values = np.unique(df[col].to_numpy(float))
    if len(values) != 1:
        raise InputError(f"{what}: the runs hold several {col} "
                         f"({', '.join(f'{v:g}' for v in values)}); expected one")
    return float(values[0])


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return path


def _say(text: str, enabled: bool) -> None:
    if enabled:
        print(text, file=sys.stderr)
