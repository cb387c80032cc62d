"""README's Fig. 3 table from a committed `fig3.csv`: the simulated alpha_c(omega) and
alpha_l(omega) against the theory's, with a bootstrap spread over the seeds.

Per omega, alpha_c and alpha_l are the crossings of the seed-mean curves (control variate
on q_star, or plain means) by the figure's own rule (`attnphase.figures.fig3`), their spread
the standard deviation over `--boot` resamplings of the seeds (benchmarks/fig2_table.py).

    .venv/bin/python benchmarks/fig3_table.py results/paper/fig3.csv results/paper/fig3_summary.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from fig2_table import bootstrap, crossings

from attnphase.figures.summary import clean, paired


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv")
    p.add_argument("summary", help="the figure's summary JSON (theory alpha_c, alpha_l)")
    p.add_argument("--boot", type=int, default=200)
    p.add_argument("--omegas", type=float, nargs=2, default=(0.15, 0.4),
                   help="the omega range of the table")
    p.add_argument("--estimator", choices=("cv", "plain"), default="cv")
    args = p.parse_args()
    runs = clean(pd.read_csv(args.csv), "fig3")
    with open(args.summary) as f:
        s = json.load(f)
    theory = {round(o, 6): (c, lo) for o, c, lo in
              zip(s["omega"], s["alpha_c_theory"], s["alpha_l_theory"], strict=True)}
    seeds = sorted(runs["seed"].unique())
    print(f"{len(runs)} runs, d = {int(runs['d'].max())}, seeds {seeds[0]}..{seeds[-1]} "
          f"({len(seeds)}), {args.estimator} means, bootstrap {args.boot}")
    print("| omega | alpha_c sim | alpha_c theory | diff | alpha_l sim | alpha_l theory | diff |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rng = np.random.default_rng(0)
    lo, hi = args.omegas
    for omega, frame in runs.groupby("omega"):
        if not lo - 1e-9 <= omega <= hi + 1e-9:
            continue
        pairs = paired(frame)
        point = crossings(pairs, args.estimator)
        spread = np.nanstd(bootstrap(pairs, args.estimator, args.boot, rng), axis=0)
        cells = [f"{omega:.2f}"]
        for k, th in enumerate(theory[round(float(omega), 6)]):
            th = float("nan") if th is None else th  # no crossing in the theory's range
            rel = 100 * (point[k] / th - 1)
            cells += [f"{point[k]:.3f} ± {spread[k]:.3f}", f"{th:.3f}",
                      f"{rel:+.1f}% ({(point[k] - th) / spread[k]:+.1f} sd)"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
