"""The global minimiser and the sign-crossing rule behind alpha_c and alpha_l (docs/model.md §5).

The theory (branches of the fixed point) and the simulations (trained students) use these
same two rules, so both locate the transitions alike.

**Global minimiser.** Of the semantic and the positional initialisation (or branch), the one
with the lower training loss eps_t. A tie goes to the semantic one; a missing value (NaN: a
failed run, a point that did not converge) loses to a present one.

**Same minimiser.** Two initialisations that reach the same minimiser end with eps_t a
rounding error apart (~1e-9 relative at the flow's tolerance), of either sign; read as a
difference, that noise makes spurious crossings wherever both starts end alike (the
appendix A from omega 0.2 up). `same_minimiser_as_zero` sets such differences, within
`SAME_RTOL` (the project's criterion for "the same minimiser", docs/solver.md), to 0: a tie.

**Crossing.** alpha_c is where `y = eps_t(semantic) - eps_t(positional)` changes sign and
alpha_l where `y = eps_g(global minimiser) - eps_g_lin` does. The two sides are `y > 0`
(positional global; linear better) and `y <= 0` (semantic global, ties included as above;
attention at least as good). A down-crossing is a pair of neighbouring points, in order of
x after dropping non-finite ones, with `y_i > 0 >= y_j`; its position is the linear
interpolation between them. With several crossings (noisy simulations, or a curve that
comes back) the caller says which one it means: alpha_c the last, alpha_l of the theory the
first one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SAME_RTOL = 1e-7  # eps_t relative difference below which two runs share their minimiser


def same_minimiser_as_zero(eps_t_semantic: Any, eps_t_positional: Any) -> np.ndarray:
    """eps_t(semantic) - eps_t(positional), 0 where the two agree to `SAME_RTOL` (elementwise)."""
    sem = np.asarray(eps_t_semantic, dtype=float)
    pos = np.asarray(eps_t_positional, dtype=float)
    delta = sem - pos
    with np.errstate(invalid="ignore"):
        tie = np.abs(delta) <= SAME_RTOL * np.maximum(np.abs(sem), np.abs(pos))
    return np.where(tie, 0.0, delta)


def semantic_global(eps_t_semantic: Any, eps_t_positional: Any) -> Any:
    """True where the semantic initialisation is the global minimiser (elementwise)."""
    sem = np.asarray(eps_t_semantic, dtype=float)
    pos = np.asarray(eps_t_positional, dtype=float)
    return (sem <= pos) | np.isnan(pos)


def global_minimiser(semantic: Any, positional: Any, eps_t_semantic: Any,
                     eps_t_positional: Any) -> np.ndarray:
    """`semantic` where the semantic initialisation is the global minimiser, else `positional`."""
    return np.where(semantic_global(eps_t_semantic, eps_t_positional), semantic, positional)


def downcrossing_cells(x: Sequence[float], y: Sequence[float]) -> list[tuple[int, int]]:
    """Every down-crossing as a pair of indices (i, j) into `x`, in increasing x."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    finite = np.flatnonzero(np.isfinite(xa) & np.isfinite(ya))
    order = finite[np.argsort(xa[finite], kind="stable")]
    return [(int(i), int(j)) for i, j in zip(order[:-1], order[1:], strict=True)
            if ya[i] > 0 >= ya[j]]


def downcrossing(x: Sequence[float], y: Sequence[float], last: bool = True) -> float:
    """The last (or first) down-crossing of y, linearly interpolated; NaN if there is none."""
    cells = downcrossing_cells(x, y)
    if not cells:
        return float("nan")
    i, j = cells[-1] if last else cells[0]
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(xa[i] + (xa[j] - xa[i]) * ya[i] / (ya[i] - ya[j]))
