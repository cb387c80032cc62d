"""Convergence of the brute-force gradient-flow reference in its step: plain gradient
descent (`--method gd`, explicit Euler) or classical Runge-Kutta (`rk4`) at step
c / lambda_max for several c, float64, each run until the RMS gradient entry is below
`--tol`, on one regime of bench_solver.py. Prints, per c, the end point (steps, flow time,
eps_t, theta, m) and a trace along the flow time, so that two step sizes can be compared at
equal flow time. `--flow` also runs the flow solver with the given options (FlowOptions)
and prints its end point and passes over X.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/gd_convergence.py \
        --regime '{"sigma": 1.0, "init": "positional"}' --method rk4 --c 0.6,0.3
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from bench_solver import config
from gd_flow_reference import lambda_max, rk4_step

from attnphase.data import generate
from attnphase.flow import FlowOptions, flow
from attnphase.metrics import overlaps
from attnphase.objective import Risk
from attnphase.student import initial_Q
from attnphase.train import grad_norm


def state(Q: torch.Tensor, R: torch.Tensor, g: torch.Tensor, ds, d: int, t: float) -> dict:
    """Flow time, eps_t, |theta|, |m| and RMS gradient of one student."""
    o = overlaps(Q[0, 0].numpy(), ds.Q_star, ds.P)
    return {"t": t, "eps_t": float(R) / d, "theta": float(np.linalg.norm(o.theta)),
            "m": float(np.linalg.norm(o.m)), "grad": float(grad_norm(g))}


def descend(risk: Risk, Q: torch.Tensor, c: float, tol: float, every: int, trace_dt: float,
            limit: int, ds, d: int, method: str = "gd") -> tuple[dict, list[dict]]:
    """Integrate the flow with steps h = c / lambda_max (re-estimated every `every` steps),
    by explicit Euler (`gd`: gradient descent, error O(c)) or `rk4` (error O(c^4)), to RMS
    gradient `tol`; returns the end state (with steps) and states every `trace_dt` of flow
    time."""
    steps, t, trace, next_t = 0, 0.0, [], 0.0
    while steps < limit:
        lr = c / lambda_max(risk, Q)
        for _ in range(every):
            R, g = risk.value_and_grad(Q)
            if t >= next_t:
                trace.append(state(Q, R, g, ds, d, t))
                next_t += trace_dt
            if float(grad_norm(g)) < tol:
                end = state(Q, R, g, ds, d, t)
                return {**end, "steps": steps}, trace
            Q = Q - lr * g if method == "gd" else rk4_step(risk, Q, g, lr)
            t += lr
            steps += 1
    R, g = risk.value_and_grad(Q)
    return {**state(Q, R, g, ds, d, t), "steps": steps, "limit": True}, trace


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--regime", type=json.loads, default={"sigma": 1.0, "init": "positional"})
    p.add_argument("--seed", type=int, default=None, help="overrides the regime's seed")
    p.add_argument("--c", type=lambda v: [float(x) for x in v.split(",") if x], default=[0.3])
    p.add_argument("--method", choices=["gd", "rk4"], default="gd")
    p.add_argument("--perturb", type=float, default=0.0,
                   help="start from Q0 + this x ||Q0|| x a random unit direction (seed 1)")
    p.add_argument("--flow", type=json.loads, default=[],
                   help='flow solver runs with these FlowOptions, a JSON list ([{}]: default)')
    p.add_argument("--tol", type=float, default=1e-7)
    p.add_argument("--every", type=int, default=500, help="steps between lambda_max updates")
    p.add_argument("--trace-dt", type=float, default=50.0, help="flow time between traces")
    p.add_argument("--limit", type=int, default=2_000_000)
    p.add_argument("--out", default=None, help="JSON lines file of the results")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)  # the power iterations' starts
    change = args.regime if args.seed is None else {**args.regime, "seed": args.seed}
    cfg = config(args.d, change)
    ds = generate(cfg)
    risk = Risk(torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None], cfg.lam)
    Q0 = torch.from_numpy(initial_Q(cfg.init, cfg.d, cfg.rank, ds.Q_star, ds.P, cfg.seed))
    if args.perturb:
        u = torch.randn(Q0.shape, generator=torch.Generator().manual_seed(1), dtype=Q0.dtype)
        Q0 = Q0 + args.perturb * Q0.norm() * u / u.norm()
    for c in args.c:
        start = time.perf_counter()
        end, trace = descend(risk, Q0[None, None].clone(), c, args.tol, args.every,
                             args.trace_dt, args.limit, ds, cfg.d, args.method)
        row = {"d": args.d, "regime": change, "method": args.method, "c": c,
               "perturb": args.perturb, **end,
               "wall_s": time.perf_counter() - start, "trace": trace}
        print(json.dumps({k: v for k, v in row.items() if k != "trace"}), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
    for options in args.flow:
        start = time.perf_counter()
        Q, R, g, steps, passes, _ = flow(risk, Q0[None, None], 100_000, 1e-6,
                                         options=FlowOptions(**options))
        print(json.dumps({"d": args.d, "regime": change, "method": "flow", "options": options,
                          **state(Q, R, g, ds, cfg.d, 0.0), "t": None, "steps": int(steps),
                          "passes": int(passes[0]), "wall_s": time.perf_counter() - start}),
              flush=True)


if __name__ == "__main__":
    main()
