"""The `sweep` and `results` sub-commands; `register(subparsers)` adds them to `attnphase`."""

from __future__ import annotations

import argparse
import sys

from .grid import MAX_RUNS
from .store import DEFAULT_DB


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `sweep CONFIG.yaml` and `results export` to the `attnphase` parser."""
    s = subparsers.add_parser("sweep", help="run every grid point of a sweep config (resumable)")
    s.add_argument("config", help="sweep YAML: name, base (fixed fields), grid (lists)")
    s.add_argument("--db", default=DEFAULT_DB, help=f"results database (default {DEFAULT_DB})")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=0,
                       help="local worker processes (default 0: in this process)")
    where.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    s.add_argument("--retry-failed", action="store_true", help="run stored failures again")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--max-runs", dest="max_runs", type=int, default=MAX_RUNS,
                   help=f"refuse grids of more runs (default {MAX_RUNS})")
    s.add_argument("--max-memory", dest="max_memory", type=float, default=None,
                   metavar="GIB", help="refuse runs needing more memory (default: the memory "
                   "available now; training needs about 3x its data)")
    s.add_argument("--unit-size", dest="unit_size", type=int, default=None, metavar="N",
                   help="runs trained as one batch, at most (default 32; on a GPU 64, runs "
                   "of one shape across teachers: larger units keep a GPU busier)")
    s.set_defaults(func=cmd_sweep)

    r = subparsers.add_parser("results", help="read the results database")
    rsub = r.add_subparsers(dest="results_command", required=True)
    e = rsub.add_parser("export", help="write all runs to a CSV or Parquet file")
    e.add_argument("--db", default=DEFAULT_DB, help=f"results database (default {DEFAULT_DB})")
    e.add_argument("--name", help="only the runs of this sweep")
    out = e.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", help="CSV file to write")
    out.add_argument("--parquet", help="Parquet file to write")
    e.set_defaults(func=cmd_export)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a sweep; exit 1 if some runs were lost (a rerun completes them)."""
    from .runner import run_sweep

    summary = run_sweep(args.config, db=args.db, workers=args.workers, scheduler=args.scheduler,
                        progress=not args.quiet, retry_failed=args.retry_failed,
                        max_runs=args.max_runs, max_memory=args.max_memory,
                        max_group=args.unit_size)
    print(summary)
    if summary.lost:
        print(f"attnphase: {summary.lost} runs did not finish; run the same command again "
              "to complete them", file=sys.stderr)
        return 1
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export

    path, rows = export(args.db, csv=args.csv, parquet=args.parquet, name=args.name)
    print(f"wrote {path}: {rows} runs")
    return 0
