"""Figure of the rank-2 theory against alpha at one omega, with the quadrature's error bars.

Panels: eps_g (with the linear baseline and alpha_l), eps_t, the gap
`eps_t(theta > 0) - eps_t(positional)` (alpha_c), |theta| and |m| / sigma^2, per branch
(semantic, mixed, positional), each point with its error bar: the fixed point's own error
(`fp_err`) where computed, else the one-step error. matplotlib is imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .. import palette
from ..io import atomic_path
from .rank2_boundary import BRANCHES, Boundary2, learned
from .rank2_solve import Rank2Point

COLOURS = {"semantic": palette.SEMANTIC, "mixed": palette.ATTENTION,
           "positional": palette.POSITIONAL}


def _value(p: Rank2Point | None, key: str) -> tuple[float, float]:
    """(value, error) of an output at a converged point; NaN where not converged."""
    if p is None or not p.converged:
        return np.nan, np.nan
    v = p.eps_g if key == "eps_g" else p.eps_t if key == "eps_t" else p.inv[key]
    return v, p.fp_err.get(key, p.err.get(key, np.nan))


def _mark(ax, name: str, value: float | None, err: float | None, colour: str,
          ls: str = "--") -> None:
    """A vertical line at `value` (TeX `name`), with its error band if given."""
    if value is None:
        return
    ax.axvline(value, color=colour, ls=ls, label=rf"${name} = {value:.3f}$")
    if err:
        ax.axvspan(value - err, value + err, color=colour, alpha=0.2, lw=0)


def plot_rank2(alphas: Sequence[float], points: list[dict[str, Rank2Point]], bd: Boundary2,
               sigma: float, lam: float, out: str | os.PathLike) -> None:
    """Write a PNG of the rank-2 branches (`points[i][branch]` at `alphas[i]`) and `bd`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = np.asarray(alphas, dtype=float)
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
    ax = axes.ravel()
    panels = [("eps_g", r"$\varepsilon_g$", 1.0), ("eps_t", r"$\varepsilon_t$", 1.0),
              (None, r"$\Delta\varepsilon_t$", 1.0), ("theta_norm", r"$|\theta|$", 1.0),
              ("m_norm", r"$|m| / \sigma^2$", sigma**2)]
    for k, (key, label, scale) in enumerate(panels):
        axk = ax[k]
        if key is None:
            vals = []
            for pts in points:
                sem, pos = learned(pts), pts.get("positional")
                v1, e1 = _value(sem, "eps_t")
                v2, e2 = _value(pos, "eps_t")
                vals.append((v1 - v2, np.hypot(e1, e2)))
            y, e = np.array(vals).T
            axk.errorbar(a, y, e, color=palette.NEUTRAL, marker="o", ms=3, capsize=2,
                         label=r"$\theta > 0$ minus positional")
            axk.axhline(0.0, color="grey", lw=0.8)
        else:
            for b in BRANCHES:
                y, e = np.array([_value(pts.get(b), key) for pts in points]).T
                axk.errorbar(a, y / scale, e / scale, color=COLOURS[b], marker="o", ms=3,
                             capsize=2, label=b)
        if key == "eps_g":
            axk.axhline(bd.eps_g_lin, color=palette.LINEAR, label="linear")
            _mark(axk, r"\alpha_l", bd.alpha_l, bd.alpha_l_err, palette.ALPHA_L)
        _mark(axk, r"\alpha_c", bd.alpha_c, bd.alpha_c_err, palette.ALPHA_C)
        if key in (None, "theta_norm"):
            _mark(axk, r"\alpha_{merge}", bd.alpha_merge, bd.alpha_merge_err, palette.ALPHA_C,
                  ":")
        axk.set_xlabel(r"$\alpha = n / d$")
        axk.set_ylabel(label)
        axk.legend(fontsize=8)
    fmt = lambda x, e: "none" if x is None else (f"{x:.3f}" if e is None  # noqa: E731
                                                 else f"{x:.3f} $\\pm$ {e:.3f}")
    ax[5].axis("off")
    ax[5].text(0.02, 0.95, "\n".join([
        rf"rank-2 student, $\omega = {bd.omega:g}$, $\sigma = {sigma:g}$, $\lambda = {lam:g}$",
        rf"$\alpha_c$ = {fmt(bd.alpha_c, bd.alpha_c_err)}",
        rf"$\alpha_l$ = {fmt(bd.alpha_l, bd.alpha_l_err)}",
        r"$\alpha_{merge}$ ($|\theta|^2 \to 0$) = " + fmt(bd.alpha_merge, bd.alpha_merge_err),
        rf"$\varepsilon_g^{{lin}}$ = {bd.eps_g_lin:.5f}",
        "error bars: QMC quadrature error", "not converged: not drawn"]),
        va="top", fontsize=10, transform=ax[5].transAxes)
    fig.suptitle("Asymptotic theory (d \u2192 \u221e), rank-2 student of a rank-1 teacher")
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
