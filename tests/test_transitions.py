"""The global-minimiser and crossing rules, against plain loops; the published table."""

import math

import numpy as np
import pytest

from attnphase import published
from attnphase.transitions import (
    downcrossing,
    downcrossing_cells,
    global_minimiser,
    semantic_global,
)


def _slow_cells(x, y):
    """Down-crossings by a loop over the finite points in order of x."""
    pts = sorted((xi, k) for k, (xi, yi) in enumerate(zip(x, y, strict=True))
                 if math.isfinite(xi) and math.isfinite(yi))
    return [(a, b) for (_, a), (_, b) in zip(pts[:-1], pts[1:], strict=True) if y[a] > 0 >= y[b]]


def _slow_semantic(sem, pos):
    if math.isnan(pos):
        return True
    return not math.isnan(sem) and sem <= pos


def test_cells_match_a_loop_with_ties_and_gaps():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(0, 9))
        x = rng.permutation(n).astype(float)
        y = rng.choice([-1.0, 0.0, 1.0, 2.0, np.nan], size=n)
        assert downcrossing_cells(x, y) == _slow_cells(list(x), list(y))


def test_crossing_ties_follow_the_global_minimiser():
    x = [0.0, 1.0, 2.0, 3.0]
    # a tie (y = 0) is on the semantic side: the crossing is at the tie, not after it
    assert downcrossing(x, [1.0, 0.0, -1.0, -2.0]) == 1.0
    assert np.isnan(downcrossing(x, [0.0, -1.0, -1.0, -1.0]))  # never positional-global
    assert downcrossing(x, [1.0, 1.0, 1.0, 0.0]) == 3.0
    # a gap (NaN) between the two sides is bridged by the neighbours that have values
    assert downcrossing(x, [1.0, np.nan, -1.0, -1.0]) == pytest.approx(1.0)
    # first and last of several
    y = [1.0, -1.0, 1.0, -3.0]
    assert downcrossing(x, y, last=False) == 0.5 and downcrossing(x, y) == 2.25


def test_global_minimiser_matches_a_loop():
    vals = [0.1, 0.2, np.nan]
    for s in vals:
        for p in vals:
            assert bool(semantic_global(s, p)) == _slow_semantic(s, p)
    sem, pos = np.array([0.1, 0.2, 0.2, np.nan]), np.array([0.2, 0.1, 0.2, 0.1])
    np.testing.assert_array_equal(global_minimiser(["s"] * 4, ["p"] * 4, sem, pos),
                                  ["s", "p", "s", "p"])


def test_published_alpha_c_lookup():
    assert published.alpha_c(0.3) == 1.241 and published.alpha_c(0.1 + 0.2) == 1.241
    assert math.isnan(published.alpha_c(0.31))
    assert list(published.ALPHA_C) == sorted(published.ALPHA_C)
