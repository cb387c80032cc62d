"""`attnphase theory ...`: curves, boundaries and a plot of the asymptotic theory."""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from ..config import A_rows, check_param, parse_A
from ..errors import InputError
from ..io import check_output, finite_json, write_csv_atomic
from ..options import add_options
from ..sweep.grid import parse_values
from ..tables import text_table
from ..transitions import downcrossing, global_minimiser
from .boundary import boundary, boundary_error
from .fixed_point import BRANCHES, curve, values
from .linear import linear_theory
from .rank2_cli import add_rank2_args, run_boundary_rank2, run_curve_rank2, run_plot_rank2
from .refined_boundary import refined_boundary
from .refined_curve import BRANCHES as REFINED
from .refined_curve import refined_curve
from .side import BRANCHES as SIDE_BRANCHES
from .side import SCRAMBLES, side_boundary, side_curve

A_HELP = "2 x 2 positional matrix: 'paper', 'appendix' or a,b,c,d (row-major)"


def register(subparsers) -> None:
    """Add the `theory` sub-command (curve, boundary, plot) to an argparse subparsers."""
    p = subparsers.add_parser("theory", help="asymptotic theory: curves, boundaries, plot")
    sub = p.add_subparsers(dest="theory_command", required=True)

    c = sub.add_parser("curve", help="fixed points along alpha at one omega")
    _model_args(c)
    c.add_argument("--alphas", default="0.05:2:40", help="'a,b,c' or 'start:stop:count'")
    c.add_argument("--branch", default="all", choices=(*BRANCHES, "mixed", "all"))
    c.add_argument("--prox", default="global", choices=("global", "side"),
                   help="global: the published theory (global minimiser of each sample's "
                        "problem); side: the init-side prox, the stationary points gradient "
                        "flow reaches from each init (rank 1, semantic and positional "
                        "branches, Sobol points)")
    c.add_argument("--scrambles", type=int, default=SCRAMBLES,
                   help="--prox side: independent Sobol scramblings (error bars)")
    _refine_args(c, "rank 1: solve each point again with the converged rules (adaptive "
                    "positional, large Gauss-Hermite semantic; minutes per positional "
                    "point), err_* = |fine - coarse|")
    add_rank2_args(c, error=True)
    _output_args(c)
    c.set_defaults(func=run_curve)

    b = sub.add_parser("boundary", help="alpha_c, alpha_l and branch ends per omega "
                                        "(rank 2: --refine-roots refines the crossings)")
    b.add_argument("--omegas", required=True, help="'a,b,c' or 'start:stop:count'")
    add_options(b, ["sigma", "lam"], defaults=True)
    b.add_argument("--A", default=None, help=A_HELP)
    b.add_argument("--alphas-range", default="0.01:2", help="searched alpha range 'a:b'")
    b.add_argument("--n-alpha", type=int, default=10, help="continuation grid points")
    b.add_argument("--no-spinodals", dest="spinodals", action="store_false",
                   help="skip the stability analysis of the branches")
    b.add_argument("--no-multistart", dest="multistart", action="store_false",
                   help="continuation only on the positional branch (faster; omega >~ 0.1)")
    b.add_argument("--quad", type=int, default=8, help="Gauss-Hermite nodes per variable")
    b.add_argument("--prox", default="global", choices=("global", "side"),
                   help="side: alpha_c of the init-side branches (the stationary points "
                        "gradient flow reaches; rank 1; minutes per omega), the last "
                        "crossing on the grid --alphas-range x --n-alpha")
    b.add_argument("--scrambles", type=int, default=SCRAMBLES,
                   help="--prox side: independent Sobol scramblings (error bars)")
    b.add_argument("--error", action="store_true",
                   help="error bars: also solve with quad + 2 (reported) and compare")
    _refine_args(b, "rank 1: move the crossings with the converged rules (adaptive "
                    "positional, large Gauss-Hermite semantic; minutes per omega), bars "
                    "from them (rank 2: --refine-roots)")
    add_rank2_args(b, refine=True)  # rank 2: the grid --alphas-range x --n-alpha, no spinodals
    _output_args(b)
    b.set_defaults(func=run_boundary)

    f = sub.add_parser("plot", help="PNG of eps_g, eps_t, delta_eps_t, theta, m/sigma^2")
    _model_args(f)
    f.add_argument("--alphas", default="0.05:2:40", help="'a,b,c' or 'start:stop:count'")
    f.add_argument("--out", required=True, help="PNG file to write")
    f.add_argument("--error", action="store_true",
                   help="error bands on alpha_c, alpha_l: also solve with quad + 2")
    f.add_argument("--refine", action="store_true",
                   help="alpha_c, alpha_l and their bands from the converged rules, as "
                        "`theory boundary --refine` (minutes); the curves stay at --quad")
    add_rank2_args(f)
    f.set_defaults(func=run_plot)


def _refine_args(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--refine", action="store_true", help=what)
    p.add_argument("--n-eta", default="6,8",
                   help="--refine: adaptive rule's eta nodes, 'coarse,fine'")
    p.add_argument("--n-sem", default="16,20",
                   help="--refine: semantic Gauss-Hermite nodes, 'coarse,fine'")


def _refine_sizes(args: argparse.Namespace) -> tuple[tuple[int, int], tuple[int, int]]:
    """The validated (n_eta, n_sem) pairs of --refine."""
    return _pair(args.n_eta, "--n-eta", 4, 16), _pair(args.n_sem, "--n-sem", 4, 30)


def _model_args(p: argparse.ArgumentParser) -> None:
    add_options(p, ["omega", "sigma", "lam"], defaults=True)
    p.add_argument("--A", default=None, help=A_HELP)
    p.add_argument("--quad", type=int, default=8, help="Gauss-Hermite nodes per variable")


def _output_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="print a JSON list")
    g.add_argument("--csv", metavar="FILE", default=None, help="write a CSV file")


def _check(args: argparse.Namespace, omegas: list[float] | None = None) -> list[list[float]] | None:
    """Validate the model options; return A as a 2 x 2 list (None: the default)."""
    flag = "--omega" if omegas is None else "--omegas"
    for om in omegas if omegas is not None else [args.omega]:
        check_param("omega", om, flag)
    check_param("sigma", args.sigma, "--sigma")
    check_param("lam", args.lam, "--lam")
    if getattr(args, "csv", None):
        check_output(args.csv, "--csv")
    if not 2 <= args.quad <= 30:
        raise InputError(f"--quad {args.quad}: expected an integer in 2..30")
    if args.A is None:
        return None
    return A_rows(parse_A(args.A, 2), 2)


def _alphas(spec: str) -> list[float]:
    alphas = parse_values(spec, "alphas")
    bad = [a for a in alphas if not a > 0]
    if bad:
        raise InputError(f"--alphas {spec!r}: values must be > 0 (got {bad[0]})")
    return alphas


def _emit(rows: list[dict], args: argparse.Namespace) -> None:
    if args.json:
        print(finite_json(rows, indent=1))
    elif args.csv:
        write_csv_atomic(args.csv, rows, "--csv")
        print(f"wrote {args.csv} ({len(rows)} rows)")
    else:
        print(text_table(rows, list(rows[0]), _fmt))


def _emit_curve(rows: list[dict], args: argparse.Namespace) -> int:
    """Emit a curve's points and warn about the unconverged ones; exit status 0."""
    _emit(rows, args)
    failed = sum(not r["converged"] for r in rows)
    if failed:
        print(f"warning: {failed} point(s) did not converge (see 'converged', 'residual')",
              file=sys.stderr)
    return 0


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def run_curve(args: argparse.Namespace) -> int:
    """Handler of `theory curve`."""
    A = _check(args)
    alphas = _alphas(args.alphas)
    if args.prox == "side":
        return _run_curve_side(args, A, alphas)
    if args.rank == 2:
        if args.refine:
            raise InputError("--refine: only with --rank 1 (rank 2 has no adaptive rule)")
        return run_curve_rank2(args, A, alphas, _emit_curve)
    if args.branch == "mixed":
        raise InputError("--branch mixed: only with --rank 2 (rank 1: semantic, positional, "
                         "trivial, all)")
    if args.error:
        raise InputError("--error: only with --rank 2 (rank 1: theory boundary --error)")
    if args.refine:
        return _run_curve_refined(args, A, alphas)
    branches = BRANCHES if args.branch == "all" else (args.branch,)
    rows = []
    for b in branches:
        pts = curve(alphas, args.omega, args.sigma, args.lam, b, A, quad=args.quad)
        rows += [p.row() for p in pts]
        for note in dict.fromkeys(p.note for p in pts if p.note):
            print(f"note: {note}", file=sys.stderr)
    return _emit_curve(rows, args)


def _side_only(args: argparse.Namespace) -> None:
    """--prox side: rank 1, no --refine / --error (its bars come from the scramblings)."""
    for flag, on in (("--rank 2", args.rank == 2), ("--refine", args.refine),
                     ("--error", args.error)):
        if on:
            raise InputError(f"--prox side: not with {flag} (rank 1; its error bars come "
                             "from --scrambles)")
    if not 1 <= args.scrambles <= 64:
        raise InputError(f"--scrambles {args.scrambles}: expected an integer in 1..64")


def _run_curve_side(args: argparse.Namespace, A, alphas: list[float]) -> int:
    """`theory curve --prox side`: the semantic and positional init-side branches."""
    _side_only(args)
    if args.branch not in (*SIDE_BRANCHES, "all"):
        raise InputError(f"--prox side: --branch {args.branch}: expected "
                         f"{', '.join(SIDE_BRANCHES)} or all")
    rows = []
    for b in SIDE_BRANCHES if args.branch == "all" else (args.branch,):
        rows += side_curve(alphas, args.omega, args.sigma, args.lam, A, b,
                           scrambles=args.scrambles)
    return _emit_curve(rows, args)


def _run_curve_refined(args: argparse.Namespace, A, alphas: list[float]) -> int:
    """`theory curve --refine`: the semantic and positional branches with the converged
    rules (the trivial branch has none)."""
    if args.branch == "trivial":
        raise InputError(f"--refine: branches {', '.join(REFINED)} or all (got trivial)")
    n_eta, n_sem = _refine_sizes(args)
    rows = []
    for b in REFINED if args.branch == "all" else (args.branch,):
        rows += refined_curve(alphas, args.omega, args.sigma, args.lam, A, b, n_eta, n_sem,
                              quad=args.quad,
                              log=lambda line: print(line, file=sys.stderr, flush=True))
    return _emit_curve(rows, args)


def run_boundary(args: argparse.Namespace) -> int:
    """Handler of `theory boundary`."""
    omegas = parse_values(args.omegas, "omegas")
    A = _check(args, omegas)
    parts = args.alphas_range.split(":")
    try:
        lo, hi = (float(v) for v in parts)
    except ValueError:
        raise InputError(f"--alphas-range {args.alphas_range!r}: expected 'a:b'") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise InputError(f"--alphas-range {args.alphas_range!r}: expected 0 < a < b, finite")
    if args.n_alpha < 3:
        raise InputError(f"--n-alpha {args.n_alpha}: expected an integer >= 3")
    if args.prox == "side":
        _side_only(args)
        alphas = [float(a) for a in np.linspace(lo, hi, args.n_alpha)]
        _emit([side_boundary(om, alphas, args.sigma, args.lam, A, scrambles=args.scrambles)
               for om in omegas], args)
        return 0
    if args.rank == 2:
        if args.refine:
            raise InputError("--refine: only with --rank 1 (rank 2 has no adaptive rule; "
                             "its crossings are refined by --refine-roots)")
        return run_boundary_rank2(args, A, omegas, (lo, hi), _emit)
    if args.refine_roots:
        raise InputError("--refine-roots: only with --rank 2 (rank 1 always refines its "
                         "crossings; --refine: with the converged rules)")
    if args.refine:
        n_eta, n_sem = _refine_sizes(args)
        res = refined_boundary(omegas, args.sigma, args.lam, A, n_eta, n_sem, quad=args.quad,
                               alpha_range=(lo, hi), n_alpha=args.n_alpha,
                               multistart=args.multistart,
                               log=lambda line: print(line, file=sys.stderr, flush=True))
        _emit([b.row() for b in res], args)
        return 0
    kw = dict(sigma=args.sigma, lam=args.lam, A=A, alpha_range=(lo, hi), n_alpha=args.n_alpha,
              spinodals=args.spinodals, multistart=args.multistart)
    res = (boundary_error(omegas, (args.quad, args.quad + 2), **kw) if args.error
           else boundary(omegas, quad=args.quad, **kw))
    _emit([b.row() for b in res], args)
    return 0


def _pair(spec: str, flag: str, lo: int, hi: int) -> tuple[int, int]:
    """'a,b' with integers lo <= a < b <= hi (a coarse and a fine rule size)."""
    try:
        a, b = (int(v) for v in spec.split(","))
    except ValueError:
        a = b = -1
    if not lo <= a < b <= hi:
        raise InputError(f"{flag} {spec!r}: expected 'a,b', integers {lo} <= a < b <= {hi}")
    return a, b


def run_plot(args: argparse.Namespace) -> int:
    """Handler of `theory plot`."""
    from .plot import plot_curves  # matplotlib: only for this command

    A = _check(args)
    alphas = sorted(_alphas(args.alphas))
    if len(alphas) < 2:
        raise InputError(f"--alphas {args.alphas!r}: the plot needs at least 2 values")
    if not str(args.out).lower().endswith(".png"):
        raise InputError(f"--out {args.out!r}: expected a file name ending in .png")
    if args.rank == 2:
        if args.refine:
            raise InputError("--refine: only with --rank 1 (rank 2 has no adaptive rule)")
        return run_plot_rank2(args, A, alphas)
    lin = linear_theory(args.omega, args.sigma, A).eps_g_lin

    def lines(quad: int):
        sem = curve(alphas, args.omega, args.sigma, args.lam, "semantic", A, quad=quad)
        pos = curve(alphas, args.omega, args.sigma, args.lam, "positional", A, quad=quad)
        eps_t = values(sem, "eps_t"), values(pos, "eps_t")
        alpha_c = downcrossing(alphas, eps_t[0] - eps_t[1])
        glob = global_minimiser(values(sem, "eps_g"), values(pos, "eps_g"), *eps_t)
        alpha_l = downcrossing(alphas, glob - lin, last=False)
        return sem, pos, *(None if math.isnan(v) else v for v in (alpha_c, alpha_l))

    errs: list[float | None] = [None, None]
    if args.refine:  # the crossings searched on the plotted alpha range
        sem, pos = lines(args.quad)[:2]
        (rb,) = refined_boundary([args.omega], args.sigma, args.lam, A, quad=args.quad,
                                 alpha_range=(alphas[0], alphas[-1]))
        alpha_c, alpha_l, errs = rb.alpha_c, rb.alpha_l, [rb.alpha_c_err, rb.alpha_l_err]
    elif args.error:  # the reported curves use the larger rule; the smaller gives the bars
        coarse = lines(args.quad)[2:]
        sem, pos, alpha_c, alpha_l = lines(args.quad + 2)
        errs = [None if x is None or y is None else abs(x - y)
                for x, y in zip(coarse, (alpha_c, alpha_l), strict=True)]
    else:
        sem, pos, alpha_c, alpha_l = lines(args.quad)
    plot_curves(sem, pos, lin, args.out, alpha_c, alpha_l, *errs)
    print(f"wrote {args.out}")
    return 0
