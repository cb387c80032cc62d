"""Results as a pandas DataFrame, and atomic CSV / Parquet export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..io import atomic_path, check_output, write_csv_atomic
from .store import Store

if TYPE_CHECKING:
    import pandas as pd


def results_frame(db: str | Path, name: str | None = None) -> pd.DataFrame:
    """Every stored run (of sweep `name`, or of all sweeps), one row each, in finishing order.

    `m`, `theta`, `q`, `q_star` are floats where all runs are rank one, else JSON text (every
    row); `converged` is a nullable boolean (missing for runs that raised); `config` is JSON.
    """
    with Store(db, create=False) as store:
        cols, rows = store.query(name)
    import pandas as pd  # imported here: the CLI parser loads this module

    df = pd.DataFrame.from_records(rows, columns=cols)
    for c in ("m", "theta", "q", "q_star"):
        if df[c].map(lambda v: v is None or isinstance(v, float | int)).all():
            df[c] = df[c].astype("float64")
        else:  # some run has rank > 1: JSON text throughout (json.loads: a float or a matrix)
            df[c] = df[c].map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))
    df["converged"] = df["converged"].astype("boolean")
    return df


def export(db: str | Path, csv: str | Path | None = None, parquet: str | Path | None = None,
           name: str | None = None) -> tuple[Path, int]:
    """Write the results to a CSV or a Parquet file (atomically); return the path and row count."""
    if (csv is None) == (parquet is None):
        raise InputError("results export: give one of --csv FILE or --parquet FILE")
    check_output(csv if csv is not None else parquet, "--csv" if csv is not None else "--parquet")
    df = results_frame(db, name)
    if name is not None and not len(df):
        with Store(db, create=False) as store:
            names = store.names()
        raise InputError(f"--name {name}: no runs of that sweep in {db} (sweeps there: "
                         f"{', '.join(names) or 'none'})")
    if csv is not None:
        return write_csv_atomic(csv, df, "--csv"), len(df)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError("--parquet: needs pyarrow (pip install 'attnphase[parquet]')") from None
    with atomic_path(parquet, flag="--parquet") as tmp:
        df.to_parquet(tmp, index=False)
    return Path(parquet), len(df)
