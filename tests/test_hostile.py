"""Hostile inputs (issue 8): each is refused with exit code 2 and one line naming the value
and what is allowed, and leaves no file behind; special files are never replaced."""

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from attnphase.cli import main
from attnphase.config import Config
from attnphase.data import load, write
from attnphase.errors import InputError
from attnphase.io import check_output
from attnphase.sweep import load_spec, run_sweep
from attnphase.sweep.store import Store, new_owner

SMALL = ["--d", "20", "--test-samples", "200"]
SWEEP = "name: s\nbase: {d: 20, test_samples: 200}\ngrid: {alpha: [0.5, 1.5], seed: [0, 1]}\n"


def refused(args, capsys, *needles):
    """Run the CLI in this process; assert exit 2 and one line holding every needle."""
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def listing(path):
    return sorted(p.name for p in path.iterdir())


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def sweep_db(tmp_path):
    """A results store with one small sweep, and its config file."""
    cfg = tmp_path / "s.yaml"
    cfg.write_text(SWEEP)
    db = tmp_path / "r.sqlite"
    run_sweep(str(cfg), db=db, progress=False)
    return cfg, db


# ------------------------------------------------------------------ 1. special output files
def special_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.txt"
    target.write_text("keep me")
    link = tmp_path / "link"
    link.symlink_to(target)
    folder = tmp_path / "folder"
    folder.mkdir()
    return {"a FIFO": fifo, "a symbolic link": link, "a directory": folder}


@pytest.mark.parametrize("command", ["generate", "export", "theory"])
def test_outputs_never_replace_special_files(tmp_path, capsys, sweep_db, command):
    cfg, db = sweep_db
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    for kind, path in special_files(out_dir).items():
        before = listing(out_dir)
        args = {"generate": ["generate", "--d", "10", "--n", "5", "--out", str(path)],
                "export": ["results", "export", "--db", str(db), "--csv", str(path)],
                "theory": ["theory", "curve", "--alphas", "1", "--branch", "trivial",
                           "--csv", str(path)]}[command]
        refused(args, capsys, str(path), f"is {kind}", "only regular files")
        assert listing(out_dir) == before
    assert (out_dir / "target.txt").read_text() == "keep me" and (out_dir / "fifo").is_fifo()
    assert (out_dir / "link").is_symlink()


def test_a_device_is_refused_before_any_write():
    with pytest.raises(InputError, match="/dev/null: is a character device"):
        check_output("/dev/null", "--out")


@pytest.mark.parametrize("command", ["generate", "export", "theory"])
@pytest.mark.parametrize("where, needle", [
    ("file/x.npz", "is a file, not a folder"),
    ("/proc/attnphase/x.npz", ""),  # "cannot write in /proc", or for root "0 GiB free"
])
def test_outputs_in_impossible_places(tmp_path, capsys, sweep_db, command, where, needle):
    _, db = sweep_db
    (tmp_path / "file").write_text("")
    before = listing(tmp_path)
    out = where if where.startswith("/") else str(tmp_path / where)
    args = {"generate": ["generate", "--d", "10", "--n", "5", "--out", out],
            "export": ["results", "export", "--db", str(db), "--csv", out],
            "theory": ["theory", "curve", "--alphas", "1", "--branch", "trivial", "--csv", out]}
    refused(args[command], capsys, out, needle)
    assert listing(tmp_path) == before


# ------------------------------------------------------------------ 2. results databases
def test_a_foreign_database_is_refused_untouched(tmp_path, capsys):
    db = tmp_path / "foreign.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE runs (id INTEGER, payload TEXT)")
        con.execute("INSERT INTO runs VALUES (1, 'theirs')")
    con.close()
    before = digest(db)
    cfg = tmp_path / "s.yaml"
    cfg.write_text(SWEEP)
    refused(["sweep", str(cfg), "--db", str(db), "--quiet"], capsys, str(db),
            "not an attnphase results database")
    refused(["results", "export", "--db", str(db), "--csv", str(tmp_path / "x.csv")], capsys,
            "not an attnphase results database")
    assert digest(db) == before and listing(tmp_path) == ["foreign.sqlite", "s.yaml"]
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


@pytest.mark.parametrize("what", ["text", "directory"])
def test_a_database_that_is_not_sqlite(tmp_path, capsys, what):
    db = tmp_path / "db"
    db.mkdir() if what == "directory" else db.write_text("hello " * 100)
    cfg = tmp_path / "s.yaml"
    cfg.write_text(SWEEP)
    refused(["sweep", str(cfg), "--db", str(db), "--quiet"], capsys, str(db))
    assert listing(tmp_path) == ["db", "s.yaml"]


def test_two_sweeps_never_claim_the_same_run(tmp_path):
    spec = load_spec({"name": "s", "base": {"d": 20}, "grid": {"seed": [0, 1, 2, 3]}})
    hashes = {c.hash() for c in spec.configs}
    with Store(tmp_path / "r.sqlite") as a, Store(tmp_path / "r.sqlite") as b:
        mine_a, others_a = a.claim("s", hashes, "A")
        mine_b, others_b = b.claim("s", hashes, "B")
    assert mine_a == hashes and not others_a
    assert not mine_b and others_b == hashes


def test_a_concurrent_sweep_leaves_claimed_runs_and_waits_for_them(tmp_path):
    """Runs claimed by another live sweep are not trained here; their rows, stored by the
    other sweep, are waited for; nothing is stored twice."""
    db = tmp_path / "r.sqlite"
    raw = {"name": "s", "base": {"d": 20, "test_samples": 200}, "grid": {"seed": [0, 1, 2, 3]}}
    cfgs = load_spec(raw).configs
    theirs = {cfgs[0].hash(), cfgs[1].hash()}
    other = new_owner() + "-other"
    with Store(db) as store:
        assert store.claim("s", theirs, other)[0] == theirs

    def other_sweep_finishes():
        time.sleep(1.5)
        from attnphase.sweep.work import run_group

        rows = run_group([c.to_dict() for c in cfgs[:2]])
        with Store(db) as store:
            store.write([r | {"name": "s"} for r in rows])

    t = threading.Thread(target=other_sweep_finishes)
    t.start()
    summary = run_sweep(raw, db=db, progress=False)
    t.join()
    assert (summary.skipped, summary.ran, summary.elsewhere, summary.lost) == (0, 2, 2, 0), summary
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*), count(DISTINCT config_hash) FROM runs"
                           ).fetchone() == (4, 4)
        assert con.execute("SELECT count(*) FROM claims").fetchone() == (0,)


def test_a_dead_sweeps_claims_are_taken_over(tmp_path):
    db = tmp_path / "r.sqlite"
    raw = {"name": "s", "base": {"d": 20, "test_samples": 200}, "grid": {"seed": [0, 1]}}
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with Store(db) as store:
        store.claim("s", {c.hash() for c in load_spec(raw).configs}, "dead")
        store.con.execute("UPDATE claims SET pid = ?", (dead.pid,))
        store.con.commit()
    assert run_sweep(raw, db=db, progress=False).ran == 2


# ------------------------------------------------------------------ 3. YAML and sizes
@pytest.mark.parametrize("text, needle", [
    ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nA: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
     "anchors and aliases"),
    ("d: 20\nd: 30\n", "duplicate key 'd'"),
])
def test_alias_bombs_and_duplicate_keys(tmp_path, capsys, text, needle):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    start = time.perf_counter()
    refused(["train", "--config", str(cfg)], capsys, str(cfg), needle)
    refused(["sweep", str(cfg), "--db", str(tmp_path / "r.sqlite")], capsys, needle)
    assert time.perf_counter() - start < 5 and listing(tmp_path) == ["c.yaml"]


def test_huge_grids_are_refused_before_expansion(tmp_path, capsys):
    cfg = tmp_path / "g.yaml"
    cfg.write_text("name: g\ngrid: {alpha: '0.1:2:10000', seed: '0:999:1000'}\n")
    start = time.perf_counter()
    refused(["sweep", str(cfg), "--db", str(tmp_path / "r.sqlite")], capsys,
            "10000000 runs", "limit 100000", "--max-runs")
    cfg.write_text("name: g\ngrid: {alpha: '0.1:2:10000000'}\n")
    refused(["sweep", str(cfg), "--db", str(tmp_path / "r.sqlite")], capsys, "10000000 values")
    assert time.perf_counter() - start < 5 and listing(tmp_path) == ["g.yaml"]
    cfg.write_text("name: g\nbase: {d: 20, test_samples: 200}\ngrid: {seed: [0, 1, 2]}\n")
    refused(["sweep", str(cfg), "--db", str(tmp_path / "r.sqlite"), "--max-runs", "2"], capsys,
            "3 runs, more than the limit 2")


@pytest.mark.parametrize("args, needle", [
    (["generate", "--d", "100000000", "--n", "100000000", "--out", "x.npz"], "GiB"),
    (["train", "--d", "100000", "--n", "100000"], "needs about 894 GiB"),
    (["compare", "--d", "100000", "--alphas", "0.5,1"], "n = 100000"),
    (["train", "--d", "1000", "--n", "1000", "--max-memory", "0.01"], "--max-memory"),
    (["generate", "--alpha", "1e308", "--out", "x.npz"], "alpha = 1e+308"),
    (["generate", "--sigma", "1e308", "--out", "x.npz"], "sigma = 1e+308"),
    (["train", "--lam", "1e308"], "lam = 1e+308: must be in [0.0, 1000000.0]"),
])
def test_oversized_and_overflowing_inputs_are_refused_up_front(tmp_path, capsys, monkeypatch,
                                                                args, needle):
    monkeypatch.chdir(tmp_path)
    refused(args, capsys, needle)
    assert listing(tmp_path) == []


def test_the_sweep_refuses_runs_that_cannot_fit(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("name: big\nbase: {d: 100000, n: 100000}\ngrid: {seed: [0]}\n")
    refused(["sweep", str(cfg), "--db", str(tmp_path / "r.sqlite")], capsys,
            "largest run (n = 100000, d = 100000)", "GiB")
    assert listing(tmp_path) == ["s.yaml"]


# ------------------------------------------------------------------ 4. data files
@pytest.mark.parametrize("damage, needle", [
    ("nan", "X holds 1 NaN or infinite entries"),
    ("inf", "Y holds 1 NaN or infinite entries"),
    ("complex", "X has dtype complex128"),
    ("integer", "X has dtype int64"),
])
def test_bad_numbers_in_data_are_refused_at_load(tmp_path, capsys, damage, needle):
    good = write(Config(d=10, n=8), tmp_path / "good.npz")
    with np.load(good) as f:
        arrays = {k: f[k] for k in f.files}
    if damage == "nan":
        arrays["X"][3, 1, 2] = np.nan
    elif damage == "inf":
        arrays["Y"][0, 0, 0] = np.inf
    elif damage == "complex":
        arrays["X"] = arrays["X"] + 0j
    else:
        arrays["X"] = np.round(arrays["X"]).astype(np.int64)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(InputError, match=needle):
        load(bad)
    refused(["train", "--data", str(bad), "--json"], capsys, str(bad), needle)


def test_data_paths_that_are_not_files_say_what_they_are(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, kind in ((tmp_path, "a directory"), (fifo, "a FIFO"),
                       ("/dev/zero", "a character device")):
        refused(["train", "--data", str(path)], capsys, f"is {kind}, not a data file")
    refused(["train", "--data", str(tmp_path / "none.npz")], capsys, "no such file")


# ------------------------------------------------------------------ 5. JSON and signals
def strict_json(text):
    def refuse(name):
        raise AssertionError(f"invalid JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_json_output_is_valid_even_when_a_run_diverges(capsys):
    code = main(["train", *SMALL, "--solver", "gd", "--lr", "1e6", "--steps", "200", "--json"])
    out, err = capsys.readouterr()
    res = strict_json(out)
    assert code == 1 and res["eps_t"] is None and res["converged"] is False
    assert err.count("\n") == 1 and "non-finite" in err and "eps_t" in err


def test_theory_json_is_strict(capsys):
    assert main(["theory", "curve", "--alphas", "0.5,1", "--branch", "trivial", "--json"]) == 0
    assert len(strict_json(capsys.readouterr().out)) == 2


def test_sigterm_during_generate_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "big.npz"
    proc = subprocess.Popen([sys.executable, "-m", "attnphase.cli", "generate", "--d", "1000",
                             "--n", "10000", "--out", str(out)], stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".big.npz.") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 128 + signal.SIGTERM
    assert listing(tmp_path) == []


# ------------------------------------------------------------------ 6. sweep and results CLI
def test_export_of_an_unknown_sweep(tmp_path, capsys, sweep_db):
    _, db = sweep_db
    out = tmp_path / "x.csv"
    refused(["results", "export", "--db", str(db), "--name", "nosuch", "--csv", str(out)],
            capsys, "--name nosuch", "sweeps there: s")
    assert not out.exists()


def test_a_bad_scheduler_leaves_no_store(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(SWEEP)
    refused(["sweep", str(cfg), "--db", str(tmp_path / "new" / "r.sqlite"), "--scheduler",
             "nosuch://x"], capsys, "--scheduler nosuch://x")
    assert listing(tmp_path) == ["s.yaml"]


# ------------------------------------------------------------------ 7. messages
def test_yaml_numbers_and_quoted_values(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("d: 20\nlam: 1e-3\ntest_samples: 200\n")
    assert main(["train", "--config", str(cfg), "--json"]) == 0
    assert strict_json(capsys.readouterr().out)["lam"] == 1e-3
    cfg.write_text('d: "50"\n')
    refused(["train", "--config", str(cfg)], capsys, "d = '50'", "an integer in [1, ",
            "without quotes")
    cfg.write_text("lam: ten\n")
    refused(["train", "--config", str(cfg)], capsys, "lam = 'ten'", "finite number in [0.0, ")
