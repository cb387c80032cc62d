"""The default solver (flow) of two source trees side by side: CPU seconds of a few batches of
students from small d (where the per-step operations, not the passes over X, cost) to d = 1000,
and how far their end points differ (eps_t, relative).

    git archive HEAD src | tar -x -C /tmp/flow_base      # the baseline's sources
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_flow_versions.py \
        --baseline /tmp/flow_base/src

Each task runs in a fresh process per tree, the trees alternating, `--reps` times; the table
gives the median CPU seconds and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

TASKS = {  # name -> (d, alpha, seeds, inits)
    "d 30, 16 data sets x 2 inits": (30, 1.0, 16, ("semantic", "positional")),
    "d 100, 8 data sets x 2 inits": (100, 1.0, 8, ("semantic", "positional")),
    "d 1000, alpha 0.5, 1 data set x 2 inits": (1000, 0.5, 1, ("semantic", "positional")),
}
CHILD = """
import json, sys, time, torch
torch.set_num_threads(1)
from attnphase.config import Config
from attnphase.experiment import train_many
d, alpha, seeds, inits = json.loads(sys.argv[1])
cfgs = [Config(d=d, alpha=alpha, omega=0.3, seed=100 + s, init=i)
        for s in range(seeds) for i in inits]
train_many(cfgs[:1])  # torch's one-time costs
t = time.process_time()
res = train_many(cfgs)
print(json.dumps({"cpu_s": time.process_time() - t, "eps_t": [r.eps_t for r in res],
                  "steps": [r.steps for r in res]}))
"""


def run(src: str, task: tuple) -> dict:
    env = dict(os.environ, PYTHONPATH=src, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(task)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="the baseline's src directory")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parents[1] / "src")
    print(f"load average {os.getloadavg()[0]:.1f}; baseline {args.baseline}\n")
    print("| task | baseline CPU s | this checkout CPU s | ratio | steps (max) "
          "| eps_t max rel. diff |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, task in TASKS.items():
        times: dict[str, list[float]] = {"base": [], "here": []}
        last = {}
        for _ in range(args.reps):
            for label, src in (("base", args.baseline), ("here", here)):
                last[label] = run(src, task)
                times[label].append(last[label]["cpu_s"])
        b, h = statistics.median(times["base"]), statistics.median(times["here"])
        diff = max(abs(x - y) / abs(x) for x, y in zip(last["base"]["eps_t"],
                                                       last["here"]["eps_t"], strict=True))
        steps = f"{max(last['base']['steps'])} / {max(last['here']['steps'])}"
        print(f"| {name} | {b:.2f} | {h:.2f} | {b / h:.2f} | {steps} | {diff:.1e} |")


if __name__ == "__main__":
    main()
