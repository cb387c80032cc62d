"""A-posteriori check of the flow's end point: is it the limit of the flow, not an artefact of
the time-step control?

The flow solver bounds each step's local error by rtol ||Q|| (flow.py); where the path runs
near a saddle or a basin boundary, the accumulated error can still carry the numerical path
into another basin (docs/solver.md, "The tolerance"). The check integrates the same flow at
10 rtol as well; where the two end points differ, the flow is run again at rtol / 10 and
compared with the previous end point, up to `refinements` times. A student is `certified`
when two successive tolerances end at the same point; the finer of the two is returned, with
the tolerance that produced it. Costs about 1.5x the plain run where the end points agree
(a third-order method's steps grow like rtol^(-1/3)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from .flow import FlowOptions, Progress, flow
from .objective import Risk

# two end points are the same stationary point when eps_t agrees to EPS_T_RTOL (relative) and
# Q Q^T (R depends on Q only through it) to GRAM_RTOL: at a minimiser the gradient tolerance
# moves R by ~||g||^2 / (2 lambda) and Q by ~||g|| / lambda, far below both for lambda > 0;
# the distinct stationary points the flow can reach differ by 1e-3 or more in eps_t.
EPS_T_RTOL = 1e-6
GRAM_RTOL = 1e-3


@dataclass
class EndPoint:
    """The flow's result for a batch of students: (B, c, ...) tensors, passes (B,)."""

    Q: torch.Tensor
    R: torch.Tensor
    g: torch.Tensor
    steps: torch.Tensor
    passes: torch.Tensor

    def take(self, rows: torch.Tensor, other: EndPoint) -> None:
        """Replace the data sets `rows` (indices) by `other`'s (same order); add its passes."""
        self.Q[rows], self.R[rows], self.g[rows] = other.Q, other.R, other.g
        self.steps[rows] = self.steps[rows] + other.steps
        self.passes[rows] = self.passes[rows] + other.passes


Run = Callable[[torch.Tensor, float], EndPoint]


def same_point(a: EndPoint, b: EndPoint) -> torch.Tensor:
    """Per student (B, c): do a and b end at the same stationary point (EPS_T_RTOL, GRAM_RTOL)?"""
    Ga = a.Q @ a.Q.transpose(-1, -2)
    Gb = b.Q @ b.Q.transpose(-1, -2)
    gram = (Ga - Gb).pow(2).sum((-1, -2)).sqrt() <= GRAM_RTOL * Gb.pow(2).sum((-1, -2)).sqrt()
    risk = (a.R - b.R).abs() <= EPS_T_RTOL * b.R.abs()
    return gram & risk


def refine(run: Run, B: int, rtol: float, refinements: int
           ) -> tuple[EndPoint, torch.Tensor, torch.Tensor]:
    """The check itself, on `run(rows, rtol)` (the flow of the data sets `rows` at rtol).

    Returns (end point, certified (B, c), the tolerance of each data set's end point (B,)).
    Steps and passes add up over all runs. Data sets are re-run whole (their students share
    the passes over X); a student counts as certified once its own two end points agree.
    """
    every = torch.arange(B)
    coarse = run(every, 10 * rtol)
    best = run(every, rtol)
    certified = same_point(coarse, best)
    best.steps += coarse.steps
    best.passes += coarse.passes
    used = torch.full((B,), rtol, dtype=torch.float64)
    for _ in range(refinements):
        rows = (~certified).any(1).nonzero().flatten()
        if rows.numel() == 0:
            break
        rtol /= 10
        finer = run(rows, rtol)
        previous = EndPoint(best.Q[rows], best.R[rows], best.g[rows], best.steps[rows],
                            best.passes[rows])
        certified[rows] = same_point(finer, previous)
        best.take(rows, finer)
        used[rows] = rtol
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
        out = flow(sub, Q0[rows], steps, tol, progress, replace(opt, rtol=rtol))
        return EndPoint(*out)

    return refine(run, Q0.shape[0], opt.rtol, refinements)
