"""Does a finer Gauss-Hermite rule give the semantic branch an exact fixed point near the
small-omega crossing?

At omega = 0, alpha = 0.6 (and 0.05, 0.675) the 8-node split rule's semantic iterates wander
in a small set instead of converging (docs/theory.md, "Every fixed point near the
crossing"): the map is discontinuous where the global prox switches basin. Here the same
theta starts are solved at larger rules; one JSON line per (rule, start): converged or not,
the last residual, and the end state's theta and eps_t (their spread over the starts is the
capped points' error).

    OMP_NUM_THREADS=1 python benchmarks/semantic_roughness.py --omega 0 --alpha 0.6
"""

from __future__ import annotations

import argparse
import json
import time

from attnphase.theory.fixed_point import solve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--omega", type=float, default=0.0)
    ap.add_argument("--alpha", type=float, default=0.6)
    ap.add_argument("--quads", default="8,16,20")
    ap.add_argument("--thetas", default="0.15,0.45,0.9", help="theta_th / rho of the starts")
    args = ap.parse_args()
    rho = 0.25
    for quad in (int(q) for q in args.quads.split(",")):
        for t in (float(v) for v in args.thetas.split(",")):
            start = time.process_time()
            p = solve(args.alpha, args.omega, branch="semantic", quad=quad,
                      init=(rho, 0.0, t * rho, 10.0))
            print(json.dumps({"omega": args.omega, "alpha": args.alpha, "quad": quad,
                              "start": t, "converged": p.converged,
                              "iterations": p.iterations, "residual": p.residual,
                              "theta": p.theta, "q": p.q, "eps_t": p.eps_t, "eps_g": p.eps_g,
                              "cpu_s": round(time.process_time() - start, 1)}), flush=True)


if __name__ == "__main__":
    main()
