"""Cross-validation curves of lambda (attention student) and lambda_lin (linear baseline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cv import CVCurve, CVResult
from . import style

SERIES = {"semantic": ("semantic init", style.SEMANTIC, "o-"),
          "positional": ("positional init", style.POSITIONAL, "s-"),
          "global": ("global minimiser", style.ATTENTION, "D--")}


def make(result: CVResult, out_dir: str | Path, stem: str = "lambda_cv") -> style.FigureResult:
    """Draw the CV curves (mean +- std over folds) with the chosen values marked."""
    arrays: dict[str, np.ndarray | float] = {}
    for key, curve in {**result.student, "linear": result.linear}.items():
        arrays[f"{key}_lam"] = np.asarray(curve.values, dtype=float)
        arrays[f"{key}_mean"] = np.asarray(curve.mean, dtype=float)
        arrays[f"{key}_std"] = np.asarray(curve.std, dtype=float)
        arrays[f"{key}_best"] = curve.best
    cfg = result.config
    with style.paper_style():
        fig, (ax_a, ax_b) = style.new_figure(2, width=4.6, height=4.4)
        for key, (label, colour, marker) in SERIES.items():
            if key in result.student:
                _curve(ax_a, result.student[key], label, colour, marker)
        ax_a.set_xlabel(r"$\lambda$")
        ax_a.set_ylabel(r"validation error $\|\hat Y - Y\|_F^2/(2d)$")
        _curve(ax_b, result.linear, "linear baseline", style.LINEAR, "^-")
        ax_b.set_xlabel(r"$\lambda_{\rm lin}$")
        ax_b.set_ylabel(r"validation error $\|\hat Y - Y\|_F^2/(2d)$")
        for ax, letter in ((ax_a, "a"), (ax_b, "b")):
            style.legend_below(ax, ncol=1)
            style.panel_label(ax, letter)
        alpha = cfg["n"] / cfg["d"] if cfg.get("n") else cfg["alpha"]
        fig.suptitle(rf"{result.folds}-fold CV, $d = {cfg['d']}$, $\alpha = {alpha:g}$, "
                     rf"$\omega = {cfg['omega']:g}$, $\sigma = {cfg['sigma']:g}$; "
                     r"mean $\pm$ std over folds")
        files = style.save(fig, out_dir, stem)
    return style.FigureResult(files, arrays)


def _curve(ax, curve: CVCurve, label: str, colour: str, marker: str) -> None:
    x, mean, std = (np.asarray(v, dtype=float) for v in (curve.values, curve.mean, curve.std))
    positive = x > 0
    ax.plot(x[positive], mean[positive], marker, ms=4, lw=1.2, color=colour, mfc="none",
            label=f"{label}, chosen {curve.best:.3g}")
    ax.fill_between(x[positive], (mean - std)[positive], (mean + std)[positive], color=colour,
                    alpha=0.15, lw=0)
    ax.axvline(curve.best, color=colour, ls=":", lw=1.2)
    ax.set_xscale("log")
