"""`attnphase reproduce appendix-*`: the appendix targets' sweeps and theory, then their
figures (`attnphase.figures.appendix`, which lists the targets and draws them).

The sweeps run here while the theory's solves run on `theoryjobs.pool()` worker processes,
as for the main text's figures (`attnphase.reproduce`).

The rank-2 theory (appendix-rank2) is not solved here: each omega needs an alpha grid
chosen by hand to bracket its crossing, with points close enough for the continuation
(docs/theory_rank2.md §10), and costs 1.3-2.6 CPU minutes (8.5-13 where the grid reaches
down to the merger near alpha 0.5); a grid that misses the crossing gives no alpha_l. It is
made once per omega by `benchmarks/rank2_boundary.py`, whose `theory_rank2_w<omega>_boundary.csv`
files are committed in results/paper; `rank2_theory` reads those in the output folder (so
`--out results/paper` finds them) made at the runs' sigma and lambda and within their omega
range. Without such files the figure is drawn from the simulations only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .figures.appendix import TARGETS, draw
from .figures.theorydata import Rank2Theory

THEORY_POINTS = {"paper": 30, "quick": 8}  # alphas per theory branch in each slice


def run(names: list[str], out: str | Path, db: str | Path, quick: bool = False,
        theory: bool = True, workers: int = 0, progress: bool = True,
        estimator: str = "cv") -> list[Path]:
    """Run the sweeps of the appendix targets `names` (resuming the store), solve their
    theory in two worker processes meanwhile, and draw them; return the files written."""
    from .reproduce import _say, config_path
    from .sweep import load_spec, results_frame, run_sweep
    from .theoryjobs import pool as theory_pool

    points = THEORY_POINTS["quick" if quick else "paper"]
    specs = {t: [load_spec(config_path(s, quick)) for s in TARGETS[t].sweeps] for t in names}
    files: list[Path] = []
    with theory_pool() as pool:
        pending = {t: _submit(pool, t, _spec_frame(specs[t]), points, Path(out))
                   for t in names if theory}
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
    from .sweep import results_frame
    from .theoryjobs import pool as theory_pool

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
            th = _submit(pool, name, frame, THEORY_POINTS["paper"], Path(out))()
    return draw(name, frame, Path(out), th, estimator)


def _submit(pool: Executor, name: str, frame: pd.DataFrame, points: int,
            out: Path | None = None) -> Callable[[], Any]:
    """Submit the theory solves of a target; return a function that waits and assembles.
    `out`: the output folder, where appendix-rank2's theory is read from (`rank2_theory`;
    None: no rank-2 theory)."""
    from . import theoryjobs
    from .figures.slices import SliceTheory
    from .figures.theorydata import BRANCHES, ConcentrationTheory, Fig3Theory, TheoryCurves

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
    return lambda: None if out is None else rank2_theory(out, frame)


RANK2_BOUNDARIES = "theory_rank2_w*_boundary.csv"  # benchmarks/rank2_boundary.py's outputs


def rank2_theory(folder: Path, frame: pd.DataFrame) -> Rank2Theory | None:
    """The rank-2 theory's alpha_l(omega) from the boundary CSVs in `folder` made at the runs'
    sigma and lambda, at omegas within the runs' range; None where there are none."""
    sigma, lam, omegas = (_values(frame, c) for c in ("sigma", "lam", "omega"))
    if len(sigma) != 1 or len(lam) != 1:
        return None
    rows, source = [], {}
    for path in sorted(Path(folder).glob(RANK2_BOUNDARIES)):
        for _, r in pd.read_csv(path).iterrows():
            if not (np.isclose(r["sigma"], sigma[0]) and np.isclose(r["lam"], lam[0])
                    and omegas[0] - 1e-9 <= r["omega"] <= omegas[-1] + 1e-9):
                continue
            key = round(float(r["omega"]), 10)
            if key in source:
                raise InputError(f"rank-2 theory at omega {key:g} in both {source[key]} and "
                                 f"{path.name}")
            source[key] = path.name
            rows.append((key, float(r["alpha_l"]), float(r["alpha_l_err"])))
    if not rows:
        return None
    omega, alpha_l, err = (np.array(c, dtype=float) for c in zip(*sorted(rows), strict=True))
    return Rank2Theory(omega, alpha_l, err)


def boundary_with_A(omega: float, sigma: float, lam: float,
                    A: tuple[tuple[float, ...], ...]) -> tuple[float, float]:
    """(alpha_c, alpha_l) at one omega for the positional matrix A; NaN where none."""
    from . import theory

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
