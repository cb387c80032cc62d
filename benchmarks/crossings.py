"""alpha_c and alpha_l at d = 1000 from fresh seeds, bracketing the theory (issue 13).

Fig. 3 crosses 5 to 13% before the theory at every omega in [0.16, 0.4]; it uses seeds
0-9 at every grid point, so one draw of ten teachers shifts the whole figure the same way.
This study measures the crossings where the theory puts them, with seeds of their own:

`run` sweeps, per omega, both initialisations at alpha_c x (0.94, 1, 1.06) and
alpha_l x (0.96, 1.04) (the refined theory's crossings, results/paper/
theory_boundary_refined.csv), teachers on the sphere (no teacher-norm noise), seeds from
300 on, the default solver, into a store (resumable). `fit` reads the store and, per omega,
fits a line to the seed means of delta_eps_t (and of eps_g_lin - eps_g of the global
minimiser) against alpha and takes its zero; the error bar is the spread of that zero
over bootstrap resamples of the seeds (whole seeds, so that the alphas' shared teachers
stay together). It writes results/paper/crossings.csv and .png. `pair` reads the store of
configs/examples/teacher-norm-pair.yaml (the same seeds' teachers Gaussian and on the
sphere, omega = 0.3) and prints the crossing of each, the Gaussian one with plain and
control-variate seed means. `shared` measures how alike Fig. 3's rows are: per seed,
delta_eps_t at the grid alpha nearest the theory's alpha_c, correlated across omegas.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/crossings.py run --workers 2
    python benchmarks/crossings.py fit
    python benchmarks/crossings.py pair --db pair.sqlite
    python benchmarks/crossings.py shared
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

OMEGAS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
C_FACTORS = (0.94, 1.0, 1.06)
L_FACTORS = (0.96, 1.04)
THEORY = Path("results/paper/theory_boundary_refined.csv")


def theory_table(path: Path = THEORY) -> dict[float, dict[str, float]]:
    """omega -> refined alpha_c, alpha_l and their error bars."""
    with path.open(newline="") as fh:
        return {round(float(r["omega"]), 6): {k: float(r[k]) for k in
                ("alpha_c", "alpha_c_err", "alpha_l", "alpha_l_err")}
                for r in csv.DictReader(fh)}


def alphas(th: dict[str, float]) -> tuple[list[float], list[float]]:
    """The alphas around the theory's alpha_c and around its alpha_l."""
    return ([round(th["alpha_c"] * f, 4) for f in C_FACTORS],
            [round(th["alpha_l"] * f, 4) for f in L_FACTORS])


def config(omega: float, seeds: int, d: int) -> dict:
    """The sweep of one omega: both inits at the alphas around the theory's crossings."""
    a_c, a_l = alphas(theory_table()[round(omega, 6)])
    return {"name": f"crossings-w{omega:g}",
            "base": {"d": d, "sigma": 0.5, "lam": 0.01, "omega": omega,
                     "teacher_norm": "sphere"},
            "grid": {"alpha": a_c + a_l, "init": ["semantic", "positional"],
                     "seed": f"300:{299 + seeds}:{seeds}"}}


def run(args: argparse.Namespace) -> None:
    """Sweep every omega into args.db (runs already there are skipped)."""
    from attnphase.sweep.runner import run_sweep

    for omega in args.omegas:
        print(run_sweep(config(omega, args.seeds, args.d), db=args.db, workers=args.workers,
                        progress=False), flush=True)


def runs(db: str | Path, name: str) -> pd.DataFrame:
    """The `ok` runs of one sweep in the store, with their teacher_norm and scalar q_star."""
    from attnphase.stats import q_star_scalar
    from attnphase.sweep.store import Store

    with Store(db, create=False) as store:
        columns, rows = store.query(name)
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame[frame["status"] == "ok"].copy()
    frame["teacher_norm"] = [json.loads(c).get("teacher_norm", "gaussian")
                             for c in frame["config"]]
    frame["q_star"] = [q_star_scalar(q) for q in frame["q_star"]]
    return frame


def per_seed(frame: pd.DataFrame, alphas: list[float]) -> dict[str, np.ndarray]:
    """Seeds x alphas (in the given order) over the seeds with both inits at every alpha:
    delta_eps_t, gap (eps_g_lin - eps_g of the global minimiser) and q_star."""
    from attnphase.transitions import global_minimiser

    wide = frame.assign(alpha=frame["alpha"].round(6)).pivot(
        index="seed", columns=["init", "alpha"], values=["eps_t", "eps_g", "eps_g_lin",
                                                          "q_star"])
    keys = [round(a, 6) for a in alphas]
    cols = [(v, i, a) for v in ("eps_t", "eps_g", "eps_g_lin", "q_star")
            for i in ("semantic", "positional") for a in keys]
    wide = wide.reindex(columns=cols).dropna()

    def get(v: str, init: str) -> np.ndarray:
        return wide.loc[:, [(v, init, a) for a in keys]].to_numpy(float)

    t_sem, t_pos = get("eps_t", "semantic"), get("eps_t", "positional")
    gap = global_minimiser(get("eps_g_lin", "semantic") - get("eps_g", "semantic"),
                           get("eps_g_lin", "positional") - get("eps_g", "positional"),
                           t_sem, t_pos)
    return {"delta": t_sem - t_pos, "gap": gap, "q_star": get("q_star", "semantic")}


def zero(alphas: np.ndarray, y: np.ndarray) -> float:
    """Zero of the least-squares line through (alphas, seed means y)."""
    b, a = np.polyfit(alphas, y, 1)
    return float(-a / b) if b < 0 else float("nan")


def crossing(alphas: np.ndarray, values: np.ndarray, boot: int, rng) -> tuple[float, float]:
    """The zero of the line through the seed means, and its bootstrap spread over seeds."""
    est = zero(alphas, values.mean(0))
    n = values.shape[0]
    draws = [zero(alphas, values[rng.integers(0, n, n)].mean(0)) for _ in range(boot)]
    return est, float(np.nanstd(draws, ddof=1))


def fit(args: argparse.Namespace) -> None:
    """Crossings per omega with bootstrap bars, against the refined theory: CSV + PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attnphase.io import atomic_path, write_csv_atomic

    rng = np.random.default_rng(0)
    theory = theory_table()
    rows = []
    for omega in args.omegas:
        frame = runs(args.db, f"crossings-w{omega:g}")
        th = theory[round(omega, 6)]
        a_c, a_l = alphas(th)
        cells = per_seed(frame[frame["d"] == args.d], a_c + a_l)
        if len(cells["delta"]) < 3:
            print(f"omega {omega}: {len(cells['delta'])} complete seeds, skipped")
            continue
        row = {"omega": omega, "seeds": len(cells["delta"]), "d": args.d}
        c_cols, l_cols = slice(0, len(a_c)), slice(len(a_c), None)
        for key, xs, vals in (("alpha_c", a_c, cells["delta"][:, c_cols]),
                              ("alpha_l", a_l, -cells["gap"][:, l_cols])):
            est, err = crossing(np.array(xs), vals, args.boot, rng)
            row |= {f"{key}_sim": est, f"{key}_sim_err": err, f"{key}_theory": th[key],
                    f"{key}_theory_err": th[f"{key}_err"],
                    f"{key}_rel": est / th[key] - 1, f"{key}_rel_err": err / th[key]}
        rows.append(row)
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()},
              flush=True)
    write_csv_atomic(args.out, rows)
    print("| omega | seeds | alpha_c sim. | alpha_c theory | diff | alpha_l sim. "
          "| alpha_l theory | diff |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        cells = [f"{r['omega']:g}", str(r["seeds"])]
        for key in ("alpha_c", "alpha_l"):
            rel, sd = r[key + "_rel"], r[key + "_rel"] / r[key + "_rel_err"]
            cells += [f"{r[key + '_sim']:.3f} ± {r[key + '_sim_err']:.3f}",
                      f"{r[key + '_theory']:.3f}", f"{100 * rel:+.1f}% ({sd:+.1f} sd)"]
        print("| " + " | ".join(cells) + " |")
    fig, ax = plt.subplots(figsize=(5, 4))
    om = np.array([r["omega"] for r in rows])
    for key, colour in (("alpha_c", "C0"), ("alpha_l", "C3")):
        ax.errorbar([r[f"{key}_sim"] for r in rows], om,
                    xerr=[r[f"{key}_sim_err"] for r in rows], fmt="o", mfc="white",
                    color=colour, label=f"{key}, simulations d = {args.d}")
        ax.errorbar([r[f"{key}_theory"] for r in rows], om,
                    xerr=[r[f"{key}_theory_err"] for r in rows], fmt="-", color=colour,
                    lw=1.5, label=f"{key}, theory (refined)")
    seeds = sorted({r["seeds"] for r in rows})
    counts = f"{seeds[0]} to {seeds[-1]}" if len(seeds) > 1 else f"{seeds[0] if seeds else 0}"
    ax.set(xlabel="alpha", ylabel="omega")
    ax.set_title(f"crossings at d = {args.d}, {counts} seeds per omega, sphere teachers",
                 fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(Path(args.out).with_suffix(".png"), suffix=".png") as tmp:
        fig.savefig(tmp, dpi=130, format="png")


def pair(args: argparse.Namespace) -> None:
    """Crossings of the teacher-norm pair: sphere, Gaussian (plain and control variate)."""
    from attnphase.stats import estimate

    rng = np.random.default_rng(0)
    frame = runs(args.db, "sphere-check")
    for norm in ("sphere", "gaussian"):
        part = frame[frame["teacher_norm"] == norm]
        xs = sorted(part["alpha"].unique())
        cells = per_seed(part, xs)
        delta, q = cells["delta"], cells["q_star"][:, 0]
        est, err = crossing(np.array(xs), delta, args.boot, rng)
        cv = [estimate(delta[:, j], q, "cv").mean for j in range(len(xs))]
        print(f"{norm}: {len(q)} seeds, mean q_star {q.mean():.4f}; alpha_c {est:.4f} "
              f"+- {err:.4f} (plain means); control variate {zero(np.array(xs), cv):.4f}")


def shared(args: argparse.Namespace) -> None:
    """Mean correlation over pairs of omegas in [0.15, 0.4] of Fig. 3's per-seed
    delta_eps_t near the theory's alpha_c: near 1, the rows are one measurement."""
    fig3 = pd.read_csv(args.csv, usecols=["alpha", "omega", "init", "seed", "eps_t"])
    theory = pd.read_csv(Path(args.csv).with_name("fig3_theory.csv"))
    grid = np.sort(fig3["alpha"].unique())
    per_omega = []
    for omega, a_c in zip(theory["omega"], theory["alpha_c"], strict=True):
        if not 0.15 <= omega <= 0.4 + 1e-9 or not np.isfinite(a_c):
            continue
        alpha = grid[np.argmin(np.abs(grid - a_c))]
        cell = fig3[np.isclose(fig3["omega"], omega) & np.isclose(fig3["alpha"], alpha)]
        eps = cell.pivot(index="seed", columns="init", values="eps_t")
        per_omega.append((eps["semantic"] - eps["positional"]).to_numpy())
    corr = np.corrcoef(np.array(per_omega))
    k = len(corr)
    print(f"{k} omegas, {len(per_omega[0])} seeds: mean correlation across omegas "
          f"{(corr.sum() - k) / (k * k - k):.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("run", "fit", "pair", "shared"):
        s = sub.add_parser(name)
        s.add_argument("--omegas", type=lambda t: [float(v) for v in t.split(",")],
                       default=list(OMEGAS))
        s.add_argument("--seeds", type=int, default=24)
        s.add_argument("--d", type=int, default=1000)
        s.add_argument("--db", default="results/crossings.sqlite")
    sub.choices["run"].add_argument("--workers", type=int, default=2)
    for name in ("fit", "pair"):
        sub.choices[name].add_argument("--boot", type=int, default=2000)
    sub.choices["fit"].add_argument("--out", default="results/paper/crossings.csv")
    sub.choices["shared"].add_argument("--csv", default="results/paper/fig3.csv")
    args = p.parse_args()
    {"run": run, "fit": fit, "pair": pair, "shared": shared}[args.cmd](args)


if __name__ == "__main__":
    main()
