"""Sweeps: grids of runs from a config, on an SQLite results store, in-process, on a local
process pool or on a Dask cluster; resumable, with failures recorded.

```python
from attnphase.sweep import run_sweep, results_frame
run_sweep("configs/examples/tiny.yaml", db="results/attnphase.sqlite", workers=2)
df = results_frame("results/attnphase.sqlite", name="tiny")
```
"""

from .export import export, results_frame
from .grid import SweepSpec, load_spec
from .runner import SweepSummary, run_sweep
from .store import DEFAULT_DB

__all__ = ["DEFAULT_DB", "SweepSpec", "SweepSummary", "export", "load_spec", "results_frame",
           "run_sweep"]
