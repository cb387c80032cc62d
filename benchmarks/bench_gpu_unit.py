"""One sweep unit of appendix-A on a device: how a batch of many data sets spends its time.

Trains 16 data sets (4 seeds x 4 omegas of the appendix's A, d = 1000, alpha = 1) x 2 inits
as one `train_many` batch, the way a GPU sweep unit runs (sweep/groups.py), and reports the
wall time, the flow's steps (trial steps of the whole batch) and the wall time per step; then
profiles a quarter of it (torch.profiler: CPU time against CUDA time). On a GPU the ratio of
the two says whether the flow is bound by the launches or by the passes over X.

usage: PYTHONPATH=src python3 benchmarks/bench_gpu_unit.py [--device cuda] [--no-profile]
"""

from __future__ import annotations

import argparse
import time

import torch

import attnphase.flow as flow_module
from attnphase.config import Config
from attnphase.data import generate
from attnphase.experiment import train_many


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    cfgs = [Config(d=1000, alpha=1.0, omega=o, seed=s, init=i, A="appendix", device=args.device)
            for s in range(4) for o in (0.1, 0.2, 0.3, 0.4) for i in ("semantic", "positional")]
    t = time.perf_counter()
    for cfg in cfgs[::2]:
        generate(cfg)
    print(f"generate 16 data sets: {time.perf_counter() - t:.2f} s")
    steps = {"n": 0}
    step = flow_module._step

    def counted(*a, **k):
        steps["n"] += 1
        return step(*a, **k)

    flow_module._step = counted
    t = time.perf_counter()
    res = train_many(cfgs)
    if args.device == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - t
    flow_module._step = step
    print(f"train {len(cfgs)} runs: {wall:.2f} s, {steps['n']} flow steps, "
          f"{1e3 * wall / steps['n']:.1f} ms per step; largest steps "
          f"{max(r.steps for r in res)}, passes {max(r.passes for r in res)}")
    if args.no_profile:
        return
    kinds = [torch.profiler.ProfilerActivity.CPU]
    if args.device == "cuda":
        kinds.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=kinds) as prof:
        train_many(cfgs[:8])
    sort = "cuda_time_total" if args.device == "cuda" else "cpu_time_total"
    print(prof.key_averages().table(sort_by=sort, row_limit=15))


if __name__ == "__main__":
    main()
