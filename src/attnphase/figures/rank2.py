"""Appendix: a rank-2 student of a rank-1 teacher over alpha x omega (random initialisation).

Maps of eps_g_lin - eps_g and of what each column of Q learns (|theta_k| and |m_k|/sigma^2).
The columns of a rank-2 student are interchangeable, so in each run column 1 is the one with
the larger |theta_k| (the more semantic one). Theory (optional, `Rank2Theory`): the rank-2
replica theory's alpha_l(omega) with its error bars (docs/theory_rank2.md §10), drawn on the
eps_g_lin - eps_g map next to the simulations' alpha_l. The figure takes it as arrays; where
they come from (the committed boundary CSVs) is `attnphase.reproduce_appendix`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from ..errors import InputError
from ..stats import q_star_scalar
from ..transitions import downcrossing
from . import style
from .fig3 import _edges
from .summary import over_seeds
from .theorydata import Rank2Theory

COLUMNS = ("theta_1", "m_1", "theta_2", "m_2")


def columns_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per finished rank-2 run with theta_k = |Q*^T Q_k| / d and m_k = |p_1^T Q_k| /
    sqrt(d) for the two columns, column 1 having the larger theta_k; failed runs dropped."""
    df = frame
    if "status" in df.columns:
        df = df[~df["status"].fillna("ok").astype(str).str.startswith("failed")]
    df = df[df["eps_t"].notna()].copy()
    if df.empty:
        raise InputError("appendix-rank2: no finished runs in the results")
    theta = np.array([np.abs(np.asarray(_load(v), dtype=float)).reshape(-1) for v in df["theta"]])
    m = np.array([np.abs(np.asarray(_load(v), dtype=float)).reshape(-1) for v in df["m"]])
    if theta.ndim != 2 or theta.shape[1] != 2 or m.shape != theta.shape:
        raise InputError("appendix-rank2: expected a rank-2 student of a rank-1 teacher "
                         f"(theta of shape (1, 2)), got {theta.shape[1:]} per run")
    first = np.argmax(theta, axis=1)
    rows = np.arange(len(df))
    df["theta_1"], df["theta_2"] = theta[rows, first], theta[rows, 1 - first]
    df["m_1"], df["m_2"] = m[rows, first], m[rows, 1 - first]
    df["q_star"] = [q_star_scalar(v) for v in df["q_star"]]
    for c in ("alpha", "omega", "sigma"):
        df[c] = df[c].astype(float).round(10)
    for c in ("eps_g", "eps_g_lin", "eps_t"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    df["gap"] = df["eps_g_lin"] - df["eps_g"]
    return df.reset_index(drop=True)


def make(frame: pd.DataFrame, out_dir: str | Path, theory: Rank2Theory | None = None,
         stem: str = "appendix-rank2", estimator: str = "cv") -> style.FigureResult:
    """Six maps over alpha x omega: eps_g_lin - eps_g, eps_g, and theta_k, m_k/sigma^2; the
    theory's alpha_l(omega) on the first when `theory` is given (None: simulations only)."""
    df = columns_frame(frame)
    sigma = float(df["sigma"].iloc[0])
    stats = over_seeds(df, ["omega", "alpha"], ["gap", "eps_g", *COLUMNS], estimator)
    grid = {c: stats.pivot(index="omega", columns="alpha", values=f"{c}_mean").to_numpy(float)
            for c in ("gap", "eps_g", *COLUMNS)}
    alpha = np.sort(stats["alpha"].unique())
    omega = np.sort(stats["omega"].unique())
    for c in ("m_1", "m_2"):
        grid[c] = grid[c] / sigma**2
    arrays: dict[str, object] = {"alpha": alpha, "omega": omega,
                                 "estimator": style.estimator_name(stats), **grid,
                                 "alpha_l_sim": np.array([downcrossing(alpha, -row)
                                                          for row in grid["gap"]])}
    if theory is not None:
        arrays.update({"theory_omega": np.asarray(theory.omega, dtype=float),
                       "alpha_l_theory": np.asarray(theory.alpha_l, dtype=float),
                       "alpha_l_theory_err": np.asarray(theory.alpha_l_err, dtype=float)})
    panels = (("gap", r"$\epsilon_g^{\rm lin} - \epsilon_g$", "diverging"),
              ("theta_1", r"column 1: $\theta_1$", style.CMAP_SEM),
              ("m_1", r"column 1: $m_1/\sigma^2$", style.CMAP_POS),
              ("eps_g", r"$\epsilon_g$", "viridis"),
              ("theta_2", r"column 2: $\theta_2$", style.CMAP_SEM),
              ("m_2", r"column 2: $m_2/\sigma^2$", style.CMAP_POS))
    top_overlap = max(float(np.nanmax(grid[c])) for c in COLUMNS) or 1.0
    with style.paper_style():
        fig = Figure(figsize=(14.5, 8.6), layout="constrained")
        axes = fig.subplots(2, 3)
        for ax, (key, label, cmap), letter in zip(axes.flat, panels, "abcdef", strict=True):
            values = grid[key]
            if cmap == "diverging":
                top = float(np.nanmax(np.abs(values))) or 1.0
                cmap, norm = style.CMAP_ATTLIN, TwoSlopeNorm(0.0, -top, top)
            elif key == "eps_g":
                norm = Normalize(float(np.nanmin(values)), float(np.nanmax(values)))
            else:  # the four overlap maps share one scale, so the columns compare
                norm = Normalize(0.0, top_overlap)
            mesh = ax.pcolormesh(_edges(alpha), _edges(omega), np.ma.masked_invalid(values),
                                 cmap=cmap, norm=norm, shading="flat")
            bar = fig.colorbar(mesh, ax=ax, fraction=0.06, pad=0.02)
            bar.set_label(label)
            bar.formatter.set_powerlimits((-2, 2))
            if key == "gap":
                if theory is not None:
                    _theory_line(ax, arrays)
                ax.plot(arrays["alpha_l_sim"], omega, "o", ms=5, mfc="white", mew=1.5,
                        color=style.ALPHA_L, label=r"$\alpha_\ell$ simulations")
                ax.set_xlim(_edges(alpha)[[0, -1]])
                ax.set_ylim(_edges(omega)[[0, -1]])
                style.legend_below(ax)
            ax.set_xlabel(r"$\alpha = n/d$")
            ax.set_ylabel(r"$\omega$")
            style.panel_label(ax, letter)
        fig.suptitle(rf"rank-2 student, rank-1 teacher, random init; $\sigma = {sigma:g}$, "
                     rf"$\lambda = {float(df['lam'].iloc[0]):g}$, $d = {int(df['d'].max())}$; "
                     f"{arrays['estimator']} over {style.seeds_text(stats['seeds'])}; "
                     "column 1 = the column with the larger $\\theta_k$; "
                     + ("line: rank-2 theory" if theory is not None else "no theory"))
        files = style.save(fig, out_dir, stem)
    return style.FigureResult(files, arrays)


def _theory_line(ax, arrays: dict) -> None:
    """The theory's alpha_l(omega), with horizontal error bars (often narrower than the
    line: the fixed points' QMC errors, docs/theory_rank2.md §10)."""
    ax.errorbar(arrays["alpha_l_theory"], arrays["theory_omega"],
                xerr=arrays["alpha_l_theory_err"], color=style.ALPHA_L, lw=2, marker="s",
                ms=3.5, capsize=3, label=r"$\alpha_\ell$ rank-2 theory")


def _load(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value
