"""The default flow solver's cost and end point on a few regimes of bench_solver.py, one JSON
line per regime: steps, passes over X, wall time, eps_t, theta, m. It imports only what every
version of the solver has, so that two versions can be run side by side by switching
PYTHONPATH (BENCHMARKS.md, "The time-error control"):

    for row in 0 1 2 3 4 5; do for src in OLD/src src; do
        OMP_NUM_THREADS=1 nice -n 10 PYTHONPATH=$src .venv/bin/python \\
            benchmarks/bench_time_error.py --rows $row --label $src; done; done
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from bench_solver import config

from attnphase.data import generate
from attnphase.flow import FlowOptions, flow
from attnphase.metrics import overlaps
from attnphase.objective import Risk
from attnphase.student import initial_Q

ROWS = [{}, {"sigma": 1.0, "init": "positional"}, {"sigma": 0.7}, {"lam": 0.001},
        {"rank": 2}, {"alpha": 0.05}, {"alpha": 0.5}, {"sigma": 0.7, "init": "random"},
        {"omega": 0.7, "seed": 100}, {"rank": 2, "init": "positional"}]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--rows", type=lambda v: [int(k) for k in v.split(",")],
                   default=list(range(len(ROWS))), help="indices into ROWS")
    p.add_argument("--regimes", type=json.loads, default=None,
                   help="a JSON list of regimes to run instead of ROWS (all of them)")
    p.add_argument("--tol", type=float, default=None, help="RMS gradient (default: config)")
    p.add_argument("--options", type=json.loads, default=None,
                   help="FlowOptions as JSON (a solver version that has them)")
    p.add_argument("--label", default="", help="printed with each row (e.g. the source)")
    args = p.parse_args()
    torch.set_num_threads(1)
    rows = args.regimes or ROWS
    for k in range(len(rows)) if args.regimes else args.rows:
        cfg = config(args.d, rows[k])
        ds = generate(cfg)
        risk = Risk(torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None], cfg.lam)
        Q0 = torch.from_numpy(initial_Q(cfg.init, cfg.d, cfg.rank, ds.Q_star, ds.P,
                                        cfg.seed))[None, None]
        start = time.perf_counter()
        kw = {"options": FlowOptions(**args.options)} if args.options else {}
        Q, R, g, steps, passes, _ = flow(risk, Q0, 100_000, args.tol or cfg.tol, **kw)
        wall = time.perf_counter() - start
        o = overlaps(Q[0, 0].numpy(), ds.Q_star, ds.P)
        print(json.dumps({"label": args.label, "row": k, "regime": rows[k],
                          "steps": int(steps), "passes": int(passes[0]), "wall_s": wall,
                          "eps_t": float(R) / cfg.d, "theta": float(np.linalg.norm(o.theta)),
                          "m": float(np.linalg.norm(o.m)),
                          "grad": float(g.pow(2).mean().sqrt())}), flush=True)


if __name__ == "__main__":
    main()
