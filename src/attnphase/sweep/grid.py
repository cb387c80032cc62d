"""Sweep configs: a name, fixed fields (`base`) and a grid of lists, expanded into Configs.

```yaml
name: tiny
base: {d: 50, sigma: 0.5, lam: 0.01, test_samples: 2000}
grid: {alpha: [0.5, 1.0], omega: [0.3], init: [semantic, positional], seed: [0, 1, 2]}
```

Every combination of the grid lists is one run. A grid entry may also be a string
`start:stop:count` (evenly spaced, inclusive). Everything is validated here, before any run.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import FIELDS, Config, from_dict, load_yaml
from ..errors import InputError
from ..grids import parse_values

KEYS = ("name", "base", "grid")
MAX_RUNS = 100_000  # a sweep larger than this is refused (override: --max-runs)


@dataclass(frozen=True)
class SweepSpec:
    """A named list of validated, distinct run configs (in grid order)."""

    name: str
    configs: tuple[Config, ...]
    source: dict[str, Any]


def load_spec(config: dict[str, Any] | str | Path, max_runs: int = MAX_RUNS) -> SweepSpec:
    """Read (a YAML path) and expand a sweep config; InputError on anything bad, including
    a grid of more than `max_runs` runs (counted before anything is expanded)."""
    if isinstance(config, str | Path):
        where = f"sweep config {config}"
        raw = load_yaml(config, where=where)
    else:
        where = "sweep config"
        raw = config
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a mapping with keys {', '.join(KEYS)}")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{where}: 'name' must be a non-empty string, got {name!r}")
    base = _fields(raw.get("base") or {}, f"{where}: base")
    grid = {k: _values(k, v, f"{where}: grid.{k}", max_runs)
            for k, v in _fields(raw.get("grid") or {}, f"{where}: grid").items()}
    runs = math.prod(len(v) for v in grid.values())
    if runs > max_runs:
        raise InputError(f"{where}: the grid has {runs} runs, more than the limit {max_runs}; "
                         "split it, or raise the limit with --max-runs")
    both = sorted(set(base) & set(grid))
    if both:
        raise InputError(f"{where}: field {both[0]!r} is both in base and in grid")
    configs = tuple(_expand(base, grid, where))
    return SweepSpec(name=name, configs=configs, source={"name": name, "base": base,
                                                         "grid": grid})


def _fields(section: Any, where: str) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise InputError(f"{where}: expected a mapping of config fields")
    unknown = sorted(set(section) - set(FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(FIELDS)}")
    return dict(section)


def _values(key: str, value: Any, where: str, max_runs: int) -> list[Any]:
    if isinstance(value, str) and ":" in value:
        count = value.rsplit(":", 1)[1].strip()
        if count.isdigit() and int(count) > max_runs:
            raise InputError(f"{where} = {value!r}: {count} values, more than the limit "
                             f"{max_runs} runs; raise it with --max-runs")
        try:
            return parse_values(value, key)
        except InputError:
            raise InputError(f"{where} = {value!r}: expected 'start:stop:count'") from None
    if not isinstance(value, list) or not value:
        raise InputError(f"{where} = {value!r}: expected a non-empty list of values "
                         "or 'start:stop:count'")
    return value


def _expand(base: dict[str, Any], grid: dict[str, list], where: str) -> list[Config]:
    configs: list[Config] = []
    seen: dict[str, dict] = {}
    for combo in itertools.product(*grid.values()):
        point = dict(zip(grid, combo, strict=True))
        try:
            cfg = from_dict({**base, **point})
        except InputError as exc:
            at = f" at {point}" if point else ""
            raise InputError(f"{where}{at}: {exc}") from None
        h = cfg.hash()
        if h in seen:
            raise InputError(f"{where}: grid points {seen[h]} and {point} are the same run "
                             "(e.g. n fixed while alpha varies); remove the duplicate")
        seen[h] = point
        configs.append(cfg)
    return configs
