"""Work units: runs of one teacher, so that `train_many` batches equal shapes and draws the
test samples once; large teachers are split (keeping equal data sets together) to bound
memory and to keep every worker busy. On a GPU a unit is instead many data sets of one shape
(several teachers): a batch of two students keeps a GPU idle between kernel launches."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence

from ..config import Config
from ..experiment import data_key, shape_key, teacher_key

# rough L-BFGS pass count, for ordering units by cost only
LBFGS_PASSES = 150
GPU_GROUP = 64  # runs per unit on a GPU: 32 data sets x 2 inits, 0.5 GB of X at d = 1000, n = 1000


def plan_units(
    cfgs: Sequence[Config], parallel: int = 1, max_group: int | None = None
) -> list[list[Config]]:
    """Group runs by teacher (on a GPU: by shape), split groups above the size limit
    (default 32 runs, on a GPU `GPU_GROUP`), largest cost first.

    With `parallel` > 1 workers the limit shrinks so that there are about two units per worker.
    """
    gpu = bool(cfgs) and all(c.device == "cuda" for c in cfgs)
    if max_group is None:
        max_group = GPU_GROUP if gpu else 32
    if parallel > 1 and cfgs:
        max_group = min(max_group, max(4, math.ceil(len(cfgs) / (2 * parallel))))
    groups: dict[tuple, list[Config]] = defaultdict(list)
    for cfg in cfgs:
        groups[(shape_key if gpu else teacher_key)(cfg)].append(cfg)
    units: list[list[Config]] = []
    for members in groups.values():
        if gpu:
            units.extend(_pack(members, max(1, max_group)))
        else:
            units.extend(_split(sorted(members, key=_batch_order), max(1, max_group)))
    units.sort(key=_cost, reverse=True)
    return units


def _pack(members: list[Config], max_group: int) -> list[list[Config]]:
    """Whole data sets (all their runs together) into parts of at most `max_group` runs."""
    by_data: dict[tuple, list[Config]] = defaultdict(list)
    for cfg in members:
        by_data[data_key(cfg)].append(cfg)
    parts: list[list[Config]] = [[]]
    for block in by_data.values():
        if parts[-1] and len(parts[-1]) + len(block) > max_group:
            parts.append([])
        parts[-1].extend(block)
    return parts


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
