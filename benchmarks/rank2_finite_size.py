"""Rank-2 finite-size study: alpha = 2, omega = 0.3, d -> infinity (docs/theory_rank2.md §12).

Run mode: `attnphase train --rank 2 --teacher-rank 1 --teacher-norm sphere --init semantic`
(the default flow solver) for each d and seed, one JSON line per run appended to --out as
soon as it finishes; a rerun skips the (d, seed) pairs already in the file. Every run is
kept, converged or not (`converged`, `status`, `grad_norm` are recorded). Seeds are disjoint
between d (block `--seed0 + 100 i` for the i-th d of the list), never 0-9.

Summarise mode: per d the seed mean, standard error and count of eps_t, eps_g and the
invariants of rank2_sims.py; weighted least-squares fits `a + b / d` and `a + b / sqrt(d)`
per quantity (and `a + b / d` with the seeds' spread pooled over d as c / sqrt(d), a check
of the weights); the theory's mixed fixed point on several QMC rules, each with the fixed
point's own quadrature error, the last (16384 nodes by default) the reference; writes the
CSV and the figure.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/rank2_finite_size.py --out fs.jsonl \
        --seeds 500:24,1000:24,2000:16,4000:10,8000:4
    python benchmarks/rank2_finite_size.py --out fs.jsonl --summarise
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rank2_sims import invariants  # noqa: E402

QUANTITIES = ("eps_t", "eps_g", "q_eig1", "q_eig2", "theta_norm", "m_norm")
KEEP = ("alpha", "omega", "d", "seed", "init", "eps_g", "eps_t", "converged", "status",
        "grad_norm", "steps", "passes", "wall_s", "solver")
ROOT = Path(__file__).resolve().parent.parent


def _seed_plan(spec: str, seed0: int) -> list[tuple[int, list[int]]]:
    """'500:24,1000:24' -> [(500, [seed0 .. seed0+23]), (1000, [seed0+100 ..]), ...]."""
    plan = []
    for i, item in enumerate(spec.split(",")):
        d, k = (int(v) for v in item.split(":"))
        base = seed0 + 100 * i
        if k > 100:
            raise ValueError(f"{item}: at most 100 seeds per d (disjoint seed blocks)")
        plan.append((d, list(range(base, base + k))))
    return plan


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run(a: argparse.Namespace) -> None:
    out = Path(a.out)
    done = {(r["d"], r["seed"]) for r in _read(out)}
    for d, seeds in _seed_plan(a.seeds, a.seed0):
        for seed in seeds:
            if (d, seed) in done:
                continue
            cmd = [sys.executable, "-m", "attnphase.cli", "train", "--rank", "2",
                   "--teacher-rank", "1", "--teacher-norm", "sphere", "--d", str(d),
                   "--alpha", str(a.alpha), "--omega", str(a.omega), "--init", "semantic",
                   "--seed", str(seed), "--json"]
            t0 = time.time()
            run_ = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                             text=True).stdout)
            row = {k: run_.get(k) for k in KEEP}
            row.update(q_star=float(np.asarray(run_["q_star"]).reshape(-1)[0]),
                       teacher_norm=run_["config"]["teacher_norm"],
                       total_s=round(time.time() - t0, 2), **invariants(run_))
            with out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"d={d} seed={seed} eps_t={row['eps_t']:.6g} converged={row['converged']} "
                  f"{row['total_s']} s", flush=True)


def wls(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> dict:
    """Weighted least squares y = a + b x with weights 1 / s^2: a, b, their standard errors
    (from the weights, times sqrt(chi^2 / dof) where that exceeds 1), chi^2 and the degrees
    of freedom."""
    W = 1.0 / s**2
    X = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(X.T @ (W[:, None] * X))
    a, b = cov @ X.T @ (W * y)
    chi2 = float(np.sum(W * (y - a - b * x) ** 2))
    dof = len(x) - 2
    scale = np.sqrt(max(chi2 / dof, 1.0)) if dof > 0 else 1.0
    return {"a": float(a), "se_a": float(np.sqrt(cov[0, 0]) * scale), "b": float(b),
            "se_b": float(np.sqrt(cov[1, 1]) * scale), "chi2": chi2, "dof": dof}


def theory(alpha: float, omega: float, rule: str) -> dict:
    """The mixed fixed point on the rule `n:seed` (n points per block, 8 blocks): value and
    the fixed point's own quadrature error per quantity."""
    from attnphase.theory.rank2_quadrature import qmc_rule
    from attnphase.theory.rank2_solve import solve_rank2

    n, seed = (int(v) for v in rule.split(":"))
    p = solve_rank2(alpha, omega, branch="mixed", rule=qmc_rule(n, 8, seed=seed), fp_error=True)
    vals = {"eps_g": p.eps_g, "eps_t": p.eps_t, **p.inv}
    return {k: (float(vals[k]), float(p.fp_err[k])) for k in QUANTITIES} | {
        "_converged": p.converged, "_iterations": p.iterations}


def summarise(a: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in _read(Path(a.out))
            if r["alpha"] == a.alpha and r["omega"] == a.omega and r["init"] == "semantic"]
    ds = sorted({r["d"] for r in rows})
    print(f"{len(rows)} runs; d: " + ", ".join(
        f"{d} ({sum(r['d'] == d for r in rows)})" for d in ds))
    for r in rows:
        if not r["converged"] or r["m_norm"] < 0.1 or r["theta_norm"] < 0.2:
            print(f"  flagged (kept): d={r['d']} seed={r['seed']} converged={r['converged']} "
                  f"status={r['status']} grad_norm={r['grad_norm']:.2g} "
                  f"|m|={r['m_norm']:.3g} |theta|={r['theta_norm']:.3g}")
    gmax = max(r["grad_norm"] for r in rows)
    print(f"  converged: {sum(bool(r['converged']) for r in rows)}/{len(rows)}, "
          f"max grad_norm {gmax:.2g}; q_star range "
          f"{min(r['q_star'] for r in rows):.6f}-{max(r['q_star'] for r in rows):.6f}")
    rules = a.theory_rules.split(",")
    ths = {}
    for rule in rules:
        ths[rule] = theory(a.alpha, a.omega, rule)
        print(f"theory mixed alpha={a.alpha} omega={a.omega} rule {rule} x 8: converged "
              f"{ths[rule]['_converged']} ({ths[rule]['_iterations']} iterations): " + ", ".join(
                  f"{k} {ths[rule][k][0]:.6g} ± {ths[rule][k][1]:.1g}" for k in QUANTITIES))
    th = ths[rules[-1]]  # the reference: the last rule (the largest)
    out_rows = []
    stats: dict[str, dict] = {}
    for k in QUANTITIES:
        m, se, n = [], [], []
        for d in ds:
            v = np.array([r[k] for r in rows if r["d"] == d], dtype=float)
            m.append(v.mean())
            se.append(v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan)
            n.append(len(v))
            out_rows.append({"kind": "sim", "quantity": k, "d": d, "value": m[-1],
                             "se": se[-1], "n": n[-1]})
        x = 1.0 / np.array(ds, dtype=float)
        y, s = np.array(m), np.array(se)
        ok = np.isfinite(s)
        # robustness of the weights: the seeds' spread pooled over d >= 1000 as c / sqrt(d)
        # (c^2 averaged with the seeds' degrees of freedom), d < 1000 keeping its own
        nn = np.array(n, dtype=float)
        big = (x <= 1e-3) & ok
        c2 = np.sum((nn[big] - 1) * (s[big] ** 2 * nn[big]) / x[big]) / np.sum(nn[big] - 1)
        sp = np.where(big, np.sqrt(c2 * x / nn), s)
        tv, te = th[k]
        fits = {"a+b/d": wls(x[ok], y[ok], s[ok]),
                "a+b/sqrt(d)": wls(np.sqrt(x[ok]), y[ok], s[ok]),
                "a+b/d pooled se": wls(x[ok], y[ok], sp[ok])}
        for name, f in fits.items():
            z = (f["a"] - tv) / np.hypot(f["se_a"], te)
            out_rows.append({"kind": f"fit {name}", "quantity": k, "d": "inf",
                             "value": f["a"], "se": f["se_a"], "n": int(ok.sum()),
                             "slope_b": f["b"], "se_b": f["se_b"], "chi2": f["chi2"],
                             "dof": f["dof"], "z_vs_theory": z})
        for rule in rules:
            out_rows.append({"kind": f"theory mixed (rule {rule} x 8)", "quantity": k,
                             "d": "inf", "value": ths[rule][k][0], "se": ths[rule][k][1]})
        stats[k] = {"x": x, "y": y, "s": s, "fits": fits, "theory": (tv, te)}
        print(f"{k:10s} theory {tv:.6g} ± {te:.2g}; " + "; ".join(
            f"{name}: {f['a']:.6g} ± {f['se_a']:.2g} (chi2 {f['chi2']:.2f}/{f['dof']}, "
            f"z {(f['a'] - tv) / np.hypot(f['se_a'], te):+.2f})" for name, f in fits.items()))
    csv_path = ROOT / "results/paper/rank2_finite_size.csv"
    fields = ("kind", "quantity", "d", "value", "se", "n", "slope_b", "se_b", "chi2", "dof",
              "z_vs_theory")
    with csv_path.open("w", newline="") as fh:
        wr = csv.DictWriter(fh, fields)
        wr.writeheader()
        for r in out_rows:
            wr.writerow({f: (f"{r[f]:.8g}" if isinstance(r.get(f), float) else r.get(f, ""))
                         for f in fields})
    labels = {"eps_t": "eps_t", "eps_g": "eps_g", "q_eig1": "q_eig1", "q_eig2": "q_eig2",
              "theta_norm": "|theta|", "m_norm": "|m|"}
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.2))
    for ax, k in zip(axes.ravel(), QUANTITIES, strict=True):
        st = stats[k]
        ax.errorbar(st["x"] * 1e3, st["y"], st["s"], fmt="o", ms=4, color="C0",
                    label="simulations (mean ± se)")
        xx = np.linspace(0, st["x"].max() * 1.05, 100)
        f = st["fits"]["a+b/d"]
        ax.plot(xx * 1e3, f["a"] + f["b"] * xx, color="C0", lw=1, label="fit a + b/d")
        ax.errorbar([0], [f["a"]], [f["se_a"]], fmt="s", ms=4, color="C0", mfc="white",
                    label="d -> inf (a + b/d)")
        f2 = st["fits"]["a+b/sqrt(d)"]
        ax.plot(xx * 1e3, f2["a"] + f2["b"] * np.sqrt(xx), color="C2", lw=1, ls=":",
                label="fit a + b/sqrt(d)")
        tv, te = st["theory"]
        ax.errorbar([0], [tv], [te], fmt="*", ms=9, color="C3",
                    label=f"theory (mixed, {8 * int(rules[-1].split(':')[0])} nodes)")
        ax.set_title(labels[k], fontsize=10)
        ax.set_xlabel("1000 / d")
        ax.tick_params(labelsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("rank-2 student, rank-1 sphere teacher: alpha = 2, omega = 0.3, "
                 "semantic init", fontsize=10)
    fig.tight_layout()
    fig.savefig(ROOT / "results/paper/rank2_finite_size.png", dpi=130)
    print(f"wrote {csv_path} and rank2_finite_size.png")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="JSON lines, one per run (appended)")
    ap.add_argument("--seeds", default="500:24,1000:24,2000:16,4000:10,8000:4",
                    help="d:number of seeds, run in this order")
    ap.add_argument("--seed0", type=int, default=600)
    ap.add_argument("--alpha", type=float, default=2.0)
    ap.add_argument("--omega", type=float, default=0.3)
    ap.add_argument("--summarise", action="store_true",
                    help="read --out, write results/paper/rank2_finite_size.csv and .png")
    ap.add_argument("--theory-rules", default="512:0,512:1,1024:0,2048:0",
                    help="n:seed of the theory's QMC rules (n per block, 8 blocks); the last "
                    "is the reference for the comparison")
    a = ap.parse_args()
    if a.summarise:
        summarise(a)
    else:
        run(a)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
