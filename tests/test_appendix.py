"""The appendix figures: plotted arrays against the runs computed by hand, configs, and
`attnphase reproduce appendix-*` / `figure appendix-*` on tiny sweeps."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from toy_theory import toy_curves

from attnphase import reproduce, reproduce_appendix
from attnphase.cli import main
from attnphase.figures import appendix, optim, rank2, slices
from attnphase.figures.theorydata import ConcentrationTheory
from attnphase.sweep import load_spec, results_frame, run_sweep

TINY = {  # d = 16 and a few hundred test samples: seconds
    "appendix-sigma": {"base": {"d": 16, "omega": 0.3, "test_samples": 300},
                       "grid": {"sigma": [0.3, 1.0], "alpha": [0.5, 1.5],
                                "init": ["semantic", "positional"], "seed": [0, 1, 2]}},
    "appendix-rank2": {"base": {"d": 16, "rank": 2, "init": "random", "test_samples": 300},
                       "grid": {"alpha": [0.5, 2.0], "omega": [0.1, 0.4], "seed": [0, 1]}},
    "appendix-optim-gd": {"base": {"d": 16, "alpha": 2.0, "solver": "gd", "steps": 200,
                                   "test_samples": 300},
                          "grid": {"init": ["semantic", "positional"], "seed": [0, 1, 2]}},
    "appendix-optim-adam": {"base": {"d": 12, "alpha": 2.0, "solver": "adam", "steps": 100,
                                     "init": "random", "test_samples": 300},
                            "grid": {"seed": [0, 1, 2]}},
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("store") / "runs.sqlite"
    for name, spec in TINY.items():
        run_sweep({"name": name, **spec}, db=db, progress=False)
    return db


def test_slices_plot_the_global_minimiser_per_value(store, tmp_path):
    frame = results_frame(store, "appendix-sigma")
    th = {0.3: slices.SliceTheory(toy_curves([0.5, 1.0, 1.5]), 0.002)}
    res = slices.make(frame, tmp_path, "sigma", th, estimator="plain")
    assert [p.name for p in res.files] == ["appendix-sigma.png", "appendix-sigma.pdf"]
    np.testing.assert_allclose(res.arrays["values"], [0.3, 1.0])
    for sigma in (0.3, 1.0):
        got = res.arrays[f"sigma={sigma:g}"]
        for alpha, k in ((0.5, 0), (1.5, 1)):
            runs = frame[np.isclose(frame["sigma"], sigma) & np.isclose(frame["alpha"], alpha)]
            sem = runs[runs["init"] == "semantic"].sort_values("seed")
            pos = runs[runs["init"] == "positional"].sort_values("seed")
            use_sem = sem["eps_t"].to_numpy() <= pos["eps_t"].to_numpy()
            best_m = np.where(use_sem, sem["m"], pos["m"])
            best_g = np.where(use_sem, sem["eps_g"], pos["eps_g"])
            assert got["m_mean"][k] == pytest.approx(best_m.mean() / sigma**2)
            assert got["eps_g_mean"][k] == pytest.approx(best_g.mean())
    # theory at sigma = 0.3 only: delta = 0.001 - 0.001 alpha crosses at 1; lin 0.002 vs
    # global eps_g (positional 0.0033 below alpha = 1, 0.003 - alpha/1000 above): never below
    assert res.arrays["sigma=0.3"]["alpha_c_theory"] == pytest.approx(1.0)
    assert "alpha_c_theory" not in res.arrays["sigma=1"]


def test_rank2_columns_are_ordered_by_theta(store, tmp_path):
    frame = results_frame(store, "appendix-rank2")
    cols = rank2.columns_frame(frame)
    assert (cols["theta_1"] >= cols["theta_2"]).all()
    row, raw = cols.iloc[0], frame.iloc[0]
    theta = np.abs(np.asarray(json.loads(raw["theta"])).ravel())
    m = np.abs(np.asarray(json.loads(raw["m"])).ravel())
    k = int(np.argmax(theta))
    assert (row["theta_1"], row["m_1"], row["m_2"]) == pytest.approx((theta[k], m[k], m[1 - k]))
    res = rank2.make(frame, tmp_path, estimator="plain")
    assert res.arrays["gap"].shape == (2, 2)
    by_hand = cols.groupby(["omega", "alpha"])["gap"].mean().unstack().to_numpy()
    np.testing.assert_allclose(res.arrays["gap"], by_hand)


def test_optim_scatter_holds_every_run(store, tmp_path):
    frame = pd.concat([results_frame(store, s) for s in appendix.TARGETS["appendix-optim"]
                       .sweeps], ignore_index=True)
    th = ConcentrationTheory({"semantic": {"m": 0.0, "theta": 0.6, "eps_g": 0.0014},
                              "positional": {"m": 0.25, "theta": 0.0, "eps_g": 0.003}}, 0.002)
    res = optim.make(frame, tmp_path, th, estimator="plain")
    for solver, init in (("gd", "semantic"), ("gd", "positional"), ("adam", "random")):
        runs = frame[(frame["solver"] == solver) & (frame["init"] == init)]
        np.testing.assert_allclose(np.sort(res.arrays[f"theta_{solver}_{init}"]),
                                   np.sort(runs["theta"].to_numpy(float)))
    assert len(res.arrays["stats"]) == 3


def test_reproduce_and_figure_appendix_targets(store, tmp_path, monkeypatch, capsys):
    configs = tmp_path / "configs"
    (configs / "quick").mkdir(parents=True)
    for name in ("appendix-optim-gd", "appendix-optim-adam"):
        spec = {"name": f"{name}-quick", **TINY[name]}
        (configs / "quick" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setattr(reproduce, "config_resource", lambda *parts: configs.joinpath(*parts))
    out = tmp_path / "out"
    assert main(["reproduce", "appendix-optim", "--quick", "--no-theory", "--quiet", "--db",
                 str(tmp_path / "r.sqlite"), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"appendix-optim.png", "appendix-optim.pdf", "appendix-optim.csv",
            "appendix-optim_summary.json"} <= names
    assert len(pd.read_csv(out / "appendix-optim.csv")) == 9
    summary = json.loads((out / "appendix-optim_summary.json").read_text())
    assert summary["runs"] == 9 and summary["seed_means"] == "mean"  # 3 seeds: plain means
    assert main(["figure", "appendix-rank2", "--db", str(store), "--no-theory", "--plain-means",
                 "--out", str(tmp_path / "f")]) == 0
    assert (tmp_path / "f" / "appendix-rank2.png").exists()
    capsys.readouterr()
    assert main(["figure", "appendix-A", "--db", str(store), "--out", str(tmp_path)]) == 2
    assert "no runs of sweep appendix-A" in capsys.readouterr().err


def test_appendix_target_lists_its_figures_and_concentration():
    assert reproduce.targets("appendix") == [*reproduce.APPENDIX, "concentration"]
    assert set(reproduce.APPENDIX) == set(appendix.TARGETS)


@pytest.mark.parametrize("quick", [False, True])
def test_appendix_configs_are_valid_sweeps(quick):
    """Every sweep of every appendix target loads; paper scale has >= 5 seeds per point."""
    for target in appendix.TARGETS.values():
        for stem in target.sweeps:
            spec = load_spec(reproduce.config_path(stem, quick))
            assert spec.name == stem + ("-quick" if quick else "")
            seeds = {c.seed for c in spec.configs}
            assert len(seeds) >= (3 if quick else 5)
            assert {c.d for c in spec.configs} <= ({100} if quick else {100, 1000})
    conc = load_spec(reproduce.config_path("concentration", False)).configs
    assert max(c.d for c in conc) == 4000


def test_theory_jobs_of_the_targets_are_assembled(store, monkeypatch):
    """The theory solves a target submits, with stand-in solvers on a thread pool: one pair
    of branches per slice value, one boundary per omega for appendix-A, two points for
    appendix-optim."""
    from concurrent.futures import ThreadPoolExecutor

    from attnphase import theoryjobs

    calls = []

    def branch_values(alphas, omega, sigma, lam, branch):
        calls.append((omega, sigma, lam, branch))
        return {k: np.full(len(alphas), 0.1 if branch == "semantic" else 0.2)
                for k in ("eps_g", "eps_t", "m", "theta", "q")}

    monkeypatch.setattr(theoryjobs, "branch_values", branch_values)
    monkeypatch.setattr(theoryjobs, "linear_level", lambda omega, sigma: 0.15)
    monkeypatch.setattr(reproduce_appendix, "boundary_with_A",
                        lambda o, s, la, A: (o + 1, o + 2))
    with ThreadPoolExecutor(2) as pool:
        sigma_runs = results_frame(store, "appendix-sigma")
        th = reproduce_appendix._submit(pool, "appendix-sigma", sigma_runs, 5)()
        assert sorted(th) == [0.3, 1.0] and len(calls) == 4
        assert th[1.0].curves.alpha.tolist() == pytest.approx(np.linspace(0.5, 1.5, 5))
        assert th[1.0].eps_g_lin == 0.15 and np.isnan(th[1.0].alpha_c())  # sem always lower
        frame = pd.DataFrame({"alpha": [1.0, 1.0], "omega": [0.1, 0.4], "sigma": 0.5,
                              "lam": 0.01, "A": json.dumps([[0.3, 0.7], [0.8, 0.2]])})
        fig3_th = reproduce_appendix._submit(pool, "appendix-A", frame, 5)()
        np.testing.assert_allclose(fig3_th.alpha_c, [1.1, 1.4])
        optim_th = reproduce_appendix._submit(pool, "appendix-optim", frame.iloc[:1], 5)()
        assert optim_th.points["positional"]["eps_g"] == 0.2
