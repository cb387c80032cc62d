"""The paper's appendix figures (`attnphase reproduce appendix`): the registry of targets
and `draw`, one target's figure from its runs and theory. Running the sweeps and the theory
is `attnphase.reproduce_appendix`.

Targets (configs `configs/paper/<sweep>.yaml` and `configs/quick/<sweep>.yaml`):

- `appendix-sigma`, `appendix-lambda`, `appendix-omega`: slices against alpha (`slices`);
- `appendix-A`: the Fig. 3 phase diagrams for A = [[0.3, 0.7], [0.8, 0.2]] (`fig3`);
- `appendix-rank2`: a rank-2 student over alpha x omega (`rank2`; theory: alpha_l(omega)
  read from the committed rank-2 boundary CSVs, `attnphase.reproduce_appendix.rank2_theory`);
- `appendix-optim`: GD from both inits, Adam from a random init (`optim`);
- the finite-size figure is `concentration` (d up to 4000 at paper scale).

For each target the output folder gets `<target>.png/.pdf`, `<target>.csv` (the runs),
`<target>_theory.csv` (where there is theory) and `<target>_summary.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


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
        result = rank2.make(frame, out, th, stem=name, estimator=estimator)
        theory_frame = None if th is None else th.to_frame()
        summary = {k: [_num(x) for x in np.atleast_1d(result.arrays[k])]
                   for k in ("omega", "alpha_l_sim", "theory_omega", "alpha_l_theory",
                             "alpha_l_theory_err") if k in result.arrays}
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


def _num(x: Any) -> float | None:
    return None if x is None or not np.isfinite(float(x)) else float(x)
