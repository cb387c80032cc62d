"""The results store: one SQLite file (WAL mode), one row per finished run.

The primary key is (sweep name, config hash), so a rerun skips what is there and a row can
never appear twice. Rows are committed as they arrive: a killed sweep loses only the runs that
were still in flight, and a rerun does exactly those.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InputError

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
    "finished_at": "TEXT", "config": "TEXT NOT NULL",
}
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS runs ("
    + ", ".join(f'"{c}" {t}'.rstrip() for c, t in COLUMNS.items())
    + ", PRIMARY KEY (name, config_hash))"
)


class Store:
    """Writer and reader of one results database."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise InputError(f"--db {path}: no such results database")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = sqlite3.connect(self.path, timeout=60)
            if create:
                self.con.execute("PRAGMA journal_mode=WAL")
                self.con.execute(SCHEMA)
                self._add_missing_columns()
                self.con.commit()
            self.con.execute("SELECT count(*) FROM runs").fetchone()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"--db {path}: not a results database ({exc})") from None

    def _add_missing_columns(self) -> None:
        """Bring a store written by an older version up to COLUMNS (new columns stay empty)."""
        have = {row[1] for row in self.con.execute("PRAGMA table_info(runs)")}
        for col, sql_type in COLUMNS.items():
            if col not in have:
                self.con.execute(f'ALTER TABLE runs ADD COLUMN "{col}" {sql_type}'.rstrip())

    def finished(self, name: str, include_failed: bool = True) -> set[str]:
        """Config hashes of the stored runs of sweep `name` (all, or all but failed ones)."""
        sql = "SELECT config_hash FROM runs WHERE name = ?"
        if not include_failed:
            sql += " AND status NOT LIKE 'failed%'"
        return {h for (h,) in self.con.execute(sql, (name,))}

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert (or replace, for a retried run) rows, in one transaction."""
        cols = list(COLUMNS)
        names = ", ".join('"' + c + '"' for c in cols)
        sql = f"INSERT OR REPLACE INTO runs ({names}) VALUES ({', '.join('?' * len(cols))})"
        with self.con:
            self.con.executemany(sql, [tuple(r.get(c) for c in cols) for r in rows])

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
