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
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Config
from .errors import InputError
from .io import atomic_path, write_text_atomic

SWEPT = ("fig2", "fig3", "concentration")
THEORY_WORKERS = 2  # processes solving the theory while the sweeps run here
APPENDIX = ("appendix-sigma", "appendix-lambda", "appendix-omega", "appendix-A",
            "appendix-rank2", "appendix-optim")  # figures/appendix.py; + concentration
TARGETS = (*SWEPT, "lambda-cv", *APPENDIX)
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
    """The figures of a `reproduce` target (`all`: the main text's; `appendix`: the
    appendix's, with the finite-size figure `concentration`)."""
    if name == "all":
        return [t for t in TARGETS if t not in APPENDIX]
    if name == "appendix":
        return [*APPENDIX, "concentration"]
    if name not in TARGETS:
        raise InputError(f"reproduce {name!r}: must be one of {', '.join(TARGETS)}, appendix "
                         "or all")
    return [name]


def config_path(target: str, quick: bool) -> Path:
    """The sweep config of a figure: `CONFIGS/paper/<target>.yaml` or `CONFIGS/quick/...`."""
    path = CONFIGS / (QUICK if quick else PAPER).folder / f"{target}.yaml"
    if not path.is_file():
        raise InputError(f"{path}: no such sweep config (expected configs/paper/ and "
                         "configs/quick/ beside src/)")
    return path


def reproduce(name: str, out: str | Path, db: str | Path, quick: bool = False,
              theory: bool = True, workers: int = 0, progress: bool = True,
              estimator: str = "cv") -> list[Path]:
    """Run what `name` needs and write its figures into `out`; return the files written.

    Seed means are by `estimator` (`cv`: control variate on the teacher norm; `plain`).

    The theory's independent solves (branches, boundaries) are spread over worker processes
    while the sweeps run in this one, with one torch thread.
    """
    import torch

    from .sweep import load_spec, results_frame, run_sweep

    torch.set_num_threads(1)  # the theory workers take the other cores
    scale = QUICK if quick else PAPER
    wanted = targets(name)
    files: list[Path] = []
    if appendix := [t for t in wanted if t in APPENDIX]:
        from .figures import appendix as appendix_figures

        files += appendix_figures.run(appendix, out, db, quick, theory, workers, progress,
                                      estimator)
    specs = {t: load_spec(config_path(t, quick)) for t in wanted if t in SWEPT}
    with ProcessPoolExecutor(THEORY_WORKERS, mp_context=get_context("spawn")) as pool:
        submitted: dict[tuple, Future] = {}
        theories = {t: _submit_theory(pool, submitted, t, theory_inputs(
            t, _spec_frame(spec), scale.theory_points)) for t, spec in specs.items() if theory}
        frames = {}
        for target, spec in specs.items():  # all simulations first, while the theory runs
            summary = run_sweep(config_path(target, quick), db=db, workers=workers,
                                progress=progress)
            _say(str(summary), progress)
            frames[target] = results_frame(db, spec.name)
            files.append(_write_csv(frames[target], Path(out) / f"{target}.csv"))
        if "lambda-cv" in wanted:
            files += reproduce_cv(scale, Path(out), progress)
        for target, frame in frames.items():
            if target in theories:
                _say(f"{target}: theory", progress)
            th = theories[target]() if target in theories else None
            files += figure(target, frame, Path(out), th, estimator)
    return files


def solve_theory(target: str, inputs: dict[str, Any]) -> Any:
    """A figure's theory, its independent solves spread over worker processes."""
    with ProcessPoolExecutor(THEORY_WORKERS, mp_context=get_context("spawn")) as pool:
        return _submit_theory(pool, {}, target, inputs)()


def _submit_theory(pool: ProcessPoolExecutor, submitted: dict[tuple, Future], target: str,
                   inputs: dict[str, Any]) -> Callable[[], Any]:
    """Submit the theory jobs of a figure, except those already in `submitted`; return a
    function that waits for them and assembles the figure's theory."""
    from .figures import theorydata

    futures = []
    for fn, args in theorydata.jobs(target, inputs):
        key = (fn.__name__, args)
        if key not in submitted:
            submitted[key] = pool.submit(fn, *args)
        futures.append(submitted[key])
    return lambda: theorydata.assemble(target, inputs, [f.result() for f in futures])


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
    from .figures.summary import clean

    df = clean(frame, target) if "eps_t" in frame.columns else frame
    inputs: dict[str, Any] = {"sigma": _single(df, "sigma", target),
                              "lam": _single(df, "lam", target)}
    if target == "fig2":
        lo, hi = float(df["alpha"].min()), float(df["alpha"].max())
        inputs.update(omega=_fig2_omega(df), alphas=np.linspace(lo, hi, points).tolist())
    elif target == "fig3":
        inputs["omegas"] = sorted(float(o) for o in df["omega"].unique())
    else:
        inputs.update(alpha=_single(df, "alpha", target), omega=_single(df, "omega", target))
    return inputs


def figure(target: str, frame: pd.DataFrame, out: Path, th: Any = None,
           estimator: str = "cv") -> list[Path]:
    """Draw one swept figure from its runs and its theory (None: simulations only)."""
    from .figures import concentration, fig2, fig3
    from .figures.summary import clean

    df = clean(frame, target)
    theory_frame = None
    if target == "fig2":
        result = fig2.make(df, out, th, omega=_fig2_omega(df), estimator=estimator)
        if th is not None:
            theory_frame = th.curves.to_frame().assign(
                omega=_fig2_omega(df), alpha_c=th.alpha_c, alpha_l=th.alpha_l,
                eps_g_lin=th.eps_g_lin)
    elif target == "fig3":
        result = fig3.make(df, out, th, estimator=estimator)
        theory_frame = None if th is None else th.to_frame()
    else:
        alpha, omega = _single(df, "alpha", target), _single(df, "omega", target)
        result = concentration.make(df, out, th, alpha=alpha, omega=omega,
                                    estimator=estimator)
        if th is not None:
            theory_frame = pd.DataFrame(
                [{"branch": b, "alpha": alpha, "omega": omega, **v} for b, v in th.points.items()]
            ).assign(eps_g_lin=th.eps_g_lin)
    files = list(result.files)
    if theory_frame is not None:
        files.append(_write_csv(theory_frame, out / f"{target}_theory.csv"))
    files.append(out / f"{target}_summary.json")
    write_text_atomic(files[-1], json.dumps(_summary(result.arrays, df), indent=1) + "\n")
    return files


def _fig2_omega(df: pd.DataFrame) -> float:
    """Fig. 2 is at omega = 0.3 where the runs have it, else at their single omega."""
    return 0.3 if np.isclose(df["omega"].to_numpy(float), 0.3).any() else _single(
        df, "omega", "fig2")


def _spec_frame(spec: Any) -> pd.DataFrame:
    """The config columns of a sweep's runs (alpha = n/d), before they are run."""
    return pd.DataFrame([{"alpha": c.n_samples / c.d, "omega": c.omega, "sigma": c.sigma,
                          "lam": c.lam, "d": c.d} for c in spec.configs])


def _summary(arrays: dict[str, Any], df: pd.DataFrame) -> dict[str, Any]:
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
