"""Where work units run: in this process, in a local process pool, or on a Dask cluster.

Every backend ships config dicts out and gets store rows back; only the parent writes the
store. A unit whose worker dies is run again (Dask reschedules it; the pool is restarted);
a unit that still cannot finish is counted as lost, stores nothing, and a rerun does it.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import torch

from ..errors import InputError
from .work import Row, run_group

Unit = list[dict[str, Any]]
OnRows = Callable[[list[Row]], None]


class Backend(Protocol):
    """What `run_sweep` needs from a backend."""

    parallelism: int  # units that can run at once

    def run(self, units: list[Unit], on_rows: OnRows) -> int:
        """Run every unit, pass each unit's rows to `on_rows`; return the units lost."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


class InProcess:
    """Runs units one after the other here; rows reach the store one by one."""

    parallelism = 1

    def run(self, units: list[Unit], on_rows: OnRows) -> int:
        for unit in units:
            run_group(unit, on_row=lambda row: on_rows([row]))
        return 0

    def close(self) -> None:
        pass


def _init_worker(parent: int) -> None:
    """One torch thread; exit when the sweep process is gone (say, after kill -9)."""
    torch.set_num_threads(1)
    threading.Thread(target=_exit_without, args=(parent,), daemon=True).start()


def _exit_without(parent: int, every: float = 2.0) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid exists (owned by someone else): keep going
            pass


class Pool:
    """A local pool of `workers` processes (forkserver or spawn, one torch thread each)."""

    def __init__(self, workers: int, restarts: int = 2) -> None:
        self.parallelism = workers
        self.restarts = restarts
        self.pool = self._start()

    def _start(self) -> cf.ProcessPoolExecutor:
        if "forkserver" in mp.get_all_start_methods():  # workers forked from a clean server
            ctx = mp.get_context("forkserver")  # that imported torch and attnphase once
            ctx.set_forkserver_preload([__name__])
        else:
            ctx = mp.get_context("spawn")
        return cf.ProcessPoolExecutor(self.parallelism, ctx, initializer=_init_worker,
                                      initargs=(os.getpid(),))

    def run(self, units: list[Unit], on_rows: OnRows) -> int:
        todo = dict(enumerate(units))
        for attempt in range(self.restarts + 1):
            futures = {self.pool.submit(run_group, u, 1): k for k, u in todo.items()}
            broken = False
            for fut in cf.as_completed(futures):
                try:
                    rows = fut.result()
                except cf.process.BrokenProcessPool:
                    broken = True
                    continue
                on_rows(rows)
                todo.pop(futures[fut])
            if not broken:
                break
            print(f"attnphase sweep: a pool worker died; {len(todo)} unit(s) "
                  f"{'to run again' if attempt < self.restarts else 'lost'}", file=sys.stderr)
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._start()
        return len(todo)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class Dask:
    """An existing Dask cluster, by scheduler address; lost workers' units are rescheduled."""

    def __init__(self, address: str) -> None:
        from distributed import Client

        try:
            self.client = Client(address, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {address}: cannot connect ({exc})") from None
        self.parallelism = max(1, sum(self.client.nthreads().values()))
        self.futures: list = []

    def run(self, units: list[Unit], on_rows: OnRows) -> int:
        from distributed import as_completed

        self.futures = [self.client.submit(run_group, u, 1, pure=False) for u in units]
        lost = 0
        for fut in as_completed(self.futures):
            try:
                rows = fut.result()
            except Exception as exc:  # KilledWorker after repeated worker deaths, and the like
                print(f"attnphase sweep: a unit was lost ({type(exc).__name__}: {exc})",
                      file=sys.stderr)
                lost += 1
                continue
            on_rows(rows)
        return lost

    def close(self) -> None:
        if self.futures:
            self.client.cancel(self.futures)
        self.client.close()


def check_backend(workers: int = 0, scheduler: str | None = None) -> None:
    """Refuse a bad worker count, or both a pool and a scheduler."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise InputError(f"--workers {workers!r}: must be an integer >= 0 (0: in this process)")
    if scheduler and workers:
        raise InputError("--workers and --scheduler: give one of them, not both")


def make_backend(workers: int = 0, scheduler: str | None = None) -> Backend:
    """The backend that the options name: in-process (0 workers), a pool, or Dask."""
    check_backend(workers, scheduler)
    if scheduler:
        return Dask(scheduler)
    return Pool(workers) if workers else InProcess()
