"""Concentration of the summary statistics with d at one (alpha, omega), both initialisations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm

from . import style
from .summary import INITS, clean, over_seeds, select
from .theorydata import ConcentrationTheory

CMAPS = {"semantic": style.CMAP_SEM, "positional": style.CMAP_POS}
MARKERS = {"semantic": "o", "positional": "s"}


def make(frame: pd.DataFrame, out_dir: str | Path, theory: ConcentrationTheory | None = None,
         alpha: float = 1.5, omega: float = 0.3,
         stem: str = "concentration", estimator: str = "cv") -> style.FigureResult:
    """Scatter (m/sigma^2, theta) of every run coloured by d, and eps_g against d (seed means
    by `estimator` with their standard errors, and the spread over seeds)."""
    df = select(clean(frame, "concentration"), "concentration", alpha=alpha, omega=omega,
                sigma=None, lam=None)
    sigma, lam = float(df["sigma"].iloc[0]), float(df["lam"].iloc[0])
    arrays: dict[str, np.ndarray | float] = {}
    for init in INITS:
        runs = df[df["init"] == init].sort_values(["d", "seed"])
        stats = over_seeds(runs, ["d"], ["eps_g", "eps_g_lin"], estimator)
        arrays.update({
            f"d_runs_{init}": runs["d"].to_numpy(float),
            f"m_over_sigma2_{init}": runs["m"].to_numpy(float) / sigma**2,
            f"theta_{init}": runs["theta"].to_numpy(float),
            f"d_{init}": stats["d"].to_numpy(float),
            f"eps_g_mean_{init}": stats["eps_g_mean"].to_numpy(float),
            f"eps_g_sem_{init}": stats["eps_g_sem"].to_numpy(float),
            f"eps_g_std_{init}": stats["eps_g_std"].to_numpy(float),
            f"seeds_{init}": stats["seeds"].to_numpy(float),
        })
    lin = over_seeds(df.drop_duplicates(["d", "seed"]), ["d"], ["eps_g_lin"], estimator)
    arrays["estimator"] = style.estimator_name(lin)
    arrays.update({"d_lin": lin["d"].to_numpy(float),
                   "eps_g_lin_mean": lin["eps_g_lin_mean"].to_numpy(float),
                   "eps_g_lin_sem": lin["eps_g_lin_sem"].to_numpy(float),
                   "eps_g_lin_std": lin["eps_g_lin_std"].to_numpy(float)})
    if theory is not None:
        for init in INITS:
            pt = theory.points[init]
            arrays[f"theory_m_over_sigma2_{init}"] = pt["m"] / sigma**2
            arrays[f"theory_theta_{init}"] = pt["theta"]
            arrays[f"theory_eps_g_{init}"] = pt["eps_g"]
        arrays["theory_eps_g_lin"] = theory.eps_g_lin

    with style.paper_style():
        fig, (ax_a, ax_b) = style.new_figure(2, width=4.8, height=4.6)
        _scatter(ax_a, arrays, theory is not None)
        _eps_g(ax_b, arrays, theory is not None)
        counts = np.concatenate([arrays[f"seeds_{i}"] for i in INITS])
        fig.suptitle(rf"$\alpha = {alpha:g}$, $\omega = {omega:g}$, $\sigma = {sigma:g}$, "
                     rf"$\lambda = {lam:g}$; {style.seeds_text(counts)} per $d$")
        files = style.save(fig, out_dir, stem)
    return style.FigureResult(files, arrays)


def _scatter(ax, arrays: dict, with_theory: bool) -> None:
    d_all = np.concatenate([arrays[f"d_runs_{i}"] for i in INITS])
    norm = LogNorm(d_all.min(), max(d_all.max(), d_all.min() * 1.01))
    for init in INITS:
        pts = ax.scatter(arrays[f"m_over_sigma2_{init}"], arrays[f"theta_{init}"],
                         c=arrays[f"d_runs_{init}"], cmap=CMAPS[init], norm=norm,
                         marker=MARKERS[init], s=18, edgecolors="none", alpha=0.85)
        ax.scatter([], [], marker=MARKERS[init], s=18, color=style.INIT_COLOURS[init],
                   label=f"runs, {init} init")  # legend entry in the colour of the largest d
        bar = ax.figure.colorbar(pts, ax=ax, fraction=0.05, pad=0.02)
        bar.set_label(f"$d$, {init} init")
    if with_theory:
        for init in INITS:
            ax.plot(arrays[f"theory_m_over_sigma2_{init}"], arrays[f"theory_theta_{init}"], "*",
                    ms=15, color=style.INIT_COLOURS[init], mec=style.NEUTRAL, mew=1.0,
                    label=f"theory, {init} branch")
    ax.set_xlabel(r"$m/\sigma^2$")
    ax.set_ylabel(r"$\theta$")
    style.legend_below(ax)
    style.panel_label(ax, "a")


def _eps_g(ax, arrays: dict, with_theory: bool) -> None:
    for init in INITS:
        colour = style.INIT_COLOURS[init]
        ax.errorbar(arrays[f"d_{init}"], arrays[f"eps_g_mean_{init}"],
                    yerr=arrays[f"eps_g_sem_{init}"], fmt=MARKERS[init] + "-", ms=4, lw=0.8,
                    capsize=2, color=colour, label=f"{init} init")
        if with_theory:
            ax.axhline(arrays[f"theory_eps_g_{init}"], color=colour, ls="--", lw=1.4,
                       label=f"theory, {init} branch")
    ax.errorbar(arrays["d_lin"], arrays["eps_g_lin_mean"], yerr=arrays["eps_g_lin_sem"],
                fmt="^-", ms=4, lw=0.8, capsize=2, color=style.LINEAR, label="linear")
    if with_theory:
        ax.axhline(arrays["theory_eps_g_lin"], color=style.LINEAR, ls="--", lw=1.4,
                   label="theory, linear")
    ax.set_xscale("log")
    ax.set_xlabel(r"$d$")
    ax.set_ylabel(rf"$\epsilon_g$ ({arrays['estimator']} $\pm$ s.e.)")
    style.legend_below(ax)
    style.panel_label(ax, "b")
