"""Appendix: which minimiser the optimiser and the initialisation reach, at one alpha.

(a) the paper's GD (full batch, lr 0.15, 5000 steps) from the semantic and the positional
initialisation; (b) Adam (lr 0.01, 2500 steps) from a random initialisation: m/sigma^2
against theta for every seed, with the theory's two fixed points at the same alpha, omega.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..stats import q_star_scalar
from . import style
from .summary import over_seeds
from .theorydata import ConcentrationTheory

MARKERS = {"semantic": "o", "positional": "s", "random": "D"}
COLOURS = {**style.INIT_COLOURS, "random": style.ATTENTION}
PANELS = (("gd", "GD"), ("adam", "Adam"))


def make(frame: pd.DataFrame, out_dir: str | Path, theory: ConcentrationTheory | None = None,
         stem: str = "appendix-optim", estimator: str = "cv") -> style.FigureResult:
    """Scatter of (m/sigma^2, theta) per solver (panels) and initialisation (markers)."""
    df = frame
    if "status" in df.columns:
        df = df[~df["status"].fillna("ok").astype(str).str.startswith("failed")]
    df = df[pd.to_numeric(df["eps_t"], errors="coerce").notna()].copy()
    if df.empty:
        raise InputError("appendix-optim: no finished runs in the results")
    for c in ("m", "theta", "eps_g", "eps_g_lin", "alpha", "omega", "sigma", "lam"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["q_star"] = [q_star_scalar(v) for v in df["q_star"]]
    sigma = float(df["sigma"].iloc[0])
    df["m_over_sigma2"] = df["m"] / sigma**2
    stats = over_seeds(df, ["solver", "init", "d"], ["m_over_sigma2", "theta", "eps_g"],
                       estimator)
    arrays: dict[str, object] = {"estimator": style.estimator_name(stats), "stats": stats}
    with style.paper_style():
        fig, axes = style.new_figure(2, width=4.8, height=4.6)
        for ax, (solver, name), letter in zip(axes, PANELS, "ab", strict=True):
            runs = df[df["solver"] == solver]
            for init, group in runs.groupby("init"):
                key = f"{solver}_{init}"
                arrays[f"m_over_sigma2_{key}"] = group["m_over_sigma2"].to_numpy()
                arrays[f"theta_{key}"] = group["theta"].to_numpy()
                row = stats[(stats["solver"] == solver) & (stats["init"] == init)].iloc[0]
                ax.scatter(group["m_over_sigma2"], group["theta"], marker=MARKERS[init], s=22,
                           color=COLOURS[init], alpha=0.8,
                           label=f"{init} init, d = {int(row['d'])}: {int(row['seeds'])} seeds, "
                                 rf"$\epsilon_g$ = {row['eps_g_mean']:.3g}")
            if theory is not None:
                for branch, pt in theory.points.items():
                    ax.plot(pt["m"] / sigma**2, pt["theta"], "*", ms=15,
                            color=style.INIT_COLOURS[branch], mec=style.NEUTRAL, mew=1.0,
                            label=rf"theory, {branch} branch: $\epsilon_g$ = {pt['eps_g']:.3g}")
            ax.set_title(name, loc="right")
            ax.set_xlabel(r"$m/\sigma^2$")
            ax.set_ylabel(r"$\theta$")
            ax.set_xlim(left=-0.03)
            ax.set_ylim(bottom=-0.03)
            style.legend_below(ax, ncol=1)
            style.panel_label(ax, letter)
        alpha, omega = float(df["alpha"].iloc[0]), float(df["omega"].iloc[0])
        fig.suptitle(rf"$\alpha = {alpha:g}$, $\omega = {omega:g}$, $\sigma = {sigma:g}$, "
                     rf"$\lambda = {float(df['lam'].iloc[0]):g}$; every seed; "
                     rf"$\epsilon_g$: {arrays['estimator']}")
        files = style.save(fig, out_dir, stem)
    return style.FigureResult(files, arrays)
