"""The appendix-rank2 figure with and without the rank-2 theory's alpha_l(omega), and the
reading of that theory from the boundary CSVs of benchmarks/rank2_boundary.py."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from attnphase.errors import InputError
from attnphase.figures import rank2
from attnphase.figures.theorydata import Rank2Theory
from attnphase.reproduce_appendix import _submit, rank2_theory

ALPHAS = (0.5, 1.0, 1.5, 2.0)
OMEGAS = (0.1, 0.3)


def _frame() -> pd.DataFrame:
    """Synthetic rank-2 runs, 2 seeds per cell; eps_g falls below eps_g_lin between alpha 1
    and 1.5 at omega 0.1 and between 1.5 and 2 at omega 0.3."""
    rows = []
    for omega in OMEGAS:
        for alpha in ALPHAS:
            for seed in (0, 1):
                gap = 1e-3 * (alpha - (1.2 if omega < 0.2 else 1.7)) + 1e-5 * seed
                rows.append({"alpha": alpha, "omega": omega, "sigma": 0.5, "lam": 0.01,
                             "d": 50, "seed": seed, "status": "ok", "eps_t": 1e-3,
                             "eps_g": 3e-3 - gap, "eps_g_lin": 3e-3,
                             "theta": json.dumps([[0.1 * alpha, 0.01]]),
                             "m": json.dumps([0.02, 0.2]), "q_star": json.dumps([[1.0]])})
    return pd.DataFrame(rows)


THEORY = Rank2Theory(np.array([0.1, 0.2, 0.3]), np.array([1.1, np.nan, 1.6]),
                     np.array([0.01, np.nan, 0.02]))


def test_figure_without_theory(tmp_path):
    res = rank2.make(_frame(), tmp_path, estimator="plain")
    assert {p.suffix for p in res.files} == {".png", ".pdf"}
    assert all(p.exists() for p in res.files)
    assert not any(k.startswith(("theory_", "alpha_l_theory")) for k in res.arrays)
    np.testing.assert_allclose(res.arrays["alpha_l_sim"], [1.2, 1.7], atol=0.02)


def test_figure_with_theory_draws_and_carries_it(tmp_path, monkeypatch):
    drawn = []
    original = rank2._theory_line
    monkeypatch.setattr(rank2, "_theory_line",
                        lambda ax, arrays: (drawn.append(ax), original(ax, arrays))[1])
    res = rank2.make(_frame(), tmp_path, THEORY, stem="r2", estimator="plain")
    assert sorted(p.name for p in res.files) == ["r2.pdf", "r2.png"]
    np.testing.assert_array_equal(res.arrays["theory_omega"], THEORY.omega)
    np.testing.assert_array_equal(res.arrays["alpha_l_theory"], THEORY.alpha_l)
    np.testing.assert_array_equal(res.arrays["alpha_l_theory_err"], THEORY.alpha_l_err)
    assert list(THEORY.to_frame().columns) == ["omega", "alpha_l", "alpha_l_err"]
    (ax,) = drawn  # on the eps_g_lin - eps_g map only
    labels = ax.get_legend_handles_labels()[1]
    assert any("rank-2 theory" in s for s in labels)
    assert any("simulations" in s for s in labels)
    assert ax.get_xlim()[1] < 2.5  # the map's extent, not stretched by the error bars


def _boundary_csv(path, omega: float, alpha_l: float | None, sigma: float = 0.5,
                  lam: float = 0.01) -> None:
    pd.DataFrame([{"omega": omega, "alpha_c": None, "alpha_l": alpha_l, "eps_g_lin": 2e-3,
                   "alpha_c_err": None, "alpha_l_err": None if alpha_l is None else 0.004,
                   "alpha_merge": 0.5, "alpha_merge_err": 0.02, "sigma": sigma, "lam": lam,
                   "qmc": 512, "cpu_s": 600.0}]).to_csv(path, index=False)


def test_rank2_theory_reads_matching_boundary_csvs(tmp_path):
    _boundary_csv(tmp_path / "theory_rank2_w0.3_boundary.csv", 0.3, 1.42)
    _boundary_csv(tmp_path / "theory_rank2_w0.1_boundary.csv", 0.1, 0.95)
    _boundary_csv(tmp_path / "theory_rank2_w0.2_boundary.csv", 0.2, None)  # no crossing
    _boundary_csv(tmp_path / "theory_rank2_w0.7_boundary.csv", 0.7, 3.0)  # off the runs
    _boundary_csv(tmp_path / "theory_rank2_w0.25_boundary.csv", 0.25, 1.3, sigma=1.0)
    (tmp_path / "theory_rank2_w0.1_points.csv").write_text("not a boundary\n")
    th = rank2_theory(tmp_path, _frame())
    np.testing.assert_allclose(th.omega, [0.1, 0.2, 0.3])
    np.testing.assert_allclose(th.alpha_l, [0.95, np.nan, 1.42])
    np.testing.assert_allclose(th.alpha_l_err, [0.004, np.nan, 0.004])


def test_rank2_theory_none_without_files_or_for_several_models(tmp_path):
    assert rank2_theory(tmp_path, _frame()) is None
    _boundary_csv(tmp_path / "theory_rank2_w0.1_boundary.csv", 0.1, 0.95)
    frame = _frame()
    frame.loc[0, "lam"] = 0.1
    assert rank2_theory(tmp_path, frame) is None


def test_rank2_theory_refuses_two_files_at_one_omega(tmp_path):
    _boundary_csv(tmp_path / "theory_rank2_w0.1_boundary.csv", 0.1, 0.95)
    _boundary_csv(tmp_path / "theory_rank2_w0.10_boundary.csv", 0.1, 0.96)
    with pytest.raises(InputError, match="omega 0.1"):
        rank2_theory(tmp_path, _frame())


def test_reproduce_reads_rank2_theory_from_the_output_folder(tmp_path):
    _boundary_csv(tmp_path / "theory_rank2_w0.3_boundary.csv", 0.3, 1.42)
    th = _submit(None, "appendix-rank2", _frame(), 8, tmp_path)()  # no solves: no pool
    np.testing.assert_allclose((th.omega, th.alpha_l), ([0.3], [1.42]))
    assert _submit(None, "appendix-rank2", _frame(), 8, tmp_path / "elsewhere")() is None
    assert _submit(None, "appendix-rank2", _frame(), 8)() is None  # no output folder given
