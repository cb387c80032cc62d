"""Sweeps: grids of runs from a config, on an SQLite results store, in-process, on a local
process pool or on a Dask cluster; resumable, with failures recorded.

```python
from attnphase.sweep import run_sweep, results_frame
run_sweep("configs/examples/tiny.yaml", db="results/attnphase.sqlite", workers=2)
df = results_frame("results/attnphase.sqlite", name="tiny")
```
"""

from typing import Any

from .export import export, results_frame
from .grid import SweepSpec, load_spec
from .store import DEFAULT_DB

__all__ = ["DEFAULT_DB", "SweepSpec", "SweepSummary", "export", "load_spec", "results_frame",
           "run_sweep"]


def __getattr__(name: str) -> Any:
    """`run_sweep` and `SweepSummary` load torch: import them on first use only, so that
    `attnphase --help` and the CLI's parser stay fast."""
    if name in ("run_sweep", "SweepSummary"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
