"""The flow's screening pass against the plain flow, side by side, on bench_solver's regimes.

Per regime (d = 1000 by default): the default flow (a screening pass at 100 x rtol; a
student whose path meets negative curvature restarts at rtol, flow.py) and the same flow
without the screen (`FlowOptions(screen=None)`, the default before version 0.4.0), both at
rtol 1e-5 on the same data: steps, passes over X, wall time, the tolerance of the end point
(1e-3: the screening pass was kept; 1e-5: the path bent back and was re-run), and whether
the two end at the same point (bench_solver.same_point).

    OMP_NUM_THREADS=1 python benchmarks/bench_screen.py [--rows 0,3,...] [--d 1000] \
        [--options '{"patience": 10}']
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from bench_solver import REFERENCE, SLICES, config, problem, same_point, summary

from attnphase.flow import FlowOptions, flow
from attnphase.objective import Risk


def run(cfg, options: FlowOptions) -> dict:
    ds, X, Y, Q0 = problem(cfg)
    start = time.perf_counter()
    Q, R, _, steps, passes, rtol = flow(Risk(X, Y, cfg.lam), Q0, 20_000, cfg.tol,
                                        options=options)
    return {"s": time.perf_counter() - start, "steps": int(steps), "passes": int(passes[0]),
            "rtol": float(rtol), "point": summary(Q, R, ds, cfg.d)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--rows", type=lambda v: [int(k) for k in v.split(",")], default=None,
                   help="these slices only (indices into bench_solver.SLICES)")
    p.add_argument("--options", type=json.loads, default={},
                   help="FlowOptions fields of the screened run, as JSON")
    args = p.parse_args()
    torch.set_num_threads(1)
    chosen = [SLICES[k] for k in args.rows] if args.rows is not None else SLICES
    print(f"d = {args.d}; reference: {REFERENCE}; torch threads 1")
    cols = ["regime", "end point's rtol", "steps", "passes", "wall s", "plain: steps",
            "passes", "wall s", "passes / plain", "wall / plain", "same point", "eps_t"]
    print("| " + " | ".join(cols) + " |")
    print("|" + " --- |" * len(cols))
    for change in [{}] + chosen:
        cfg = config(args.d, change)
        new = run(cfg, FlowOptions(**args.options))
        old = run(cfg, FlowOptions(screen=None))
        name = ", ".join(f"{k} {v}" for k, v in change.items()) or "reference"
        cells = [name, f"{new['rtol']:g}", new["steps"], new["passes"], f"{new['s']:.2f}",
                 old["steps"], old["passes"], f"{old['s']:.2f}",
                 f"{new['passes'] / old['passes']:.2f}", f"{new['s'] / old['s']:.2f}",
                 "yes" if same_point(new["point"], old["point"]) else "NO",
                 f"{new['point']['eps_t']:.8f}"]
        print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
