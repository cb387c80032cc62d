"""Rank-2 student of a rank-1 teacher at d = 1000: simulations for docs/theory_rank2.md.

Runs `attnphase train --rank 2 --teacher-rank 1` for each (alpha, init, seed) and appends one
JSON line per run to the output file, with the order parameters in invariant form
(eigenvalues of q, |theta|, |m| and the per-column values, column 1 the more semantic one).

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/rank2_sims.py --out rank2_sims.jsonl
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np


def invariants(run: dict) -> dict:
    """Rotation-invariant summaries of q (2 x 2), theta (2,), m (2,) of one run."""
    q = np.asarray(run["q"], dtype=float)
    theta = np.asarray(run["theta"], dtype=float).reshape(-1)
    m = np.asarray(run["m"], dtype=float).reshape(-1)
    order = np.argsort(-np.abs(theta))
    ev = np.linalg.eigvalsh(q)
    return {"q_eig1": float(ev[1]), "q_eig2": float(ev[0]),
            "theta_norm": float(np.linalg.norm(theta)), "m_norm": float(np.linalg.norm(m)),
            "theta_1": float(abs(theta[order[0]])), "theta_2": float(abs(theta[order[1]])),
            "m_1": float(abs(m[order[0]])), "m_2": float(abs(m[order[1]])),
            "q_11": float(q[order[0], order[0]]), "q_22": float(q[order[1], order[1]])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alphas", default="0.5,1.0,2.0")
    ap.add_argument("--omega", type=float, default=0.3)
    ap.add_argument("--inits", default="semantic,positional,random")
    ap.add_argument("--seeds", default="100,101,102,103,104")
    ap.add_argument("--d", type=int, default=1000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    for alpha in a.alphas.split(","):
        for init in a.inits.split(","):
            for seed in a.seeds.split(","):
                cmd = [sys.executable, "-m", "attnphase.cli", "train", "--rank", "2",
                       "--teacher-rank", "1", "--d", str(a.d), "--alpha", alpha,
                       "--omega", str(a.omega), "--init", init, "--seed", seed, "--json"]
                run = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                text=True).stdout)
                keep = {k: run[k] for k in ("alpha", "omega", "d", "seed", "init", "eps_g",
                                            "eps_t", "converged", "q_star")}
                with open(a.out, "a") as fh:
                    fh.write(json.dumps({**keep, **invariants(run)}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
