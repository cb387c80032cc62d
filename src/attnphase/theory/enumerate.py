"""Every fixed point at one (alpha, omega) that a scan of starting points reaches.

Continuation follows one solution per branch; to know that no other solution (with a lower
eps_t) exists, `scan` starts the iteration from a grid of states, on the theta = 0
equations from m_th in `m_starts` and on the full equations from theta_th / rho (the public
theta) in `theta_starts` with m_th = 0, and from each of `mixed_starts` (theta_th / rho,
m_th) with both non-zero; and `distinct` merges the results that are the same point: q_th, |m_th|,
|theta_th| and V agreeing to `same` (relative, against max(|x|, 1e-3)). `fixed_points` keeps
the distinct converged ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from .fixed_point import TheoryPoint, solve

M_STARTS = (0.02, 0.06, 0.12, 0.2, 0.3, 0.5)
THETA_STARTS = (0.1, 0.3, 0.6, 0.9)


def _key(p: TheoryPoint) -> tuple[float, ...]:
    return (p.th["q_th"], abs(p.th["m_th"]), abs(p.th["theta_th"]), p.th["V"])


def same_point(a: TheoryPoint, b: TheoryPoint, tol: float) -> bool:
    """Whether two solver results are the same fixed point (see the module docstring)."""
    return all(abs(x - y) <= tol * max(abs(x), abs(y), 1e-3)
               for x, y in zip(_key(a), _key(b), strict=True))


def kind(p: TheoryPoint, floor: float = 1e-4) -> str:
    """What a fixed point is: semantic (theta > 0, m = 0), positional (theta = 0, m > 0),
    trivial (both 0) or mixed (both > 0); `floor` on the public theta and m."""
    sem, pos = p.theta > floor, p.m > floor
    return {(True, False): "semantic", (False, True): "positional",
            (False, False): "trivial", (True, True): "mixed"}[(sem, pos)]


def scan(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
         m_starts: Sequence[float] = M_STARTS, theta_starts: Sequence[float] = THETA_STARTS,
         mixed_starts: Sequence[tuple[float, float]] = (),
         **kwargs) -> list[tuple[str, tuple[float, ...], TheoryPoint]]:
    """(branch, start, result) for every start of the grid, converged or not.

    theta = 0 starts use the positional branch (theta held at 0; m = 0 results are the
    trivial fixed point), theta > 0 starts the semantic one (m free); `kwargs` go to `solve`.
    """
    rho = sigma**2
    starts = [("positional", (0.1 * rho, m, 0.0, 20.0)) for m in m_starts]
    starts += [("semantic", (rho, 0.0, t * rho, 10.0)) for t in theta_starts]
    starts += [("semantic", (rho, m, t * rho, 10.0)) for t, m in mixed_starts]
    return [(branch, x0, solve(alpha, omega, sigma, lam, branch=branch, init=x0, **kwargs))
            for branch, x0 in starts]


def distinct(points: Sequence[TheoryPoint], same: float = 1e-3) -> list[list[TheoryPoint]]:
    """The points grouped by `same_point` with each group's first member, in order found."""
    groups: list[list[TheoryPoint]] = []
    for p in points:
        for g in groups:
            if same_point(p, g[0], same):
                g.append(p)
                break
        else:
            groups.append([p])
    return groups


def fixed_points(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
                 m_starts: Sequence[float] = M_STARTS,
                 theta_starts: Sequence[float] = THETA_STARTS, same: float = 1e-3,
                 **kwargs) -> list[TheoryPoint]:
    """Distinct converged fixed points from the start grid (`scan`), sorted by eps_t."""
    res = scan(alpha, omega, sigma, lam, m_starts, theta_starts, **kwargs)
    groups = distinct([p for _, _, p in res if p.converged], same)
    return sorted((g[0] for g in groups), key=lambda p: p.eps_t)
