"""Finite-size study: simulations at growing d, extrapolated to d -> infinity (issue 9, item 3).

`run` trains both initialisations (semantic, positional) at every (d, omega, alpha, seed) of
a grid and appends one CSV row per trained student as soon as it is final, so that a run cut
short keeps what it did (rerunning skips the rows already present). Teachers use seeds from
100 on (seeds 0-9 draw weak teachers, see the notes on q_star in docs/model.md §1).
`fit` reads that CSV, averages delta_eps_t = eps_t(semantic) - eps_t(positional) over the
seeds of each (omega, alpha, d), fits `a + b / d` per (omega, alpha) with the seeds' spread
as weights (and reports `a + b / sqrt(d)`'s chi^2 beside it), interpolates the crossing
alpha_c(d) per d and extrapolates it the same way; it writes the figure and a CSV of the fits.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/finite_size.py run   # -> finite_size.csv
    python benchmarks/finite_size.py fit   # -> results/paper/finite_size.png, .fit.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np

FIELDS = ("d", "omega", "alpha", "A", "seed", "init", "eps_t", "eps_g", "m", "theta", "q",
          "q_star", "converged", "steps", "wall_s", "dtype", "device")
ALPHAS = {  # across the transition, and alpha <= 0.2 on the positional side
    0.05: (0.1, 0.2, 0.5, 0.65, 0.8, 0.95),
    0.1: (0.1, 0.2, 0.55, 0.7, 0.85, 1.0),
    0.3: (0.1, 0.2, 1.0, 1.15, 1.3, 1.45),
}
APPENDIX = {0.1: (0.5, 1.5), 0.3: (0.5, 1.5)}  # the appendix A, both inits


def _seeds(d: int, base: int, full: int) -> list[int]:
    """Fewer seeds at large d: the seed spread of eps_t shrinks like 1/sqrt(d)."""
    k = max(2, int(round(full * min(1.0, (1000 / d) ** 0.5))))
    return list(range(base, base + k))


def _done(path: Path) -> set[tuple]:
    if not path.exists():
        return set()
    with path.open() as fh:
        return {(int(r["d"]), float(r["omega"]), float(r["alpha"]), r["A"], int(r["seed"]),
                 r["init"]) for r in csv.DictReader(fh)}


def run(args: argparse.Namespace) -> None:
    """Train the grid, appending rows to args.out."""
    import torch  # simulation only: the theory never imports torch

    from attnphase.config import Config
    from attnphase.experiment import train_many

    torch.set_num_threads(1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _done(out)
    new = not out.exists()
    jobs = []
    for d in args.ds:
        for seed in _seeds(d, 100, args.seeds):
            for omega, alphas in ALPHAS.items():
                if omega in args.omegas:
                    jobs += [(d, omega, a, "paper", seed) for a in alphas]
            if d == args.appendix_d:
                for omega, alphas in APPENDIX.items():
                    jobs += [(d, omega, a, "appendix", seed) for a in alphas
                             if seed < 100 + args.appendix_seeds]
    with out.open("a", newline="") as fh:
        wr = csv.DictWriter(fh, FIELDS)
        if new:
            wr.writeheader()
        for d, omega, alpha, A, seed in jobs:
            inits = [i for i in ("semantic", "positional") if (d, omega, alpha, A, seed, i)
                     not in done]
            if not inits:
                continue
            cfgs = [Config(d=d, alpha=alpha, omega=omega, A=A, init=i, seed=seed,
                           test_samples=args.test_samples, dtype=args.dtype,
                           device=args.device, solver=args.solver) for i in inits]
            t0 = time.time()
            for cfg, r in zip(cfgs, train_many(cfgs), strict=True):
                wr.writerow({"d": d, "omega": omega, "alpha": alpha, "A": A, "seed": seed,
                             "init": cfg.init, "eps_t": r.eps_t, "eps_g": r.eps_g,
                             "m": float(np.abs(r.m).max()), "theta": float(np.abs(r.theta).max()),
                             "q": float(np.asarray(r.q).max()), "q_star": float(r.q_star),
                             "converged": r.converged, "steps": r.steps,
                             "wall_s": round(time.time() - t0, 2), "dtype": args.dtype,
                             "device": args.device})
            fh.flush()
            os.fsync(fh.fileno())


def _fit(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> tuple[float, float, float, float]:
    """Weighted least squares y = a + b x; returns (a, std a, b, chi^2 per dof)."""
    W = 1.0 / s**2
    X = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(X.T @ (W[:, None] * X))
    a, b = cov @ X.T @ (W * y)
    chi2 = float(np.sum(W * (y - a - b * x) ** 2) / max(len(x) - 2, 1))
    return float(a), float(np.sqrt(cov[0, 0] * max(chi2, 1.0))), float(b), chi2


def table(path: Path, A: str = "paper",
          min_seeds: int = 3) -> dict[tuple, tuple[float, float, int]]:
    """(omega, alpha, d) -> (mean delta_eps_t, its standard error, seeds), paired by seed;
    cells with fewer than `min_seeds` seeds are left out."""
    rows = list(csv.DictReader(path.open()))
    eps: dict[tuple, dict[str, float]] = {}
    for r in rows:
        if r["A"] != A:
            continue
        key = (float(r["omega"]), float(r["alpha"]), int(r["d"]), int(r["seed"]))
        eps.setdefault(key, {})[r["init"]] = float(r["eps_t"])
    groups: dict[tuple, list[float]] = {}
    for (om, al, d, _), v in eps.items():
        if len(v) == 2:
            groups.setdefault((om, al, d), []).append(v["semantic"] - v["positional"])
    out = {}
    for k, v in groups.items():
        if len(v) < min_seeds:  # an interrupted cell: too few seeds for an error bar
            continue
        v = np.array(v)
        se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
        out[k] = (float(v.mean()), float(se), len(v))
    return out


def fit(args: argparse.Namespace) -> None:
    """Extrapolate delta_eps_t(alpha) and alpha_c to d -> infinity; CSV + PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attnphase.theory import curve
    from attnphase.theory.fixed_point import values
    from attnphase.transitions import downcrossing

    def crossing(x, y) -> float:
        return downcrossing(x, y)

    tab = table(Path(args.csv))
    omegas = sorted({k[0] for k in tab})
    rows = []
    fig, axes = plt.subplots(1, len(omegas), figsize=(5 * len(omegas), 4), squeeze=False)
    for ax, om in zip(axes[0], omegas, strict=True):
        alphas = sorted({k[1] for k in tab if k[0] == om})
        ds = sorted({k[2] for k in tab if k[0] == om})
        ext = []
        for al in alphas:
            pts = [(d, *tab[(om, al, d)]) for d in ds if (om, al, d) in tab]
            d_ = np.array([p[0] for p in pts], float)
            y = np.array([p[1] for p in pts])
            s = np.array([p[2] for p in pts])
            s = np.where(np.isfinite(s) & (s > 0), s, np.nanmax(s[np.isfinite(s)], initial=1e-5))
            if len(pts) >= 3:
                a, sa, b, chi_d = _fit(1.0 / d_, y, s)
                chi_s = _fit(1.0 / np.sqrt(d_), y, s)[3]
            else:
                a, sa, b, chi_d, chi_s = (np.nan,) * 5
            ext.append((a, sa))
            rows.append({"omega": om, "alpha": al, "kind": "delta_eps_t", "d_inf": a,
                         "err": sa, "slope_1_over_d": b, "chi2_1_over_d": chi_d,
                         "chi2_1_over_sqrt_d": chi_s,
                         **{f"d{int(d)}": tab[(om, al, d)][0] for d in d_}})
        for d in ds:
            ys = [tab.get((om, al, d), (np.nan,))[0] for al in alphas]
            ax.plot(alphas, ys, "o-", ms=3, lw=0.8, label=f"d = {d}")
        ea = np.array(ext)
        ax.errorbar(alphas, ea[:, 0], yerr=ea[:, 1], fmt="s", color="k", ms=4,
                    label="d -> inf (a + b/d)")
        dense = np.linspace(min(alphas), max(alphas), 12)
        th = np.full(len(dense), np.nan)
        if args.theory:
            th = (values(curve(dense, om, branch="semantic"), "eps_t")
                  - values(curve(dense, om, branch="positional"), "eps_t"))
            ax.plot(dense, th, color="forestgreen", lw=1.5, label="theory")
        # alpha_c per d (linear interpolation of the seed means), and its extrapolation
        acs = []
        for d in ds:
            al = [a for a in alphas if (om, a, d) in tab]
            y = np.array([tab[(om, a, d)][0] for a in al])
            acs.append(crossing(np.array(al), y) if len(al) > 1 else np.nan)
        acs = np.array(acs, float)
        good = np.isfinite(acs)
        ac_inf = (_fit(1.0 / np.array(ds, float)[good], acs[good], np.ones(good.sum()))[0]
                  if good.sum() >= 3 else np.nan)
        rows.append({"omega": om, "alpha": np.nan, "kind": "alpha_c", "d_inf": ac_inf,
                     "err": np.nan, "theory": crossing(dense, th),
                     **{f"d{int(d)}": a for d, a in zip(ds, acs, strict=True)}})
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set(title=f"omega = {om}: alpha_c(d -> inf) = {ac_inf:.3f}",
               xlabel="alpha", ylabel="delta_eps_t")
        ax.legend(fontsize=7)
    fig.tight_layout()
    png, out_csv = Path(args.png), Path(args.png).with_suffix(".fit.csv")
    tmp = png.with_name(png.stem + ".tmp.png")
    fig.savefig(tmp, dpi=120)
    tmp.replace(png)
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k[0] == "d", k))
    tmpc = out_csv.with_suffix(".tmp")
    with tmpc.open("w", newline="") as fh:
        wr = csv.DictWriter(fh, keys)
        wr.writeheader()
        wr.writerows(rows)
    tmpc.replace(out_csv)
    for r in rows:
        print({k: (round(v, 7) if isinstance(v, float) else v) for k, v in r.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--ds", type=lambda s: [int(v) for v in s.split(",")],
                   default=[250, 500, 1000, 2000, 4000, 8000])
    r.add_argument("--omegas", type=lambda s: [float(v) for v in s.split(",")],
                   default=[0.05, 0.1, 0.3])
    r.add_argument("--seeds", type=int, default=8, help="seeds at d <= 1000 (fewer above)")
    r.add_argument("--appendix-d", type=int, default=1000)
    r.add_argument("--appendix-seeds", type=int, default=3)
    r.add_argument("--test-samples", type=int, default=20000)
    r.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    r.add_argument("--device", default="cpu", help="cpu or cuda")
    r.add_argument("--solver", default="lbfgs", choices=("lbfgs", "flow"),
                   help="lbfgs (default: the solver of the committed rows) or flow")
    r.add_argument("--out", default="results/paper/finite_size.csv")
    f = sub.add_parser("fit")
    f.add_argument("--csv", default="results/paper/finite_size.csv")
    f.add_argument("--png", default="results/paper/finite_size.png")
    f.add_argument("--no-theory", dest="theory", action="store_false",
                   help="skip the theory curves (minutes of CPU)")
    args = ap.parse_args()
    run(args) if args.cmd == "run" else fit(args)


if __name__ == "__main__":
    main()
