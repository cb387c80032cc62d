"""Every fixed point at one (alpha, omega) that a scan of starting points reaches.

Continuation follows one solution per branch; to know that no other solution (with a lower
eps_t) exists, `fixed_points` starts the iteration from a grid of states, on the theta = 0
equations from m_th in `m_starts` and on the full equations from theta_th / sqrt(rho) in
`theta_starts`, and keeps the distinct converged results. Two results are the same fixed
point when q_th, |m_th|, |theta_th| and V agree to `same` (relative).
"""

from __future__ import annotations

from collections.abc import Sequence

from .fixed_point import TheoryPoint, solve

M_STARTS = (0.02, 0.06, 0.12, 0.2, 0.3, 0.5)
THETA_STARTS = (0.1, 0.3, 0.6, 0.9)


def _key(p: TheoryPoint) -> tuple[float, ...]:
    return (p.th["q_th"], abs(p.th["m_th"]), abs(p.th["theta_th"]), p.th["V"])


def _same(a: TheoryPoint, b: TheoryPoint, tol: float) -> bool:
    return all(abs(x - y) <= tol * max(abs(x), abs(y), 1e-3)
               for x, y in zip(_key(a), _key(b), strict=True))


def fixed_points(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
                 m_starts: Sequence[float] = M_STARTS,
                 theta_starts: Sequence[float] = THETA_STARTS, same: float = 1e-3,
                 **kwargs) -> list[TheoryPoint]:
    """Distinct converged fixed points from the start grid, sorted by eps_t.

    theta = 0 starts use the positional branch (theta held at 0; m = 0 results are the
    trivial fixed point), theta > 0 starts the semantic one; `kwargs` go to `solve`.
    """
    rho = sigma**2
    found: list[TheoryPoint] = []
    starts = [("positional", (0.1 * rho, m, 0.0, 20.0)) for m in m_starts]
    starts += [("semantic", (rho, 0.0, t * rho, 10.0)) for t in theta_starts]
    for branch, x0 in starts:
        p = solve(alpha, omega, sigma, lam, branch=branch, init=x0, **kwargs)
        if p.converged and not any(_same(p, f, same) for f in found):
            found.append(p)
    return sorted(found, key=lambda p: p.eps_t)
