"""A-posteriori check of the flow's end point: is it the limit of the flow, not an artefact of
the time-step control?

The flow solver bounds each step's local error by rtol ||Q|| (flow.py); where the path runs
near a saddle or a basin boundary, the accumulated error can still carry the numerical path
into another basin (docs/solver.md, "The tolerance"). The check integrates the same flow at
10 rtol as well; where the two end points differ, the flow is run again at rtol / 10 and
compared with the previous end point, up to `refinements` times. A student is `certified`
when two successive tolerances end at the same point; the finer of the two is returned, with
the tolerance that produced it. Costs about 1.5x the plain run where the end points agree
(a third-order method's steps grow like rtol^(-1/3)). Each 10x finer run may take
STEPS_GROWTH times the steps of the previous one; a finer run that still does not reach the
gradient tolerance ends the check for its data set (uncertified, the previous end point
kept).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import torch

from .flow import FlowOptions, Progress, flow, grad_norm
from .objective import Risk

# two end points are the same stationary point when eps_t agrees to EPS_T_RTOL (relative) and
# Q Q^T (R depends on Q only through it) to GRAM_RTOL: at a minimiser the gradient tolerance
# moves R by ~||g||^2 / (2 lambda) and Q by ~||g|| / lambda, far below both for lambda > 0;
# the distinct stationary points the flow can reach differ by 1e-3 or more in eps_t.
EPS_T_RTOL = 1e-6
GRAM_RTOL = 1e-3
STEPS_GROWTH = 2.5  # step budget per 10x finer tolerance (the steps grow ~2.15x)
NOTE = ("not certified: the flow's end point still moved at the finest step tolerance tried; "
        "the path is sensitive there (near a saddle or a basin boundary): raise --certify or "
        "lower --flow-rtol (docs/solver.md)")


@dataclass
class EndPoint:
    """The flow's result for a batch of students: (B, c, ...) tensors, passes (B,)."""

    Q: torch.Tensor
    R: torch.Tensor
    g: torch.Tensor
    steps: torch.Tensor
    passes: torch.Tensor
    converged: torch.Tensor  # (B, c): the gradient tolerance reached

    def rows(self, rows: torch.Tensor) -> EndPoint:
        """The data sets `rows` (indices) only."""
        return EndPoint(*(getattr(self, f.name)[rows] for f in fields(self)))

    def take(self, rows: torch.Tensor, other: EndPoint) -> None:
        """Replace the end points of the data sets `rows` (indices) by `other`'s (same
        order); the costs stay (they add up, `add_cost`)."""
        self.Q[rows], self.R[rows], self.g[rows] = other.Q, other.R, other.g
        self.converged[rows] = other.converged

    def add_cost(self, rows: torch.Tensor, other: EndPoint) -> None:
        self.steps[rows] += other.steps
        self.passes[rows] += other.passes


Run = Callable[[torch.Tensor, float], EndPoint]


def same_point(a: EndPoint, b: EndPoint) -> torch.Tensor:
    """Per student (B, c): do a and b end at the same stationary point (EPS_T_RTOL, GRAM_RTOL)?"""
    Ga = a.Q @ a.Q.transpose(-1, -2)
    Gb = b.Q @ b.Q.transpose(-1, -2)
    gram = (Ga - Gb).pow(2).sum((-1, -2)).sqrt() <= GRAM_RTOL * Gb.pow(2).sum((-1, -2)).sqrt()
    risk = (a.R - b.R).abs() <= EPS_T_RTOL * b.R.abs()
    return gram & risk


def refine(run: Run, B: int, rtol: float, refinements: int,
           device: torch.device | str = "cpu") -> tuple[EndPoint, torch.Tensor, torch.Tensor]:
    """The check itself, on `run(rows, rtol)` (the flow of the data sets `rows` at rtol).

    Returns (end point, certified (B, c), the tolerance of each data set's end point (B,)).
    Steps and passes add up over all runs. Data sets are re-run whole (their students share
    the passes over X); a student counts as certified once its own two end points agree at
    the gradient tolerance. A data set with a student that a finer run leaves unconverged
    keeps its previous end point and is not refined further.
    """
    every = torch.arange(B, device=device)
    coarse = run(every, 10 * rtol)
    best = run(every, rtol)
    certified = same_point(coarse, best) & coarse.converged & best.converged
    best.add_cost(every, coarse)
    used = torch.full((B,), rtol, dtype=torch.float64, device=device)
    open_ = torch.ones(B, dtype=torch.bool, device=device)
    for _ in range(refinements):
        rows = (open_ & (~certified).any(1)).nonzero().flatten()
        if rows.numel() == 0:
            break
        rtol /= 10
        finer = run(rows, rtol)
        ok = finer.converged.all(1)
        certified[rows] = torch.where(ok[:, None], same_point(finer, best.rows(rows))
                                      & best.converged[rows], certified[rows])
        best.add_cost(rows, finer)  # whether or not the run is kept
        best.take(rows[ok], finer.rows(ok.nonzero().flatten()))
        used[rows[ok]] = rtol
        open_[rows[~ok]] = False
    return best, certified, used


def certified_flow(
    risk: Risk,
    Q0: torch.Tensor,
    steps: int,
    tol: float,
    options: FlowOptions | None = None,
    refinements: int = 2,
    progress: Progress | None = None,
) -> tuple[EndPoint, torch.Tensor, torch.Tensor]:
    """`flow` with the end-point check (module docstring): (end point, certified, rtol used)."""
    opt = options or FlowOptions()

    def run(rows: torch.Tensor, rtol: float) -> EndPoint:
        sub = risk if rows.numel() == Q0.shape[0] else risk.restrict(rows)
        budget = math.ceil(steps * STEPS_GROWTH ** max(0.0, math.log10(opt.rtol / rtol)))
        Q, R, g, n_steps, passes, _ = flow(sub, Q0[rows], budget, tol, progress,
                                           replace(opt, rtol=rtol))
        return EndPoint(Q, R, g, n_steps, passes, grad_norm(g) <= tol)

    return refine(run, Q0.shape[0], opt.rtol, refinements, Q0.device)
