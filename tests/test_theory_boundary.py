"""Phase boundaries: alpha_c(0.3) near 1.25 and the published alpha_c(omega) line."""

import pytest

from attnphase.published import ALPHA_C as PUBLISHED
from attnphase.theory import boundary


def test_alpha_c_at_omega_0p3():
    (b,) = boundary([0.3], alpha_range=(0.9, 1.7), n_alpha=5, spinodals=False, multistart=False)
    assert 1.20 <= b.alpha_c <= 1.30
    assert b.alpha_l is not None and b.alpha_l > b.alpha_c  # attention beats linear later
    assert b.eps_g_lin == pytest.approx(0.0019714, rel=1e-4)


def test_no_root_in_range_gives_none():
    (b,) = boundary([0.3], alpha_range=(1.6, 2.0), n_alpha=3, spinodals=False,
                    multistart=False)
    assert b.alpha_c is None


@pytest.mark.slow
@pytest.mark.parametrize("omega", sorted(PUBLISHED))
def test_published_alpha_c(omega):
    """Within 5% of the paper's line for omega >= 0.1; at omega = 0 the branches are nearly
    degenerate and alpha_c is uncertain by ~10% (docs/theory.md), hence the wider band."""
    (b,) = boundary([omega], spinodals=False)
    tol = 0.15 if omega < 0.1 else 0.05
    assert b.alpha_c == pytest.approx(PUBLISHED[omega], rel=tol)


def test_root_converges_beyond_the_first_secant_step():
    """Illinois on a curved function: the first secant step from [0, 1] lands at 0.53, the
    root is ln(2) / 3 = 0.2310; the search must go on until the estimate settles."""
    import math

    from attnphase.theory.boundary import illinois_root

    calls = []

    def f(x):
        calls.append(x)
        return math.exp(-3 * x) - 0.5

    r = illinois_root(f, 0.0, 1.0, f(0.0), f(1.0), xtol=1e-4, max_eval=30)
    assert r == pytest.approx(math.log(2) / 3, abs=1e-4)
    assert len(calls) > 3


def _pt(alpha, branch, eps_t, converged=True, iterations=20, theta=0.3, m=0.0):
    from attnphase.theory.fixed_point import TheoryPoint

    return TheoryPoint(alpha, 0.04, 0.5, 0.01, branch, 0.2, m, theta, 20.0, 0.004, eps_t,
                       converged, iterations, 1e-7 if converged else 1e-2)


class _Fake:
    """Both branches on a grid without solving: eps_t(positional) = alpha, eps_t(semantic)
    = alpha - 1e-3 (alpha - 0.6), so alpha_c = 0.6; the semantic point at `capped` stopped
    at the iteration cap, those below `lost` are unsolved (NaN), as continuation leaves them;
    the positional points at `pos_bad` did not converge."""

    def __init__(self, alphas, lost, capped=(), pos_bad=()):
        import math

        self.alphas, self.kw = alphas, {}
        self.pos = [_pt(a, "positional", a, a not in pos_bad, theta=0.0, m=0.2)
                    for a in alphas]
        self.sem = [_pt(a, "semantic", _sem(a), a not in capped, 300 if a in capped else 20)
                    if a >= lost else _pt(a, "semantic", math.nan, False, 0, math.nan)
                    for a in alphas]

    def at(self, alpha, branch, i, j):
        return (_pt(alpha, "semantic", _sem(alpha)) if branch == "semantic"
                else _pt(alpha, "positional", alpha, theta=0.0, m=0.2))

    def semantic_at(self, alpha, i, j):
        return self.at(alpha, "semantic", i, j)

    def positional_near(self, alpha):
        return self.at(alpha, "positional", 0, 0)


def _sem(a):
    return a - 1e-3 * (a - 0.6)


def test_alpha_c_counts_a_semantic_point_stopped_at_the_cap():
    """omega 0.12-0.14 on the default grid: the semantic point below the crossing stops at
    the iteration cap on its branch; it brackets the crossing with its last eps_t."""
    import numpy as np

    from attnphase.theory.boundary import _alpha_c

    br = _Fake(np.array([0.45, 0.55, 0.75, 0.95]), lost=0.55, capped=(0.55,))
    assert _alpha_c(br) == pytest.approx(0.6, abs=1e-6)


def test_alpha_c_below_a_lost_semantic_branch_from_cold_starts(monkeypatch):
    """omega 0.02-0.06 on the default grid: the semantic branch is lost just above the
    crossing (it already wins at the lowest point it reaches); cold starts walk down from
    there and bracket the crossing. Where the cold start leaves the branch: no alpha_c."""
    import importlib
    import math

    import numpy as np

    mod = importlib.import_module("attnphase.theory.boundary")
    br = _Fake(np.array([0.4, 0.65, 0.9]), lost=0.65)
    cold = []

    def fake_solve(alpha, branch, **kw):
        cold.append(alpha)
        return _pt(alpha, branch, _sem(alpha))

    monkeypatch.setattr(mod, "solve", fake_solve)
    assert mod._alpha_c(br) == pytest.approx(0.6, abs=1e-6)
    assert 0.625 in [round(a, 6) for a in cold]  # one walk step of 0.025 below 0.65
    monkeypatch.setattr(mod, "solve", lambda alpha, branch, **kw: _pt(
        alpha, branch, math.nan, True, 20, theta=0.0))
    assert mod._alpha_c(br) is None


def test_alpha_c_below_a_lost_branch_where_the_positional_point_is_missing(monkeypatch):
    """omega = 0.02 on the default grid: the lowest semantic point (0.894) stopped at the cap
    and the positional one there did not converge; the crossing lies below the next grid
    point. The walk starts at the lowest semantic point, takes the positional branch from
    its nearest usable grid point, and continues past grid points until it brackets."""
    import importlib

    import numpy as np

    mod = importlib.import_module("attnphase.theory.boundary")
    br = _Fake(np.array([0.452, 0.673, 0.894, 1.116]), lost=0.894, capped=(0.894,),
               pos_bad=(0.894, 1.116))
    monkeypatch.setattr(mod, "solve", lambda alpha, branch, **kw: _pt(alpha, branch,
                                                                      _sem(alpha)))
    assert mod._alpha_c(br) == pytest.approx(0.6, abs=1e-6)


def test_root_stops_where_the_function_has_no_value():
    """A NaN inside the bracket (a branch point that does not count, as for the appendix A
    at omega 0.02) ends the search at the last bracket's estimate, inside the bracket,
    instead of feeding NaN to the next solve."""
    import math

    from attnphase.theory.boundary import illinois_root

    calls = []

    def f(x):
        calls.append(x)
        return float("nan") if len(calls) == 2 else math.exp(-3 * x) - 0.5

    r = illinois_root(f, 0.0, 1.0, 0.5, math.exp(-3) - 0.5, xtol=1e-6, max_eval=30)
    assert len(calls) == 2
    assert 0.0 < r < 1.0 and r == calls[-1]


def test_alpha_l_takes_the_trivial_point_where_the_positional_branch_collapses():
    """Appendix A at omega 0.1: every positional solve converges onto m = 0 (the trivial
    point, eps_g flat at 3.5e-3, above eps_g_lin) and the semantic branch grows out of it
    continuously at alpha 0.6 (below, the semantic solve returns the trivial point); its
    eps_g crosses eps_g_lin at 0.65. alpha_l is that crossing (it was None: no usable
    positional point, and no first-order alpha_c where the global minimiser switches)."""
    import numpy as np

    from attnphase.theory.boundary import _alpha_l

    lin = 3.4e-3

    def sem(a):
        if a < 0.6:
            p = _pt(a, "semantic", 1e-3 * a, theta=0.0)
            p.eps_g = 3.5e-3
        else:
            p = _pt(a, "semantic", 1e-3 * a - 1e-6 * (a - 0.6), theta=0.5 * (a - 0.6))
            p.eps_g = 3.5e-3 - 2e-3 * (a - 0.6)
        return p

    def triv(a):
        p = _pt(a, "positional", 1e-3 * a, theta=0.0, m=0.0)
        p.eps_g = 3.5e-3
        return p

    class Br:
        alphas = np.array([0.3, 0.5, 0.7, 0.9])
        kw = {}
        sem = [_pt(a, "semantic", float("nan"), False, 0, float("nan")) for a in (0.3, 0.5)] + [
            sem(a) for a in (0.7, 0.9)]
        pos = [triv(a) for a in (0.3, 0.5, 0.7, 0.9)]

        def at(self, alpha, branch, i, j):
            return sem(alpha) if branch == "semantic" else triv(alpha)

        def semantic_at(self, alpha, i, j):
            return sem(alpha)

    assert _alpha_l(Br(), None, lin) == pytest.approx(0.65, abs=1e-6)


def test_alpha_c_where_the_global_semantic_branch_ends(monkeypatch):
    """Appendix A: no first-order crossing on the grid; the semantic branch, global from its
    first grid point (0.7) down, ends at alpha 0.537 (below, a semantic solve ends on
    theta = 0). alpha_c is that end, found to 1e-3 by warm steps and bisection, whether the
    theta = 0 side is the trivial point (m = 0) or a positional one. Where the semantic
    branch is no longer global at its end, there is no alpha_c from this rule."""
    import importlib
    import math

    import numpy as np

    mod = importlib.import_module("attnphase.theory.boundary")
    end = 0.537

    def sem(a, late=0.0):
        on = a > end
        return _pt(a, "semantic", 1e-3 * a + 1e-6 * (late - (a - end)) if on else 1e-3 * a,
                   theta=0.3 * (a - end) if on else 0.0)

    class Br:
        alphas = np.array([0.3, 0.5, 0.7, 0.9])
        kw = {}

        def __init__(self, m, late=0.0):
            self.m = m
            self.pos = [self.positional_near(a) for a in self.alphas]
            self.sem = [_pt(a, "semantic", math.nan, False, 0, math.nan) for a in (0.3, 0.5)]
            self.sem += [sem(a, late) for a in (0.7, 0.9)]

        def positional_near(self, alpha):
            return _pt(alpha, "positional", 1e-3 * alpha, theta=0.0, m=self.m)

    monkeypatch.setattr(mod, "solve", lambda alpha, branch, **kw: sem(alpha))
    assert mod._alpha_c(Br(m=0.0)) == pytest.approx(end, abs=1e-3)
    assert mod._branch_end(Br(m=0.02), 300) == pytest.approx(end, abs=1e-3)
    # one point on the walk falls off the branch (the rough map near a fold): stepped over
    monkeypatch.setattr(mod, "solve", lambda alpha, branch, **kw: sem(alpha)
                        if abs(alpha - 0.6) > 1e-6 else sem(0.0))
    assert mod._branch_end(Br(m=0.0), 300) == pytest.approx(end, abs=1e-3)
    # the semantic branch above eps_t(theta = 0) below 0.637: not global at its end
    monkeypatch.setattr(mod, "solve", lambda alpha, branch, **kw: sem(alpha, late=0.1))
    assert mod._branch_end(Br(m=0.0, late=0.1), 300) is None
