"""Colour maps from the paper's palette (`attnphase.palette`), figure layout and saving."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.colors as mcolors
from matplotlib.figure import Figure

from ..io import atomic_path
from ..palette import (
    ALPHA_C,
    ALPHA_L,
    ATTENTION,
    INIT_COLOURS,
    LINEAR,
    NEUTRAL,
    POSITIONAL,
    RC,
    SEMANTIC,
)

# the figures' look: the palette (re-exported, defined in attnphase.palette), its colour maps
__all__ = ["ALPHA_C", "ALPHA_L", "ATTENTION", "CMAP_ATTLIN", "CMAP_DELTA", "CMAP_POS",
           "CMAP_SEM", "INIT_COLOURS", "LINEAR", "NEUTRAL", "POSITIONAL", "RC", "SEMANTIC",
           "TRANSITIONS", "FigureResult", "legend_below", "mark_alpha", "new_figure",
           "panel_label", "paper_style", "save", "seeds_text"]


def _cmap(name: str, colours: list[str]) -> mcolors.LinearSegmentedColormap:
    return mcolors.LinearSegmentedColormap.from_list(
        name, [mcolors.to_rgb(c) for c in colours], N=256)


# delta_eps_t < 0 (semantic minimum global) pink, > 0 (positional global) blue
CMAP_DELTA = _cmap("semantic-positional", [SEMANTIC, "white", POSITIONAL])
# eps_g_lin - eps_g < 0 (linear better) orange, > 0 (attention better) purple
CMAP_ATTLIN = _cmap("linear-attention", [LINEAR, "white", ATTENTION])
# sequential maps for runs coloured by d: positional and semantic initialisation
CMAP_POS = _cmap("positional-d", ["#8DE0A8", "#93FFE0", "#85EFFF", "#6BBFFF", POSITIONAL])
CMAP_SEM = _cmap("semantic-d", ["#FFE0B6", "#FFB48C", "#FF8166", "#FF3E3B", SEMANTIC])


@dataclass
class FigureResult:
    """Files written and the arrays plotted, by panel and series name."""

    files: list[Path]
    arrays: dict[str, Any] = field(default_factory=dict)


@contextmanager
def paper_style() -> Iterator[None]:
    """Font sizes and saving options of every figure."""
    with mpl.rc_context(RC):
        yield


def new_figure(ncols: int, width: float = 4.2, height: float = 3.6) -> tuple[Figure, list]:
    """A figure of `ncols` panels side by side (no pyplot state involved)."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def save(fig: Figure, out_dir: str | Path, stem: str) -> list[Path]:
    """Write `stem.png` and `stem.pdf` into `out_dir`, each atomically."""
    paths = []
    for ext in ("png", "pdf"):
        path = Path(out_dir) / f"{stem}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext)
        paths.append(path)
    return paths


def panel_label(ax: Any, letter: str) -> None:
    """(a), (b), ... above the top-left corner of a panel."""
    ax.set_title(f"({letter})", loc="left", fontsize=11, fontweight="bold")


# the two transitions: (label, colour) of alpha_c ("c") and alpha_l ("l")
TRANSITIONS = {"c": (r"$\alpha_c$", ALPHA_C), "l": (r"$\alpha_\ell$", ALPHA_L)}


def mark_alpha(ax: Any, value: float, colour: str, label: str, theory: bool) -> None:
    """A vertical line at alpha_c or alpha_l: solid from theory, dotted from simulations."""
    if value == value:  # not NaN
        ax.axvline(value, color=colour, lw=1.4 if theory else 1.2,
                   ls="-" if theory else ":", label=f"{label} = {value:.3g}", zorder=1)


def seeds_text(seeds: Any) -> str:
    """'5 seeds' or '3-5 seeds' for the number of seeds per point."""
    lo, hi = int(min(seeds)), int(max(seeds))
    return f"{lo} seed{'s' if hi > 1 else ''}" if lo == hi else f"{lo}-{hi} seeds"


def legend_below(ax: Any, ncol: int = 2) -> None:
    """The panel's legend under its x label, so it never hides data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, frameon=False)
