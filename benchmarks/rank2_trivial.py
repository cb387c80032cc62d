"""Where the rank-2 trivial branch (m = theta = 0, q and V isotropic) exists: a cold solve
at every (alpha, omega) of a grid, its convergence, q, V and the smallest D / lam.
`--anisotropy`: instead, the Jacobian of the m = theta = 0 map without the isotropy
constraint at the fixed point, in the anisotropic direction ((q11 - q22) / 2,
(V11 - V22) / 2), by central differences (the rule's own anisotropy cancels): an eigenvalue
above 1 makes the isotropic point unstable to anisotropy.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/rank2_trivial.py --qmc 64
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/rank2_trivial.py --qmc 256 \
        --anisotropy --alphas 0.5,1.5,4 --omegas 0.3
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from attnphase.theory.channel import Problem
from attnphase.theory.rank2_equations import Channel2, order_params
from attnphase.theory.rank2_quadrature import qmc_rule
from attnphase.theory.rank2_solve import solve_rank2
from attnphase.theory.rank2_state import State2


def anisotropic_jacobian(p, rule, rel: float = 0.05) -> np.ndarray:
    """2 x 2 Jacobian of the unconstrained m = theta = 0 map at the isotropic point p in
    (a_q, a_V) = ((q11 - q22) / 2, (V11 - V22) / 2), steps `rel` of q0, V0."""
    pb = Problem(p.alpha, p.omega, p.sigma, p.lam, p.A, "positional")  # theta = 0: thh = 0
    ch = Channel2(pb, rule.nodes, rule.weights)
    q0, V0 = p.state.q[0, 0], p.state.V[0, 0]
    steps = np.array([rel * q0, rel * V0])
    out = np.zeros((2, 2))
    for j in range(2):
        images = []
        for sign in (1.0, -1.0):
            d = sign * steps[j] * np.diag([1.0, -1.0])
            s = State2(q0 * np.eye(2) + (d if j == 0 else 0), np.zeros(2), np.zeros(2),
                       V0 * np.eye(2) + (d if j == 1 else 0))
            h = dataclasses.replace(ch.hats(s, ch.per_node(s, True)), mh=np.zeros(2))
            new = order_params(h, pb)
            images.append([(new.q[0, 0] - new.q[1, 1]) / 2, (new.V[0, 0] - new.V[1, 1]) / 2])
        out[:, j] = (np.array(images[0]) - np.array(images[1])) / (2 * steps[j])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alphas", default="0.01,0.1,0.5,1,1.5,2,4,10")
    ap.add_argument("--omegas", default="0,0.1,0.3,0.45")
    ap.add_argument("--qmc", type=int, default=64)
    ap.add_argument("--anisotropy", action="store_true")
    a = ap.parse_args()
    rule = qmc_rule(a.qmc, 8)
    if a.anisotropy:
        for omega in (float(v) for v in a.omegas.split(",")):
            for alpha in (float(v) for v in a.alphas.split(",")):
                p = solve_rank2(alpha, omega, branch="trivial", rule=rule)
                J = anisotropic_jacobian(p, rule)
                print(f"omega {omega:g} alpha {alpha:g} converged {p.converged} J "
                      f"{np.round(J, 4).tolist()} eigenvalues "
                      f"{np.round(np.linalg.eigvals(J), 4).tolist()}", flush=True)
        return 0
    print("| omega | alpha | converged | iterations | q (each eig.) | V | D / lam | eps_t "
          "| CPU s |")
    print("| --- " * 9 + "|")
    for omega in (float(v) for v in a.omegas.split(",")):
        for alpha in (float(v) for v in a.alphas.split(",")):
            t = time.process_time()
            p = solve_rank2(alpha, omega, branch="trivial", rule=rule)
            V = p.state.V[0, 0]
            print(f"| {omega:g} | {alpha:g} | {p.converged} | {p.iterations} | "
                  f"{p.inv['q_eig1']:.4g} | {V:.4g} | {p.sigma**2 / V / p.lam:.3f} | "
                  f"{p.eps_t:.5g} | {time.process_time() - t:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
