"""The Fig. 1 figures: training curves, attention maps, and the transition plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..figures.style import (
    NEUTRAL,
    POSITIONAL,
    SEMANTIC,
    FigureResult,
    legend_below,
    new_figure,
    panel_label,
    paper_style,
    save,
)

COLOURS = {"semantic": SEMANTIC, "positional": POSITIONAL, "both": NEUTRAL}


def curves(records: list[dict[str, Any]], out: str | Path) -> FigureResult:
    """Validation accuracy and loss against epochs: mean over seeds, band from min to max."""
    arrays: dict[str, Any] = {}
    with paper_style():
        fig, (ax_acc, ax_loss) = new_figure(2)
        for variant in dict.fromkeys(r["variant"] for r in records):
            sel = [r for r in records if r["variant"] == variant]
            epoch = np.asarray(sel[0]["curves"]["epoch"])
            for ax, key in ((ax_acc, "val_acc"), (ax_loss, "val_loss")):
                y = np.array([r["curves"][key] for r in sel])
                arrays[f"{variant}_{key}"] = y
                ax.plot(epoch, y.mean(0), color=COLOURS[variant], lw=1.5,
                        label=f"{variant} ({len(sel)} seeds)")
                ax.fill_between(epoch, y.min(0), y.max(0), color=COLOURS[variant], alpha=0.2,
                                lw=0)
        ax_acc.set(xlabel="epoch", ylabel="validation accuracy")
        ax_loss.set(xlabel="epoch", ylabel="validation loss", yscale="log")
        for ax, letter in ((ax_acc, "a"), (ax_loss, "b")):
            panel_label(ax, letter)
            legend_below(ax)
        return FigureResult(save(fig, out, "fig1_curves"), arrays)


def attention(records: list[dict[str, Any]], out: str | Path) -> FigureResult:
    """The attention maps of each variant (its first seed) on the example sequences."""
    first = {}
    for r in records:
        first.setdefault(r["variant"], r)
    rows = list(first.values())
    n_ex = len(rows[0]["examples"])
    with paper_style():
        from matplotlib.figure import Figure

        fig = Figure(figsize=(2.6 * n_ex + 0.8, 2.6 * len(rows)), layout="constrained")
        axes = fig.subplots(len(rows), n_ex, squeeze=False)
        for i, r in enumerate(rows):
            for j, (x, a) in enumerate(zip(r["examples"], r["maps"], strict=True)):
                ax = axes[i][j]
                im = ax.imshow(np.asarray(a), vmin=0, vmax=1, cmap="Greys")
                ax.set_xticks(range(len(x)), [str(t) for t in x], fontsize=7)
                ax.set_yticks(range(len(x)), [str(t) for t in x], fontsize=7)
                if j == 0:
                    ax.set_ylabel(f"{r['variant']} (seed {r['seed']})\nquery token",
                                  color=COLOURS[r["variant"]])
                if i == len(rows) - 1:
                    ax.set_xlabel("key token")
        fig.colorbar(im, ax=axes, shrink=0.6, label="attention weight")
        return FigureResult(save(fig, out, "fig1_attention"),
                            {r["variant"]: np.asarray(r["maps"]) for r in rows})


def transition(rows: list[dict[str, Any]], summary: list[dict[str, Any]], threshold: float,
               out: str | Path) -> FigureResult:
    """Fraction of semantic solutions, validation accuracy and the score s against n."""
    n = np.array([s["n"] for s in summary])
    with paper_style():
        fig, (ax_f, ax_acc, ax_s) = new_figure(3, width=3.6)
        ax_f.plot(n, [s["frac_semantic"] for s in summary], "o-", color=SEMANTIC)
        ax_f.set(xscale="log", xlabel="training sequences n", ylabel="fraction semantic",
                 ylim=(-0.05, 1.05))
        mean = np.array([s["val_acc_mean"] for s in summary])
        std = np.array([s["val_acc_std"] for s in summary])
        ax_acc.errorbar(n, mean, yerr=std, fmt="o-", color=NEUTRAL, capsize=2)
        ax_acc.set(xscale="log", xlabel="training sequences n", ylabel="validation accuracy")
        rn = np.array([r["n"] for r in rows], dtype=float)
        jitter = np.exp(np.random.default_rng(0).uniform(-0.08, 0.08, len(rn)))
        sem = np.array([r["semantic"] for r in rows])
        score = np.array([r["score"] for r in rows])
        for mask, colour, label in ((sem, SEMANTIC, "semantic"), (~sem, POSITIONAL,
                                                                  "positional")):
            ax_s.scatter(rn[mask] * jitter[mask], score[mask], s=12, color=colour, label=label)
        ax_s.axhline(threshold, color=NEUTRAL, ls=":", lw=1, label=f"threshold {threshold:g}")
        ax_s.set(xscale="log", xlabel="training sequences n",
                 ylabel="score (0 positional, 1 semantic)", ylim=(-0.05, 1.05))
        for ax, letter in ((ax_f, "a"), (ax_acc, "b"), (ax_s, "c")):
            panel_label(ax, letter)
        legend_below(ax_s, ncol=3)
        seeds = sorted({r["seed"] for r in rows})
        fig.suptitle(f"unmasked model from random initialisation, {len(seeds)} seeds per n",
                     fontsize=10)
        return FigureResult(save(fig, out, "fig1_transition"),
                            {"n": n, "frac_semantic": [s["frac_semantic"] for s in summary],
                             "val_acc_mean": mean})
