"""The theta = 0 equations for the appendix A: is there a fixed point with m > 0?

For each m, (q, V) are iterated (damped, global prox, split rule, 8 nodes) to their fixed
point at that m; the map's m-component F_m is then compared with m. A fixed point with
m > 0 needs F_m / m = 1 (docs/theory.md, "The appendix A").

    OMP_NUM_THREADS=1 python benchmarks/appendix_a_profile.py 0.5 0.1
"""

from __future__ import annotations

import sys

import numpy as np

from attnphase.theory.channel import Problem, check_A
from attnphase.theory.fixed_point import _Channel, order_params, solve
from attnphase.theory.quadrature import line_rule

A = [[0.3, 0.7], [0.8, 0.2]]
MS = (0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.45)


def main(alpha: float, omega: float) -> None:
    start = solve(alpha, omega, A=A, branch="trivial")
    pb = Problem(alpha, omega, 0.5, 0.01, check_A(A), "positional")
    ch = _Channel(pb, line_rule(8, even_in_eta=True), 15, True)

    def F(x: np.ndarray) -> np.ndarray:
        return order_params(ch.conjugates(x, global_search=True), pb)

    q, V = start.th["q_th"], start.th["V"]
    for m in MS:
        it = 0
        while it < 200:
            fx = F(np.array([q, m, 0.0, V]))
            nq, nV = 0.5 * q + 0.5 * fx[0], 0.5 * V + 0.5 * fx[3]
            if abs(nq - q) < 1e-9 * q and abs(nV - V) < 1e-7 * V:
                break
            q, V, it = nq, nV, it + 1
        fx = F(np.array([q, m, 0.0, V]))
        print(f"m {m:5.2f} q_th {q:.5f} V {V:.3f} F_m {fx[1]:.5f} F_m/m {fx[1] / m:.4f} "
              f"iterations {it}", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), float(sys.argv[2]))
