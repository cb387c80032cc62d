"""Grids: lists of values written as text, and sweep configs expanded into Configs.

A value list (options such as `--alphas`, and sweep grid entries) is `a,b,c`,
`start:stop:count` (evenly spaced, inclusive) or `log:start:stop:count` (geometric steps).

A sweep config has a name, fixed fields (`base`) and a grid of lists:

```yaml
name: tiny
base: {d: 50, sigma: 0.5, lam: 0.01, test_samples: 2000}
grid: {alpha: [0.5, 1.0], omega: [0.3], init: [semantic, positional], seed: [0, 1, 2]}
```

Every combination of the grid lists is one run. A grid entry may also be a value-list string
such as `start:stop:count`. Everything is validated here, before any run.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, check_fields, from_dict, load_yaml
from ..errors import InputError

KEYS = ("name", "base", "grid")
MAX_RUNS = 100_000  # a sweep larger than this is refused (override: --max-runs)


def parse_values(spec: str, name: str) -> list[float]:
    """Parse `a,b,c`, `start:stop:count` or `log:start:stop:count` into finite floats."""
    text = str(spec).strip()
    if text.startswith("log:"):
        return _log_values(text[4:], spec, name)
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if count < 1:
                raise ValueError
            values = np.linspace(start, stop, count).tolist()
        else:
            values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"--{name} {spec!r}: expected 'a,b,c' or 'start:stop:count' with count >= 1"
        ) from None
    if not values or not all(math.isfinite(v) for v in values):
        raise InputError(f"--{name} {spec!r}: expected finite numbers")
    return values


def _log_values(text: str, spec: str, name: str) -> list[float]:
    """`start:stop:count` with geometric steps (the part after `log:`)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise InputError(f"--{name} {spec!r}: expected 'log:start:stop:count'")
    start, stop, count = parse_values(",".join(parts), name)
    if start <= 0 or stop <= 0 or count < 1 or not float(count).is_integer():
        raise InputError(f"--{name} {spec!r}: log grids need start, stop > 0 and count >= 1")
    return np.geomspace(start, stop, int(count)).tolist()


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
    base = dict(check_fields(raw.get("base") or {}, f"{where}: base"))
    grid = {k: _values(k, v, f"{where}: grid.{k}", max_runs)
            for k, v in check_fields(raw.get("grid") or {}, f"{where}: grid").items()}
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


def _values(key: str, value: Any, where: str, max_runs: int) -> list[Any]:
    if isinstance(value, str) and ":" in value:
        count = value.rsplit(":", 1)[1].strip()
        if count.isdigit() and int(count) > max_runs:
            raise InputError(f"{where} = {value!r}: {count} values, more than the limit "
                             f"{max_runs} runs; raise it with --max-runs")
        try:
            return parse_values(value, key)
        except InputError:
            raise InputError(f"{where} = {value!r}: expected '[log:]start:stop:count'") from None
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
