"""Fig. 2 at one omega: delta_eps_t, the overlaps and eps_g of the global minimiser vs alpha."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import published
from ..transitions import downcrossing
from . import style
from .summary import clean, over_seeds, paired, select
from .theorydata import Fig2Theory


def make(frame: pd.DataFrame, out_dir: str | Path, theory: Fig2Theory | None = None,
         omega: float = 0.3, d: int | None = None, stem: str = "fig2") -> style.FigureResult:
    """Draw Fig. 2 from the runs at `omega` (and the largest d, unless `d` is given)."""
    df = clean(frame, "fig2")
    df = select(df, "fig2", omega=omega)
    df = select(df, "fig2", d=d if d is not None else int(df["d"].max()), sigma=None, lam=None)
    sigma, lam, dim = float(df["sigma"].iloc[0]), float(df["lam"].iloc[0]), int(df["d"].iloc[0])
    stats = over_seeds(paired(df), ["alpha"],
                       ["delta_eps_t", "eps_g", "eps_g_lin", "m", "theta"])
    a = stats["alpha"].to_numpy()
    arrays: dict[str, np.ndarray | float] = {"alpha": a, "seeds": stats["seeds"].to_numpy()}
    for c in ("delta_eps_t", "eps_g", "eps_g_lin", "theta"):
        arrays[f"{c}_mean"], arrays[f"{c}_std"] = (stats[f"{c}_mean"].to_numpy(),
                                                   stats[f"{c}_std"].to_numpy())
    arrays["m_over_sigma2_mean"] = stats["m_mean"].to_numpy() / sigma**2
    arrays["m_over_sigma2_std"] = stats["m_std"].to_numpy() / sigma**2
    arrays["alpha_c_sim"] = downcrossing(a, arrays["delta_eps_t_mean"])
    arrays["alpha_l_sim"] = downcrossing(a, arrays["eps_g_mean"] - arrays["eps_g_lin_mean"])
    arrays["alpha_c_published"] = published.alpha_c(omega)
    if theory is not None:
        arrays.update(_theory_arrays(theory, sigma))

    with style.paper_style():
        fig, (ax_a, ax_b, ax_c) = style.new_figure(3, height=4.6)
        _panel_delta(ax_a, arrays, theory is not None)
        _panel_overlaps(ax_b, arrays, theory)
        _panel_eps_g(ax_c, arrays, theory is not None)
        fig.suptitle(rf"$\omega = {omega:g}$, $\sigma = {sigma:g}$, $\lambda = {lam:g}$, "
                     rf"$d = {dim}$; simulations: mean $\pm$ std over "
                     f"{style.seeds_text(arrays['seeds'])}")
        files = style.save(fig, out_dir, stem)
    return style.FigureResult(files, arrays)


def _theory_arrays(theory: Fig2Theory, sigma: float) -> dict[str, np.ndarray | float]:
    c = theory.curves
    return {
        "theory_alpha": c.alpha,
        "theory_delta_eps_t": c.delta_eps_t(),
        "theory_global_is_semantic": c.semantic_global(),
        "theory_theta": c.global_values("theta"),
        "theory_m_over_sigma2": c.global_values("m") / sigma**2,
        "theory_eps_g": c.global_values("eps_g"),
        "alpha_c_theory": theory.alpha_c,
        "alpha_l_theory": theory.alpha_l,
        "eps_g_lin_theory": theory.eps_g_lin,
    }


def _mark_transitions(ax, arrays: dict, with_theory: bool, which: tuple[str, ...]) -> None:
    for key in which:
        label, colour = style.TRANSITIONS[key]
        if with_theory:
            style.mark_alpha(ax, arrays[f"alpha_{key}_theory"], colour, f"{label} theory", True)
        style.mark_alpha(ax, arrays[f"alpha_{key}_sim"], colour, f"{label} simulations", False)


def _by_branch(ax, x: np.ndarray, y: np.ndarray, sem: np.ndarray, colour: str,
               label: str) -> None:
    """A theory line of the global minimiser, broken where it changes branch."""
    for k, part in enumerate((sem, ~sem)):
        ax.plot(x, np.where(part, y, np.nan), color=colour, lw=1.6,
                label=label if k == 0 else None)


def _panel_delta(ax, arrays: dict, with_theory: bool) -> None:
    a, mean, std = arrays["alpha"], arrays["delta_eps_t_mean"], arrays["delta_eps_t_std"]
    ax.axhline(0.0, color="grey", lw=0.8, ls="--")
    if with_theory:
        ax.plot(arrays["theory_alpha"], arrays["theory_delta_eps_t"], color=style.NEUTRAL,
                lw=1.6, label="theory")
    for neg, colour, text in ((True, style.SEMANTIC, "semantic global"),
                              (False, style.POSITIONAL, "positional global")):
        pick = (mean < 0) == neg
        ax.errorbar(a[pick], mean[pick], yerr=std[pick], fmt="o", ms=4, capsize=2,
                    color=colour, label=f"simulations, {text}")
    _mark_transitions(ax, arrays, with_theory, ("c",))
    ax.set_xlabel(r"$\alpha = n/d$")
    ax.set_ylabel(r"$\Delta\epsilon_t = \epsilon_t^{\rm sem} - \epsilon_t^{\rm pos}$")
    style.legend_below(ax)
    style.panel_label(ax, "a")


def _panel_overlaps(ax, arrays: dict, theory: Fig2Theory | None) -> None:
    a = arrays["alpha"]
    series = (("theta", r"$\theta$", style.SEMANTIC),
              ("m_over_sigma2", r"$m/\sigma^2$", style.POSITIONAL))
    for key, label, colour in series:
        if theory is not None:
            _by_branch(ax, arrays["theory_alpha"], arrays[f"theory_{key}"],
                       arrays["theory_global_is_semantic"], colour, f"{label} theory")
        ax.errorbar(a, arrays[f"{key}_mean"], yerr=arrays[f"{key}_std"], fmt="o", ms=4,
                    capsize=2, color=colour, label=f"{label} simulations")
    _mark_transitions(ax, arrays, theory is not None, ("c",))
    ax.set_xlabel(r"$\alpha = n/d$")
    ax.set_ylabel(r"global minimiser: $\theta$, $m/\sigma^2$")
    ax.set_ylim(bottom=0.0)
    style.legend_below(ax)
    style.panel_label(ax, "b")


def _panel_eps_g(ax, arrays: dict, with_theory: bool) -> None:
    a = arrays["alpha"]
    if with_theory:
        _by_branch(ax, arrays["theory_alpha"], arrays["theory_eps_g"],
                   arrays["theory_global_is_semantic"], style.ATTENTION, "attention theory")
        ax.axhline(arrays["eps_g_lin_theory"], color=style.LINEAR, lw=1.6, label="linear theory")
    ax.errorbar(a, arrays["eps_g_mean"], yerr=arrays["eps_g_std"], fmt="o", ms=4, capsize=2,
                color=style.ATTENTION, label="attention simulations")
    ax.errorbar(a, arrays["eps_g_lin_mean"], yerr=arrays["eps_g_lin_std"], fmt="s", ms=3.5,
                capsize=2, color=style.LINEAR, label="linear simulations")
    _mark_transitions(ax, arrays, with_theory, ("c", "l"))
    ax.set_xlabel(r"$\alpha = n/d$")
    ax.set_ylabel(r"$\epsilon_g$ (global minimiser)")
    style.legend_below(ax)
    style.panel_label(ax, "c")
