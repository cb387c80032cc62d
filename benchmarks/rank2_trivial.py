"""Where the rank-2 trivial branch (m = theta = 0, q and V isotropic) exists: a cold solve
at every (alpha, omega) of a grid, its convergence, q, V and the smallest D / lam.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/rank2_trivial.py --qmc 64
"""

from __future__ import annotations

import argparse
import time

from attnphase.theory.rank2_quadrature import qmc_rule
from attnphase.theory.rank2_solve import solve_rank2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alphas", default="0.01,0.1,0.5,1,1.5,2,4,10")
    ap.add_argument("--omegas", default="0,0.1,0.3,0.45")
    ap.add_argument("--qmc", type=int, default=64)
    a = ap.parse_args()
    rule = qmc_rule(a.qmc, 8)
    print("| omega | alpha | converged | iterations | q (each eig.) | V | D / lam | eps_t "
          "| CPU s |")
    print("| --- " * 9 + "|")
    for omega in (float(v) for v in a.omegas.split(",")):
        for alpha in (float(v) for v in a.alphas.split(",")):
            t = time.process_time()
            p = solve_rank2(alpha, omega, branch="trivial", rule=rule)
            V = p.state.V[0, 0]
            print(f"| {omega:g} | {alpha:g} | {p.converged} | {p.iterations} | "
                  f"{p.inv['q_eig1']:.4g} | {V:.4g} | {p.sigma**2 / V / p.lam:.3f} | "
                  f"{p.eps_t:.5g} | {time.process_time() - t:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
