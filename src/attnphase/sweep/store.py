"""The results store: one SQLite file (WAL mode), one row per finished run.

The primary key is (sweep name, config hash), so a rerun skips what is there and a row can
never appear twice. Rows are committed as they arrive: a killed sweep loses only the runs that
were still in flight, and a rerun does exactly those.

Concurrent sweeps of one config on one store split the work: each claims the runs it will do
in a transaction (table `claims`), skips runs that another live sweep has claimed, and waits
for them at the end. A claim is stale, and taken over, when its sweep's process is gone (same
host) or it has not stored a row for CLAIM_TIMEOUT_S.

A file that is not a results store (another program's SQLite database, say) is refused before
anything is written to it; the check is made on a read-only connection.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import file_kind

DEFAULT_DB = "results/attnphase.sqlite"

# column -> SQL type; m, theta, q, q_star have no type: floats for rank one, else JSON text
COLUMNS: dict[str, str] = {
    "name": "TEXT NOT NULL", "config_hash": "TEXT NOT NULL",
    "alpha": "REAL", "n": "INTEGER", "omega": "REAL", "sigma": "REAL", "lam": "REAL",
    "lam_lin": "REAL", "d": "INTEGER", "L": "INTEGER", "rank": "INTEGER",
    "teacher_rank": "INTEGER", "A": "TEXT", "init": "TEXT", "solver": "TEXT", "seed": "INTEGER",
    "test_samples": "INTEGER",
    "eps_g": "REAL", "eps_t": "REAL", "m": "", "theta": "", "q": "", "q_star": "",
    "eps_g_lin": "REAL",
    "grad_norm": "REAL", "converged": "INTEGER", "steps": "INTEGER",
    "status": "TEXT NOT NULL", "wall_s": "REAL", "version": "TEXT", "git_commit": "TEXT",
    "finished_at": "TEXT", "config": "TEXT NOT NULL", "certified": "INTEGER", "rtol": "REAL",
}
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS runs ("
    + ", ".join(f'"{c}" {t}'.rstrip() for c, t in COLUMNS.items())
    + ", PRIMARY KEY (name, config_hash))"
)
CLAIMS = ("CREATE TABLE IF NOT EXISTS claims (name TEXT NOT NULL, config_hash TEXT NOT NULL, "
          "owner TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, "
          "seen_at REAL NOT NULL, PRIMARY KEY (name, config_hash))")
APPLICATION_ID = 0x61747470  # 'attp': marks a file as an attnphase results store
CLAIM_TIMEOUT_S = 3600.0  # a claim whose sweep stored nothing for this long is taken over


class Store:
    """Writer and reader of one results database."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        where = f"--db {path}"
        exists = self.path.exists()
        if exists and not self.path.is_file():
            raise InputError(f"{where}: is {file_kind(self.path.stat().st_mode)}, not a "
                             "results database")
        if not exists and not create:
            raise InputError(f"{where}: no such results database")
        if exists:
            _check_ours(self.path, where)
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"{where}: cannot create its folder ({exc.strerror})") from None
        try:
            self.con = sqlite3.connect(self.path, timeout=60)
            if create:
                self.con.execute("PRAGMA journal_mode=WAL")
                with self.con:
                    self.con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    self.con.execute(SCHEMA)
                    self.con.execute(CLAIMS)
                    self._add_missing_columns()
            self.con.execute("SELECT count(*) FROM runs").fetchone()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{where}: not a results database ({exc})") from None

    def _add_missing_columns(self) -> None:
        """Bring a store written by an older version up to COLUMNS (new columns stay empty)."""
        have = {row[1] for row in self.con.execute("PRAGMA table_info(runs)")}
        for col, sql_type in COLUMNS.items():
            if col not in have:
                self.con.execute(f'ALTER TABLE runs ADD COLUMN "{col}" {sql_type}'.rstrip())

    def names(self) -> list[str]:
        """The names of the sweeps with stored runs."""
        return [n for (n,) in self.con.execute("SELECT DISTINCT name FROM runs ORDER BY name")]

    def finished(self, name: str, include_failed: bool = True) -> set[str]:
        """Config hashes of the stored runs of sweep `name` (all, or all but failed ones)."""
        sql = "SELECT config_hash FROM runs WHERE name = ?"
        if not include_failed:
            sql += " AND status NOT LIKE 'failed%'"
        return {h for (h,) in self.con.execute(sql, (name,))}

    def adopt(self, name: str, hashes: Iterable[str]) -> set[str]:
        """Copy into sweep `name` the stored runs of other sweeps with the same config (the
        hash covers every field that changes a result, not the sweep's name), failed ones
        excepted (a failed run of `name` itself among `hashes` is replaced by a good copy);
        return the hashes adopted. The copies keep the version, commit and time
        of the run that made them."""
        hashes = list(hashes)
        cols = ", ".join('"' + c + '"' for c in COLUMNS if c != "name")
        adopted: set[str] = set()
        with self.con:
            for start in range(0, len(hashes), 500):  # SQLite's limit on bound variables
                part = hashes[start:start + 500]
                marks = ", ".join("?" * len(part))
                self.con.execute(
                    f"INSERT OR REPLACE INTO runs (name, {cols}) SELECT ?, {cols} FROM runs "
                    f"WHERE name != ? AND config_hash IN ({marks}) AND status NOT LIKE "
                    "'failed%' GROUP BY config_hash", (name, name, *part))
                adopted |= {h for (h,) in self.con.execute(
                    f"SELECT config_hash FROM runs WHERE name = ? AND config_hash IN ({marks}) "
                    "AND status NOT LIKE 'failed%'", (name, *part))}
        return adopted

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert (or replace, for a retried run) rows and drop their claims, in one
        transaction."""
        rows = list(rows)
        cols = list(COLUMNS)
        names = ", ".join('"' + c + '"' for c in cols)
        sql = f"INSERT OR REPLACE INTO runs ({names}) VALUES ({', '.join('?' * len(cols))})"
        with self.con:
            self.con.executemany(sql, [tuple(r.get(c) for c in cols) for r in rows])
            self.con.executemany("DELETE FROM claims WHERE name = ? AND config_hash = ?",
                                 [(r["name"], r["config_hash"]) for r in rows])

    # ---------------------------------------------------------------- claims
    def claim(self, name: str, hashes: Iterable[str], owner: str,
              include_failed: bool = True) -> tuple[set[str], set[str]]:
        """Claim the runs among `hashes` that are neither stored nor claimed by a live sweep.

        Returns (claimed now by `owner`, claimed by other sweeps). One write transaction, so
        two sweeps never claim the same run.
        """
        hashes = set(hashes)
        with self.con:
            self.con.execute("BEGIN IMMEDIATE")
            self._drop_stale(name)
            done = self.finished(name, include_failed)
            held = {h: o for h, o in self.con.execute(
                "SELECT config_hash, owner FROM claims WHERE name = ?", (name,))}
            others = {h for h in hashes if h in held and held[h] != owner}
            mine = hashes - done - others
            now = dt.datetime.now(dt.UTC).timestamp()
            self.con.executemany(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?)",
                [(name, h, owner, socket.gethostname(), os.getpid(), now) for h in mine])
        return mine, others

    def touch(self, owner: str) -> None:
        """Mark `owner`'s claims as alive (called as its rows arrive)."""
        with self.con:
            self.con.execute("UPDATE claims SET seen_at = ? WHERE owner = ?",
                             (dt.datetime.now(dt.UTC).timestamp(), owner))

    def release(self, owner: str) -> None:
        """Drop every claim of `owner` (its sweep ended; what it did not store is free)."""
        with self.con:
            self.con.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    def _drop_stale(self, name: str) -> None:
        now = dt.datetime.now(dt.UTC).timestamp()
        here = socket.gethostname()
        rows = self.con.execute("SELECT DISTINCT owner, host, pid, max(seen_at) FROM claims "
                                "WHERE name = ? GROUP BY owner", (name,)).fetchall()
        for owner, host, pid, seen in rows:
            if (host == here and not _alive(pid)) or now - seen > CLAIM_TIMEOUT_S:
                self.con.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    def query(self, name: str | None = None) -> tuple[list[str], list[tuple]]:
        """Column names and rows (all sweeps, or one), in the order they were finished."""
        sql = "SELECT * FROM runs"
        args: tuple = ()
        if name is not None:
            sql, args = sql + " WHERE name = ?", (name,)
        cur = self.con.execute(sql + " ORDER BY rowid", args)
        return [c[0] for c in cur.description], cur.fetchall()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def new_owner() -> str:
    """A unique name for one sweep's claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _check_ours(path: Path, where: str) -> None:
    """Refuse, without writing a byte, a file that is not an (empty or) attnphase store."""
    if path.stat().st_size == 0:
        return
    uri = f"file:{path.resolve().as_posix()}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=60)
    except sqlite3.Error as exc:
        raise InputError(f"{where}: cannot open ({exc})") from None
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        tables = {t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        info = con.execute("PRAGMA table_info(runs)").fetchall()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{where}: not a results database ({exc})") from None
    finally:
        con.close()
    if app_id == APPLICATION_ID:
        return
    cols = {row[1] for row in info}
    key = {row[1] for row in info if row[5]}
    # a store of an earlier version: no application id, our tables and columns only
    if app_id == 0 and tables <= {"runs", "claims"} and cols <= set(COLUMNS) and key == {
            "name", "config_hash"}:
        return
    raise InputError(f"{where}: not an attnphase results database (another program's SQLite "
                     "file?); left untouched. Give a new file name")
