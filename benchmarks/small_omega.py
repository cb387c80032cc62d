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
        --boundary results/paper/theory_small_omega_alpha_c.csv  # alpha_c +- error

`--cold omega:a,b,c` solves both branches from cold starts at those alphas, at each rule size
of `--quads`, and prints delta_eps_t (the numbers of docs/theory.md, "Small omega").

`--enumerate CSV` runs the fixed-point scan (`attnphase.theory.enumerate.scan`, the starts
below) at the alphas of `CROSSINGS` with the first rule size of `--quads`, and appends one
row per distinct point found per (omega, alpha) to CSV (pairs already in it are skipped):

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/small_omega.py --quads 8 \
        --enumerate results/paper/theory_small_omega_fixed_points.csv
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from attnphase.io import write_csv_atomic

WINDOWS = {0.0: 0.5, 0.1: 0.65, 0.05: 0.575, 0.15: 0.725, 0.025: 0.55, 0.075: 0.6}
RULE_FLOOR = 0.005  # alpha_c error of the 8-node rule's positional eps_t (1.3e-3 relative)
# the three alphas around each crossing (docs/theory.md, "Small omega with the split rule")
CROSSINGS = {0.0: (0.575, 0.6, 0.625), 0.025: (0.625, 0.65, 0.675), 0.05: (0.675, 0.7, 0.725),
             0.075: (0.7, 0.725, 0.75), 0.1: (0.725, 0.75, 0.775), 0.15: (0.825, 0.85, 0.875)}
SCAN_M = (0.01, 0.03, 0.06, 0.1, 0.15, 0.25, 0.5)  # m_th, theta = 0 equations
SCAN_THETA = (0.05, 0.15, 0.3, 0.45, 0.6, 0.9)  # theta_th / rho, m_th = 0
SCAN_MIXED = ((0.15, 0.15), (0.45, 0.1))  # (theta_th / rho, m_th), both free
SCAN_FIELDS = ("omega", "alpha", "quad", "start", "kind", "converged", "residual",
               "iterations", "q", "m", "theta", "V", "eps_g", "eps_t", "q_th", "m_th",
               "theta_th")
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
    write_csv_atomic(out, [{k: row.get(k, "") for k in keys} for row in table])
    for row in table:
        print(row)


def enumerate_points(out: Path, quad: int) -> None:
    """The scan at every (omega, alpha) of `CROSSINGS` not yet in `out`: one row per start
    ("p<m_th>" theta = 0, "s<theta>" semantic, "x<theta>/<m_th>" mixed) with the point it
    ended on, its kind, whether it converged and the relative step left (`residual`)."""
    from attnphase.theory.enumerate import kind, scan

    done = set()
    if out.exists():
        done = {(float(r["omega"]), float(r["alpha"])) for r in csv.DictReader(out.open())}
    out.parent.mkdir(parents=True, exist_ok=True)
    for om, alphas in CROSSINGS.items():
        for a in alphas:
            if (om, a) in done:
                continue
            res = scan(a, om, m_starts=SCAN_M, theta_starts=SCAN_THETA,
                       mixed_starts=SCAN_MIXED, quad=quad)
            rows = [{"omega": om, "alpha": a, "quad": quad, "start": _label(b, x0),
                     "kind": kind(p), "converged": p.converged, "residual": p.residual,
                     "iterations": p.iterations, "q": p.q, "m": p.m, "theta": p.theta,
                     "V": p.V, "eps_g": p.eps_g, "eps_t": p.eps_t, "q_th": p.th["q_th"],
                     "m_th": abs(p.th["m_th"]), "theta_th": abs(p.th["theta_th"])}
                    for b, x0, p in res]
            new = not out.exists()
            with out.open("a", newline="") as fh:
                wr = csv.DictWriter(fh, SCAN_FIELDS)
                if new:
                    wr.writeheader()
                wr.writerows(rows)
            print(om, a, [(r["start"], r["kind"], r["converged"], f"{r['eps_t']:.7f}")
                          for r in rows], flush=True)


def fixed_point_table(points: Path, same: float = 1e-3) -> None:
    """Markdown table of the distinct points in the `--enumerate` CSV per (omega, alpha):
    converged results merged when q_th, m_th, theta_th and V agree to `same` (relative, as
    `enumerate.same_point`); results stopped at the iteration cap merged per kind, with the
    range of their eps_t and residuals."""
    rows = list(csv.DictReader(points.open()))
    print("| omega | alpha | kind | converged | starts | q | m | theta | V | eps_t | residual |")
    print("| --- " * 11 + "|")
    for key in dict.fromkeys((r["omega"], r["alpha"]) for r in rows):
        here = [r for r in rows if (r["omega"], r["alpha"]) == key]
        groups: list[list[dict]] = []
        for r in here:
            conv = r["converged"] == "True"
            for g in groups:
                g0 = g[0]
                if conv and g0["converged"] == "True" and _close(r, g0, same):
                    g.append(r)
                    break
                if not conv and g0["converged"] == "False" and r["kind"] == g0["kind"]:
                    g.append(r)
                    break
            else:
                groups.append([r])
        for g in sorted(groups, key=lambda g: min(float(r["eps_t"]) for r in g)):
            f = {k: [float(r[k]) for r in g] for k in ("q", "m", "theta", "V", "eps_t",
                                                      "residual")}
            cell = {k: (f"{v[0]:.5g}" if max(v) - min(v) <= same * max(abs(v[0]), 1e-3)
                        else f"{min(v):.5g} to {max(v):.5g}") for k, v in f.items()}
            print(f"| {key[0]} | {key[1]} | {g[0]['kind']} | {g[0]['converged']} | "
                  f"{' '.join(r['start'] for r in g)} | {cell['q']} | {cell['m']} | "
                  f"{cell['theta']} | {cell['V']} | {cell['eps_t']} | "
                  f"{min(f['residual']):.1e} to {max(f['residual']):.1e} |")


def _close(r: dict, s: dict, same: float) -> bool:
    return all(abs(float(r[k]) - float(s[k])) <= same * max(abs(float(r[k])),
                                                            abs(float(s[k])), 1e-3)
               for k in ("q_th", "m_th", "theta_th", "V"))


def _label(branch: str, x0: tuple[float, ...]) -> str:
    rho = 0.25  # sigma = 0.5, the scan's default
    if branch == "positional":
        return f"p{x0[1]:g}"
    if x0[1] == 0:
        return f"s{x0[2] / rho:g}"
    return f"x{x0[2] / rho:g}/{x0[1]:g}"


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
    ap.add_argument("--enumerate", default=None, metavar="CSV",
                    help="the fixed-point scan at the alphas around each crossing, to CSV")
    args = ap.parse_args()
    quads = [int(v) for v in args.quads.split(",")]
    if args.enumerate and args.table:
        fixed_point_table(Path(args.enumerate))
    elif args.enumerate:
        enumerate_points(Path(args.enumerate), quads[0])
    elif args.cold:
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
