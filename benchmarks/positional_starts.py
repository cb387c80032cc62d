"""Every positional (theta = 0) fixed point from a grid of starts around the simulations'.

At alpha 1.5, omega 0.3 the positional students sit at q ~ 0.189, m ~ 0.2586 for d = 500 to
8000 while the theory's positional fixed point has q 0.198, m 0.2547 (docs/theory.md, "The
positional branch against the simulations"): is there another theta = 0 solution near
the simulations? Starts: q in Q_STARTS, m in M_STARTS (public units, the simulations' values
among them), V in {0.5, 1, 2} x the default solve's V; one JSON line per start.

    OMP_NUM_THREADS=1 python benchmarks/positional_starts.py --alpha 1.5 --omega 0.3 --quad 12
"""

from __future__ import annotations

import argparse
import itertools
import json

from attnphase.theory.fixed_point import solve

Q_STARTS = (0.12, 0.189, 0.25, 0.4)
M_STARTS = (0.15, 0.2586, 0.35)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alpha", type=float, default=1.5)
    ap.add_argument("--omega", type=float, default=0.3)
    ap.add_argument("--sigma", type=float, default=0.5)
    ap.add_argument("--quad", type=int, default=12)
    args = ap.parse_args()
    rho = args.sigma**2
    ref = solve(args.alpha, args.omega, args.sigma, branch="positional", quad=args.quad)
    for q, m, v in itertools.product(Q_STARTS, M_STARTS, (0.5, 1.0, 2.0)):
        p = solve(args.alpha, args.omega, args.sigma, branch="positional", quad=args.quad,
                  init=(q * rho, m, 0.0, v * ref.V))
        print(json.dumps({"start_q": q, "start_m": m, "start_V": v * ref.V, "q": p.q, "m": p.m,
                          "V": p.V, "eps_t": p.eps_t, "eps_g": p.eps_g,
                          "converged": p.converged, "iterations": p.iterations}), flush=True)


if __name__ == "__main__":
    main()
