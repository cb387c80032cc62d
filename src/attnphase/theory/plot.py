"""Figure of the theory curves against alpha at one omega, in the paper's colours.

matplotlib is imported only when a figure is drawn, so the theory and its CLI load without it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .. import palette
from ..io import atomic_path
from .fixed_point import TheoryPoint, values

COLOURS = {"semantic": palette.SEMANTIC, "positional": palette.POSITIONAL,
           "linear": palette.LINEAR, "alpha_l": palette.ALPHA_L, "alpha_c": palette.ALPHA_C,
           "delta": palette.ATTENTION}


def _pm(x: float | None, err: float | None) -> str:
    if x is None:
        return "none"
    if err is None:
        return f"{x:.3f}"
    k = 4 if err < 5e-4 else 3  # a converged bar (--refine) is often below 0.0005
    return f"{x:.{k}f} $\\pm$ {err:.{k}f}"


def _mark(ax, name: str, value: float | None, err: float | None) -> None:
    """A dashed line at alpha_c or alpha_l (`name`), with its error band if given."""
    if value is None:
        return
    ax.axvline(value, color=COLOURS[name], ls="--", label=rf"$\{name} = {value:.3f}$")
    if err:
        ax.axvspan(value - err, value + err, color=COLOURS[name], alpha=0.2, lw=0)


def plot_curves(sem: Sequence[TheoryPoint], pos: Sequence[TheoryPoint], eps_g_lin: float,
                out: str | os.PathLike, alpha_c: float | None = None,
                alpha_l: float | None = None, alpha_c_err: float | None = None,
                alpha_l_err: float | None = None) -> None:
    """Write a PNG with eps_g, eps_t, delta_eps_t, theta and m/sigma^2 against alpha.

    `alpha_c_err`, `alpha_l_err` (convergence error bars) are drawn as bands around the lines.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    alpha = np.array([p.alpha for p in sem])
    sigma2 = sem[0].sigma ** 2
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
    ax = axes.ravel()
    panels = [("eps_g", r"$\varepsilon_g$"), ("eps_t", r"$\varepsilon_t$"),
              (None, r"$\Delta\varepsilon_t$"),
              ("theta", r"$\theta$"), ("m", r"$m / \sigma^2$")]
    for k, (name, label) in enumerate(panels):
        a = ax[k]
        if name is None:
            delta = values(sem, "eps_t") - values(pos, "eps_t")
            a.plot(alpha, delta, color=COLOURS["delta"], label=r"$\Delta\varepsilon_t$")
            a.axhline(0.0, color="grey", lw=0.8)
            a.set_title("semantic minus positional", fontsize=9)
        else:
            scale = sigma2 if name == "m" else 1.0
            for branch, pts in (("semantic", sem), ("positional", pos)):
                a.plot(alpha, values(pts, name) / scale, color=COLOURS[branch], label=branch)
        if name == "eps_g":
            a.axhline(eps_g_lin, color=COLOURS["linear"], ls="-", label="linear")
            _mark(a, "alpha_l", alpha_l, alpha_l_err)
        _mark(a, "alpha_c", alpha_c, alpha_c_err)
        a.set_xlabel(r"$\alpha = n / d$")
        a.set_ylabel(label)
        a.legend(fontsize=8)
    p = sem[0]
    ax[5].axis("off")
    ax[5].text(0.02, 0.95, "\n".join([
        rf"$\omega = {p.omega:g}$,  $\sigma = {p.sigma:g}$,  $\lambda = {p.lam:g}$",
        rf"$\alpha_c$ = {_pm(alpha_c, alpha_c_err)}",
        rf"$\alpha_l$ = {_pm(alpha_l, alpha_l_err)}",
        rf"$\varepsilon_g^{{lin}}$ = {eps_g_lin:.5f}",
        "not converged / off branch: not drawn"]), va="top", fontsize=10,
        transform=ax[5].transAxes)
    fig.suptitle("Asymptotic theory (d \u2192 \u221e): semantic and positional branches")
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
