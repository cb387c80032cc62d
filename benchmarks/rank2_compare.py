"""Table for docs/theory_rank2.md: rank-2 theory against the d = 1000 simulations.

Reads the simulations of `benchmarks/rank2_sims.py` (JSON lines) and the theory of
`attnphase theory curve --rank 2 --csv` (or `benchmarks/rank2_theory.py`, JSON lines)
and prints a markdown table in invariant form:
simulations per (alpha, init) as mean +- standard error over seeds, split into students
that kept two equal columns (q_eig2 < 1e-3: a rank-1 student, compared with the rank-1
positional theory) and the others, next to the theory's branches.

    python benchmarks/rank2_compare.py --sims rank2_sims.jsonl --theory rank2_theory.csv
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from attnphase.theory import solve

KEYS = ("eps_t", "eps_g", "q_eig1", "q_eig2", "theta_norm", "m_norm")


def _fmt(vals: np.ndarray) -> str:
    if len(vals) == 1:
        return f"{vals[0]:.4g}"
    return f"{vals.mean():.4g} ± {vals.std(ddof=1) / np.sqrt(len(vals)):.2g}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", required=True)
    ap.add_argument("--theory", required=True)
    a = ap.parse_args()
    sims = pd.read_json(a.sims, lines=True)
    theory = (pd.read_json(a.theory, lines=True) if a.theory.endswith(".jsonl")
              else pd.read_csv(a.theory))
    print("| alpha | source | n | " + " | ".join(KEYS) + " |")
    print("| --- " * (len(KEYS) + 3) + "|")
    for alpha in sorted(sims["alpha"].unique()):
        for init in ("semantic", "random", "positional"):
            sub = sims[(sims["alpha"] == alpha) & (sims["init"] == init)]
            for label, part in (("", sub[sub["q_eig2"] >= 1e-3]),
                                (", 2 equal columns", sub[sub["q_eig2"] < 1e-3])):
                if len(part):
                    cells = " | ".join(_fmt(part[k].to_numpy()) for k in KEYS)
                    print(f"| {alpha:g} | sim. {init} init{label} | {len(part)} | {cells} |")
        for _, row in theory[np.isclose(theory["alpha"], alpha)].iterrows():
            cells = " | ".join(f"{row[k]:.4g} ± {row['err_' + k]:.1g}" if k.startswith("eps")
                               else f"{row[k]:.4g}" for k in KEYS)
            mark = "" if row["converged"] else " (not converged)"
            print(f"| {alpha:g} | theory {row['branch']}{mark} | | {cells} |")
        p = solve(float(alpha), float(sims["omega"].iloc[0]), branch="positional")
        vals = (p.eps_t, p.eps_g, p.q, 0.0, 0.0, p.m)
        print(f"| {alpha:g} | rank-1 theory positional | | "
              + " | ".join(f"{v:.4g}" for v in vals) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
