"""Fig. 3 phase diagrams over alpha x omega: delta_eps_t, and eps_g_lin - eps_g."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from .. import published
from ..transitions import downcrossing
from . import style
from .summary import clean, over_seeds, paired, select
from .theorydata import Fig3Theory


def make(frame: pd.DataFrame, out_dir: str | Path, theory: Fig3Theory | None = None,
         d: int | None = None, stem: str = "fig3", estimator: str = "cv",
         mark_published: bool = True) -> style.FigureResult:
    """Draw the two phase diagrams from runs on an (alpha, omega) grid (largest d by default).

    Cells are seed means by `estimator` (`summary.over_seeds`); `mark_published` marks the
    paper's alpha_c (for the paper's A only).
    """
    df = clean(frame, "fig3")
    df = select(df, "fig3", d=d if d is not None else int(df["d"].max()), sigma=None, lam=None)
    sigma, lam, dim = float(df["sigma"].iloc[0]), float(df["lam"].iloc[0]), int(df["d"].iloc[0])
    stats = over_seeds(paired(df), ["omega", "alpha"], ["delta_eps_t", "eps_g", "eps_g_lin"],
                       estimator)
    stats["gap"] = stats["eps_g_lin_mean"] - stats["eps_g_mean"]
    delta = stats.pivot(index="omega", columns="alpha", values="delta_eps_t_mean")
    gap = stats.pivot(index="omega", columns="alpha", values="gap")
    alpha, omega = delta.columns.to_numpy(float), delta.index.to_numpy(float)
    arrays: dict[str, np.ndarray | str] = {
        "estimator": style.estimator_name(stats),
        "alpha": alpha, "omega": omega, "delta_eps_t": delta.to_numpy(float),
        "eps_g_lin_minus_eps_g": gap.to_numpy(float),
        "seeds": stats.pivot(index="omega", columns="alpha", values="seeds").to_numpy(float),
        "alpha_c_sim": np.array([downcrossing(alpha, row) for row in delta.to_numpy(float)]),
        "alpha_l_sim": np.array([downcrossing(alpha, -row) for row in gap.to_numpy(float)]),
    }
    if theory is not None:
        arrays.update({"theory_omega": theory.omega, "alpha_c_theory": theory.alpha_c,
                       "alpha_l_theory": theory.alpha_l})
        if theory.refined is not None:
            ref = theory.refined
            arrays.update({"refined_omega": ref["omega"].to_numpy(float),
                           **{f"alpha_{k}_refined": ref[f"alpha_{k}"].to_numpy(float)
                              for k in ("c", "l")},
                           **{f"alpha_{k}_err_refined": ref[f"alpha_{k}_err"].to_numpy(float)
                              for k in ("c", "l")}})
        if theory.side is not None:
            arrays.update({"side_omega": theory.side["omega"].to_numpy(float),
                           "alpha_c_side": theory.side["alpha_c_side"].to_numpy(float),
                           "alpha_c_err_side": theory.side["alpha_c_side_err"].to_numpy(float)})

    with style.paper_style():
        fig, (ax_a, ax_b) = style.new_figure(2, width=4.8, height=4.6)
        _colour_map(ax_a, arrays, "delta_eps_t", style.CMAP_DELTA,
                    r"$\Delta\epsilon_t = \epsilon_t^{\rm sem} - \epsilon_t^{\rm pos}$")
        _lines(ax_a, arrays, theory is not None, ("c",))
        lo, hi = _edges(omega)[[0, -1]]
        shown = {o: a for o, a in published.ALPHA_C.items() if lo <= o <= hi and mark_published}
        if shown:
            ax_a.plot(list(shown.values()), list(shown), "x", ms=5, color=style.NEUTRAL,
                      label=r"$\alpha_c$ published (Cui et al.)")
        _colour_map(ax_b, arrays, "eps_g_lin_minus_eps_g", style.CMAP_ATTLIN,
                    r"$\epsilon_g^{\rm lin} - \epsilon_g$")
        _lines(ax_b, arrays, theory is not None, ("c", "l"))
        for ax, letter in ((ax_a, "a"), (ax_b, "b")):
            ax.set_xlim(_edges(alpha)[[0, -1]])
            ax.set_ylim(_edges(omega)[[0, -1]])
            ax.set_xlabel(r"$\alpha = n/d$")
            ax.set_ylabel(r"$\omega$")
            style.legend_below(ax)
            style.panel_label(ax, letter)
        seeds = style.seeds_text(arrays["seeds"][np.isfinite(arrays["seeds"])])
        fig.suptitle(rf"$\sigma = {sigma:g}$, $\lambda = {lam:g}$, $d = {dim}$; simulations: "
                     f"{arrays['estimator']} over {seeds}, global minimiser")
        files = style.save(fig, out_dir, stem)
    return style.FigureResult(files, arrays)


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres (midpoints; half a step beyond the ends)."""
    if len(centres) == 1:
        return np.array([centres[0] - 0.05, centres[0] + 0.05])
    mid = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def _colour_map(ax, arrays: dict, key: str, cmap, label: str) -> None:
    values = np.ma.masked_invalid(arrays[key])
    top = float(np.nanmax(np.abs(arrays[key]))) if np.isfinite(arrays[key]).any() else 1.0
    top = top or 1.0
    mesh = ax.pcolormesh(_edges(arrays["alpha"]), _edges(arrays["omega"]), values, cmap=cmap,
                         norm=TwoSlopeNorm(0.0, -top, top), shading="flat")
    bar = ax.figure.colorbar(mesh, ax=ax, fraction=0.06, pad=0.02)
    bar.set_label(label)
    bar.formatter.set_powerlimits((-2, 2))


def _lines(ax, arrays: dict, with_theory: bool, which: tuple[str, ...]) -> None:
    for key in which:
        label, colour = style.TRANSITIONS[key]
        if with_theory:
            ax.plot(arrays[f"alpha_{key}_theory"], arrays["theory_omega"], color=colour, lw=2,
                    label=f"{label} theory")
        if "refined_omega" in arrays:
            ax.errorbar(arrays[f"alpha_{key}_refined"], arrays["refined_omega"],
                        xerr=arrays[f"alpha_{key}_err_refined"], fmt="D", ms=3.5,
                        color=style.NEUTRAL, mfc=colour, capsize=2, lw=1,
                        label=f"{label} theory, converged rules")
        if key == "c" and "side_omega" in arrays:
            ax.errorbar(arrays["alpha_c_side"], arrays["side_omega"],
                        xerr=arrays["alpha_c_err_side"], fmt="s", ms=3.5, color=colour,
                        mfc="white", capsize=2, lw=1, label=f"{label} theory, init-side prox")
        ax.plot(arrays[f"alpha_{key}_sim"], arrays["omega"], "o", ms=5, mfc="white", mew=1.5,
                color=colour, label=f"{label} simulations")
