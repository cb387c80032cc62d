"""Rank-2 theory: the fixed point under independent QMC rules and larger ones.

Solves one branch at one alpha with `k = 8` blocks of n points for several n and scrambling
seeds; the spread over seeds at equal n is the fixed point's own quadrature error (which
the per-point `err_*`, a one-step error, underestimates by the map's 1 / (1 - J)).

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/rank2_refine.py --alpha 1.5 --branch mixed
"""

from __future__ import annotations

import argparse
import time

from attnphase.theory.rank2_quadrature import qmc_rule
from attnphase.theory.rank2_solve import solve_rank2

KEYS = ("eps_g", "eps_t", "q_eig1", "q_eig2", "theta_norm", "m_norm")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alpha", type=float, default=1.5)
    ap.add_argument("--omega", type=float, default=0.3)
    ap.add_argument("--branch", default="mixed")
    ap.add_argument("--sizes", default="256:0,256:1,256:2,512:0,512:1,512:2",
                    help="n:seed pairs")
    ap.add_argument("--fp-error", action="store_true",
                    help="also each fixed point's own error (in brackets)")
    a = ap.parse_args()
    print("| n x 8 | seed | " + " | ".join(KEYS) + " | converged | CPU s |")
    print("| --- " * (len(KEYS) + 4) + "|")
    for item in a.sizes.split(","):
        n, seed = (int(v) for v in item.split(":"))
        t = time.process_time()
        p = solve_rank2(a.alpha, a.omega, branch=a.branch, rule=qmc_rule(n, 8, seed=seed),
                        fp_error=a.fp_error)
        vals = {"eps_g": p.eps_g, "eps_t": p.eps_t, **p.inv}
        cells = " | ".join(f"{vals[k]:.6g}" + (f" ({p.fp_err[k]:.1g})" if p.fp_err else "")
                           for k in KEYS)
        print(f"| {n} | {seed} | {cells} | {p.converged} | {time.process_time() - t:.0f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
