"""Plain-text tables for the command line: one row per dict, columns right-aligned."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def text_table(rows: Sequence[dict], cols: Sequence[str], fmt: Callable[[Any], str]) -> str:
    """The rows as text: a header line of `cols`, then one line per row, cells by `fmt`."""
    cells = [[fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(line, widths, strict=True))
                     for line in [list(cols), *cells])
