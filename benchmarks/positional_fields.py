"""A minimiser's training preactivations against the theory's prox outputs (positional branch
by default; `--init semantic` for the semantic one).

At alpha 1.5, omega 0.3 the simulated positional students have q 4% below and m 1.5% above
the theory's positional fixed point at every d up to 8000 (docs/theory.md). The theory says
more than q and m: a training sample's preactivations h = Q^T x_l / sqrt(d) are distributed
as the global prox hp = prox(w) of w = sqrt(q_th) xi + (m, -m) (docs/model.md §5; theta = 0
on this branch, so the teacher's h* = sqrt(rho) eta is independent of w). This script
compares the two distributions: simulations (positional init, default flow, teachers on the
sphere, `--seeds` at `--d`) against Monte Carlo over (xi, eta) at the theory's fixed point
(split rule at `--quad` nodes), so that one sees *which* samples the two disagree on.

    OMP_NUM_THREADS=1 python benchmarks/positional_fields.py --d 2000 --seeds 700,701,702,703
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from attnphase.config import Config
from attnphase.data import generate
from attnphase.objective import Risk
from attnphase.student import initial_Q
from attnphase.theory.channel import Inputs, attention_diag, check_A, teacher_diag
from attnphase.theory.fixed_point import solve as solve_theory
from attnphase.theory.prox import prox_global
from attnphase.train import solve


def simulated(cfg: Config) -> dict[str, np.ndarray]:
    """Training preactivations h (n, 2) and teacher diagonals T (n, 2) at the minimiser
    reached from cfg.init, the sign of Q chosen so that m >= 0."""
    ds = generate(cfg)
    X, Y = torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None]
    Q0 = torch.from_numpy(initial_Q(cfg.init, cfg.d, cfg.rank, ds.Q_star, ds.P,
                                    cfg.seed))[None, None]
    res = solve(Risk(X, Y, cfg.lam), Q0, "flow", 4000, 1.0, cfg.tol)
    Q = res.Q[0, 0, :, 0].numpy()
    if Q.sum() < 0:
        Q = -Q
    h = ds.X @ Q / np.sqrt(cfg.d)
    hstar = ds.Z @ ds.Q_star[:, 0] / np.sqrt(cfg.d)
    theta = abs(float(Q @ ds.Q_star[:, 0])) / cfg.d
    T = teacher_diag(hstar, cfg.omega, check_A(cfg.A_matrix))
    return {"h": h, "T": T, "converged": np.array(bool(res.converged)), "A": cfg.A_matrix,
            "order": {"eps_t": float(res.risk.flatten()[0]) / cfg.d,
                      "q": float(Q @ Q) / cfg.d, "m": float(Q.sum()) / cfg.d,
                      "theta": theta}}


def theoretical(alpha: float, omega: float, sigma: float, quad: int, samples: int,
                branch: str = "positional", A=None, seed: int = 0) -> dict[str, np.ndarray]:
    """Prox outputs hp (N, 2) and teacher diagonals T at the branch's fixed point (the
    teacher's h* = (theta / sqrt(q)) xi + sqrt(rho - theta^2 / q) eta, docs/model.md §5)."""
    pt = solve_theory(alpha, omega, sigma, A=A, branch=branch, quad=quad)
    rng = np.random.default_rng(seed)
    points = rng.standard_normal((samples, 4))
    q, theta, rho = pt.th["q_th"], pt.th["theta_th"], sigma**2
    inputs = Inputs(np.sqrt(q), pt.th["m_th"], theta / np.sqrt(q),
                    np.sqrt(rho - theta**2 / q), omega, check_A(A))
    w, T = inputs(points)
    hp = prox_global(w, T, pt.V, sigma).h
    return {"h": hp, "T": T, "w": w, "point": np.array([pt.q, pt.m, pt.V, pt.eps_t]),
            "order": {"eps_t": pt.eps_t, "q": pt.q, "m": pt.m, "theta": pt.theta}}


def statistics(h: np.ndarray, T: np.ndarray, sigma: float) -> dict[str, float]:
    """Summaries of preactivations that the two sides can be compared on."""
    gap, total = h[:, 0] - h[:, 1], h[:, 0] + h[:, 1]
    r = attention_diag(h) - T
    out = {"mean_h1": h[:, 0].mean(), "mean_h2": h[:, 1].mean(),
           "mean_gap": gap.mean(), "var_gap": gap.var(), "var_sum": total.var(),
           "E_h1h2": (h[:, 0] * h[:, 1]).mean(), "P_gap<0": (gap < 0).mean(),
           "P_h1h2<0": (h[:, 0] * h[:, 1] < 0).mean(),
           "P_gap<-0.3": (gap < -0.3).mean(), "P_gap<-0.5": (gap < -0.5).mean(),
           "loss": (2 * sigma**2 * (r * r).sum(1)).mean() / 2}
    for p in (1, 5, 25, 50, 75, 95, 99):
        out[f"gap_q{p}"] = np.percentile(gap, p)
    return {k: float(v) for k, v in out.items()}


def plot(h_sim: np.ndarray, h_th: np.ndarray, title: str, png: str) -> None:
    """Densities of h_1 - h_2, simulations against theory (log scale: the reversed tail),
    with the histogram as CSV beside the PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.linspace(-1.5, 2.0, 71)
    gap_s, gap_t = h_sim[:, 0] - h_sim[:, 1], h_th[:, 0] - h_th[:, 1]
    dens_s, _ = np.histogram(gap_s, edges, density=True)
    dens_t, _ = np.histogram(gap_t, edges, density=True)
    counts_s, _ = np.histogram(gap_s, edges)
    mid = (edges[1:] + edges[:-1]) / 2
    err_s = np.sqrt(counts_s) / (len(gap_s) * np.diff(edges))
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.step(mid, dens_t, where="mid", color="black", label="theory: global prox")
    ax.errorbar(mid, dens_s, yerr=err_s, fmt="o", ms=3, color="royalblue",
                label=f"simulations ({len(gap_s):,} training samples)")
    ax.set_yscale("log")
    ax.set_xlabel(r"$h_1 - h_2$ of a training sample")
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=150)
    np.savetxt(png.rsplit(".", 1)[0] + ".csv",
               np.column_stack([mid, dens_s, err_s, dens_t]), delimiter=",",
               header="gap,density_sim,density_sim_err,density_theory", comments="",
               fmt="%.6g")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=2000)
    ap.add_argument("--alpha", type=float, default=1.5)
    ap.add_argument("--omega", type=float, default=0.3)
    ap.add_argument("--seeds", default="700,701,702,703")
    ap.add_argument("--init", default="positional", choices=("positional", "semantic"),
                    help="the students' init; the theory's branch of the same name")
    ap.add_argument("--quad", type=int, default=12)
    ap.add_argument("--A", default="paper", help="positional matrix preset: paper, appendix")
    ap.add_argument("--samples", type=int, default=400_000)
    ap.add_argument("--save", help="write the pooled preactivations to this .npz")
    ap.add_argument("--plot", help="PNG of the h_1 - h_2 densities (and its CSV beside it)")
    args = ap.parse_args()
    sims = [simulated(Config(d=args.d, alpha=args.alpha, omega=args.omega, init=args.init,
                             seed=int(s), teacher_norm="sphere", A=args.A))
            for s in args.seeds.split(",")]
    h = np.concatenate([s["h"] for s in sims])
    T = np.concatenate([s["T"] for s in sims])
    th = theoretical(args.alpha, args.omega, 0.5, args.quad, args.samples, args.init,
                     sims[0]["A"])
    sim, theory = statistics(h, T, 0.5), statistics(th["h"], th["T"], 0.5)
    print(f"converged: {[bool(s['converged']) for s in sims]}; theory q, m, V, eps_t: "
          f"{th['point'].round(6).tolist()}")
    print(f"{'statistic':>10} {'simulations':>12} {'± se (seeds)':>12} {'theory':>12}")
    for s in sims:
        s["stats"] = {**statistics(s["h"], s["T"], 0.5), **s["order"]}
    sim.update({k: float(np.mean([s["order"][k] for s in sims])) for k in th["order"]})
    theory.update(th["order"])
    for k in sim:
        se = np.std([s["stats"][k] for s in sims], ddof=1) / np.sqrt(len(sims))
        print(f"{k:>10} {sim[k]:12.6f} {se:12.6f} {theory[k]:12.6f}")
    if args.plot:
        plot(h, th["h"], f"{args.init} init, alpha {args.alpha:g}, omega {args.omega:g}, "
             f"d {args.d}, {len(sims)} sphere teachers", args.plot)
    if args.save:
        np.savez_compressed(args.save, h_sim=h, T_sim=T, h_th=th["h"], T_th=th["T"],
                            w_th=th["w"])
    print(json.dumps({"sim": sim, "theory": theory,
                      "per_seed": {s: x["order"] for s, x in zip(args.seeds.split(","), sims,
                                                                  strict=True)}}))


if __name__ == "__main__":
    main()
