"""Work units: runs of one teacher, so that `train_many` batches equal shapes and draws the
test samples once; large teachers are split (keeping equal data sets together) to bound
memory and to keep every worker busy."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence

from ..config import Config
from ..experiment import teacher_key

# rough L-BFGS pass count, for ordering units by cost only
LBFGS_PASSES = 150


def plan_units(
    cfgs: Sequence[Config], parallel: int = 1, max_group: int = 32
) -> list[list[Config]]:
    """Group runs by teacher, split groups above the size limit, largest cost first.

    With `parallel` > 1 workers the limit shrinks so that there are about two units per worker.
    """
    if parallel > 1 and cfgs:
        max_group = min(max_group, max(4, math.ceil(len(cfgs) / (2 * parallel))))
    by_teacher: dict[tuple, list[Config]] = defaultdict(list)
    for cfg in cfgs:
        by_teacher[teacher_key(cfg)].append(cfg)
    units: list[list[Config]] = []
    for members in by_teacher.values():
        units.extend(_split(sorted(members, key=_batch_order), max(1, max_group)))
    units.sort(key=_cost, reverse=True)
    return units


def _split(members: list[Config], max_group: int) -> list[list[Config]]:
    """Even parts of about `max_group` runs or fewer, cut between data sets where possible."""
    size = math.ceil(len(members) / math.ceil(len(members) / max_group))
    parts: list[list[Config]] = [[]]
    for _, group in itertools.groupby(members, key=lambda c: c.n_samples):
        block = list(group)
        if len(parts[-1]) + len(block) > max_group:
            parts.append([])
        for cfg in block:  # a data set with more than max_group runs is cut
            if len(parts[-1]) >= max_group:
                parts.append([])
            parts[-1].append(cfg)
        if len(parts[-1]) >= size:
            parts.append([])
    return [p for p in parts if p]


def _batch_order(cfg: Config) -> tuple:
    """Runs on the same data set and with the same shapes end up next to each other."""
    return (cfg.n_samples, cfg.rank, cfg.solver, cfg.solver_steps, cfg.solver_lr, cfg.tol,
            cfg.init, cfg.lam, cfg.lam_lin, cfg.hash())


def _cost(unit: list[Config]) -> float:
    """Relative cost estimate: training passes over the data plus one test pass."""
    passes = sum(c.n_samples * c.rank
                 * (LBFGS_PASSES if c.solver in ("flow", "lbfgs") else c.solver_steps)
                 for c in unit)
    ref = unit[0]
    return ref.d * ref.L * (passes + ref.test_samples * len(unit))
