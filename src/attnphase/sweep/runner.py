"""`run_sweep`: expand a sweep config, skip what the store has, run the rest, store each row."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data import MEMORY_FACTOR, check_memory, data_bytes
from ..errors import InputError
from .backends import check_backend, make_backend
from .grid import MAX_RUNS, load_spec
from .groups import plan_units
from .store import DEFAULT_DB, Store, new_owner
from .work import Row

WAIT_S = 1.0  # polling interval while another sweep finishes its claimed runs


@dataclass
class SweepSummary:
    """What one call of `run_sweep` did."""

    name: str
    db: str
    total: int  # runs in the grid
    skipped: int  # already in the store
    ok: int = 0
    not_converged: int = 0
    failed: int = 0
    lost: int = 0  # runs of units that could not finish: not stored, a rerun does them
    elsewhere: int = 0  # runs done meanwhile by a concurrent sweep of the same config
    adopted: int = 0  # runs of the same configs stored by other sweeps, copied, not rerun
    wall_s: float = 0.0

    @property
    def ran(self) -> int:
        return self.ok + self.not_converged + self.failed

    def __str__(self) -> str:
        rate = self.ran / self.wall_s if self.wall_s > 0 else 0.0
        return (f"sweep {self.name}: {self.total} runs, {self.skipped} already stored, "
                f"{self.ran} run now ({self.ok} ok, {self.not_converged} not converged, "
                f"{self.failed} failed, {self.lost} lost)"
                + (f", {self.elsewhere} by another sweep" if self.elsewhere else "")
                + (f", {self.adopted} taken from other sweeps with the same configs"
                   if self.adopted else "")
                + f" in {self.wall_s:.1f} s "
                f"({rate:.2f} runs/s) -> {self.db}")


def run_sweep(
    config: dict[str, Any] | str | Path,
    db: str | Path = DEFAULT_DB,
    workers: int = 0,
    scheduler: str | None = None,
    progress: bool = True,
    retry_failed: bool = False,
    max_group: int | None = None,
    max_runs: int = MAX_RUNS,
    max_memory: float | None = None,
) -> SweepSummary:
    """Run every grid point of `config` (a dict or a YAML path) not yet in the store `db`.

    `workers` > 0: a local process pool; `scheduler`: a Dask scheduler address; neither: this
    process. `retry_failed` runs stored failures again. A grid of more than `max_runs` runs,
    or whose largest run needs more than `max_memory` GiB (default: the memory available),
    is refused. `max_group` caps the runs of a work unit (one batch; default 32, on a GPU 64).
    Bad input raises InputError before anything runs. Runs that a concurrent
    sweep of the same config has claimed are left to it and waited for.
    """
    start = time.perf_counter()
    spec = load_spec(config, max_runs=max_runs)
    if scheduler is None and not torch.cuda.is_available() and any(
        c.device == "cuda" for c in spec.configs
    ):
        raise InputError("device = 'cuda': CUDA is not available on this machine; use cpu")
    check_backend(workers, scheduler)
    if max_group is not None and max_group < 1:
        raise InputError(f"--unit-size {max_group}: expected an integer >= 1")
    largest = max(spec.configs, key=data_bytes)
    check_memory(MEMORY_FACTOR * data_bytes(largest) * max(1, workers),
                 f"sweep {spec.name}: its largest run (n = {largest.n_samples}, d = {largest.d})"
                 + (f" on {workers} workers" if workers > 1 else ""), max_memory)
    backend = make_backend(workers, scheduler)  # first: a bad scheduler leaves no store behind
    try:
        with Store(db) as store:
            done = store.finished(spec.name, include_failed=not retry_failed)
            pending = {c.hash(): c for c in spec.configs if c.hash() not in done}
            summary = SweepSummary(spec.name, str(db), len(spec.configs), len(spec.configs)
                                   - len(pending))
            for h in store.adopt(spec.name, pending):
                pending.pop(h)
                summary.adopted += 1
            if not pending:
                summary.wall_s = time.perf_counter() - start
                return summary
            commit = git_commit()
            bar = _bar(spec.name, summary, progress)
            counts: Counter[str] = Counter()
            owner = new_owner()

            def on_rows(rows: list[Row]) -> None:
                store.write([r | {"name": spec.name, "git_commit": commit} for r in rows])
                store.touch(owner)
                for r in rows:
                    counts[r["status"].split(":")[0]] += 1
                bar.update(len(rows))

            lost = 0
            try:
                waited = False
                while pending:  # our share, then whatever other sweeps leave unfinished
                    mine, others = store.claim(spec.name, pending, owner, not retry_failed)
                    for h in set(pending) - mine - others:  # stored meanwhile by another sweep
                        pending.pop(h)
                        summary.elsewhere += 1
                        bar.update(1)
                    if mine:
                        units = plan_units([pending.pop(h) for h in mine], backend.parallelism,
                                           max_group)
                        lost += backend.run([[c.to_dict() for c in u] for u in units], on_rows)
                    elif others:
                        if not waited:
                            print(f"attnphase sweep: waiting for {len(others)} run(s) claimed "
                                  f"by another sweep on {db}", file=sys.stderr)
                            waited = True
                        time.sleep(WAIT_S)
            finally:
                store.release(owner)
                bar.close()
    finally:
        backend.close()
    summary.ok, summary.not_converged = counts["ok"], counts["not converged"]
    summary.failed = counts["failed"]
    summary.lost = len(spec.configs) - summary.skipped - summary.elsewhere - summary.ran \
        if lost else 0
    summary.wall_s = time.perf_counter() - start
    return summary


def git_commit() -> str | None:
    """`git rev-parse HEAD` of the checkout the package runs from; None for an installed
    package (even one installed in a virtual environment inside some git checkout)."""
    package = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=package,
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.split()
    if len(lines) != 2 or Path(lines[0]).resolve() / "src" / "attnphase" != package:
        return None
    return lines[1]


def _bar(name: str, summary: SweepSummary, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=summary.total, initial=summary.skipped + summary.adopted, desc=name,
                unit="run", file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                smoothing=0.1)
