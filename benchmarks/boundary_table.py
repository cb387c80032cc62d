"""alpha_c and alpha_l with error bars, omega 0 to 0.45, split rule (issue 9, item 2).

`run` solves `boundary` at 6 and at 8 nodes per variable for each omega of `OMEGAS` (the
default continuation grid, 10 points on [0.01, 2]; 16 on [0.01, 3.5] from omega = 0.4 on,
where alpha_l passes 2) and appends one row per (omega, quad) to the runs CSV, with the CPU
seconds; omegas already there are skipped. `table` writes the boundary CSV: the 8-node value,
its error bar the change from 6 nodes (at least `RULE_FLOOR`, `RULE_FLOOR_L`), beside the
published alpha_c, the plain rule's alpha_c (docs/theory.md) and, at omega <= 0.15, alpha_c
from the cold-start points of benchmarks/small_omega.py (a cross-check at a 0.025 alpha
spacing).

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/boundary_table.py run
    python benchmarks/boundary_table.py table
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

from attnphase.io import write_csv_atomic

OMEGAS = (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.425, 0.45)
QUADS = (6, 8)
# alpha_c error of the 8-node rule from its own positional eps_t error (docs/theory.md)
RULE_FLOOR = 0.005
# alpha_l error of the 8-node rule from its semantic eps_g error (~1e-3 relative over the
# slope of eps_g near alpha_l, ~5e-3 per unit alpha at omega <= 0.15)
RULE_FLOOR_L = 0.001
# alpha_c with the plain product rule, 8 nodes (docs/theory.md, the superseded table)
PLAIN = {0.0: 0.569, 0.05: 0.688, 0.1: 0.742, 0.15: 0.833, 0.2: 0.945, 0.25: 1.077,
         0.3: 1.241, 0.35: 1.467, 0.4: 1.774, 0.425: 1.965}
RUN_FIELDS = ("omega", "quad", "alpha_lo", "alpha_hi", "n_alpha", "alpha_c", "alpha_l",
              "eps_g_lin", "cpu_s")


def grid(omega: float) -> tuple[float, float, int]:
    """The continuation grid: Fig. 3's default, wider where alpha_l passes 2."""
    return (0.01, 3.5, 16) if omega >= 0.4 else (0.01, 2.0, 10)


def run(runs: Path) -> None:
    from attnphase.theory import boundary

    done = set()
    if runs.exists():
        done = {(float(r["omega"]), int(r["quad"])) for r in csv.DictReader(runs.open())}
    runs.parent.mkdir(parents=True, exist_ok=True)
    for om in OMEGAS:
        for quad in QUADS:
            if (om, quad) in done:
                continue
            lo, hi, n = grid(om)
            t = time.process_time()
            (b,) = boundary([om], alpha_range=(lo, hi), n_alpha=n, spinodals=False, quad=quad)
            row = {"omega": om, "quad": quad, "alpha_lo": lo, "alpha_hi": hi, "n_alpha": n,
                   "alpha_c": "" if b.alpha_c is None else round(b.alpha_c, 5),
                   "alpha_l": "" if b.alpha_l is None else round(b.alpha_l, 5),
                   "eps_g_lin": b.eps_g_lin, "cpu_s": round(time.process_time() - t, 1)}
            new = not runs.exists()
            with runs.open("a", newline="") as fh:
                wr = csv.DictWriter(fh, RUN_FIELDS)
                if new:
                    wr.writeheader()
                wr.writerow(row)
            print(row, flush=True)


def _num(s: str) -> float:
    return float(s) if s else math.nan


def _value(vals: dict[int, float], floor: float) -> tuple[float, float, float]:
    """(8-node value, error bar, 6-to-8 change); NaN where a rule found no root."""
    best, coarse = vals.get(max(QUADS), math.nan), vals.get(min(QUADS), math.nan)
    change = abs(best - coarse)
    return best, max(change, floor), change


def table(runs: Path, small: Path | None, out: Path) -> None:
    from attnphase.published import alpha_c as published

    rows = list(csv.DictReader(runs.open()))
    cold = {}
    if small is not None and small.exists():
        cold = {float(r["omega"]): float(r["alpha_c"]) for r in csv.DictReader(small.open())}
    table = []
    for om in sorted({float(r["omega"]) for r in rows}):
        here = {int(r["quad"]): r for r in rows if float(r["omega"]) == om}
        row: dict[str, object] = {"omega": om}
        for name in ("alpha_c", "alpha_l"):
            vals = {q: _num(r[name]) for q, r in here.items()}
            best, err, change = _value(vals, RULE_FLOOR if name == "alpha_c" else RULE_FLOOR_L)
            row.update({name: best, f"{name}_err": err, f"{name}_change": change,
                        **{f"{name}_quad{q}": vals[q] for q in sorted(vals)}})
        pub = published(om)
        row.update({"eps_g_lin": float(here[max(here)]["eps_g_lin"]),
                    "published": pub, "published_alpha_l": math.nan,
                    "plain_rule_alpha_c": PLAIN.get(om, math.nan),
                    "cold_start_alpha_c": cold.get(om, math.nan), "rule": "split"})
        table.append({k: "" if isinstance(v, float) and math.isnan(v) else
                      (round(v, 4) if isinstance(v, float) and k != "eps_g_lin" else v)
                      for k, v in row.items()})
    keys = list(dict.fromkeys(k for row in table for k in row))
    write_csv_atomic(out, [{k: row.get(k, "") for k in keys} for row in table])
    print("| omega | alpha_c | alpha_l | published alpha_c | diff | cold starts | plain rule |")
    print("| --- " * 7 + "|")
    for r in table:
        diff = (f"{(r['alpha_c'] / r['published'] - 1) * 100:+.1f}%"
                if r["published"] != "" and r["alpha_c"] != "" else "")
        ac = f"{r['alpha_c']:.3f} ± {r['alpha_c_err']:.3f}" if r["alpha_c"] != "" else "none"
        al = f"{r['alpha_l']:.3f} ± {r['alpha_l_err']:.3f}" if r["alpha_l"] != "" else "none"
        print(f"| {r['omega']} | {ac} | {al} | {r['published']} | {diff} | "
              f"{r['cold_start_alpha_c']} | {r['plain_rule_alpha_c']} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=("run", "table"))
    ap.add_argument("--runs", default="results/paper/theory_boundary_runs.csv")
    ap.add_argument("--small", default="results/paper/theory_small_omega_alpha_c.csv",
                    help="alpha_c from small_omega.py --boundary (cold starts), if present")
    ap.add_argument("--out", default="results/paper/theory_boundary.csv")
    args = ap.parse_args()
    if args.part == "run":
        run(Path(args.runs))
    else:
        table(Path(args.runs), Path(args.small), Path(args.out))


if __name__ == "__main__":
    main()
