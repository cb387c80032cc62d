"""Backends: the same numbers in-process, on a process pool and on a real Dask LocalCluster
(loopback), and a sweep that loses a Dask worker mid-way still completes."""

import os
import signal
import sqlite3
import threading
import time

import pandas as pd
import pytest

from attnphase.sweep import results_frame, run_sweep

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

METRICS = ["eps_g", "eps_t", "m", "theta", "q", "eps_g_lin", "grad_norm", "converged", "steps"]


def spec(name, seeds):
    # L-BFGS: these tests are about the backends, and it is the cheapest converged solver
    return {"name": name, "base": {"d": 30, "test_samples": 500, "omega": 0.25,
                                   "solver": "lbfgs"},
            "grid": {"alpha": [0.6, 1.4], "init": ["semantic", "positional"],
                     "seed": list(seeds)}}


def metrics(db):
    df = results_frame(db).sort_values("config_hash").reset_index(drop=True)
    assert (df.status == "ok").all()
    return df[["config_hash", *METRICS]]


class Killer(threading.Thread):
    """Kills the processes that `pids()` names once `db` holds 8 rows; notes the count then."""

    def __init__(self, db, pids) -> None:
        super().__init__(daemon=True)
        self.db, self.pids, self.rows_then, self.killed = db, pids, -1, []
        self.start()

    def run(self) -> None:
        deadline = time.time() + 60
        while time.time() < deadline and self.rows_then < 8:
            try:
                with sqlite3.connect(self.db) as con:
                    self.rows_then = con.execute("SELECT count(*) FROM runs").fetchone()[0]
            except sqlite3.OperationalError:
                pass
            time.sleep(0.02)
        for pid in self.pids():
            os.kill(pid, signal.SIGKILL)
            self.killed.append(pid)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address=None) as c:
        yield c


def test_same_results_in_process_pool_and_dask(tmp_path, cluster):
    raw = spec("same", range(4))
    ref = run_sweep(raw, db=tmp_path / "a.sqlite", progress=False)
    pool = run_sweep(raw, db=tmp_path / "b.sqlite", workers=2, progress=False)
    dask = run_sweep(raw, db=tmp_path / "c.sqlite", scheduler=cluster.scheduler_address,
                     progress=False)
    assert ref.ok == pool.ok == dask.ok == 16
    a = metrics(tmp_path / "a.sqlite")
    pd.testing.assert_frame_equal(a, metrics(tmp_path / "b.sqlite"), rtol=1e-12)
    pd.testing.assert_frame_equal(a, metrics(tmp_path / "c.sqlite"), rtol=1e-12)


def test_a_killed_dask_worker_loses_no_run(tmp_path, cluster):
    db = tmp_path / "k.sqlite"
    with distributed.Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
    killer = Killer(db, lambda: pids[:1])
    summary = run_sweep(spec("killed", range(30)), db=db, scheduler=cluster.scheduler_address,
                        progress=False)
    killer.join()
    assert killer.killed and 8 <= killer.rows_then < 120, "a worker should die mid-sweep"
    assert summary.lost == 0 and summary.ran == 120
    df = results_frame(db)
    assert len(df) == df.config_hash.nunique() == 120 and (df.status == "ok").all()


def test_a_killed_pool_worker_loses_no_run(tmp_path):
    db = tmp_path / "p.sqlite"
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    def pool_workers() -> list[int]:
        new = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
        return [p.pid for p in new if p.ppid() != os.getpid()][:1]  # forked by the forkserver

    killer = Killer(db, pool_workers)
    summary = run_sweep(spec("pool", range(24)), db=db, workers=2, progress=False)
    killer.join()
    assert killer.killed and 8 <= killer.rows_then < 96, "a worker should die mid-sweep"
    assert summary.lost == 0 and summary.ran == 96
    df = results_frame(db)
    assert len(df) == df.config_hash.nunique() == 96 and (df.status == "ok").all()
