"""`attnphase reproduce appendix`: the paper's appendix figures, each from its sweep(s).

Targets (configs `configs/paper/<sweep>.yaml` and `configs/quick/<sweep>.yaml`):

- `appendix-sigma`, `appendix-lambda`, `appendix-omega`: slices against alpha (`slices`);
- `appendix-A`: the Fig. 3 phase diagrams for A = [[0.3, 0.7], [0.8, 0.2]] (`fig3`);
- `appendix-rank2`: a rank-2 student over alpha x omega (`rank2`; no theory yet);
- `appendix-optim`: GD from both inits, Adam from a random init (`optim`);
- the finite-size figure is `concentration` (d up to 4000 at paper scale).

For each target the output folder gets `<target>.png/.pdf`, `<target>.csv` (the runs),
`<target>_theory.csv` (where there is theory) and `<target>_summary.json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class Target:
    """An appendix figure: its sweeps (config stems) and, for slices, the swept field."""

    sweeps: tuple[str, ...]
    family: str | None = None


TARGETS: dict[str, Target] = {
    "appendix-sigma": Target(("appendix-sigma",), "sigma"),
    "appendix-lambda": Target(("appendix-lambda",), "lam"),
    "appendix-omega": Target(("appendix-omega",), "omega"),
    "appendix-A": Target(("appendix-A",)),
    "appendix-rank2": Target(("appendix-rank2",)),
    "appendix-optim": Target(("appendix-optim-gd", "appendix-optim-adam")),
}
THEORY_POINTS = {"paper": 30, "quick": 8}  # alphas per theory branch in each slice


def run(names: list[str], out: str | Path, db: str | Path, quick: bool = False,
        theory: bool = True, workers: int = 0, progress: bool = True,
        estimator: str = "cv") -> list[Path]:
    """Run the sweeps of the appendix targets `names` (resuming the store), solve their
    theory in two worker processes meanwhile, and draw them; return the files written."""
    from ..reproduce import _say, config_path
    from ..sweep import load_spec, results_frame, run_sweep
    from ..theoryjobs import pool as theory_pool

    points = THEORY_POINTS["quick" if quick else "paper"]
    specs = {t: [load_spec(config_path(s, quick)) for s in TARGETS[t].sweeps] for t in names}
    files: list[Path] = []
    with theory_pool() as pool:
        pending = {t: _submit(pool, t, _spec_frame(specs[t]), points) for t in names if theory}
        frames = {}
        for t in names:
            parts = []
            for stem, spec in zip(TARGETS[t].sweeps, specs[t], strict=True):
                _say(str(run_sweep(config_path(stem, quick), db=db, workers=workers,
                                   progress=progress)), progress)
                parts.append(results_frame(db, spec.name))
            frames[t] = pd.concat(parts, ignore_index=True)
        for t in names:
            if t in pending:
                _say(f"{t}: theory", progress)
            th = pending[t]() if t in pending else None
            files += draw(t, frames[t], Path(out), th, estimator)
    return files


def figure(name: str, db: str | Path, out: str | Path, sweep: str | None = None,
           theory: bool = True, estimator: str = "cv") -> list[Path]:
    """Draw an appendix target from the runs already in the store (`attnphase figure`)."""
    from ..sweep import results_frame
    from ..theoryjobs import pool as theory_pool

    parts = []
    for stem in ([sweep] if sweep else TARGETS[name].sweeps):
        for candidate in (stem, f"{stem}-quick"):
            frame = results_frame(db, candidate)
            if len(frame):
                parts.append(frame)
                break
        else:
            raise InputError(f"{name}: no runs of sweep {stem} (or {stem}-quick) in {db}")
    frame = pd.concat(parts, ignore_index=True)
    th = None
    if theory:
        with theory_pool() as pool:
            th = _submit(pool, name, frame, THEORY_POINTS["paper"])()
    return draw(name, frame, Path(out), th, estimator)


def draw(name: str, frame: pd.DataFrame, out: Path, th: Any, estimator: str) -> list[Path]:
    """The figure of target `name` from its runs and theory, with its CSVs and summary."""
    from ..io import write_csv_atomic, write_text_atomic
    from . import fig3, optim, rank2, slices

    target = TARGETS[name]
    out.mkdir(parents=True, exist_ok=True)
    theory_frame = None
    if target.family:
        result = slices.make(frame, out, target.family, th, stem=name, estimator=estimator)
        if th is not None:
            theory_frame = pd.concat([t.curves.to_frame().assign(**{target.family: v},
                                                                 eps_g_lin=t.eps_g_lin)
                                      for v, t in th.items()], ignore_index=True)
        summary = {f"{k}_{key}": _num(v.get(key)) for k, v in result.arrays.items()
                   if isinstance(v, dict) for key in ("alpha_c_sim", "alpha_c_theory",
                                                      "alpha_l_sim", "alpha_l_theory")}
    elif name == "appendix-A":
        result = fig3.make(frame, out, th, stem=name, estimator=estimator,
                           mark_published=False)
        theory_frame = None if th is None else th.to_frame()
        summary = {k: [_num(x) for x in np.atleast_1d(result.arrays[k])]
                   for k in ("omega", "alpha_c_sim", "alpha_l_sim", "alpha_c_theory",
                             "alpha_l_theory") if k in result.arrays}
    elif name == "appendix-rank2":
        result = rank2.make(frame, out, stem=name, estimator=estimator)
        summary = {"omega": [float(o) for o in result.arrays["omega"]],
                   "alpha_l_sim": [_num(x) for x in result.arrays["alpha_l_sim"]]}
    else:
        result = optim.make(frame, out, th, stem=name, estimator=estimator)
        stats = result.arrays.pop("stats")
        summary = {"means": json.loads(stats.to_json(orient="records"))}
        if th is not None:
            theory_frame = pd.DataFrame([{"branch": b, **v} for b, v in th.points.items()])
    files = [*result.files, write_csv_atomic(out / f"{name}.csv", frame)]
    if theory_frame is not None:
        files.append(write_csv_atomic(out / f"{name}_theory.csv", theory_frame))
    summary = {"runs": len(frame), "seed_means": result.arrays.get("estimator"), **summary}
    files.append(out / f"{name}_summary.json")
    write_text_atomic(files[-1], json.dumps(summary, indent=1) + "\n")
    return files


# ------------------------------------------------------------------ theory
def _submit(pool: ProcessPoolExecutor, name: str, frame: pd.DataFrame,
            points: int) -> Callable[[], Any]:
    """Submit the theory solves of a target; return a function that waits and assembles."""
    from .. import theoryjobs
    from .slices import SliceTheory
    from .theorydata import BRANCHES, ConcentrationTheory, Fig3Theory, TheoryCurves

    target = TARGETS[name]
    sigma, lam = _values(frame, "sigma"), _values(frame, "lam")
    if target.family:
        alphas = tuple(np.linspace(frame["alpha"].min(), frame["alpha"].max(), points).tolist())
        keys = [(s, la, o) for s in sigma for la in lam for o in _values(frame, "omega")]
        futures = {k: [pool.submit(theoryjobs.branch_values, alphas, k[2], k[0], k[1], b)
                       for b in BRANCHES] for k in keys}
        index = {"sigma": 0, "lam": 1, "omega": 2}[target.family]

        def slices_theory() -> dict[float, SliceTheory]:
            return {round(k[index], 10): SliceTheory(
                TheoryCurves(np.asarray(alphas), dict(zip(
                    BRANCHES, [f.result() for f in fs], strict=True))),
                theoryjobs.linear_level(k[2], k[0])) for k, fs in futures.items()}
        return slices_theory
    if name == "appendix-A":
        A = _single_A(frame)
        omegas = _values(frame, "omega")
        fs = [pool.submit(boundary_with_A, o, sigma[0], lam[0], A) for o in omegas]

        def fig3_theory() -> Fig3Theory:
            pairs = np.array([f.result() for f in fs], dtype=float).reshape(-1, 2)
            return Fig3Theory(np.asarray(omegas), pairs[:, 0], pairs[:, 1])
        return fig3_theory
    if name == "appendix-optim":
        alpha, omega = _values(frame, "alpha")[0], _values(frame, "omega")[0]
        fs = [pool.submit(theoryjobs.branch_values, (alpha,), omega, sigma[0], lam[0], b)
              for b in BRANCHES]

        def points_theory() -> ConcentrationTheory:
            pts = {b: {k: float(v[0]) for k, v in f.result().items()}
                   for b, f in zip(BRANCHES, fs, strict=True)}
            return ConcentrationTheory(pts, theoryjobs.linear_level(omega, sigma[0]))
        return points_theory
    return lambda: None  # rank 2: no theory yet


def boundary_with_A(omega: float, sigma: float, lam: float,
                    A: tuple[tuple[float, ...], ...]) -> tuple[float, float]:
    """(alpha_c, alpha_l) at one omega for the positional matrix A; NaN where none."""
    from .. import theory

    (b,) = theory.boundary([omega], sigma, lam, A=[list(r) for r in A], spinodals=False)
    return tuple(float("nan") if x is None else float(x) for x in (b.alpha_c, b.alpha_l))


def _spec_frame(specs: list[Any]) -> pd.DataFrame:
    """The config columns of the sweeps' runs, before they are run."""
    return pd.DataFrame([{"alpha": c.n_samples / c.d, "omega": c.omega, "sigma": c.sigma,
                          "lam": c.lam, "A": json.dumps(c.A_matrix)}
                         for spec in specs for c in spec.configs])


def _values(frame: pd.DataFrame, col: str) -> list[float]:
    return sorted(float(v) for v in np.unique(frame[col].astype(float).round(10)))


def _single_A(frame: pd.DataFrame) -> tuple[tuple[float, ...], ...]:
    found = {json.dumps(json.loads(a) if isinstance(a, str) else a) for a in frame["A"]}
    if len(found) != 1:
        raise InputError(f"appendix-A: the runs hold several A ({', '.join(sorted(found))})")
    return tuple(tuple(float(x) for x in row) for row in json.loads(found.pop()))


def _num(x: Any) -> float | None:
    return None if x is None or not np.isfinite(float(x)) else float(x)
