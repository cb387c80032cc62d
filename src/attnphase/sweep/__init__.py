"""Sweeps: grids of runs from a config, on an SQLite results store, in-process, on a local
process pool or on a Dask cluster; resumable, with failures recorded.

```python
from attnphase.sweep import run_sweep, results_frame
run_sweep("configs/examples/tiny.yaml", db="results/attnphase.sqlite", workers=2)
df = results_frame("results/attnphase.sqlite", name="tiny")
```
"""

import importlib
from typing import Any

# Loaded on first use, so that `attnphase --help` and the CLI's parser do not import torch.
_WHERE = {"export": "export", "results_frame": "export", "SweepSpec": "grid",
          "load_spec": "grid", "SweepSummary": "runner", "run_sweep": "runner",
          "DEFAULT_DB": "store"}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
