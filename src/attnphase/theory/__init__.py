"""Asymptotic theory (d -> infinity, n = alpha d) of the tied attention model, docs/model.md §5.

- `solve`, `curve`: fixed points of the saddle-point equations on the semantic, positional
  or trivial branch, with public outputs in the normalisation of docs/model.md §4.
- `solve_adaptive`: the same point with the adaptive rule (1e-5 on the positional branch,
  minutes per point; docs/theory.md, "the adaptive rule").
- `linear_theory`: the linear positional baseline, `B*` and `eps_g_lin`.
- `boundary`: alpha_c(omega), alpha_l(omega) and the ends of the branches;
  `boundary_error` adds error bars from a convergence study in the quadrature;
  `refined_boundary` moves the crossings with the converged rules (bars from their refinement).
- `fixed_points`: every fixed point a scan of starting points reaches, by eps_t.
- `solve_rank2`, `curve_rank2`, `boundary_rank2`: a rank-2 student of the rank-1 teacher
  (docs/theory_rank2.md).
"""

from .boundary import Boundary, boundary, boundary_error
from .enumerate import fixed_points
from .fixed_point import BRANCHES, TheoryPoint, curve, solve
from .linear import LinearTheory, linear_theory
from .rank2_boundary import Boundary2, boundary_rank2
from .rank2_solve import Rank2Point, curve_rank2, solve_rank2
from .refined import solve_adaptive
from .refined_boundary import RefinedBoundary, refined_boundary

__all__ = ["BRANCHES", "Boundary", "Boundary2", "LinearTheory", "Rank2Point", "RefinedBoundary",
           "TheoryPoint", "boundary", "boundary_error", "boundary_rank2", "curve", "curve_rank2",
           "fixed_points", "linear_theory", "refined_boundary", "solve", "solve_adaptive",
           "solve_rank2"]
