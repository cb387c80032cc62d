"""alpha_c at small omega: both branches on a fine alpha window, two rule sizes (issue 9, item 2).

Per omega the semantic branch is continued downwards and the positional one upwards across
a window around the transition (step 0.025), at two rule sizes (default 8 and 6); each point
is appended to a CSV as it is solved. `--table` reads the CSV and prints alpha_c (linear
interpolation of delta_eps_t between the window's points where both branches converged and
are on-branch) at each rule size; the error bar of the largest rule's value is its change
from the others.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/small_omega.py   # -> small_omega.csv
    python benchmarks/small_omega.py --table
    python benchmarks/small_omega.py --cold 0:0.575,0.6,0.625   # cold starts, printed
    python benchmarks/small_omega.py --out results/paper/theory_small_omega_points.csv \
        --boundary results/paper/theory_boundary.csv    # alpha_c +- error from those points

`--cold omega:a,b,c` solves both branches from cold starts at those alphas, at each rule size
of `--quads`, and prints delta_eps_t (the numbers of docs/theory.md, "Small omega").
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

WINDOWS = {0.0: 0.5, 0.1: 0.65, 0.05: 0.575, 0.15: 0.725, 0.025: 0.55, 0.075: 0.6}
RULE_FLOOR = 0.005  # alpha_c error of the 8-node rule's positional eps_t (1.3e-3 relative)
FIELDS = ("omega", "quad", "branch", "alpha", "converged", "on_branch", "m", "theta", "q",
          "V", "eps_g", "eps_t", "iterations")


def run(out: Path, quads: list[int], points: int) -> None:
    from attnphase.theory import curve
    from attnphase.theory.fixed_point import on_branch

    new = not out.exists()
    with out.open("a", newline="") as fh:
        wr = csv.DictWriter(fh, FIELDS)
        if new:
            wr.writeheader()
        for omega, lo in WINDOWS.items():
            alphas = lo + 0.025 * np.arange(points)
            for quad in quads:
                for branch in ("semantic", "positional"):
                    for p in curve(alphas, omega, branch=branch, quad=quad, max_iter=600):
                        wr.writerow({"omega": omega, "quad": quad, "branch": branch,
                                     "alpha": round(p.alpha, 4), "converged": p.converged,
                                     "on_branch": on_branch(p), "m": p.m, "theta": p.theta,
                                     "q": p.q, "V": p.V, "eps_g": p.eps_g, "eps_t": p.eps_t,
                                     "iterations": p.iterations})
                    fh.flush()


def cold(spec: str, quads: list[int], out: Path | None = None) -> None:
    """Both branches from cold starts at the given alphas; one line per (quad, alpha), and
    the points appended to `out` (the CSV `--table` reads) when given."""
    from attnphase.theory import linear_theory, solve

    om, alphas = spec.split(":")
    lin = linear_theory(float(om)).eps_g_lin
    for quad in quads:
        for a in (float(v) for v in alphas.split(",")):
            s = solve(a, float(om), branch="semantic", quad=quad)
            p = solve(a, float(om), branch="positional", quad=quad)
            print(f"omega {om} quad {quad} alpha {a}: sem theta {s.theta:.4f} "
                  f"eps_t {s.eps_t:.7f} eps_g {s.eps_g:.7f} conv {s.converged} | pos m "
                  f"{p.m:.4f} eps_t {p.eps_t:.7f} eps_g {p.eps_g:.7f} conv {p.converged} | "
                  f"delta {s.eps_t - p.eps_t:+.2e} | eps_g_lin {lin:.7f}", flush=True)
            if out is not None:
                _append(out, [(quad, x) for x in (s, p)])


def _append(out: Path, rows) -> None:
    from attnphase.theory.fixed_point import on_branch

    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    with out.open("a", newline="") as fh:
        wr = csv.DictWriter(fh, FIELDS)
        if new:
            wr.writeheader()
        for quad, x in rows:
            wr.writerow({"omega": x.omega, "quad": quad, "branch": x.branch,
                         "alpha": round(x.alpha, 4), "converged": x.converged,
                         "on_branch": on_branch(x), "m": x.m, "theta": x.theta, "q": x.q,
                         "V": x.V, "eps_g": x.eps_g, "eps_t": x.eps_t,
                         "iterations": x.iterations})


def table(out: Path) -> None:
    from attnphase.transitions import downcrossing

    rows = list(csv.DictReader(out.open()))
    res: dict[tuple[float, int], float] = {}
    for om in sorted({float(r["omega"]) for r in rows}):
        for quad in sorted({int(r["quad"]) for r in rows}):
            eps = {}
            for r in rows:
                if float(r["omega"]) == om and int(r["quad"]) == quad:
                    ok = r["converged"] == "True" and r["on_branch"] == "True"
                    eps[(r["branch"], float(r["alpha"]))] = float(r["eps_t"]) if ok else np.nan
            al = sorted({a for _, a in eps})
            delta = [eps.get(("semantic", a), np.nan) - eps.get(("positional", a), np.nan)
                     for a in al]
            res[(om, quad)] = downcrossing(al, delta)
    quads = sorted({k[1] for k in res})
    print("| omega | " + " | ".join(f"alpha_c (quad {n})" for n in quads) + " | error bar |")
    print("| --- " * (len(quads) + 2) + "|")
    for om in sorted({k[0] for k in res}):
        vals = [res.get((om, n), np.nan) for n in quads]
        err = max(abs(v - vals[-1]) for v in vals[:-1]) if len(vals) > 1 else np.nan
        print(f"| {om} | " + " | ".join(f"{v:.4f}" for v in vals) + f" | {err:.4f} |")


def boundary_csv(points: Path, out: Path) -> None:
    """alpha_c per omega from the cold-start points (`--cold` CSV) at each rule size: linear
    interpolation of delta_eps_t across its sign change between neighbouring alphas. The value
    is the largest rule's; the error bar its change from the smaller rule (a convergence study
    in the quadrature, `alpha_c_change`), at least `RULE_FLOOR` (docs/theory.md, "Small
    omega": the 8-node rule's own error in eps_t on the positional branch). Points off their
    branch are left out; points that stopped at the iteration cap enter with their last eps_t
    and are counted in `capped`."""
    from attnphase.published import alpha_c as published

    rows = list(csv.DictReader(points.open()))
    table = []
    for om in sorted({float(r["omega"]) for r in rows}):
        found: dict[int, float] = {}
        capped = 0
        for quad in sorted({int(r["quad"]) for r in rows if float(r["omega"]) == om}):
            eps: dict[tuple[str, float], float] = {}
            for r in rows:
                if (float(r["omega"]) == om and int(r["quad"]) == quad
                        and r["on_branch"] == "True"):
                    eps[(r["branch"], float(r["alpha"]))] = float(r["eps_t"])
            al = sorted({a for b, a in eps if b == "semantic"} & {a for b, a in eps
                                                                   if b == "positional"})
            delta = [eps[("semantic", a)] - eps[("positional", a)] for a in al]
            for k in range(len(al) - 1):
                if delta[k] > 0 >= delta[k + 1]:
                    found[quad] = al[k] + delta[k] * (al[k + 1] - al[k]) / (delta[k] - delta[k + 1])
                    capped += sum(r["converged"] == "False" for r in rows
                                  if float(r["omega"]) == om and int(r["quad"]) == quad
                                  and float(r["alpha"]) in (al[k], al[k + 1]))
        if not found:
            continue
        quads = sorted(found)
        best = found[quads[-1]]
        err = max((abs(found[n] - best) for n in quads[:-1]), default=float("nan"))
        pub = published(om)
        table.append({"omega": om, "alpha_c": round(best, 4),
                      "alpha_c_err": round(max(err, RULE_FLOOR), 4),
                      "alpha_c_change": round(err, 4),
                      **{f"alpha_c_quad{n}": round(found[n], 4) for n in quads},
                      "published": "" if pub != pub else pub, "capped": capped,
                      "rule": "split"})
    keys = list(dict.fromkeys(k for row in table for k in row))
    tmp = out.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        wr = csv.DictWriter(fh, keys)
        wr.writeheader()
        wr.writerows(table)
    tmp.replace(out)
    for row in table:
        print(row)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/theory/small_omega.csv")
    ap.add_argument("--quads", default="8,6")
    ap.add_argument("--points", type=int, default=9)
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--boundary", default=None, metavar="CSV",
                    help="alpha_c with error bars from the --cold points in --out, to CSV")
    ap.add_argument("--cold", default=None,
                    help="'omega:a,b,c[;omega:...]': cold starts, printed and appended to --out")
    args = ap.parse_args()
    quads = [int(v) for v in args.quads.split(",")]
    if args.cold:
        for spec in args.cold.split(";"):
            cold(spec, quads, Path(args.out))
    elif args.boundary:
        boundary_csv(Path(args.out), Path(args.boundary))
    elif args.table:
        table(Path(args.out))
    else:
        run(Path(args.out), quads, args.points)


if __name__ == "__main__":
    main()
