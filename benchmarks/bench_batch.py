"""A batch of students against the same students trained one at a time (issue 10, item 3).

Three data sets (seeds 0-2) at d = 1000, each with the semantic and the positional student,
solved by the default solver (a) as one batch (B = 3, c = 2), (b) one data set at a time
(c = 2, as a sweep batches them) and (c) one student at a time; wall time, steps and passes
over X per data set, and the largest difference in the risk reached.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_batch.py [--alpha 0.5]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from attnphase.config import Config
from attnphase.data import generate
from attnphase.objective import Risk
from attnphase.student import initial_Q
from attnphase.train import solve

INITS = ("semantic", "positional")


def timed(X: torch.Tensor, Y: torch.Tensor, Q0: torch.Tensor, lam: float):
    start = time.perf_counter()
    out = solve(Risk(X, Y, lam), Q0, "flow", 2000, 1.0, 1e-6)
    return time.perf_counter() - start, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--sigma", type=float, default=0.5)
    args = p.parse_args()
    torch.set_num_threads(1)
    cfgs = [Config(d=args.d, alpha=args.alpha, sigma=args.sigma, omega=0.3, seed=s)
            for s in range(3)]
    sets = [generate(cfg) for cfg in cfgs]
    X = torch.stack([torch.from_numpy(ds.X) for ds in sets])
    Y = torch.stack([torch.from_numpy(ds.Y) for ds in sets])
    Q0 = torch.stack([torch.stack([torch.from_numpy(initial_Q(i, args.d, 1, ds.Q_star, ds.P,
                                                              cfg.seed)) for i in INITS])
                      for cfg, ds in zip(cfgs, sets, strict=True)])
    lam = cfgs[0].lam
    timed(X[1:2], Y[1:2], Q0[1:2, 1:], lam)  # warm-up: the first solve pays one-time costs
    batch_s, batch = timed(X, Y, Q0, lam)
    sets_s = students_s = diff = 0.0
    rows = []
    for b in range(3):
        t, one = timed(X[b:b + 1], Y[b:b + 1], Q0[b:b + 1], lam)
        sets_s += t
        alone = [timed(X[b:b + 1], Y[b:b + 1], Q0[b:b + 1, c:c + 1], lam) for c in range(2)]
        students_s += sum(t for t, _ in alone)
        for c, (_, r) in enumerate(alone):
            diff = max(diff, abs(float(r.risk) / float(batch.risk[b, c]) - 1))
        rows.append(f"| seed {b} | {batch.steps[b].tolist()} | {int(batch.passes[b])} | "
                    f"{int(one.passes[0])} | {t:.2f} | "
                    + " | ".join(f"{int(r.steps)}, {int(r.passes[0])}, {s:.2f}"
                                 for s, r in alone) + " |")
    print(f"d = {args.d}, alpha {args.alpha}, sigma {args.sigma}, omega 0.3, torch threads 1, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| data set | steps (sem, pos) in the batch | passes in the batch | passes alone "
          "(c = 2) | wall alone (c = 2) s | semantic alone: steps, passes, s | "
          "positional alone: steps, passes, s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print(f"\nwall: batch (B = 3, c = 2) {batch_s:.2f} s; data sets one at a time {sets_s:.2f} s; "
          f"students one at a time {students_s:.2f} s; largest relative risk difference "
          f"{diff:.1e}")


if __name__ == "__main__":
    main()
