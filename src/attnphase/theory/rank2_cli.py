"""`attnphase theory curve|boundary|plot --rank 2`: the rank-2 theory (docs/theory_rank2.md)."""

from __future__ import annotations

import argparse

from ..errors import InputError
from .rank2_boundary import MAX_STEPS, XTOL


def add_rank2_args(p: argparse.ArgumentParser, error: bool = False,
                   refine: bool = False) -> None:
    """Options of the rank-2 theory (only read with --rank 2); `error`: also --error (for
    `curve`, which has none of its own); `refine`: also --refine-roots (for `boundary`,
    whose --refine is rank 1's converged rules)."""
    p.add_argument("--rank", type=int, default=1, choices=(1, 2),
                   help="student rank: 2 is a rank-2 student of a rank-1 teacher "
                        "(docs/theory_rank2.md; branches semantic, mixed, positional, trivial)")
    p.add_argument("--qmc", type=int, default=512,
                   help="rank 2: scrambled Sobol points per block (a power of 2), 8 blocks")
    if error:
        p.add_argument("--error", action="store_true",
                       help="rank 2: also each fixed point's own quadrature error (fperr_*; "
                            "solved on each QMC block, about twice the time)")
    if refine:
        p.add_argument("--refine-roots", action="store_true",
                       help=f"rank 2: move alpha_c, alpha_l from the grid's linear "
                            f"interpolation (kept as *_linear) to the root by regula falsi "
                            f"on new solves in the crossing cell, to {XTOL:g} in alpha or "
                            f"{MAX_STEPS} solves of each branch per crossing (10-40 CPU s "
                            f"each); the residue is added to the bars")


def run_curve_rank2(args: argparse.Namespace, A, alphas: list[float], emit) -> int:
    """Handler of `theory curve --rank 2` (A and alphas already validated by the caller)."""
    from .rank2_solve import STARTS, curve_rank2

    rule = _rule(args)
    branches = STARTS if args.branch == "all" else (args.branch,)
    rows = []
    for b in branches:
        rows += [p.row() for p in curve_rank2(alphas, args.omega, args.sigma, args.lam, b, A,
                                              rule=rule, fp_error=args.error)]
    return emit(rows, args)


def _rule(args: argparse.Namespace):
    from .rank2_quadrature import qmc_rule

    n = args.qmc
    if n < 16 or n & (n - 1):
        raise InputError(f"--qmc {n}: expected a power of 2 >= 16")
    return qmc_rule(n, 8)


def run_boundary_rank2(args: argparse.Namespace, A, omegas: list[float],
                       alpha_range: tuple[float, float], emit) -> int:
    """Handler of `theory boundary --rank 2` on `--n-alpha` points evenly spaced in
    `alpha_range` (validated by the caller): alpha_c, alpha_l per omega; `--error`: error
    bars from the fixed points' own errors; `--refine-roots`: the crossings refined."""
    from .rank2_boundary import boundary_rank2

    rule = _rule(args)
    lo, hi = alpha_range
    n = args.n_alpha
    grid = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    res, _ = boundary_rank2(omegas, grid, args.sigma, args.lam, A, rule, args.error,
                            refine=args.refine_roots)
    emit([b.row() for b in res], args)
    return 0


def run_plot_rank2(args: argparse.Namespace, A, alphas: list[float]) -> int:
    """Handler of `theory plot --rank 2`: the branches with their fixed points' own QMC
    errors as error bars, alpha_c and alpha_l with theirs."""
    from .rank2_boundary import boundary_rank2
    from .rank2_plot import plot_rank2

    rule = _rule(args)
    (bd,), points = boundary_rank2([args.omega], alphas, args.sigma, args.lam, A, rule, True)
    plot_rank2(sorted(alphas), points[float(args.omega)], bd, args.sigma, args.lam, args.out)
    print(f"wrote {args.out}")
    return 0
