"""`attnphase theory curve --rank 2`: the rank-2 theory's fixed points along alpha."""

from __future__ import annotations

import argparse

from ..errors import InputError


def add_rank2_args(p: argparse.ArgumentParser) -> None:
    """Options of the rank-2 curve (only read with --rank 2)."""
    p.add_argument("--rank", type=int, default=1, choices=(1, 2),
                   help="student rank: 2 is a rank-2 student of a rank-1 teacher "
                        "(docs/theory_rank2.md; branches semantic, mixed, positional, trivial)")
    p.add_argument("--qmc", type=int, default=512,
                   help="rank 2: scrambled Sobol points per block (a power of 2), 8 blocks")


def run_curve_rank2(args: argparse.Namespace, A, alphas: list[float], emit) -> int:
    """Handler of `theory curve --rank 2` (A and alphas already validated by the caller)."""
    from .rank2_quadrature import qmc_rule
    from .rank2_solve import STARTS, curve_rank2

    n = args.qmc
    if n < 16 or n & (n - 1):
        raise InputError(f"--qmc {n}: expected a power of 2 >= 16")
    branches = STARTS if args.branch == "all" else (args.branch,)
    rule = qmc_rule(n, 8)
    rows = []
    for b in branches:
        rows += [p.row() for p in curve_rank2(alphas, args.omega, args.sigma, args.lam, b, A,
                                              rule=rule)]
    return emit(rows, args)
