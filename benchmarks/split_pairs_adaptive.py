"""The split rule's two nearby positional points at small omega, solved with the adaptive rule.

At omega 0.075 (alpha 0.725) and 0.1 (alpha 0.775) the enumeration of docs/theory.md
("Every fixed point near the crossing") found two positional (theta = 0) fixed points of the
8-node split rule, ~2% apart in m. Each is re-solved with the split rule from its stored
state, then corrected by `solve_adaptive` at 6 and 8 eta nodes: one solution resolved twice
by the split rule ends at one adaptive point from both. One JSON line per start.

    OMP_NUM_THREADS=1 python benchmarks/split_pairs_adaptive.py
"""

from __future__ import annotations

import json
import time

from attnphase.theory.fixed_point import solve
from attnphase.theory.refined import solve_adaptive

# (omega, alpha, [(q_th, m_th, theta_th, V) of each split-rule point]) from
# results/paper/theory_small_omega_fixed_points.csv
CASES = [(0.075, 0.725, [(0.050018, 0.183303, 0.0, 21.688428),
                         (0.050392, 0.179709, 0.0, 21.957837)]),
         (0.1, 0.775, [(0.051094, 0.187836, 0.0, 21.320042),
                       (0.050815, 0.190304, 0.0, 21.131131)])]


def main() -> None:
    for omega, alpha, starts in CASES:
        for x0 in starts:
            t0 = time.process_time()
            sp = solve(alpha, omega, branch="positional", quad=8, init=x0)
            row = {"omega": omega, "alpha": alpha, "start_m": x0[1], "split_m": sp.m,
                   "split_q": sp.q, "split_eps_t": sp.eps_t, "split_converged": sp.converged}
            for n in (6, 8):
                ad = solve_adaptive(alpha, omega, branch="positional", n_eta=n, init=sp)
                row.update({f"adaptive{n}_{k}": getattr(ad, k)
                            for k in ("m", "q", "V", "eps_t", "eps_g", "converged")})
            row["cpu_s"] = time.process_time() - t0
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
