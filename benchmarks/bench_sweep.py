"""Benchmark: the Fig. 2 grid as one sweep, against the paper's GD protocol one run at a time.

The sweep: 25 alpha evenly spaced in [0.01, 2], omega = 0.3, both initialisations, 5 seeds
(250 runs) at d = 1000, the default solver to its tolerance, into a fresh store. `--slice`
moves the grid to issue 10's hard slices, sigma = 1.0 or lambda = 0.001 (throughput target:
2 runs/s on 2 workers).
The reference: a few of the same runs with `solver: gd` (lr 0.15, 5000 steps), trained one at
a time with `experiment.train`, as the paper's code does. Prints a Markdown table.

    nice .venv/bin/python benchmarks/bench_sweep.py            # the full benchmark
    nice .venv/bin/python benchmarks/bench_sweep.py --slice sigma1 --gd-runs 0
    .venv/bin/python benchmarks/bench_sweep.py --d 100 --seeds 1 --alphas 5 --gd-runs 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import torch

from attnphase.config import from_dict
from attnphase.experiment import train
from attnphase.sweep import results_frame, run_sweep


class PeakMemory(threading.Thread):
    """Largest resident memory of this process or any descendant, and the CPU seconds they
    used (the last sample of each process), sampled twice a second. On a loaded machine
    the CPU seconds give the throughput the sweep would have on idle cores."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.done = 0, threading.Event()
        self.cpu: dict[int, float] = {}
        t = psutil.Process().cpu_times()
        self.before = t.user + t.system  # this process's CPU seconds before the sweep
        self.start()

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu.values()) - self.before

    def run(self) -> None:
        me = psutil.Process()
        while not self.done.wait(0.5):
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    self.peak = max(self.peak, proc.memory_info().rss)
                    t = proc.cpu_times()
                    self.cpu[proc.pid] = t.user + t.system

    def stop(self) -> None:
        self.done.set()
        self.join()


# the slices of the grid: changes to the Fig. 2 base (omega 0.3, sigma 0.5, lambda 0.01)
SLICES = {"fig2": {}, "sigma1": {"sigma": 1.0}, "lam0.001": {"lam": 0.001}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--alphas", type=int, default=25, help="alpha values in [0.01, 2]")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--slice", choices=sorted(SLICES), default="fig2",
                   help="fig2 (default), sigma1 (sigma 1.0) or lam0.001 (lambda 0.001)")
    p.add_argument("--test-samples", type=int, default=50000)
    p.add_argument("--workers", type=int, default=2, help="0: in-process")
    p.add_argument("--device", default="cpu", help="cpu or cuda (then use --workers 0)")
    p.add_argument("--gd-runs", type=int, default=2, help="runs of the GD reference")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    args = p.parse_args()

    load_before = os.getloadavg()
    spec = {"name": "bench-fig2",
            "base": {"d": args.d, "omega": 0.3, "test_samples": args.test_samples,
                     "device": args.device, **SLICES[args.slice]},
            "grid": {"alpha": np.linspace(0.01, 2, args.alphas).round(6).tolist(),
                     "init": ["semantic", "positional"], "seed": list(range(args.seeds))}}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        watch = PeakMemory()
        summary = run_sweep(spec, db=db, workers=args.workers)
        watch.stop()
        df = results_frame(db)
    per_run = summary.wall_s / summary.ran
    rows = df.set_index("config_hash")

    torch.set_num_threads(1)
    picks = [(-1, "semantic"), (len(spec["grid"]["alpha"]) // 2, "positional")][: args.gd_runs]
    gd = []
    for k, init in picks:
        alpha = spec["grid"]["alpha"][k]
        cfg = from_dict({**spec["base"], "alpha": alpha, "init": init, "seed": 0})
        start = time.perf_counter()
        res = train(cfg.replace(solver="gd"))
        wall = time.perf_counter() - start
        ref = rows.loc[cfg.hash()]
        gd.append({"alpha": alpha, "init": init, "n": res.n, "gd_wall_s": wall,
                   "ratio": wall / per_run, "gd_eps_g": res.eps_g, "sweep_eps_g": ref.eps_g,
                   "gd_eps_t": res.eps_t, "sweep_eps_t": ref.eps_t,
                   "gd_grad_norm": res.grad_norm})

    out = {"d": args.d, "slice": args.slice, "runs": summary.ran, "workers": args.workers,
           "device": args.device,
           "peak_rss_mib": watch.peak / 2**20,
           "sweep_wall_s": summary.wall_s, "runs_per_s": summary.ran / summary.wall_s,
           "per_run_s": per_run, "ok": summary.ok, "not_converged": summary.not_converged,
           "failed": summary.failed, "gd": gd, "cpus": os.cpu_count(),
           "cpu_s": watch.cpu_s, "runs_per_cpu_s": summary.ran / watch.cpu_s,
           "load_before": load_before, "load_after": os.getloadavg()}
    print(f"\nFig. 2 grid, slice {args.slice}, d = {args.d}: {summary.ran} runs, "
          f"workers = {args.workers}, device {args.device}, "
          f"{os.cpu_count()} CPUs, load average before/after {load_before[0]:.1f}/"
          f"{out['load_after'][0]:.1f}")
    print(f"sweep (default solver): {summary.wall_s:.1f} s, {out['runs_per_s']:.2f} runs/s, "
          f"{per_run:.2f} s per run; {summary.ok} ok, {summary.not_converged} not converged, "
          f"{summary.failed} failed; peak memory of one process {out['peak_rss_mib']:.0f} MiB")
    print(f"CPU time of the sweep's processes {watch.cpu_s:.1f} s: "
          f"{out['runs_per_cpu_s']:.2f} runs per CPU second (x {max(args.workers, 1)} workers = "
          f"{out['runs_per_cpu_s'] * max(args.workers, 1):.2f} runs/s on idle cores)\n")
    print("| alpha | init | n | GD one at a time (s) | sweep per run (s) | ratio | "
          "eps_g GD | eps_g sweep | eps_t GD | eps_t sweep | GD grad norm |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for g in gd:
        print(f"| {g['alpha']:.4g} | {g['init']} | {g['n']} | {g['gd_wall_s']:.1f} | "
              f"{per_run:.2f} | {g['ratio']:.0f} | {g['gd_eps_g']:.5g} | {g['sweep_eps_g']:.5g} "
              f"| {g['gd_eps_t']:.5g} | {g['sweep_eps_t']:.5g} | {g['gd_grad_norm']:.1e} |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
