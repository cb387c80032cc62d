"""Each figure from a tiny results frame: files written, plotted arrays equal to the frame's."""

import json

import numpy as np
import pandas as pd
import pytest
from toy_theory import toy_curves

from attnphase.config import Config
from attnphase.experiment import train_many
from attnphase.figures import concentration, fig2, fig3
from attnphase.figures.summary import frame_from_results
from attnphase.figures.theorydata import ConcentrationTheory, Fig2Theory, Fig3Theory
from attnphase.stats import seed_mean

INITS = ("semantic", "positional")


def _frame(points):
    cfgs = [Config(d=d, alpha=a, omega=o, init=i, seed=s, test_samples=400)
            for d, a, o, s in points for i in INITS]
    return frame_from_results(train_many(cfgs))


@pytest.fixture(scope="module")
def grid_frame():
    return _frame([(24, a, o, s) for a in (0.5, 1.0, 2.0) for o in (0.1, 0.3) for s in (0, 1)])


@pytest.fixture(scope="module")
def conc_frame():
    return _frame([(d, 1.5, 0.3, s) for d in (10, 20, 40) for s in (0, 1, 2)])


def _by_hand(frame: pd.DataFrame, omega: float) -> pd.DataFrame:
    """Per (alpha, seed): delta_eps_t and the global minimiser's metrics, computed directly."""
    rows = []
    sub = frame[np.isclose(frame["omega"], omega)]
    for (alpha, seed), g in sub.groupby(["alpha", "seed"]):
        sem, pos = (g[g["init"] == i].iloc[0] for i in INITS)
        best = sem if sem.eps_t <= pos.eps_t else pos
        delta = sem.eps_t - pos.eps_t  # a tie where both reached one minimiser (1e-7)
        if abs(delta) <= 1e-7 * max(abs(sem.eps_t), abs(pos.eps_t)):
            delta = 0.0
        rows.append({"alpha": alpha, "seed": seed, "delta": delta,
                     "eps_g": best.eps_g, "m": best.m, "theta": best.theta,
                     "lin": best.eps_g_lin})
    return pd.DataFrame(rows).groupby("alpha").agg(["mean", "std"])


def _check_files(result, tmp_path, stem):
    assert [p.name for p in result.files] == [f"{stem}.png", f"{stem}.pdf"]
    assert all(p.stat().st_size > 1000 for p in result.files)
    assert not list(tmp_path.glob(".*.tmp"))


def test_fig2_arrays_match_the_frame(grid_frame, tmp_path):
    th = Fig2Theory(toy_curves([0.5, 1.0, 1.5, 2.0]), alpha_c=1.0, alpha_l=1.3, eps_g_lin=0.0018)
    res = fig2.make(grid_frame, tmp_path, theory=th, omega=0.3)
    _check_files(res, tmp_path, "fig2")
    a, want = res.arrays, _by_hand(grid_frame, 0.3)
    np.testing.assert_allclose(a["alpha"], want.index)
    np.testing.assert_allclose(a["delta_eps_t_mean"], want[("delta", "mean")])
    np.testing.assert_allclose(a["delta_eps_t_std"], want[("delta", "std")])
    np.testing.assert_allclose(a["eps_g_mean"], want[("eps_g", "mean")])
    np.testing.assert_allclose(a["theta_mean"], want[("theta", "mean")])
    np.testing.assert_allclose(a["m_over_sigma2_mean"], want[("m", "mean")] / 0.25)
    np.testing.assert_allclose(a["eps_g_lin_mean"], want[("lin", "mean")])
    assert a["seeds"].tolist() == [2, 2, 2]
    # theory: delta = sem - pos = 0.001 - 0.001 alpha; semantic global from alpha = 1 on
    np.testing.assert_allclose(a["theory_delta_eps_t"], [0.0005, 0.0, -0.0005, -0.001],
                               atol=1e-15)
    np.testing.assert_array_equal(a["theory_global_is_semantic"], [False, True, True, True])
    np.testing.assert_allclose(a["theory_theta"], [0.0, 0.25, 0.375, 0.5])
    np.testing.assert_allclose(a["theory_m_over_sigma2"], [1.0, 0.0, 0.0, 0.0])
    assert a["alpha_c_theory"] == 1.0 and a["eps_g_lin_theory"] == 0.0018


def test_fig2_without_theory_and_at_a_missing_omega(grid_frame, tmp_path):
    res = fig2.make(grid_frame, tmp_path, omega=0.1, stem="f")
    _check_files(res, tmp_path, "f")
    assert not any(k.startswith("theory") for k in res.arrays)
    with pytest.raises(ValueError, match="no runs at omega = 0.5"):
        fig2.make(grid_frame, tmp_path, omega=0.5)


def test_fig3_grids_match_the_frame(grid_frame, tmp_path):
    th = Fig3Theory(np.array([0.1, 0.3]), np.array([0.7, 1.2]), np.array([1.1, np.nan]))
    res = fig3.make(grid_frame, tmp_path, theory=th)
    _check_files(res, tmp_path, "fig3")
    a = res.arrays
    np.testing.assert_allclose(a["omega"], [0.1, 0.3])
    np.testing.assert_allclose(a["alpha"], [0.5, 1.0, 2.0])
    for k, omega in enumerate((0.1, 0.3)):
        want = _by_hand(grid_frame, omega)
        np.testing.assert_allclose(a["delta_eps_t"][k], want[("delta", "mean")])
        np.testing.assert_allclose(a["eps_g_lin_minus_eps_g"][k],
                                   want[("lin", "mean")] - want[("eps_g", "mean")])
    assert a["delta_eps_t"].shape == (2, 3) and a["alpha_c_sim"].shape == (2,)
    np.testing.assert_allclose(a["alpha_c_theory"], [0.7, 1.2])


def test_fig3_draws_the_refined_boundary_stored_beside_it(grid_frame, tmp_path):
    """`draw` reads theory_boundary_refined.csv from the output folder: only rows at the
    runs' sigma, lambda and A, with omega in the runs' range, reach the figure and its
    summary; a file that does not say its parameters is ignored (as are runs that do not
    say their A)."""
    from attnphase.figures.draw import draw

    paper, other = '"[[0.6, 0.4], [0.4, 0.6]]"', '"[[0.3, 0.7], [0.8, 0.2]]"'
    head = "omega,alpha_c,alpha_c_err,alpha_l,alpha_l_err,sigma,lam,A\n"
    rows = [f"0.2,0.95,0.001,1.12,0.002,0.5,0.01,{paper}",
            f"0.1,0.75,0.002,0.89,0.003,0.5,0.01,{paper}",
            f"0.3,1.25,0.0001,1.49,0.0002,0.7,0.01,{paper}",  # another sigma
            f"0.3,1.26,0.0001,1.50,0.0002,0.5,0.01,{other}",  # another A
            f"0.45,2.2,0.0001,3.25,0.0003,0.5,0.01,{paper}"]  # beyond the runs' omegas
    (tmp_path / "theory_boundary_refined.csv").write_text(head + "\n".join(rows) + "\n")
    th = Fig3Theory(np.array([0.1, 0.3]), np.array([0.7, 1.2]), np.array([1.1, np.nan]))
    frame = grid_frame.assign(A="[[0.6, 0.4], [0.4, 0.6]]")  # as the store's runs say it
    draw("fig3", frame, tmp_path, th)
    summary = json.loads((tmp_path / "fig3_summary.json").read_text())
    assert summary["refined_omega"] == [0.1, 0.2]
    assert summary["alpha_c_refined"] == [0.75, 0.95]
    assert summary["alpha_l_err_refined"] == [0.003, 0.002]
    (tmp_path / "theory_boundary_refined.csv").write_text(
        "omega,alpha_c,alpha_c_err,alpha_l,alpha_l_err\n0.1,0.75,0.002,0.89,0.003\n")
    draw("fig3", frame, tmp_path, th)
    assert "refined_omega" not in json.loads((tmp_path / "fig3_summary.json").read_text())


def test_fig3_draws_the_init_side_alpha_c_stored_beside_it(grid_frame, tmp_path):
    """`draw` reads the init-side alpha_c from theory_side_crossings*.csv in the output
    folder (both files, rows at the runs' parameters and omegas) into the figure's arrays."""
    from attnphase.figures.draw import draw

    paper = '"[[0.6, 0.4], [0.4, 0.6]]"'
    head = "omega,alpha_c_side,alpha_c_side_err,sigma,lam,A\n"
    (tmp_path / "theory_side_crossings.csv").write_text(
        head + f"0.3,1.24,0.002,0.5,0.01,{paper}\n0.2,0.92,0.003,0.7,0.01,{paper}\n")
    (tmp_path / "theory_side_crossings_omega0.csv").write_text(
        head + f"0.1,0.695,0.003,0.5,0.01,{paper}\n0.0,0.54,0.003,0.5,0.01,{paper}\n")
    th = Fig3Theory(np.array([0.1, 0.3]), np.array([0.7, 1.2]), np.array([1.1, np.nan]))
    draw("fig3", grid_frame.assign(A="[[0.6, 0.4], [0.4, 0.6]]"), tmp_path, th)
    summary = json.loads((tmp_path / "fig3_summary.json").read_text())
    assert summary["side_omega"] == [0.1, 0.3]  # 0.2: another sigma; 0.0: below the runs'
    assert summary["alpha_c_side"] == [0.695, 1.24]
    assert summary["alpha_c_err_side"] == [0.003, 0.002]


def test_concentration_arrays_match_the_frame(conc_frame, tmp_path):
    th = ConcentrationTheory({"semantic": {"m": 0.0, "theta": 0.54, "eps_g": 0.002},
                              "positional": {"m": 0.26, "theta": 0.0, "eps_g": 0.0034}}, 0.0018)
    res = concentration.make(conc_frame, tmp_path, theory=th, estimator="plain")
    _check_files(res, tmp_path, "concentration")
    a = res.arrays
    for init in INITS:
        runs = conc_frame[conc_frame["init"] == init].sort_values(["d", "seed"])
        np.testing.assert_allclose(a[f"m_over_sigma2_{init}"], runs["m"] / 0.25)
        np.testing.assert_allclose(a[f"theta_{init}"], runs["theta"])
        np.testing.assert_allclose(a[f"d_{init}"], [10, 20, 40])
        np.testing.assert_allclose(a[f"eps_g_mean_{init}"],
                                   runs.groupby("d")["eps_g"].mean().to_numpy())
    assert a["theory_m_over_sigma2_positional"] == pytest.approx(1.04)
    assert a["theory_eps_g_lin"] == 0.0018
    cv = concentration.make(conc_frame, tmp_path, theory=th).arrays  # default estimator
    runs = conc_frame[(conc_frame["init"] == "semantic") & (conc_frame["d"] == 20)]
    want = seed_mean(runs["eps_g"].to_numpy(float))  # 3 seeds: too few for the control variate
    assert cv["eps_g_mean_semantic"][1] == pytest.approx(want.mean)
    assert cv["eps_g_sem_semantic"][1] == pytest.approx(want.sem)
