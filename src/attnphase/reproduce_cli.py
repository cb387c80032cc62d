"""The paper-figure sub-commands `figure`, `cv-lambda` and `reproduce`; `register` adds them.

Each handler reads its options and calls the library: `attnphase.reproduce` (runs, theory
inputs), `attnphase.theoryjobs`, `attnphase.figures.draw` and `attnphase.cv`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .errors import InputError
from .reproduce import TARGETS
from .sweep.grid import parse_values

DEFAULT_CV = "results/lambda_cv.json"
CV_OPTIONS = {"d": int, "alpha": float, "n": int, "omega": float, "sigma": float, "seed": int,
              "A": str, "solver": str, "tol": float, "dtype": str, "device": str}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `figure`, `cv-lambda` and `reproduce` to the `attnphase` parser."""
    from .options import add_options
    from .sweep import DEFAULT_DB

    f = subparsers.add_parser("figure", help="draw a figure (PNG and PDF) from stored results")
    f.add_argument("which", choices=TARGETS, help="the figure")
    f.add_argument("--db", default=DEFAULT_DB, help=f"results database (default {DEFAULT_DB})")
    f.add_argument("--name", help="sweep name in the store (default: the figure's name, else "
                                  "its -quick variant, whichever has runs)")
    f.add_argument("--cv", default=DEFAULT_CV,
                   help=f"lambda-cv: JSON written by cv-lambda (default {DEFAULT_CV})")
    f.add_argument("--no-theory", dest="theory", action="store_false",
                   help="simulations only (no theory curves or boundaries)")
    f.add_argument("--theory-points", type=int, default=40,
                   help="fig2: alphas on each theory branch (default 40)")
    f.add_argument("--out", required=True, help="output folder")
    f.set_defaults(func=cmd_figure)

    c = subparsers.add_parser("cv-lambda", help="k-fold cross-validation of lambda (attention, "
                                                "both inits) and lambda_lin (linear)")
    add_options(c, CV_OPTIONS)
    c.add_argument("--lams", default="log:1e-4:10:11",
                   help="lambda grid: 'a,b,c', 'start:stop:count' or 'log:start:stop:count' "
                        "(default log:1e-4:10:11)")
    c.add_argument("--lam-lins", dest="lam_lins", default="log:1e-6:10:8",
                   help="lambda_lin grid, same forms (default log:1e-6:10:8)")
    c.add_argument("--folds", type=int, default=5, help="number of folds K (default 5)")
    c.add_argument("--config", help="YAML file of config fields")
    c.add_argument("--out", default=DEFAULT_CV, help=f"JSON file to write (default {DEFAULT_CV})")
    c.set_defaults(func=cmd_cv)

    r = subparsers.add_parser("reproduce", help="run the sweeps and theory of the paper's "
                                                "figures, and draw them")
    r.add_argument("which", choices=[*TARGETS, "all"], help="the figure, or all")
    r.add_argument("--quick", action="store_true",
                   help="d = 100, few seeds, coarse grids (configs/quick/); minutes")
    r.add_argument("--db", default=DEFAULT_DB, help=f"results database (default {DEFAULT_DB})")
    r.add_argument("--no-theory", dest="theory", action="store_false", help="simulations only")
    r.add_argument("--workers", type=int, default=0,
                   help="local worker processes for the sweeps (default 0: this process)")
    r.add_argument("--quiet", action="store_true", help="no progress output")
    r.add_argument("--out", required=True, help="output folder")
    r.set_defaults(func=cmd_reproduce)


def cmd_figure(args: argparse.Namespace) -> int:
    if args.which == "lambda-cv":
        from .cv import CVResult
        from .figures import cv

        files = cv.make(CVResult.load(args.cv), args.out).files
    else:
        from .figures.draw import draw
        from .reproduce import stored_runs, theory_inputs
        from .theoryjobs import solve_parallel

        frame = stored_runs(args.db, args.which, args.name)
        if args.theory_points < 2:
            raise InputError(f"--theory-points {args.theory_points}: must be >= 2")
        th = None
        if args.theory:
            th = solve_parallel(args.which, theory_inputs(args.which, frame, args.theory_points))
        files = draw(args.which, frame, Path(args.out), th)
    _print_files(files)
    return 0


def cmd_cv(args: argparse.Namespace) -> int:
    from .cv import cross_validate
    from .options import build_config

    cfg = build_config(args, list(CV_OPTIONS))
    result = cross_validate(cfg, parse_values(args.lams, "lams"),
                            parse_values(args.lam_lins, "lam-lins"), args.folds)
    result.save(args.out)
    print(f"{result.folds}-fold CV, d={cfg.d} n={result.n} omega={cfg.omega} "
          f"sigma={cfg.sigma} seed={cfg.seed} ({result.wall_s:.1f} s)")
    for key, curve in {**result.student, "linear": result.linear}.items():
        grid = "lam_lin" if key == "linear" else "lam"
        print(f"  {key:>10}: {grid} = {curve.best:.4g}   CV error "
              + "  ".join(f"{v:.3g}:{m:.4g}" for v, m in zip(curve.values, curve.mean,
                                                              strict=True)))
    print(json.dumps(result.chosen))
    print(f"wrote {args.out}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import reproduce

    files = reproduce(args.which, args.out, args.db, quick=args.quick, theory=args.theory,
                      workers=args.workers, progress=not args.quiet)
    _print_files(files)
    return 0


def _print_files(files: list[Path]) -> None:
    for path in files:
        print(f"wrote {path}")
