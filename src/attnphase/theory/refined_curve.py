"""Fixed points along alpha with the converged rules (`attnphase theory curve --refine`).

Why: `curve` solves with the split rule at 8 nodes, which on the positional branch is off
by up to ~2% in q and V (docs/theory.md, "the adaptive rule"). Here every usable point of
the split rule's curve is solved again with the converged rules at a coarse and a fine size
(positional: `solve_adaptive` with n_eta (6, 8); semantic: Gauss-Hermite (16, 20)), and the
fine point is reported with err_<name> = |fine - coarse|: the refinement's own estimate of
what is left, the error bar of a convergence study. Each coarse solve starts from the
previous alpha's coarse point moved by the split rule's change (`shifted`), each fine one
from the coarse one. Minutes of CPU per positional point.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from .fixed_point import TheoryPoint, curve, usable
from .refined_boundary import ConvergedRules, shifted

BRANCHES = ("semantic", "positional")
OUTPUTS = ("q", "m", "theta", "V", "eps_g", "eps_t")


def refined_curve(alphas: Sequence[float], omega: float = 0.3, sigma: float = 0.5,
                  lam: float = 0.01, A=None, branch: str = "positional",
                  n_eta: tuple[int, int] = (6, 8), n_sem: tuple[int, int] = (16, 20),
                  tol: float = 1e-5, quad: int = 8,
                  log: Callable[[str], None] | None = None) -> list[dict]:
    """One row per alpha (in the order given): the fine rule's point with err_<name> for
    each of OUTPUTS, `rule` (which rules), `converged` (both rules), `cpu_s`. A point the
    split rule does not reach on its branch is passed through unrefined (err_* None,
    rule "split (not refined)"). `log` gets a line per point."""
    if branch not in BRANCHES:
        raise ValueError(f"branch={branch!r}: refined curves exist for {', '.join(BRANCHES)}")
    rules = ConvergedRules(float(omega), sigma, lam, A, n_eta, n_sem, tol, quad)
    pts = curve(alphas, omega, sigma, lam, branch, A, quad=quad)
    rule = rules.label(branch)
    order = sorted(range(len(pts)), key=lambda i: pts[i].alpha, reverse=branch == "semantic")
    rows: list[dict] = [{} for _ in pts]
    last: tuple[TheoryPoint, TheoryPoint] | None = None  # (split, coarse) of the last alpha
    for i in order:
        split = pts[i]
        if not usable(split):
            rows[i] = {**split.row(), **{f"err_{k}": None for k in OUTPUTS},
                       "rule": "split (not refined)", "cpu_s": 0.0}
            last = None
            continue
        t0 = time.process_time()
        rules.adopt_split(split)
        start = None if last is None else shifted(last[1], last[0], split)
        coarse, fine = rules.coarse_and_fine(branch, split.alpha, start)
        rows[i] = _row(coarse, fine, rule, time.process_time() - t0)
        last = (split, coarse)
        if log is not None:
            log(f"{branch} alpha {split.alpha:g}: {rows[i]}")
    return rows


def _row(coarse: TheoryPoint, fine: TheoryPoint, rule: str, cpu_s: float) -> dict:
    """The fine point's row with the coarse-to-fine changes."""
    row = fine.row()
    row.update({f"err_{k}": abs(getattr(fine, k) - getattr(coarse, k)) for k in OUTPUTS})
    row.update(converged=bool(coarse.converged and fine.converged), rule=rule,
               cpu_s=round(cpu_s, 1))
    return row
