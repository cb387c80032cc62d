"""Parsing of value lists given on the command line: `a,b,c` or `start:stop:count`."""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError


def parse_values(spec: str, name: str) -> list[float]:
    """Parse `a,b,c` or `start:stop:count` (inclusive, evenly spaced) into finite floats."""
    text = str(spec).strip()
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
