"""The screening pass over a sample of a figure's grid: what it saves on a whole sweep.

Draws `--points` grid points at random (fixed seed) from a sweep config (configs/paper/),
each a data set with every init of the grid as one batch (as a sweep trains them), and
solves each twice, side by side: the default flow (screening pass) and the plain flow
(`FlowOptions(screen=None)`, version 0.3.x). Prints the total passes and wall time of both,
their ratios, how many students kept a loose end (rtol 1e-3), and every student whose end
point differs (eps_t beyond 1e-6 relative or overlaps beyond 0.01).

    OMP_NUM_THREADS=1 python benchmarks/bench_screen_grid.py configs/paper/appendix-A.yaml \
        [--points 30]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict

import numpy as np
import torch

from attnphase.data import generate
from attnphase.experiment import data_key
from attnphase.flow import FlowOptions
from attnphase.metrics import overlaps
from attnphase.objective import Risk
from attnphase.student import initial_Q
from attnphase.sweep.grid import load_spec
from attnphase.train import solve


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", help="a sweep config (YAML)")
    p.add_argument("--points", type=int, default=30, help="data sets drawn from the grid")
    p.add_argument("--seed", type=int, default=0, help="of the draw")
    args = p.parse_args()
    torch.set_num_threads(1)
    units: dict[tuple, list] = defaultdict(list)
    for cfg in load_spec(args.config).configs:
        units[data_key(cfg)].append(cfg)
    keys = random.Random(args.seed).sample(sorted(units, key=str), min(args.points,
                                                                        len(units)))
    total = {"screen": [0, 0.0], "plain": [0, 0.0]}
    kept = students = 0
    moved = []
    for key in keys:
        cfgs = units[key]
        ds = generate(cfgs[0])
        X, Y = torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None]
        Q0 = torch.stack([torch.from_numpy(initial_Q(c.init, c.d, c.rank, ds.Q_star, ds.P,
                                                     c.seed)) for c in cfgs])[None]
        lam = torch.tensor([[c.lam for c in cfgs]], dtype=torch.float64)
        out = {}
        for name, options in (("screen", FlowOptions()), ("plain", FlowOptions(screen=None))):
            start = time.perf_counter()
            out[name] = solve(Risk(X, Y, lam), Q0, "flow", 20_000, 1.0, cfgs[0].tol,
                              options=options)
            total[name][0] += int(out[name].passes[0])
            total[name][1] += time.perf_counter() - start
        for j, cfg in enumerate(cfgs):
            students += 1
            kept += bool(out["screen"].rtol[0, j] > FlowOptions().rtol)
            a, b = (overlaps(out[n].Q[0, j].numpy(), ds.Q_star, ds.P) for n in out)
            ea, eb = (float(out[n].risk[0, j]) for n in out)
            far = any(not np.allclose(np.abs(x), np.abs(y), atol=0.01)
                      for x, y in ((a.m, b.m), (a.theta, b.theta), (a.q, b.q)))
            if abs(ea - eb) > 1e-6 * abs(eb) or far:
                moved.append((cfg.alpha, cfg.omega, cfg.sigma, cfg.seed, cfg.init,
                              ea / cfg.d, eb / cfg.d))
    (ps, ws), (pp, wp) = total["screen"], total["plain"]
    print(f"{args.config}: {len(keys)} data sets, {students} students; passes "
          f"{ps} against {pp} ({ps / pp:.2f}x), wall {ws:.1f} s against {wp:.1f} s "
          f"({ws / wp:.2f}x); {kept} students kept a loose end; end points that differ: "
          f"{len(moved)}")
    for m in moved:
        alpha, omega, sigma, seed, init, ea, eb = m
        print(f"  alpha {alpha:.4g} omega {omega:.3g} sigma {sigma:.2g} seed {seed} {init}: "
              f"eps_t {ea:.9g} (screen) {eb:.9g}")


if __name__ == "__main__":
    main()
