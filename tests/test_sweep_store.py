"""The results store: rows as runs finish, skipping on rerun, resume after kill -9, failures
recorded, a sweep run equal to `attnphase train`, export round-trips, and the CLI."""

import argparse
import json
import math
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest
import yaml

from attnphase import cli as core_cli
from attnphase.errors import InputError
from attnphase.sweep import export, load_spec, results_frame, run_sweep
from attnphase.sweep import work as sweep_work
from attnphase.sweep.cli import register
from attnphase.sweep.store import COLUMNS

SMALL = {"d": 30, "test_samples": 500}


def spec(name="s", seeds=(0, 1), **base):
    return {"name": name, "base": {**SMALL, **base},
            "grid": {"alpha": [0.5, 1.5], "init": ["semantic", "positional"],
                     "seed": list(seeds)}}


def count(db, name=None):
    con = sqlite3.connect(db)
    try:
        sql = "SELECT count(*), count(DISTINCT config_hash) FROM runs"
        return con.execute(sql + (" WHERE name = ?" if name else ""),
                           (name,) if name else ()).fetchone()
    except sqlite3.OperationalError:
        return (0, 0)
    finally:
        con.close()


def test_rows_have_every_column_and_rerun_skips(tmp_path):
    db = tmp_path / "r.sqlite"
    first = run_sweep(spec(), db=db, progress=False)
    assert (first.total, first.skipped, first.ok) == (8, 0, 8)
    df = results_frame(db)
    for col in ("name", "alpha", "omega", "sigma", "lam", "d", "L", "rank", "init", "solver",
                "seed", "eps_g", "eps_t", "m", "theta", "q", "eps_g_lin", "converged", "status",
                "wall_s", "config_hash", "grad_norm", "steps", "n", "version", "git_commit",
                "config", "q_star"):
        assert col in df.columns
    assert len(df) == 8 and (df.status == "ok").all() and df.converged.all()
    assert df.m.dtype == "float64" and (df.eps_g_lin > 0).all() and (df.q_star > 0).all()
    assert json.loads(df.config[0])["d"] == 30
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = run_sweep(spec(), db=db, progress=False)
    assert (again.skipped, again.ran) == (8, 0)
    more = run_sweep(spec(seeds=(0, 1, 2)), db=db, progress=False)  # a grown grid: only the new
    assert (more.skipped, more.ran) == (8, 4) and count(db) == (12, 12)
    # another sweep whose grid shares configs: those runs are copied, the rest run
    other = run_sweep(spec(name="other", seeds=(2, 3)), db=db, progress=False)
    assert (other.adopted, other.ran) == (4, 4) and "4 taken from other sweeps" in str(other)
    mine, theirs = results_frame(db, name="other"), results_frame(db, name="s")
    assert len(mine) == 8
    same = mine.merge(theirs, on="config_hash", suffixes=("", "_s"))
    assert len(same) == 4 and (same.seed == 2).all()
    assert (same.eps_t == same.eps_t_s).all()
    assert same.git_commit.tolist() == same.git_commit_s.tolist()  # None outside a git checkout


def interrupt(cfg, db, sig, rows, workers=0):
    """Start the sweep in a subprocess, send `sig` once `rows` rows exist; rows stored then,
    and the processes that the sweep had started."""
    code = (f"from attnphase.sweep import run_sweep; run_sweep({str(cfg)!r}, db={str(db)!r}, "
            f"workers={workers}, progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while count(db, "k")[0] < rows and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(sig)
    assert proc.wait() != 0, "the sweep should have been stopped part way"
    return count(db, "k")[0], children


def test_resume_after_ctrl_c_and_kill_9(tmp_path):
    db, cfg = tmp_path / "k.sqlite", tmp_path / "k.yaml"
    # L-BFGS: the test is about the store, and it is the cheapest converged solver
    cfg.write_text(yaml.safe_dump(spec(name="k", seeds=range(30), solver="lbfgs")))
    assert 4 <= interrupt(cfg, db, signal.SIGINT, 4)[0] < 120
    done, children = interrupt(cfg, db, signal.SIGKILL, 12, workers=2)
    assert 12 <= done < 120 and len(children) >= 3  # forkserver, 2 workers (resource tracker)
    alive = psutil.wait_procs(children, timeout=15)[1]
    assert not alive, "pool processes outlived the killed sweep"
    resumed = run_sweep(cfg, db=db, progress=False)
    assert resumed.skipped == done and resumed.ran == 120 - done
    assert count(db, "k") == (120, 120)


def test_failed_runs_are_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    real = sweep_work.train_many

    def flaky(cfgs, **kw):
        if any(c.seed == 1 and c.init == "positional" for c in cfgs):
            raise RuntimeError("boom")
        return real(cfgs, **kw)

    monkeypatch.setattr(sweep_work, "train_many", flaky)
    db = tmp_path / "f.sqlite"
    summary = run_sweep(spec(seeds=(0, 1, 2)), db=db, progress=False)
    df = results_frame(db).set_index(["seed", "init", "alpha"]).sort_index()
    assert (summary.ok, summary.failed) == (10, 2)
    assert (df.loc[[0, 2]].status == "ok").all()
    assert (df.loc[(1, "semantic")].status == "ok").all()
    boom = df.loc[(1, "positional")]
    assert boom.status.str.startswith("failed: RuntimeError: boom").all()
    assert boom.eps_g.isna().all() and boom.converged.isna().all()
    monkeypatch.setattr(sweep_work, "train_many", real)
    assert run_sweep(spec(seeds=(0, 1, 2)), db=db, progress=False).ran == 0
    retried = run_sweep(spec(seeds=(0, 1, 2)), db=db, progress=False, retry_failed=True)
    assert retried.skipped == 10 and retried.ran == retried.ok == 2
    assert (results_frame(db).status == "ok").all() and count(db) == (12, 12)


def test_non_finite_metrics_and_non_convergence(tmp_path, monkeypatch):
    real = sweep_work.train_many

    def diverge(cfgs, on_result=None, **kw):
        def spoil(i, res):
            if cfgs[i].seed == 1:
                res.eps_t = math.inf
            on_result(i, res)
        return real(cfgs, on_result=spoil if on_result else None, **kw)

    monkeypatch.setattr(sweep_work, "train_many", diverge)
    db = tmp_path / "n.sqlite"
    run_sweep(spec(), db=db, progress=False)
    monkeypatch.setattr(sweep_work, "train_many", real)
    run_sweep({**spec(name="short"), "base": {**SMALL, "steps": 1}}, db=db, progress=False)
    df = results_frame(db)
    bad = df[(df.name == "s") & (df.seed == 1)]
    assert (bad.status == "failed: non-finite eps_t (diverged)").all() and bad.eps_t.isna().all()
    assert bad.eps_g.notna().all()
    short = df[df.name == "short"]
    assert (short.status == "not converged").all() and not short.converged.any()
    assert short.eps_g.notna().all()


def test_a_sweep_run_equals_attnphase_train(tmp_path, capsys):
    db = tmp_path / "t.sqlite"
    run_sweep(spec(omega=0.2), db=db, progress=False)
    row = results_frame(db).query("seed == 1 and alpha == 1.5 and init == 'positional'").iloc[0]
    one = tmp_path / "one.yaml"
    one.write_text(yaml.safe_dump(json.loads(row.config)))
    assert core_cli.main(["train", "--config", str(one), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["config_hash"] == row.config_hash
    for key in ("eps_g", "eps_t", "m", "theta", "q", "eps_g_lin"):
        assert res[key] == pytest.approx(row[key], rel=1e-7, abs=1e-12), key


def test_export_round_trip(tmp_path):
    db = tmp_path / "e.sqlite"
    run_sweep(spec(), db=db, progress=False)
    run_sweep({**spec(name="r2", seeds=(0,)), "base": {**SMALL, "rank": 2}}, db=db,
              progress=False)
    df = results_frame(db)
    assert df.m.dtype != "float64" and isinstance(json.loads(df.m.iloc[-1]), list)
    path, rows = export(db, parquet=tmp_path / "out" / "r.parquet")
    assert rows == 12
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    path, _ = export(db, csv=tmp_path / "r.csv")
    back = pd.read_csv(path, dtype={"m": object, "theta": object, "q": object})
    one = results_frame(db, name="s").replace({None: float("nan")})  # git_commit: None outside
    pd.testing.assert_frame_equal(pd.read_csv(export(db, csv=tmp_path / "s.csv", name="s")[0]),
                                  one, check_dtype=False)
    assert len(back) == 12 and list(back.columns) == list(df.columns)
    assert not list(tmp_path.glob(".*tmp"))
    with pytest.raises(InputError, match="no such results database"):
        results_frame(tmp_path / "none.sqlite")


def parser():
    p = core_cli.Parser(prog="attnphase")
    register(p.add_subparsers(dest="command", required=True, parser_class=core_cli.Parser))
    return p


def test_cli_sweep_and_export(tmp_path, capsys):
    cfg, db = tmp_path / "c.yaml", tmp_path / "c.sqlite"
    cfg.write_text(yaml.safe_dump(spec(name="cli")))
    args = parser().parse_args(["sweep", str(cfg), "--db", str(db), "--quiet"])
    assert args.func(args) == 0
    assert "8 run now (8 ok" in capsys.readouterr().out
    args = parser().parse_args(["results", "export", "--db", str(db), "--csv",
                                str(tmp_path / "c.csv")])
    assert args.func(args) == 0 and len(pd.read_csv(tmp_path / "c.csv")) == 8
    with pytest.raises(SystemExit) as err:
        parser().parse_args(["sweep", str(cfg), "--workers", "2", "--scheduler", "tcp://x:1"])
    assert err.value.code == 2
    with pytest.raises(SystemExit):
        parser().parse_args(["results", "export", "--db", str(db)])
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**spec(), "grid": {"omega": [2.0]}}))
    args = parser().parse_args(["sweep", str(bad), "--db", str(tmp_path / "b.sqlite")])
    with pytest.raises(InputError, match=r"omega = 2.0"):
        args.func(args)
    assert not (tmp_path / "b.sqlite").exists()
    args = parser().parse_args(["sweep", str(cfg), "--db", str(db), "--workers", "-1"])
    with pytest.raises(InputError, match="--workers -1"):
        args.func(args)
    fresh = tmp_path / "u.sqlite"
    args = parser().parse_args(["sweep", str(cfg), "--db", str(fresh), "--unit-size", "0"])
    with pytest.raises(InputError, match="--unit-size 0"):
        args.func(args)
    assert not fresh.exists()
    assert isinstance(args, argparse.Namespace)


def test_a_store_error_is_not_a_run_failure():
    def sink(row):
        raise sqlite3.OperationalError("disk I/O error")

    cfgs = [c.to_dict() for c in load_spec(spec(seeds=(0,))).configs]
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        sweep_work.run_group(cfgs, on_row=sink)


def test_a_store_from_before_a_new_column_is_upgraded(tmp_path):
    db = tmp_path / "old.sqlite"
    old = [c for c in COLUMNS if c != "q_star"]
    with sqlite3.connect(db) as con:
        con.execute(f"CREATE TABLE runs ({', '.join(old)}, PRIMARY KEY (name, config_hash))")
    assert run_sweep(spec(seeds=(0,)), db=db, progress=False).ok == 4
    assert results_frame(db).q_star.notna().all()
