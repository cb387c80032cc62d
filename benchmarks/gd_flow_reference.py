"""Gradient flow by brute force: classical Runge-Kutta (`--method rk4`, the default, error
O(h^4)) or plain gradient descent (`gd`, explicit Euler, error O(h)) with a step well inside
the stability limit (h = c / lambda_max, lambda_max re-estimated by power iteration on exact
Hessian-vector products every `--every` steps), run until the RMS gradient entry is below
`--tol`. It is the slow reference against which bench_solver.py's table is checked on the
hard regimes; it needs a GPU to be quick at d = 1000 (same data as the CPU: numpy seeds).
Gradient descent is first order: its bias moves the end point where the path crosses
plateaus (BENCHMARKS.md, "The flow's limit from the sigma 1.0 positional start"), so it is
no reference there.

    python benchmarks/gd_flow_reference.py --device cuda [--c 0.6] [--tol 1e-7]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from bench_solver import REFERENCE, config

from attnphase.data import generate
from attnphase.metrics import overlaps
from attnphase.objective import Risk
from attnphase.student import initial_Q
from attnphase.train import grad_norm

HARD = [{"sigma": 1.0, "init": "positional"}, {"rank": 2, "init": "positional"},  # open
        {"omega": 0.7, "seed": 100}, {"sigma": 0.7, "init": "random"},
        {"omega": 0.5, "alpha": 0.5}, {"alpha": 0.05}, {}, {"sigma": 1.0, "lam": 0.001},
        {"init": "random"}, {"sigma": 1.0}, {"omega": 0.9}]


def lambda_max(risk: Risk, Q: torch.Tensor, iters: int = 30) -> float:
    """Largest Hessian eigenvalue at Q by power iteration."""
    _, _, curv = risk.value_grad_curvature(Q)
    v = torch.randn_like(Q)
    lam = 1.0
    for _ in range(iters):
        w = risk.hvp(curv, v)
        lam = float((w * v).sum() / (v * v).sum())
        v = w / w.norm()
    return abs(lam)


def rk4_step(risk: Risk, Q: torch.Tensor, g: torch.Tensor, h: float) -> torch.Tensor:
    """One classical Runge-Kutta step of dQ/dt = -grad R from Q (gradient g there)."""
    k2 = risk.value_and_grad(Q - h / 2 * g)[1]
    k3 = risk.value_and_grad(Q - h / 2 * k2)[1]
    k4 = risk.value_and_grad(Q - h * k3)[1]
    return Q - h / 6 * (g + 2 * k2 + 2 * k3 + k4)


def descend(risk: Risk, Q: torch.Tensor, c: float, tol: float, every: int, limit: int,
            method: str = "rk4"):
    steps = 0
    while steps < limit:
        lr = c / lambda_max(risk, Q)
        for _ in range(every):
            R, g = risk.value_and_grad(Q)
            Q = Q - lr * g if method == "gd" else rk4_step(risk, Q, g, lr)
        steps += every
        gn = float(grad_norm(g))
        if gn < tol:
            break
    return Q, float(R), gn, steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--device", default="cuda")
    p.add_argument("--method", choices=["rk4", "gd"], default="rk4")
    p.add_argument("--c", type=float, default=0.6)
    p.add_argument("--tol", type=float, default=1e-7)
    p.add_argument("--every", type=int, default=2000)
    p.add_argument("--limit", type=int, default=400_000)
    p.add_argument("--out", default=None, help="JSON lines file of the results")
    args = p.parse_args()
    print(f"reference {REFERENCE}, d = {args.d}, {args.method}, h = {args.c} / lambda_max")
    for change in HARD:
        cfg = config(args.d, change)
        ds = generate(cfg)
        X = torch.from_numpy(ds.X)[None].to(args.device)
        Y = torch.from_numpy(ds.Y)[None].to(args.device)
        Q0 = torch.from_numpy(initial_Q(cfg.init, cfg.d, cfg.rank, ds.Q_star, ds.P, cfg.seed))
        start = time.perf_counter()
        Q, R, gn, steps = descend(Risk(X, Y, cfg.lam), Q0[None, None].to(args.device),
                                  args.c, args.tol, args.every, args.limit, args.method)
        o = overlaps(Q[0, 0].cpu().numpy(), ds.Q_star, ds.P)
        row = {"regime": change, "method": args.method, "c": args.c, "eps_t": R / cfg.d,
               "grad_norm": gn, "steps": steps,
               "theta": np.abs(o.theta).max().item(), "m": np.abs(o.m).max().item(),
               "q": np.linalg.eigvalsh(o.q).tolist(), "wall_s": time.perf_counter() - start}
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
