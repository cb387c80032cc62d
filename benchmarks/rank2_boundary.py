"""Rank-2 theory at one omega: every branch on an alpha grid with the fixed points' own QMC
errors, alpha_c, alpha_l, alpha_merge with error bars, and the figure
(docs/theory_rank2.md §10).

Writes <out>_points.csv (one row per branch and alpha), <out>_boundary.csv (with the model's
sigma and lam, so `attnphase reproduce appendix-rank2` can match it to its runs) and
<out>.png; the same computation as `attnphase theory plot --rank 2`, with the numbers kept.
`--from-csv` recomputes the boundary and the figure from a points CSV without solving.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/rank2_boundary.py --omega 0.3 \
        --alphas 0.25,0.5,0.75,1,1.5,2 --out results/paper/theory_rank2_w0.3
"""

from __future__ import annotations

import argparse
import math
import time

import pandas as pd

from attnphase.io import write_csv_atomic
from attnphase.theory.linear import linear_theory
from attnphase.theory.rank2_boundary import BRANCHES, boundary_from_points, boundary_rank2
from attnphase.theory.rank2_plot import plot_rank2
from attnphase.theory.rank2_quadrature import qmc_rule
from attnphase.theory.rank2_solve import Rank2Point

SIGMA, LAM = 0.5, 0.01  # the model of the paper's figures (and of appendix-rank2)
INV = ("q_eig1", "q_eig2", "theta_norm", "m_norm", "q_11", "q_22", "q_12", "theta_1",
       "theta_2", "m_1", "m_2", "V_eig1", "V_eig2")


def _num(v) -> float:
    return math.nan if pd.isna(v) else float(v)


def points_from_csv(path: str) -> tuple[list[float], list[dict[str, Rank2Point]]]:
    """The points of a `_points.csv` (outputs and errors only: no state)."""
    d = pd.read_csv(path)
    alphas = sorted(d["alpha"].unique())
    pts = []
    for a in alphas:
        per = {}
        for _, r in d[d["alpha"] == a].iterrows():
            err = {k[4:]: _num(v) for k, v in r.items() if k.startswith("err_")}
            fp = {k[6:]: _num(v) for k, v in r.items() if k.startswith("fperr_")}
            per[r["branch"]] = Rank2Point(
                float(a), r["omega"], SIGMA, LAM, r["branch"], r["eps_g"], r["eps_t"],
                bool(r["converged"]), int(r["iterations"]), _num(r["residual"]),
                _num(r["residual_qmc"]), {k: _num(r[k]) for k in INV}, err, None, fp_err=fp)
        pts.append({b: per[b] for b in BRANCHES if b in per})
    return [float(a) for a in alphas], pts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--omega", type=float, default=0.3)
    ap.add_argument("--alphas", default="0.25,0.5,0.75,1,1.5,2")
    ap.add_argument("--qmc", type=int, default=512)
    ap.add_argument("--from-csv", default=None, help="a points CSV of an earlier run")
    ap.add_argument("--out", required=True, help="file stem")
    a = ap.parse_args()
    t = time.process_time()
    if a.from_csv:
        alphas, pts = points_from_csv(a.from_csv)
        lin = linear_theory(a.omega, SIGMA).eps_g_lin
        bd = boundary_from_points(alphas, pts, a.omega, lin, True)
    else:
        alphas = sorted(float(v) for v in a.alphas.split(","))
        (bd,), points = boundary_rank2([a.omega], alphas, SIGMA, LAM,
                                       rule=qmc_rule(a.qmc, 8), fp_error=True)
        pts = points[a.omega]
        rows = pd.DataFrame([p.row() for per in pts for p in per.values()])
        write_csv_atomic(f"{a.out}_points.csv", rows, "--out")
    cpu = time.process_time() - t
    write_csv_atomic(f"{a.out}_boundary.csv", [{**bd.row(), "sigma": SIGMA, "lam": LAM,
                                                "qmc": a.qmc, "cpu_s": cpu}], "--out")
    plot_rank2(alphas, pts, bd, SIGMA, LAM, f"{a.out}.png")
    print(bd.row(), f"CPU {cpu:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
