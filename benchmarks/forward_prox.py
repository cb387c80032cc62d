"""The forward prox's positional fixed point against the global one and the simulations.

`points`: the forward fixed point (theory/forward.py: `--scrambles` scramblings of
2^`--log2n` Sobol points, mean ± standard error) next to the global prox's positional point
(split rule, 10 nodes) where the simulations were measured (docs/theory.md, "Which
stationary point the positional students reach"; the appendix A at omega 0.1 and 0.3).

`deltas`: delta_eps_t = eps_t(semantic) - eps_t(positional) with the global and with the
forward positional point, at the (omega, alpha) of the finite-size study's extrapolations to
d -> infinity (results/paper/finite_size.fit.csv, rows `delta_eps_t`).

`density`: the density of h_1 - h_2 over the training samples: the students' and the
global prox's from results/paper/positional_fields_a{alpha}_w{omega}.csv (made by
positional_fields.py), beside the forward prox's at its fixed point (2^18 Sobol points);
writes theory_forward_density_a{alpha}_w{omega}.{png,csv} into results/paper/.

`crossings`: alpha_c with the forward point as the positional side: delta_eps_t =
eps_t(semantic, global prox, Gauss-Hermite 16 nodes) - eps_t(forward) at seven alphas
around the refined theory's alpha_c (results/paper/theory_boundary_refined.csv), its
down-crossing per scrambling (linear interpolation), mean ± standard error over
scramblings; where the semantic branch ends before delta_eps_t turns positive, alpha_c is
that end (bisection, `kind` "semantic end", ± half the last bracket); beside the refined
alpha_c, the published one and the simulations' (results/paper/crossings.csv, d = 1000).

    OMP_NUM_THREADS=1 python benchmarks/forward_prox.py points \
        --out results/paper/theory_forward_points.csv
    OMP_NUM_THREADS=1 python benchmarks/forward_prox.py deltas \
        --out results/paper/theory_forward_deltas.csv
    OMP_NUM_THREADS=1 python benchmarks/forward_prox.py density --alpha 0.75 --omega 0.1
    OMP_NUM_THREADS=1 python benchmarks/forward_prox.py crossings \
        --out results/paper/theory_forward_crossings.csv
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from attnphase.config import A_PRESETS
from attnphase.io import write_csv_atomic
from attnphase.theory.fixed_point import curve, solve
from attnphase.theory.forward import forward_curve, solve_forward
from attnphase.transitions import downcrossing

POINTS = [(0.68, 0.05, "paper"), (0.75, 0.1, "paper"), (0.2, 0.3, "paper"),
          (1.5, 0.3, "paper"), (0.5, 0.1, "appendix"), (1.5, 0.1, "appendix"),
          (0.5, 0.3, "appendix")]
REFINED = Path("results/paper/theory_boundary_refined.csv")
SIMULATED = Path("results/paper/crossings.csv")
FINITE_SIZE = Path("results/paper/finite_size.fit.csv")
THETA_MIN = 1e-3  # a semantic point with theta below this fell onto the theta = 0 branch
STEPS = (0.7, 0.76, 0.82, 0.88, 0.94, 1.0, 1.04)  # x the refined alpha_c


def _semantic(alphas: list[float], omega: float) -> list:
    """The semantic branch at 16 nodes, continued from the largest alpha down (where it is
    far from its end), returned in the order of `alphas`."""
    return curve(alphas[::-1], omega, branch="semantic", quad=16)[::-1]


def points(args: argparse.Namespace) -> list[dict]:
    rows = []
    for alpha, omega, a_name in POINTS:
        A = A_PRESETS[a_name]
        t = time.process_time()
        fwd = forward_curve([alpha], omega, A=A, log2n=args.log2n,
                            scrambles=args.scrambles)[0]
        glob = solve(alpha, omega, A=A, branch="positional", quad=10)
        row = {"A": a_name, "alpha": alpha, "omega": omega}
        for k in ("q", "m", "eps_t", "eps_g", "reversed"):
            row[f"{k}_forward"], row[f"{k}_forward_err"] = fwd[k], fwd[f"err_{k}"]
        row |= {"m_over_sigma2_forward": fwd["m"] / 0.25, "q_global": glob.q,
                "m_global": glob.m, "eps_t_global": glob.eps_t, "eps_g_global": glob.eps_g,
                "converged": fwd["converged"] and glob.converged,
                "cpu_s": time.process_time() - t}
        print(row, flush=True)
        rows.append(row)
    return rows


def _table(path: Path) -> dict[float, dict[str, str]]:
    with open(path, newline="") as fh:
        return {round(float(r["omega"]), 4): r for r in csv.DictReader(fh)}


def _usable(p) -> bool:
    """A semantic point that converged on its branch (theta not collapsed to 0)."""
    return p.converged and p.theta > THETA_MIN


def _semantic_end(lo: float, hi, omega: float, steps: int = 7) -> tuple[float, float]:
    """Where the semantic branch ends between alpha `lo` (lost) and the usable point `hi`:
    bisection with warm starts from the lowest usable point; (end, half the bracket)."""
    a_lo, a_hi = lo, hi.alpha
    for _ in range(steps):
        mid = (a_lo + a_hi) / 2
        p = solve(mid, omega, branch="semantic", quad=16, init=hi)
        if _usable(p):
            a_hi, hi = mid, p
        else:
            a_lo = mid
    return (a_lo + a_hi) / 2, (a_hi - a_lo) / 2


def crossings(args: argparse.Namespace) -> list[dict]:
    refined, simulated = _table(REFINED), _table(SIMULATED)
    rows = []
    for omega in (float(v) for v in args.omegas.split(",")):
        t = time.process_time()
        ref = refined[round(omega, 4)]
        ac = float(ref["alpha_c"])
        alphas = [round(ac * s, 4) for s in STEPS]
        sem_pts = _semantic(alphas, omega)
        sem = np.array([p.eps_t if _usable(p) else np.nan for p in sem_pts])
        per, deltas = [], []
        for seed in range(args.scrambles):
            prev, fwd = None, []
            for a in alphas:
                prev = solve_forward(a, omega, init=prev, log2n=args.log2n, seed=seed)
                fwd.append(prev.eps_t)
            deltas.append(sem - np.array(fwd))
            per.append(downcrossing(alphas, deltas[-1]))
        per, delta = np.array(per), np.mean(deltas, axis=0)
        kind, alpha_c, err = "crossing", float(np.mean(per)), float(
            np.std(per, ddof=1) / np.sqrt(len(per)))
        first = int(np.argmax(np.isfinite(sem)))
        if np.all(np.isnan(per)) and first > 0 and np.all(np.array(deltas)[:, first] <= 0):
            # the semantic branch is global down to where it ends: alpha_c is that end
            kind = "semantic end"
            alpha_c, err = _semantic_end(alphas[first - 1], sem_pts[first], omega)
        sim = simulated.get(round(omega, 4), {})
        row = {"omega": omega, "alpha_c_forward": alpha_c, "alpha_c_forward_err": err,
               "kind": kind, "alpha_c_refined": ac,
               "alpha_c_refined_err": float(ref["alpha_c_err"]),
               "alpha_c_published": ref.get("alpha_c_published") or None,
               "alpha_c_sim": float(sim["alpha_c_sim"]) if sim else None,
               "alpha_c_sim_err": float(sim["alpha_c_sim_err"]) if sim else None,
               "alphas": " ".join(map(str, alphas)),
               "delta_eps_t": " ".join(f"{v:.3e}" for v in delta),
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
        sem = _semantic(alphas, omega)
        glob = curve(alphas, omega, branch="positional", quad=10)
        fwd = forward_curve(alphas, omega, log2n=args.log2n, scrambles=args.scrambles)
        for (a, r), s, g, f in zip(sim, sem, glob, fwd, strict=True):
            ok = _usable(s)
            row = {"omega": omega, "alpha": a, "delta_sim_d_inf": float(r["d_inf"]),
                   "delta_sim_err": float(r["err"]),
                   "delta_global": s.eps_t - g.eps_t if ok else None,
                   "delta_forward": s.eps_t - f["eps_t"] if ok else None,
                   "delta_forward_err": f["err_eps_t"],
                   "theta_semantic": s.theta, "converged": s.converged and g.converged
                   and f["converged"]}
            print(row, flush=True)
            rows.append(row)
    return rows


def density(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attnphase.theory.channel import Problem, check_A
    from attnphase.theory.forward import ForwardMap, gaussian_points

    tag = f"a{args.alpha:g}_w{args.omega:g}"
    sim = np.genfromtxt(f"results/paper/positional_fields_{tag}.csv", delimiter=",",
                        names=True)
    pt = solve_forward(args.alpha, args.omega, log2n=args.log2n)
    pb = Problem(args.alpha, args.omega, 0.5, 0.01, check_A(None), "positional")
    hp = ForwardMap(pb, gaussian_points(18, 1)).hats(
        np.array([pt.th["q_th"], pt.th["m_th"], pt.V]))[2]
    width = np.diff(sim["gap"])[0]
    edges = np.append(sim["gap"] - width / 2, sim["gap"][-1] + width / 2)
    dens_f, _ = np.histogram(hp[:, 0] - hp[:, 1], edges, density=True)
    # density=True normalises over the window; the committed densities did the same
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.step(sim["gap"], sim["density_theory"], where="mid", color="black",
            label="theory: global prox")
    ax.step(sim["gap"], dens_f, where="mid", color="crimson", label="theory: forward prox")
    ax.errorbar(sim["gap"], sim["density_sim"], yerr=sim["density_sim_err"], fmt="o", ms=3,
                color="royalblue", label="simulations (d 2000, 12 sphere teachers)")
    ax.set_yscale("log")
    ax.set_xlabel(r"$h_1 - h_2$ of a training sample")
    ax.set_ylabel("density")
    ax.set_title(f"positional init, alpha {args.alpha:g}, omega {args.omega:g}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = f"results/paper/theory_forward_density_{tag}"
    fig.savefig(out + ".png", dpi=150)
    rows = [{"gap": g, "density_sim": d, "density_sim_err": e, "density_global": t,
             "density_forward": f} for g, d, e, t, f in
            zip(sim["gap"], sim["density_sim"], sim["density_sim_err"],
                sim["density_theory"], dens_f, strict=True)]
    write_csv_atomic(out + ".csv", rows)
    print(f"wrote {out}.png, .csv")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("points", "deltas", "crossings", "density"))
    ap.add_argument("--alpha", type=float, default=0.75, help="density: the point")
    ap.add_argument("--omega", type=float, default=0.1, help="density: the point")
    ap.add_argument("--log2n", type=int, default=15)
    ap.add_argument("--scrambles", type=int, default=4)
    ap.add_argument("--omegas", default="0,0.05,0.1,0.15,0.2,0.3,0.4")
    ap.add_argument("--out", help="the CSV of points, deltas, crossings")
    args = ap.parse_args()
    if args.what == "density":
        return density(args)
    rows = {"points": points, "deltas": deltas, "crossings": crossings}[args.what](args)
    write_csv_atomic(args.out, rows)


if __name__ == "__main__":
    main()
