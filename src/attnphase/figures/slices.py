"""Appendix slices: eps_g, theta and m/sigma^2 of the global minimiser against alpha, one
column per value of sigma, lambda or omega, with the linear baseline and the theory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..transitions import downcrossing
from . import style
from .fig2 import _by_branch
from .summary import clean, over_seeds, paired
from .theorydata import TheoryCurves

# the swept parameter of each slice family, its label, and the fixed values (docs/figures.md)
FAMILIES = {"sigma": r"\sigma", "lam": r"\lambda", "omega": r"\omega"}
METRICS = ("delta_eps_t", "eps_g", "eps_g_lin", "m", "theta")


@dataclass
class SliceTheory:
    """The theory of one slice: both branches along alpha and the linear level."""

    curves: TheoryCurves
    eps_g_lin: float

    def alpha_c(self) -> float:
        """Where the global branch changes from positional to semantic (linear interpolation)."""
        return downcrossing(self.curves.alpha, self.curves.delta_eps_t())

    def alpha_l(self) -> float:
        """Where the global branch's eps_g falls below the linear baseline's."""
        return downcrossing(self.curves.alpha, self.curves.global_values("eps_g")
                            - self.eps_g_lin)


def make(frame: pd.DataFrame, out_dir: str | Path, family: str,
         theory: dict[float, SliceTheory] | None = None, stem: str | None = None,
         estimator: str = "cv") -> style.FigureResult:
    """Two rows (eps_g; theta and m/sigma^2) by one column per value of `family`."""
    if family not in FAMILIES:
        raise ValueError(f"family {family!r}: must be one of {', '.join(FAMILIES)}")
    df = clean(frame, f"appendix-{family}")
    stats = over_seeds(paired(df), [family, "alpha"], METRICS, estimator)
    values = sorted(stats[family].unique())
    arrays: dict[str, object] = {"family": family, "values": np.array(values),
                                 "estimator": style.estimator_name(stats)}
    fixed = {k: float(df[k].iloc[0]) for k in ("sigma", "lam", "omega") if k != family}
    with style.paper_style():
        fig = Figure(figsize=(4.0 * len(values), 10.0), layout="constrained")
        axes = fig.subplots(2, len(values), squeeze=False)
        for j, v in enumerate(values):
            sigma = v if family == "sigma" else fixed["sigma"]
            part = stats[np.isclose(stats[family], v)]
            th = None if theory is None else theory.get(round(float(v), 10))
            arrays[f"{family}={v:g}"] = _column(axes[0, j], axes[1, j], part, sigma, th)
            axes[0, j].set_title(rf"${FAMILIES[family]} = {v:g}$")
        for ax in axes.flat:
            ax.set_xlabel(r"$\alpha = n/d$")
        axes[0, 0].set_ylabel(r"$\epsilon_g$")
        axes[1, 0].set_ylabel(r"global minimiser: $\theta$, $m/\sigma^2$")
        for ax in axes.flat:
            style.legend_below(ax)
        fixed_text = ", ".join(rf"${FAMILIES[k]} = {v:g}$" for k, v in fixed.items())
        fig.suptitle(f"{fixed_text}, $d = {int(df['d'].max())}$; simulations: "
                     f"{arrays['estimator']} $\\pm$ s.e. over "
                     f"{style.seeds_text(stats['seeds'])}; lines: theory"
                     + ("" if theory is not None else " (not drawn)"))
        files = style.save(fig, out_dir, stem or f"appendix-{family}")
    return style.FigureResult(files, arrays)


def _column(ax_eps, ax_ov, part: pd.DataFrame, sigma: float,
            th: SliceTheory | None) -> dict[str, np.ndarray | float]:
    """One slice: eps_g (top) and the overlaps (bottom); returns what it plotted."""
    a = part["alpha"].to_numpy(float)
    got: dict[str, np.ndarray | float] = {"alpha": a}
    for c in METRICS:
        scale = sigma**2 if c == "m" else 1.0
        got[f"{c}_mean"] = part[f"{c}_mean"].to_numpy(float) / scale
        got[f"{c}_sem"] = part[f"{c}_sem"].to_numpy(float) / scale
    got["alpha_c_sim"] = downcrossing(a, got["delta_eps_t_mean"])
    got["alpha_l_sim"] = downcrossing(a, got["eps_g_mean"] - got["eps_g_lin_mean"])
    if th is not None:
        c = th.curves
        sem = c.semantic_global()
        got.update(theory_alpha=c.alpha, theory_eps_g=c.global_values("eps_g"),
                   theory_theta=c.global_values("theta"),
                   theory_m_over_sigma2=c.global_values("m") / sigma**2,
                   eps_g_lin_theory=th.eps_g_lin, alpha_c_theory=th.alpha_c(),
                   alpha_l_theory=th.alpha_l())
        _by_branch(ax_eps, c.alpha, got["theory_eps_g"], sem, style.ATTENTION,
                   "attention theory")
        ax_eps.axhline(th.eps_g_lin, color=style.LINEAR, lw=1.6, label="linear theory")
        _by_branch(ax_ov, c.alpha, got["theory_theta"], sem, style.SEMANTIC,
                   r"$\theta$ theory")
        _by_branch(ax_ov, c.alpha, got["theory_m_over_sigma2"], sem, style.POSITIONAL,
                   r"$m/\sigma^2$ theory")
    ax_eps.errorbar(a, got["eps_g_mean"], yerr=got["eps_g_sem"], fmt="o", ms=4, capsize=2,
                    color=style.ATTENTION, label="attention simulations")
    ax_eps.errorbar(a, got["eps_g_lin_mean"], yerr=got["eps_g_lin_sem"], fmt="s", ms=3.5,
                    capsize=2, color=style.LINEAR, label="linear simulations")
    for key, label, colour in (("theta", r"$\theta$", style.SEMANTIC),
                               ("m", r"$m/\sigma^2$", style.POSITIONAL)):
        ax_ov.errorbar(a, got[f"{key}_mean"], yerr=got[f"{key}_sem"], fmt="o", ms=4,
                       capsize=2, color=colour, label=f"{label} simulations")
    ax_ov.set_ylim(bottom=0.0)
    for ax, which in ((ax_eps, "cl"), (ax_ov, "c")):
        for key in which:
            label, colour = {"c": (r"$\alpha_c$", style.ALPHA_C),
                             "l": (r"$\alpha_\ell$", style.ALPHA_L)}[key]
            if th is not None:
                style.mark_alpha(ax, got[f"alpha_{key}_theory"], colour, f"{label} theory", True)
            style.mark_alpha(ax, got[f"alpha_{key}_sim"], colour, f"{label} sim.", False)
    return got
