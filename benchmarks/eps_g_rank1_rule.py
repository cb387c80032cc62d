"""eps_g of rank-one students (4 Gaussian variables): the tensor Gauss-Hermite rule's error
against a large randomised quasi-Monte Carlo reference (8 scramblings of 2^20 Sobol points,
its standard error stated), for trained students across sigma, omega, lambda and alpha.

    OMP_NUM_THREADS=1 python benchmarks/eps_g_rank1_rule.py [--d 100]

Prints one row per student: q, the reference with its relative standard error, and the
signed relative error of the tensor rule at 12, 16, 22 (the default) and 30 points per
variable.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from attnphase.config import Config
from attnphase.data import generate
from attnphase.exact import eps_g_exact, eps_g_qmc
from attnphase.experiment import train_many

CASES = [dict(sigma=0.5, omega=0.3, alpha=1.0), dict(sigma=0.5, omega=0.3, alpha=2.0, lam=0.001),
         dict(sigma=0.5, omega=0.9, alpha=0.5), dict(sigma=0.3, omega=0.0, alpha=3.0),
         dict(sigma=0.7, omega=0.3, alpha=1.5), dict(sigma=1.0, omega=0.3, alpha=1.5),
         dict(sigma=1.0, omega=0.7, alpha=4.0, lam=0.001)]
POINTS = (12, 16, 22, 30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"d = {args.d}, seed {args.seed}, the default flow solver\n")
    print("| sigma | omega | lambda | alpha | init | q | reference (rel. s.e.) | "
          + " | ".join(f"{p} points" for p in POINTS) + " |")
    print("|" + " --- |" * (7 + len(POINTS)))
    for kw in CASES:
        cfgs = [Config(d=args.d, seed=args.seed, init=i, **kw) for i in ("semantic", "positional")]
        for cfg, res in zip(cfgs, train_many(cfgs), strict=True):
            teacher, Q = generate(cfg).teacher(), np.asarray(res.Q)
            ref, se = eps_g_qmc(teacher, Q, log2_points=20, replicates=8)
            errs = " | ".join(f"{(eps_g_exact(teacher, Q, points=p) - ref) / ref:+.1e}"
                              for p in POINTS)
            print(f"| {cfg.sigma} | {cfg.omega} | {cfg.lam} | {res.alpha:g} | {cfg.init} | "
                  f"{float(np.max(res.q)):.2f} | {ref:.8g} ({se / ref:.0e}) | {errs} |",
                  flush=True)


if __name__ == "__main__":
    main()
