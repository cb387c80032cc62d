"""Start-up time of the `attnphase` command against bare imports, measured side by side.

Each command runs as a fresh process `--reps` times, interleaved round by round so that load
from other jobs hits every command alike; the median wall time is reported, with its excess
over the baseline that the issue names: `--help` and `theory curve` (no torch) against
`python -c "import numpy"`, `train` against `python -c "import torch"`. For `train` the
excess is also shown net of the run's own `wall_s` (data, training, evaluation).
Prints a Markdown table.

    .venv/bin/python benchmarks/bench_cli.py            # 7 rounds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PY = [sys.executable]
CLI = [*PY, "-m", "attnphase.cli"]
COMMANDS = {
    "python -c pass": [*PY, "-c", "pass"],
    "python -c 'import numpy'": [*PY, "-c", "import numpy"],
    "python -c 'import torch'": [*PY, "-c", "import torch"],
    "attnphase --help": [*CLI, "--help"],
    "attnphase theory curve (1 point)": [*CLI, "theory", "curve", "--alphas", "1", "--branch",
                                         "semantic", "--json"],
    "attnphase train --d 100": [*CLI, "train", "--d", "100", "--test-samples", "2000",
                                "--json"],
}
BASELINE = {"attnphase --help": "python -c 'import numpy'",
            "attnphase theory curve (1 point)": "python -c 'import numpy'",
            "attnphase train --d 100": "python -c 'import torch'"}


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    run_s: list[float] = []
    for _ in range(args.reps):
        for name, cmd in COMMANDS.items():
            t, out = timed(cmd)
            times[name].append(t)
            if name.startswith("attnphase train"):
                run_s.append(json.loads(out)["wall_s"])
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"| command | median wall s ({args.reps} runs) | baseline | excess s |")
    print("| --- | --- | --- | --- |")
    for name, t in med.items():
        base = BASELINE.get(name)
        excess = f"{t - med[base]:+.3f}" if base else ""
        print(f"| `{name}` | {t:.3f} | {base or ''} | {excess} |")
    net = med["attnphase train --d 100"] - med["python -c 'import torch'"] - statistics.median(
        run_s)
    print(f"\ntrain: the run itself (wall_s) {statistics.median(run_s):.3f} s; "
          f"excess over `import torch` net of it: {net:+.3f} s")


if __name__ == "__main__":
    main()
