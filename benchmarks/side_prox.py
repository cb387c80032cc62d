"""The init-side prox's fixed points against the global prox's and the simulations.

Every init-side number is the mean ± standard error over `--scrambles` scramblings of
2^`--log2n` Sobol points (theory/side.py); both branches of one scrambling share its points.

`points`: both branches where the students were measured (docs/theory.md, "Which
stationary point the positional students reach"; the appendix A at omega 0.1 and 0.3),
beside the global prox's (split rule: 16 nodes semantic, 12 positional).

`deltas`: delta_eps_t = eps_t(semantic) - eps_t(positional) with either prox at the
(omega, alpha) of the finite-size study's extrapolations to d -> infinity
(results/paper/finite_size.fit.csv, rows `delta_eps_t`).

`density`: the density of h_1 - h_2 over the training samples: the students' and the
global prox's from results/paper/positional_fields_a{alpha}_w{omega}.csv (made by
positional_fields.py), beside the positional init-side prox's at its fixed point (2^18
points); writes theory_side_density_a{alpha}_w{omega}.{png,csv} into results/paper/.

`crossings`: alpha_c of the init-side branches: the down-crossing of delta_eps_t over seven
alphas around the refined global theory's alpha_c (results/paper/theory_boundary_refined.csv)
per scrambling (linear interpolation), mean ± standard error; beside the refined alpha_c,
the published one and the simulations' (results/paper/crossings.csv, d = 1000; and the
finite-size study's d -> infinity extrapolation, finite_size.fit.csv).

    OMP_NUM_THREADS=1 python benchmarks/side_prox.py points \
        --out results/paper/theory_side_points.csv
    OMP_NUM_THREADS=1 python benchmarks/side_prox.py deltas \
        --out results/paper/theory_side_deltas.csv
    OMP_NUM_THREADS=1 python benchmarks/side_prox.py density --alpha 0.75 --omega 0.1
    OMP_NUM_THREADS=1 python benchmarks/side_prox.py crossings \\
        --out results/paper/theory_side_crossings.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from attnphase.config import A_PRESETS
from attnphase.io import write_csv_atomic
from attnphase.theory.fixed_point import curve, solve
from attnphase.theory.side import THETA_MIN, side_curve, side_deltas, solve_side
from attnphase.transitions import downcrossing

POINTS = [(0.68, 0.05, "paper"), (0.75, 0.1, "paper"), (0.2, 0.3, "paper"),
          (1.5, 0.3, "paper"), (0.5, 0.1, "appendix"), (1.5, 0.1, "appendix"),
          (0.5, 0.3, "appendix")]
REFINED = Path("results/paper/theory_boundary_refined.csv")
SIMULATED = Path("results/paper/crossings.csv")
FINITE_SIZE = Path("results/paper/finite_size.fit.csv")
STEPS = (0.7, 0.76, 0.82, 0.88, 0.94, 1.0, 1.04)  # x the refined alpha_c
KEYS = ("q", "m", "theta", "eps_t", "eps_g", "reversed")


def points(args: argparse.Namespace) -> list[dict]:
    rows = []
    for alpha, omega, a_name in POINTS:
        A = A_PRESETS[a_name]
        for branch in ("semantic", "positional"):
            t = time.process_time()
            side = side_curve([alpha], omega, A=A, branch=branch, log2n=args.log2n,
                              scrambles=args.scrambles)[0]
            glob = solve(alpha, omega, A=A, branch=branch,
                         quad=16 if branch == "semantic" else 12)
            row = {"A": a_name, "alpha": alpha, "omega": omega, "branch": branch}
            for k in KEYS:
                row[f"{k}_side"], row[f"{k}_side_err"] = side[k], side[f"err_{k}"]
            row |= {f"{k}_global": getattr(glob, k) for k in ("q", "m", "theta", "eps_t",
                                                                "eps_g")}
            row |= {"converged": side["converged"], "global_converged": glob.converged,
                    "cpu_s": time.process_time() - t}
            print(row, flush=True)
            rows.append(row)
    return rows


def deltas(args: argparse.Namespace) -> list[dict]:
    with open(FINITE_SIZE, newline="") as fh:
        fit = [r for r in csv.DictReader(fh) if r["kind"] == "delta_eps_t"]
    rows = []
    for omega in sorted({float(r["omega"]) for r in fit}):
        sim = sorted((float(r["alpha"]), r) for r in fit if float(r["omega"]) == omega)
        alphas = [a for a, _ in sim]
        side = side_deltas(alphas, omega, log2n=args.log2n, scrambles=args.scrambles)
        sem = curve(alphas[::-1], omega, branch="semantic", quad=16)[::-1]
        glob = curve(alphas, omega, branch="positional", quad=12)
        for i, ((a, r), s, g) in enumerate(zip(sim, sem, glob, strict=True)):
            ok = s.converged and s.theta > THETA_MIN
            col = side[:, i][np.isfinite(side[:, i])]  # scramblings where both converged
            row = {"omega": omega, "alpha": a, "delta_sim_d_inf": float(r["d_inf"]),
                   "delta_sim_err": float(r["err"]),
                   "delta_global": s.eps_t - g.eps_t if ok else None,
                   "delta_side": float(np.mean(col)) if len(col) else None,
                   "delta_side_err": float(np.std(col, ddof=1) / np.sqrt(len(col)))
                   if len(col) > 1 else None, "scramblings": len(col)}
            print(row, flush=True)
            rows.append(row)
    return rows


def _table(path: Path) -> dict[float, dict[str, str]]:
    with open(path, newline="") as fh:
        return {round(float(r["omega"]), 4): r for r in csv.DictReader(fh)}


def crossings(args: argparse.Namespace) -> list[dict]:
    refined, simulated = _table(REFINED), _table(SIMULATED)
    with open(FINITE_SIZE, newline="") as fh:
        d_inf = {round(float(r["omega"]), 4): float(r["d_inf"]) for r in csv.DictReader(fh)
                 if r["kind"] == "alpha_c"}
    rows = []
    for omega in (float(v) for v in args.omegas.split(",")):
        t = time.process_time()
        ref = refined[round(omega, 4)]
        ac = float(ref["alpha_c"])
        alphas = [round(ac * s, 4) for s in STEPS]
        delta = side_deltas(alphas, omega, log2n=args.log2n, scrambles=args.scrambles)
        per = np.array([downcrossing(alphas, d) for d in delta])
        sim = simulated.get(round(omega, 4), {})
        row = {"omega": omega, "alpha_c_side": float(np.mean(per)),
               "alpha_c_side_err": float(np.std(per, ddof=1) / np.sqrt(len(per))),
               "alpha_c_refined": ac, "alpha_c_refined_err": float(ref["alpha_c_err"]),
               "alpha_c_published": ref.get("alpha_c_published") or None,
               "alpha_c_sim": float(sim["alpha_c_sim"]) if sim else None,
               "alpha_c_sim_err": float(sim["alpha_c_sim_err"]) if sim else None,
               "alpha_c_sim_d_inf": d_inf.get(round(omega, 4)),
               "alphas": " ".join(map(str, alphas)),
               "delta_eps_t": " ".join(f"{v:.3e}" for v in np.nanmean(delta, axis=0)),
               "sigma": 0.5, "lam": 0.01, "A": json.dumps(A_PRESETS["paper"]),
               "cpu_s": time.process_time() - t}
        print(row, flush=True)
        rows.append(row)
    return rows


def density(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attnphase.theory.channel import Problem, check_A
    from attnphase.theory.side import SideMap, gaussian_points

    tag = f"a{args.alpha:g}_w{args.omega:g}"
    sim = np.genfromtxt(f"results/paper/positional_fields_{tag}.csv", delimiter=",",
                        names=True)
    pt = solve_side(args.alpha, args.omega, log2n=args.log2n)
    pb = Problem(args.alpha, args.omega, 0.5, 0.01, check_A(None), "positional")
    x = np.array([pt.th[k] for k in ("q_th", "m_th", "theta_th", "V")])
    hp = SideMap(pb, gaussian_points(18, 1)).hats(x)[3]
    width = np.diff(sim["gap"])[0]
    edges = np.append(sim["gap"] - width / 2, sim["gap"][-1] + width / 2)
    # density=True normalises over the window, as positional_fields.py's densities
    dens_s, _ = np.histogram(hp[:, 0] - hp[:, 1], edges, density=True)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.step(sim["gap"], sim["density_theory"], where="mid", color="black",
            label="theory: global prox")
    ax.step(sim["gap"], dens_s, where="mid", color="crimson", label="theory: init-side prox")
    ax.errorbar(sim["gap"], sim["density_sim"], yerr=sim["density_sim_err"], fmt="o", ms=3,
                color="royalblue", label="simulations (d 2000, 12 sphere teachers)")
    ax.set_yscale("log")
    ax.set_xlabel(r"$h_1 - h_2$ of a training sample")
    ax.set_ylabel("density")
    ax.set_title(f"positional init, alpha {args.alpha:g}, omega {args.omega:g}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = f"results/paper/theory_side_density_{tag}"
    fig.savefig(out + ".png", dpi=150)
    rows = [{"gap": g, "density_sim": d, "density_sim_err": e, "density_global": t,
             "density_side": f} for g, d, e, t, f in
            zip(sim["gap"], sim["density_sim"], sim["density_sim_err"],
                sim["density_theory"], dens_s, strict=True)]
    write_csv_atomic(out + ".csv", rows)
    print(f"wrote {out}.png, .csv")


def plot(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    parts = [Path("results/paper/theory_side_crossings.csv"),
             Path("results/paper/theory_side_crossings_omega0.csv")]
    cross = pd.concat([pd.read_csv(f) for f in parts if f.exists()]).sort_values("omega")
    dl = pd.read_csv("results/paper/theory_side_deltas.csv")
    refined = pd.read_csv(REFINED)
    fig, axes = plt.subplots(1, 1 + dl.omega.nunique(), figsize=(13, 3.6),
                             gridspec_kw={"width_ratios": [1.4] + [1] * dl.omega.nunique()})
    ax = axes[0]
    ax.errorbar(refined.omega, refined.alpha_c, refined.alpha_c_err, color="black",
                label="theory, global prox (refined)")
    ax.errorbar(cross.omega, cross.alpha_c_side, cross.alpha_c_side_err, fmt="D",
                color="crimson", ms=4, label="theory, init-side prox")
    ax.errorbar(cross.omega, cross.alpha_c_sim, cross.alpha_c_sim_err, fmt="o", mfc="none",
                color="royalblue", label="simulations, d 1000")
    ax.plot(cross.omega, cross.alpha_c_sim_d_inf, "s", color="royalblue",
            label="simulations, d -> infinity")
    pub = refined.dropna(subset=["alpha_c_published"])
    ax.plot(pub.omega, pub.alpha_c_published, "x", color="gray", ms=7, label="published")
    ax.set_xlabel("omega")
    ax.set_ylabel("alpha_c")
    ax.set_xlim(-0.01, 0.42)
    ax.set_ylim(0.4, 1.9)
    ax.legend(fontsize=7, loc="upper left")
    for ax, (omega, g) in zip(axes[1:], dl.groupby("omega"), strict=True):
        ax.axhline(0, color="gray", lw=0.5)
        ax.errorbar(g.alpha, g.delta_sim_d_inf, g.delta_sim_err, fmt="s", color="royalblue",
                    label="simulations, d -> infinity")
        ax.plot(g.alpha, g.delta_global, "o-", color="black", ms=3, label="global prox")
        ax.plot(g.alpha, g.delta_side, "D-", color="crimson", ms=3, label="init-side prox")
        ax.set_title(f"omega {omega:g}", fontsize=9)
        ax.set_xlabel("alpha")
        ax.set_ylabel("delta_eps_t")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig("results/paper/theory_side_crossings.png", dpi=150)
    print("wrote results/paper/theory_side_crossings.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("points", "deltas", "crossings", "density", "plot"))
    ap.add_argument("--alpha", type=float, default=0.75, help="density: the point")
    ap.add_argument("--omega", type=float, default=0.1, help="density: the point")
    ap.add_argument("--log2n", type=int, default=14)
    ap.add_argument("--scrambles", type=int, default=4)
    ap.add_argument("--omegas", default="0.05,0.1,0.15,0.2,0.3,0.4")
    ap.add_argument("--out", help="the CSV of points, deltas, crossings")
    args = ap.parse_args()
    if args.what in ("density", "plot"):
        return {"density": density, "plot": plot}[args.what](args)
    rows = {"points": points, "deltas": deltas, "crossings": crossings}[args.what](args)
    write_csv_atomic(args.out, rows)


if __name__ == "__main__":
    main()
