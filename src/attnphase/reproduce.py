"""`attnphase reproduce`: the sweeps of the paper's figures, their theory, and the figures.

Each figure has a sweep config in `configs/paper/` (full scale) and `configs/quick/` (d = 100,
a few seeds, a coarse grid). Sweeps resume from the results store: what is already there is
not run again. For each figure the output folder receives `<figure>.csv` (the runs) and what
`attnphase.figures.draw` writes: the figure, its theory and its summary.

This module only orchestrates: the sweeps run here (`attnphase.sweep`) while the theory's
jobs (`attnphase.theoryjobs`) run on worker processes; then the figures are drawn.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Config, config_resource
from .errors import InputError
from .io import write_csv_atomic

SWEPT = ("fig2", "fig3", "concentration")
TARGETS = (*SWEPT, "lambda-cv")


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
    """The sweep config of a figure: `configs/paper/<target>.yaml` or `configs/quick/...`."""
    path = config_resource((QUICK if quick else PAPER).folder, f"{target}.yaml")
    if not path.is_file():
        raise InputError(f"{path}: no such sweep config (the package's configs/ is incomplete)")
    return path


def reproduce(name: str, out: str | Path, db: str | Path, quick: bool = False,
              theory: bool = True, workers: int = 0, progress: bool = True) -> list[Path]:
    """Run what `name` needs and write its figures into `out`; return the files written.

    The theory's independent solves (branches, boundaries) are spread over worker processes
    while the sweeps run in this one, with one torch thread.
    """
    import torch

    from . import theoryjobs
    from .figures.draw import draw
    from .sweep import load_spec, results_frame, run_sweep

    torch.set_num_threads(1)  # the theory workers take the other cores
    scale = QUICK if quick else PAPER
    wanted = targets(name)
    specs = {t: load_spec(config_path(t, quick)) for t in wanted if t in SWEPT}
    files: list[Path] = []
    with theoryjobs.pool() as pool:
        submitted: dict[tuple, Future] = {}
        theories = {t: theoryjobs.submit(pool, submitted, t, theory_inputs(
            t, _spec_frame(spec), scale.theory_points)) for t, spec in specs.items() if theory}
        frames = {}
        for target, spec in specs.items():  # all simulations first, while the theory runs
            summary = run_sweep(config_path(target, quick), db=db, workers=workers,
                                progress=progress)
            _say(str(summary), progress)
            frames[target] = results_frame(db, spec.name)
            files.append(write_csv_atomic(Path(out) / f"{target}.csv", frames[target]))
        if "lambda-cv" in wanted:
            files += reproduce_cv(scale, Path(out), progress)
        for target, frame in frames.items():
            if target in theories:
                _say(f"{target}: theory", progress)
            th = theories[target]() if target in theories else None
            files += draw(target, frame, Path(out), th)
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


def theory_inputs(target: str, frame: pd.DataFrame,
                  points: int = PAPER.theory_points) -> dict[str, Any]:
    """What the theory of a figure needs, read from its runs (or configs): a dict of numbers."""
    from .figures.summary import clean, fig2_omega, single

    df = clean(frame, target) if "eps_t" in frame.columns else frame
    inputs: dict[str, Any] = {"sigma": single(df, "sigma", target),
                              "lam": single(df, "lam", target)}
    if target == "fig2":
        lo, hi = float(df["alpha"].min()), float(df["alpha"].max())
        inputs.update(omega=fig2_omega(df), alphas=np.linspace(lo, hi, points).tolist())
    elif target == "fig3":
        inputs["omegas"] = sorted(float(o) for o in df["omega"].unique())
    else:
        inputs.update(alpha=single(df, "alpha", target), omega=single(df, "omega", target))
    return inputs


def stored_runs(db: str | Path, target: str, name: str | None = None) -> pd.DataFrame:
    """The runs of a figure's sweep in the store: sweep `name`, else `<target>` or its -quick."""
    from .sweep import results_frame

    for candidate in [name] if name else [target, f"{target}-quick"]:
        frame = results_frame(db, candidate)
        if len(frame):
            return frame
    names = sorted(set(results_frame(db)["name"]))
    tried = name or f"{target} or {target}-quick"
    raise InputError(f"--name {tried}: no runs in {db} (sweeps there: "
                     f"{', '.join(names) or 'none'})")


def _spec_frame(spec: Any) -> pd.DataFrame:
    """The config columns of a sweep's runs (alpha = n/d), before they are run."""
    return pd.DataFrame([{"alpha": c.n_samples / c.d, "omega": c.omega, "sigma": c.sigma,
                          "lam": c.lam, "d": c.d} for c in spec.configs])


def _say(text: str, enabled: bool) -> None:
    if enabled:
        print(text, file=sys.stderr)
