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

from ..errors import InputError
from .backends import check_backend, make_backend
from .grid import load_spec
from .groups import plan_units
from .store import DEFAULT_DB, Store
from .work import Row


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
    wall_s: float = 0.0

    @property
    def ran(self) -> int:
        return self.ok + self.not_converged + self.failed

    def __str__(self) -> str:
        rate = self.ran / self.wall_s if self.wall_s > 0 else 0.0
        return (f"sweep {self.name}: {self.total} runs, {self.skipped} already stored, "
                f"{self.ran} run now ({self.ok} ok, {self.not_converged} not converged, "
                f"{self.failed} failed, {self.lost} lost) in {self.wall_s:.1f} s "
                f"({rate:.2f} runs/s) -> {self.db}")


def run_sweep(
    config: dict[str, Any] | str | Path,
    db: str | Path = DEFAULT_DB,
    workers: int = 0,
    scheduler: str | None = None,
    progress: bool = True,
    retry_failed: bool = False,
    max_group: int = 32,
) -> SweepSummary:
    """Run every grid point of `config` (a dict or a YAML path) not yet in the store `db`.

    `workers` > 0: a local process pool; `scheduler`: a Dask scheduler address; neither: this
    process. `retry_failed` runs stored failures again. Bad input raises InputError before
    anything runs.
    """
    start = time.perf_counter()
    spec = load_spec(config)
    if scheduler is None and not torch.cuda.is_available() and any(
        c.device == "cuda" for c in spec.configs
    ):
        raise InputError("device = 'cuda': CUDA is not available on this machine; use cpu")
    check_backend(workers, scheduler)
    with Store(db) as store:
        done = store.finished(spec.name, include_failed=not retry_failed)
        pending = [c for c in spec.configs if c.hash() not in done]
        summary = SweepSummary(spec.name, str(db), len(spec.configs), len(spec.configs)
                               - len(pending))
        if not pending:
            summary.wall_s = time.perf_counter() - start
            return summary
        backend = make_backend(workers, scheduler)
        commit = git_commit()
        bar = _bar(spec.name, summary, progress)
        counts: Counter[str] = Counter()

        def on_rows(rows: list[Row]) -> None:
            store.write([r | {"name": spec.name, "git_commit": commit} for r in rows])
            for r in rows:
                counts[r["status"].split(":")[0]] += 1
            bar.update(len(rows))

        try:
            units = plan_units(pending, backend.parallelism, max_group)
            lost = backend.run([[c.to_dict() for c in u] for u in units], on_rows)
        finally:
            backend.close()
            bar.close()
    summary.ok, summary.not_converged = counts["ok"], counts["not converged"]
    summary.failed = counts["failed"]
    summary.lost = len(pending) - summary.ran if lost else 0
    summary.wall_s = time.perf_counter() - start
    return summary


def git_commit() -> str | None:
    """`git rev-parse HEAD` of the package's checkout, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _bar(name: str, summary: SweepSummary, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=summary.total, initial=summary.skipped, desc=name, unit="run",
                file=sys.stderr, disable=not enabled, dynamic_ncols=True, smoothing=0.1)
