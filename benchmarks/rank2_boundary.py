"""Rank-2 theory at one omega: every branch on an alpha grid with the fixed points' own QMC
errors, alpha_c and alpha_l with error bars, and the figure (docs/theory_rank2.md §10).

Writes <out>_points.csv (one row per branch and alpha), <out>_boundary.csv and <out>.png;
the same computation as `attnphase theory plot --rank 2`, with the numbers kept.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/rank2_boundary.py --omega 0.3 \
        --alphas 0.25,0.5,0.75,1,1.5,2 --out results/paper/theory_rank2_w0.3
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from attnphase.io import write_csv_atomic
from attnphase.theory.rank2_boundary import boundary_rank2
from attnphase.theory.rank2_plot import plot_rank2
from attnphase.theory.rank2_quadrature import qmc_rule


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--omega", type=float, default=0.3)
    ap.add_argument("--alphas", default="0.25,0.5,0.75,1,1.5,2")
    ap.add_argument("--qmc", type=int, default=512)
    ap.add_argument("--out", required=True, help="file stem")
    a = ap.parse_args()
    alphas = sorted(float(v) for v in a.alphas.split(","))
    t = time.process_time()
    (bd,), points = boundary_rank2([a.omega], alphas, rule=qmc_rule(a.qmc, 8), fp_error=True)
    cpu = time.process_time() - t
    pts = points[a.omega]
    rows = pd.DataFrame([p.row() for per in pts for p in per.values()])
    write_csv_atomic(f"{a.out}_points.csv", rows, "--out")
    write_csv_atomic(f"{a.out}_boundary.csv", [{**bd.row(), "qmc": a.qmc, "cpu_s": cpu}],
                     "--out")
    plot_rank2(alphas, pts, bd, 0.5, 0.01, f"{a.out}.png")
    print(bd.row(), f"CPU {cpu:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
