"""Rank-2 theory points, one JSON line each as soon as it is solved (long runs on a loaded
machine: nothing is lost when stopped). The same numbers as `theory curve --rank 2`.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/rank2_theory.py --omega 0.1 \
        --alphas 2,1,0.5 --branches mixed,positional --out rank2_theory_w01.jsonl
"""

from __future__ import annotations

import argparse
import json
import time

from attnphase.theory.rank2_quadrature import qmc_rule
from attnphase.theory.rank2_solve import solve_rank2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--omega", type=float, default=0.3)
    ap.add_argument("--alphas", default="2,1.5,1,0.5", help="solved in this order, "
                    "each branch continued from its previous converged point")
    ap.add_argument("--branches", default="semantic,mixed,positional")
    ap.add_argument("--qmc", type=int, default=512)
    ap.add_argument("--max-iter", type=int, default=200)
    ap.add_argument("--fp-error", action="store_true",
                    help="also the fixed point's own error (solved on each QMC block)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rule = qmc_rule(a.qmc, 8)
    for branch in a.branches.split(","):
        prev = None
        for alpha in (float(v) for v in a.alphas.split(",")):
            t = time.process_time()
            p = solve_rank2(alpha, a.omega, branch=branch, init=prev, rule=rule,
                            max_iter=a.max_iter, fp_error=a.fp_error)
            prev = p.state if p.converged else None
            row = {**p.row(), "cpu_s": time.process_time() - t, "qmc": a.qmc}
            with open(a.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
