"""The paper's colours and the figures' font sizes (docs/model.md §6): names only, no plotting.

Shared by `attnphase.figures` and the theory's quick plot, and by anything else that draws,
so every picture of the project uses the same look. Importing it loads no matplotlib.
"""

from __future__ import annotations

SEMANTIC = "deeppink"
POSITIONAL = "royalblue"
ATTENTION = "rebeccapurple"
LINEAR = "orange"
ALPHA_L = "crimson"
ALPHA_C = "forestgreen"
NEUTRAL = "black"
INIT_COLOURS = {"semantic": SEMANTIC, "positional": POSITIONAL}

# matplotlib rc settings of every figure
RC = {
    "font.size": 10,
    "axes.labelsize": 11,
    "legend.fontsize": 8,
    "legend.framealpha": 0.9,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.08,
}
