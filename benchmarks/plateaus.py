"""Where the paper's GD protocol (lr 0.15, 5000 steps) stops with a gradient far from zero.

For each (alpha, omega, sigma) of a grid and both initialisations, full-batch GD as the
paper trains, then the default solver (flow) from the same start: the table gives GD's final
RMS gradient entry, the result's status (docs/solver.md: 'plateau' above 100 x tol), and
how far GD's eps_t and overlaps are from the flow's limit. Students of one alpha are trained
as one batch (one data set per (omega, sigma), two inits each).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/plateaus.py [--d 200]
"""

from __future__ import annotations

import argparse

import torch

from attnphase.config import Config
from attnphase.data import generate
from attnphase.metrics import overlaps
from attnphase.objective import Risk
from attnphase.student import initial_Q
from attnphase.train import solve, status

INITS = ("semantic", "positional")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=200)
    p.add_argument("--alphas", default="0.25,0.5,1,2,4")
    p.add_argument("--omegas", default="0.1,0.3,0.5,0.7,0.9")
    p.add_argument("--sigmas", default="0.5,1.0")
    p.add_argument("--seed", type=int, default=100)
    args = p.parse_args()
    torch.set_num_threads(1)
    grid = [(w, s) for w in map(float, args.omegas.split(",")) for s in map(float,
                                                                           args.sigmas.split(","))]
    print(f"d = {args.d}, seed {args.seed}, lambda 0.01; GD: lr 0.15, 5000 steps; tol 1e-6")
    print("| alpha | omega | sigma | init | GD grad_norm | status | eps_t GD / flow - 1 "
          "| theta GD, flow | m GD, flow |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for alpha in map(float, args.alphas.split(",")):
        sets = [generate(Config(d=args.d, alpha=alpha, omega=w, sigma=s, seed=args.seed))
                for w, s in grid]
        X = torch.stack([torch.from_numpy(ds.X) for ds in sets])
        Y = torch.stack([torch.from_numpy(ds.Y) for ds in sets])
        Q0 = torch.stack([torch.stack([torch.from_numpy(initial_Q(i, args.d, 1, ds.Q_star, ds.P,
                                                                  args.seed)) for i in INITS])
                          for ds in sets])
        risk = Risk(X, Y, 0.01)
        gd = solve(risk, Q0, "gd", 5000, 0.15, 1e-6)
        fl = solve(risk, Q0, "flow", 2000, 1.0, 1e-6)
        for b, ((w, s), ds) in enumerate(zip(grid, sets, strict=True)):
            for c, init in enumerate(INITS):
                o_gd = overlaps(gd.Q[b, c].numpy(), ds.Q_star, ds.P).public()
                o_fl = overlaps(fl.Q[b, c].numpy(), ds.Q_star, ds.P).public()
                gn = float(gd.grad_norm[b, c])
                rel = float(gd.risk[b, c] / fl.risk[b, c] - 1)
                print(f"| {alpha} | {w} | {s} | {init} | {gn:.1e} | {status(gn, 1e-6, 'gd')} "
                      f"| {rel:+.1e} | {o_gd['theta']:.3f}, {o_fl['theta']:.3f} "
                      f"| {o_gd['m']:.3f}, {o_fl['m']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
