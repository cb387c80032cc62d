"""Benchmark of the asymptotic theory: speed and accuracy against docs/model.md §5.

1. omega = 0.3, 40 alpha in [0.05, 2], both branches (target <= 30 s on the 2-core box);
   the alpha = 2 semantic values against the reference of docs/model.md §5; alpha_c from
   the curves.
2. alpha_c(omega), alpha_l(omega) at 10 omega values (target <= 3 min), against the
   published alpha_c line.
Wall and CPU seconds are both printed: on a shared machine CPU time is the steadier number.
Prints Markdown tables.

    .venv/bin/python benchmarks/bench_theory.py                # both parts
    .venv/bin/python benchmarks/bench_theory.py --part curve   # the curve part only
    .venv/bin/python benchmarks/bench_theory.py --part refine  # refinement tables (minutes)
    .venv/bin/python benchmarks/bench_theory.py --part adaptive --quads 6,8,10,12 --tol 1e-5
        # the positional branch with the adaptive rule (minutes)
    git archive 2d849e4 src | tar -x -C /tmp/base    # an older version, side by side:
    .venv/bin/python benchmarks/bench_theory.py --part compare --baseline /tmp/base/src
    (add --quick to leave out the 80-point curve and its output differences)
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from attnphase.published import ALPHA_C as PUBLISHED
from attnphase.theory import boundary, curve, linear_theory, solve
from attnphase.theory.fixed_point import usable, values
from attnphase.transitions import downcrossing

REFERENCE = {"q_th": 0.1148, "theta_th": 0.1581, "eps_g": 0.001405, "eps_t": 0.003591}


class Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def bench_curve(quad: int, split: bool = True) -> None:
    alphas = np.linspace(0.05, 2.0, 40)
    with Clock() as c:
        sem = curve(alphas, 0.3, 0.5, 0.01, "semantic", quad=quad, split=split)
        pos = curve(alphas, 0.3, 0.5, 0.01, "positional", quad=quad, split=split)
    conv = sum(p.converged for p in sem + pos)
    print(f"## curve: omega 0.3, 40 alpha in [0.05, 2], both branches (quad {quad}, "
          f"split {split})\n")
    print(f"wall {c.wall:.1f} s, CPU {c.cpu:.1f} s, converged {conv}/80, "
          f"iterations {sum(p.iterations for p in sem + pos)}, load {os.getloadavg()[0]:.1f}\n")
    top = sem[-1]
    got = {"q_th": top.th["q_th"], "theta_th": top.th["theta_th"], "eps_g": top.eps_g,
           "eps_t": top.eps_t}
    print("| alpha = 2, semantic | docs/model.md §5 | here | rel. diff |\n"
          "| --- | --- | --- | --- |")
    for k, ref in REFERENCE.items():
        print(f"| {k} | {ref} | {got[k]:.6g} | {got[k] / ref - 1:+.2%} |")
    delta = values(sem, "eps_t") - values(pos, "eps_t")
    print(f"\nalpha_c from the curve (linear interpolation): {downcrossing(alphas, delta):.4f}\n")


def bench_boundary(omegas: list[float], quad: int) -> None:
    print(f"## boundary: {len(omegas)} omega values (quad {quad})\n")
    print("| omega | alpha_c | published | rel. diff | alpha_l | eps_g_lin | wall s | CPU s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    total = Clock().__enter__()
    for om in omegas:
        with Clock() as c:
            (b,) = boundary([om], 0.5, 0.01, spinodals=False, quad=quad)
        pub = PUBLISHED.get(om)
        diff = "" if pub is None or b.alpha_c is None else f"{b.alpha_c / pub - 1:+.1%}"
        ac = "none" if b.alpha_c is None else f"{b.alpha_c:.4f}"
        al = "none" if b.alpha_l is None else f"{b.alpha_l:.4f}"
        print(f"| {om} | {ac} | {pub if pub is not None else ''} | {diff} | {al} | "
              f"{b.eps_g_lin:.6f} | {c.wall:.1f} | {c.cpu:.1f} |", flush=True)
    total.__exit__()
    print(f"\ntotal wall {total.wall:.1f} s, CPU {total.cpu:.1f} s, "
          f"load {os.getloadavg()[0]:.1f}\n")


def bench_solve(quad: int) -> None:
    """One cold solve per case, split and plain rule side by side (CPU seconds)."""
    print(f"## one cold solve, split against plain (quad {quad})\n")
    print("| branch | alpha | CPU s split | CPU s plain | ratio |\n| --- | --- | --- | --- | --- |")
    for branch, alpha in (("positional", 1.0), ("positional", 0.5), ("semantic", 2.0)):
        cpu = []
        for split in (True, False):
            with Clock() as c:
                solve(alpha, 0.3, 0.5, 0.01, branch=branch, quad=quad, split=split)
            cpu.append(c.cpu)
        print(f"| {branch} | {alpha} | {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[0] / cpu[1]:.1f} |",
              flush=True)
    print()


def bench_refine(quads: list[int]) -> None:
    """Refinement tables: the fixed point against the rule size, split rule and plain rule."""
    fields = ("q", "m", "theta", "V", "eps_g", "eps_t")
    for branch, alpha in (("semantic", 2.0), ("positional", 1.0)):
        for split in (True, False):
            print(f"## {branch}, alpha = {alpha}, omega = 0.3, split {split}\n")
            print("| nodes | " + " | ".join(fields) + " | iterations | CPU s |")
            print("| --- " * (len(fields) + 3) + "|")
            for n in quads:
                with Clock() as c:
                    p = solve(alpha, 0.3, 0.5, 0.01, branch=branch, quad=n, split=split)
                vals = " | ".join(f"{getattr(p, f):.7g}" for f in fields)
                print(f"| {n} | {vals} | {p.iterations}{'' if p.converged else ' (not conv.)'} "
                      f"| {c.cpu:.1f} |", flush=True)
            print()


def bench_adaptive(quads: list[int], tol: float) -> None:
    """Positional refinement table with the adaptive rule (`solve_adaptive`), eta nodes per
    variable against the outputs, and their relative spread over the three largest sizes."""
    from attnphase.theory.refined import solve_adaptive

    fields = ("q", "m", "V", "eps_g", "eps_t")
    print(f"## positional, alpha = 1, omega = 0.3, adaptive rule, tol {tol:g}\n")
    print("| eta nodes | " + " | ".join(fields) + " | steps | residual | prox evals | CPU s |")
    print("| --- " * (len(fields) + 5) + "|")
    rows, start, prev = [], solve(1.0, 0.3, 0.5, 0.01, branch="positional"), None
    for n in quads:  # each size starts from the previous size's fixed point
        with Clock() as c:
            p = solve_adaptive(1.0, 0.3, 0.5, 0.01, branch="positional", n_eta=n, tol=tol,
                               init=start, x0=prev)
        prev = p
        rows.append([getattr(p, f) for f in fields])
        vals = " | ".join(f"{getattr(p, f):.7g}" for f in fields)
        evals = p.note.split(", ")[-1].split()[0]
        print(f"| {n} | {vals} | {p.iterations} | {p.residual:.1e} | {evals} | {c.cpu:.1f} |",
              flush=True)
    last = np.array(rows[-3:])
    spread = (last.max(axis=0) - last.min(axis=0)) / np.abs(last[-1])
    print(f"\nspread (max - min) / |last| over {quads[-3:]}: "
          + ", ".join(f"{f} {v:.1e}" for f, v in zip(fields, spread, strict=True)) + "\n")


FIELDS = ("q", "m", "theta", "V", "eps_g", "eps_t")
# relative differences are taken against max(|x|, floor): the solver's residual floors
# (1% of the natural scale) for the order parameters, none for the errors
FLOORS = {"q": 0.01, "m": 0.01, "theta": 0.01, "V": 0.01, "eps_g": 0.0, "eps_t": 0.0}


def _curve80() -> list[dict]:
    """The 80-point curve of `bench_curve` (split rule, quad 8) as rows with `usable`."""
    alphas = np.linspace(0.05, 2.0, 40)
    pts = (curve(alphas, 0.3, 0.5, 0.01, "semantic")
           + curve(alphas, 0.3, 0.5, 0.01, "positional"))
    return [{**p.row(), "usable": usable(p)} for p in pts]


def _tasks(full: bool) -> tuple[dict[str, float], list[dict]]:
    """CPU seconds of the comparison tasks in this process's `attnphase` (see `compare`),
    and the 80-point curve's rows (with `full`)."""
    out: dict[str, float] = {}
    rows: list[dict] = []
    tasks = [
        ("cold solve, positional alpha 1", lambda: solve(1.0, 0.3, branch="positional")),
        ("cold solve, positional alpha 0.5", lambda: solve(0.5, 0.3, branch="positional")),
        ("cold solve, semantic alpha 2", lambda: solve(2.0, 0.3, branch="semantic")),
        ("curve, positional, 10 alpha in [0.3, 2]",
         lambda: curve(np.linspace(0.3, 2.0, 10), 0.3, branch="positional")),
        ("curve, semantic, 10 alpha in [0.95, 2]",
         lambda: curve(np.linspace(0.95, 2.0, 10), 0.3, branch="semantic"))]
    if full:
        tasks.append(("curve, 80 points (--part curve)", lambda: rows.extend(_curve80())))
    for name, run in tasks:
        with Clock() as c:
            run()
        out[name] = c.cpu
    return out, rows


def _differences(old: list[dict], new: list[dict]) -> str:
    """Largest relative difference per field over the points usable in both curves."""
    both = [(a, b) for a, b in zip(old, new, strict=True) if a["usable"] and b["usable"]]
    same = [a["usable"] for a in old] == [b["usable"] for b in new]
    worst = {f: max(abs(a[f] - b[f]) / max(abs(a[f]), FLOORS[f], 1e-300) for a, b in both)
             for f in FIELDS}
    return (f"80-point curve: {len(both)} points usable in both, the same set: {same}; "
            "largest relative difference (against max(|x|, 0.01) for q, m, theta, V): "
            + ", ".join(f"{f} {v:.1e}" for f, v in worst.items()))


def compare(baseline: str, full: bool = True) -> None:
    """The same tasks with the sources under `baseline` (e.g. an exported older commit's
    `src`) and with this checkout's, one after the other in fresh processes (each process's
    first call includes loading, or compiling, the numba kernels where the sources have them).
    With `full`, also the 80-point curve, and the differences of its outputs."""
    import json
    import subprocess
    import sys

    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    code = ("import json, sys; sys.argv = ['bench']; import bench_theory as b; "
            f"b.linear_theory(0.3, 0.5); print(json.dumps(b._tasks({full})))")
    res = {}
    for label, src in (("baseline", baseline), ("this checkout", here)):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.path.dirname(__file__)])}
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True)
        res[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"## side by side, CPU s (baseline {baseline}; load {os.getloadavg()[0]:.1f})\n")
    print("| task | baseline | this checkout | ratio |\n| --- | --- | --- | --- |")
    for task, old in res["baseline"][0].items():
        new = res["this checkout"][0][task]
        print(f"| {task} | {old:.2f} | {new:.2f} | {old / new:.2f} |")
    if full:
        print("\n" + _differences(res["baseline"][1], res["this checkout"][1]))
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("curve", "boundary", "refine", "adaptive", "solve",
                                       "compare", "all"),
                    default="all")
    ap.add_argument("--quads", default="6,8,10,12,14,16,20", help="rule sizes of 'refine'")
    ap.add_argument("--tol", type=float, default=1e-5, help="adaptive: the xi-plane tolerance")
    ap.add_argument("--plain", action="store_true", help="curve: also the plain product rule")
    ap.add_argument("--quad", type=int, default=8, help="Gauss-Hermite nodes per variable")
    ap.add_argument("--baseline", default=None,
                    help="compare: the `src` folder of the version to compare against")
    ap.add_argument("--quick", action="store_true",
                    help="compare: without the 80-point curve")
    ap.add_argument("--omegas", default="0,0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.425")
    args = ap.parse_args()
    linear_theory(0.3, 0.5)  # warm the caches outside the clocks
    if args.part in ("curve", "all"):
        bench_curve(args.quad)
        if args.plain:
            bench_curve(args.quad, split=False)
    if args.part == "compare":
        if not args.baseline:
            ap.error("--part compare needs --baseline SRC")
        compare(args.baseline, full=not args.quick)
    if args.part == "solve":
        bench_solve(args.quad)
    if args.part == "refine":
        bench_refine([int(v) for v in args.quads.split(",")])
    if args.part == "adaptive":
        bench_adaptive([int(v) for v in args.quads.split(",")], args.tol)
    if args.part in ("boundary", "all"):
        bench_boundary([float(v) for v in args.omegas.split(",")], args.quad)


if __name__ == "__main__":
    main()
