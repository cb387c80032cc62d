"""From results to plotted quantities: global minimiser, seed averages, crossings."""

import numpy as np
import pandas as pd
import pytest

from attnphase.errors import InputError
from attnphase.figures.summary import clean, over_seeds, paired, select
from attnphase.transitions import downcrossing


def _row(alpha, init, seed, eps_t, eps_g, m=0.1, theta=0.2, status="ok"):
    return {"d": 50, "alpha": alpha, "omega": 0.3, "sigma": 0.5, "lam": 0.01, "init": init,
            "seed": seed, "eps_t": eps_t, "eps_g": eps_g, "m": m, "theta": theta,
            "eps_g_lin": 0.002, "status": status}


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
