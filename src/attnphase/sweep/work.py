"""The work unit, run wherever a backend puts it: configs in, store rows out.

Data are generated on the spot from each run's seed, so a unit ships only config dicts and
returns only numbers. A run that raises, or ends with non-finite metrics, becomes a row with
status `failed: <reason>`; the other runs of the unit go on.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch

from .. import __version__
from ..config import Config, from_dict
from ..experiment import TrainResult, train_many

Row = dict[str, Any]
METRICS = ("eps_g", "eps_t", "m", "theta", "q", "q_star", "eps_g_lin", "grad_norm")


def run_group(
    configs: list[dict[str, Any]], threads: int | None = None,
    on_row: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Train the runs of one unit together; a row per run, in the order given.

    `threads` sets torch's intra-op threads (1 in pool and Dask workers). `on_row(row)` sees
    each row as soon as it is final.
    """
    if threads:
        torch.set_num_threads(threads)
    cfgs = [from_dict(c) for c in configs]
    rows: dict[int, Row] = {}
    sink_failed = False

    def emit(i: int, row: Row) -> None:
        nonlocal sink_failed
        rows[i] = row
        if on_row:
            try:
                on_row(row)
            except BaseException:
                sink_failed = True
                raise

    try:
        train_many(cfgs, on_result=lambda i, res: emit(i, result_row(cfgs[i], res)))
    except Exception:
        if sink_failed:  # the store, not a run, failed: that is no run's failure
            raise
        for i, cfg in enumerate(cfgs):  # find the culprit: the rest alone, one by one
            if i not in rows:
                emit(i, _run_alone(cfg))
    return [rows[i] for i in range(len(cfgs))]


def _run_alone(cfg: Config) -> Row:
    start = time.perf_counter()
    try:
        return result_row(cfg, train_many([cfg])[0])
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        reason = f"{type(exc).__name__}: {exc} ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})"
        return config_row(cfg) | {"status": f"failed: {reason}",
                                  "wall_s": time.perf_counter() - start}


def config_row(cfg: Config) -> Row:
    """The columns that come from the config alone, with no metrics."""
    return {
        "config_hash": cfg.hash(), "alpha": cfg.alpha if cfg.n is None
        else cfg.n_samples / cfg.d, "n": cfg.n_samples, "omega": cfg.omega, "sigma": cfg.sigma,
        "lam": cfg.lam, "lam_lin": cfg.lam_lin, "d": cfg.d, "L": cfg.L, "rank": cfg.rank,
        "teacher_rank": cfg.teacher_rank, "A": json.dumps(cfg.A_matrix), "init": cfg.init,
        "solver": cfg.solver, "seed": cfg.seed, "test_samples": cfg.test_samples,
        "version": __version__, "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "config": json.dumps(cfg.to_dict(), sort_keys=True),
    }


def result_row(cfg: Config, res: TrainResult) -> Row:
    """Row of a finished run: metrics (non-finite ones as None) and its status."""
    values = {k: getattr(res, k) for k in METRICS}
    bad = [k for k, v in values.items() if not _finite(v)]
    if bad:
        status = f"failed: non-finite {', '.join(bad)} (diverged)"
    elif not res.converged:
        status = "not converged"
    else:
        status = "ok"
    metrics = {k: _cell(v) for k, v in values.items()}
    return config_row(cfg) | metrics | {
        "converged": bool(res.converged), "steps": int(res.steps), "status": status,
        "wall_s": float(res.wall_s),
    }


def _finite(v: Any) -> bool:
    if isinstance(v, list):
        return all(_finite(x) for x in v)
    return math.isfinite(float(v))


def _cell(v: Any) -> float | str | None:
    """A float, None for NaN/inf, or JSON text for a matrix (rank > 1)."""
    if isinstance(v, list):
        return json.dumps(v) if _finite(v) else None
    return float(v) if math.isfinite(float(v)) else None
