"""From results to plotted quantities: global minimiser, seed averages, crossings."""

import json

import numpy as np
import pandas as pd
import pytest

from attnphase.errors import InputError
from attnphase.figures.summary import clean, over_seeds, paired, select
from attnphase.transitions import downcrossing


def _row(alpha, init, seed, eps_t, eps_g, m=0.1, theta=0.2, status="ok", q_star=1.0):
    return {"d": 50, "alpha": alpha, "omega": 0.3, "sigma": 0.5, "lam": 0.01, "init": init,
            "seed": seed, "eps_t": eps_t, "eps_g": eps_g, "m": m, "theta": theta,
            "eps_g_lin": 0.002, "status": status, "q_star": q_star}


def test_global_minimiser_is_the_lower_training_loss():
    frame = pd.DataFrame([
        _row(1.0, "semantic", 0, 0.003, 0.0010, theta=0.5),
        _row(1.0, "positional", 0, 0.002, 0.0030, m=0.25),
        _row(1.0, "semantic", 1, 0.001, 0.0011, theta=0.6),
        _row(1.0, "positional", 1, 0.004, 0.0031, m=0.24),
        _row(1.0, "semantic", 2, 0.001, 0.0012, status="failed: diverged"),  # dropped
    ])
    p = paired(clean(frame, "test")).sort_values("seed")
    assert list(p["global_init"]) == ["positional", "semantic"]
    np.testing.assert_allclose(p["delta_eps_t"], [0.001, -0.003])
    np.testing.assert_allclose(p["eps_g"], [0.0030, 0.0011])
    np.testing.assert_allclose(p["theta"], [0.2, 0.6])
    stats = over_seeds(p, ["alpha"], ["eps_g"])
    assert stats["seeds"].tolist() == [2]
    np.testing.assert_allclose(stats["eps_g_mean"], [0.00205])
    np.testing.assert_allclose(stats["eps_g_std"], [np.std([0.0030, 0.0011], ddof=1)])
    assert stats["estimator"].tolist() == ["plain"]  # < 10 seeds: no control variate


def test_seed_means_use_the_control_variate_by_default():
    """Per group: the fit of the metric on q_star read at q_star = 1; plain on request."""
    rng = np.random.default_rng(1)
    rows = []
    for alpha in (1.0, 2.0):
        for seed in range(10):
            q = 1 + 0.05 * rng.standard_normal()
            rows.append(_row(alpha, "semantic", seed, 0.001, alpha + 2 * (q - 1), q_star=q))
            rows.append(_row(alpha, "positional", seed, 0.002, 9.0, q_star=q))
    rows.append(_row(3.0, "semantic", 0, 0.001, 5.0, q_star=json.dumps([[0.9]])))
    rows.append(_row(3.0, "positional", 0, 0.002, 9.0, q_star=json.dumps([[0.9]])))
    p = paired(clean(pd.DataFrame(rows), "test"))
    cv = over_seeds(p, ["alpha"], ["eps_g"])
    np.testing.assert_allclose(cv["eps_g_mean"], [1.0, 2.0, 5.0])
    assert cv["estimator"].tolist() == ["cv", "cv", "plain"]
    assert cv["eps_g_sem"].iloc[0] < 1e-12  # exactly linear in q_star: no residual
    plain = over_seeds(p, ["alpha"], ["eps_g"], "plain")
    want = p.groupby("alpha")["eps_g"].mean().to_numpy()
    np.testing.assert_allclose(plain["eps_g_mean"], want)
    with pytest.raises(InputError, match="needs the runs' q_star"):
        over_seeds(p.drop(columns="q_star"), ["alpha"], ["eps_g"])


def test_unpaired_runs_and_missing_columns_are_input_errors():
    with pytest.raises(InputError, match="both a semantic and a positional"):
        paired(clean(pd.DataFrame([_row(1.0, "semantic", 0, 0.1, 0.1)]), "test"))
    with pytest.raises(InputError, match="lack the columns"):
        clean(pd.DataFrame([{"alpha": 1.0}]), "test")
    df = clean(pd.DataFrame([_row(1.0, "semantic", 0, 0.1, 0.1)]), "test")
    with pytest.raises(InputError, match="no runs at omega = 0.5"):
        select(df, "test", omega=0.5)


def test_downcrossing_interpolates_the_last_sign_change():
    x = [0.5, 1.0, 1.5, 2.0, 2.5]
    assert downcrossing(x, [0.0, 2.0, 1.0, -3.0, -1.0]) == pytest.approx(1.5 + 0.5 * 1 / 4)
    # noise: the last change from >= 0 to < 0 counts
    assert downcrossing(x, [1.0, -1.0, 1.0, -1.0, -2.0]) == pytest.approx(1.75)
    assert np.isnan(downcrossing(x, [1, 1, 1, 1, 1]))
    assert np.isnan(downcrossing(x, [-1, -1, -1, -1, -1]))
    # unsorted input and NaN are handled
    assert downcrossing([2.0, 1.0, 3.0], [-1.0, 1.0, np.nan]) == pytest.approx(1.5)


def test_same_minimiser_is_a_tie_not_a_crossing():
    """Both starts ending on one minimiser leave eps_t ~1e-9 relative apart, of either sign:
    delta_eps_t is 0 there, so the last down-crossing is the real one (appendix A, where
    from omega 0.2 up both starts end alike at large alpha)."""
    e = 0.002
    real = [+2e-5, +1e-5, -1e-5, -3e-5]  # a real crossing between the 2nd and 3rd alpha
    noise = [+3e-12, -2e-12, +4e-12, -1e-12]  # then the same minimiser from both starts
    rows = []
    for k, dl in enumerate(real + noise):
        rows.append(_row(0.1 * (k + 1), "semantic", 0, e + dl, 0.001))
        rows.append(_row(0.1 * (k + 1), "positional", 0, e, 0.002))
    p = paired(clean(pd.DataFrame(rows), "test")).sort_values("alpha")
    np.testing.assert_array_equal(p["delta_eps_t"].to_numpy()[4:], 0.0)
    np.testing.assert_allclose(p["delta_eps_t"].to_numpy()[:4], real, rtol=1e-6)
    assert downcrossing(p["alpha"], p["delta_eps_t"]) == pytest.approx(0.25, rel=1e-6)
