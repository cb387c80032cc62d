"""Theory inputs of the figures: jobs, their assembly, sharing between figures."""

from concurrent.futures import Future

import numpy as np
import pytest

from attnphase import theoryjobs as theorydata

FIG2 = {"alphas": [1.0, 0.5, 2.0], "omega": 0.3, "sigma": 0.5, "lam": 0.01}
FIG3 = {"omegas": [0.3, 0.1], "sigma": 0.5, "lam": 0.01}
CONC = {"alpha": 1.5, "omega": 0.3, "sigma": 0.5, "lam": 0.01}


def _fake_branch(alphas, omega, sigma, lam, branch):
    a = np.asarray(alphas)
    base = {"eps_t": 3 - a, "eps_g": 2 + 0 * a, "m": 0 * a, "theta": a / 2, "q": a}
    if branch == "positional":
        base = {**base, "eps_t": 2.5 - a / 2, "m": 0.25 + 0 * a, "theta": 0 * a}
    return base


def _fake_boundary(omega, sigma, lam):
    return (4 * omega, float("nan") if omega < 0.2 else 5 * omega)


@pytest.fixture
def fake_theory(monkeypatch):
    monkeypatch.setattr(theorydata, "branch_values", _fake_branch)
    monkeypatch.setattr(theorydata, "boundary_at", _fake_boundary)
    monkeypatch.setattr(theorydata, "linear_level", lambda omega, sigma: 1.5)


def test_jobs_and_assembly(fake_theory):
    j2 = theorydata.jobs("fig2", FIG2)
    assert [fn.__name__ for fn, _ in j2] == ["_fake_branch", "_fake_branch", "_fake_boundary"]
    assert j2[0][1] == ((0.5, 1.0, 2.0), 0.3, 0.5, 0.01, "semantic")
    th2 = theorydata.solve("fig2", FIG2)
    np.testing.assert_allclose(th2.curves.alpha, [0.5, 1.0, 2.0])
    np.testing.assert_allclose(th2.curves.delta_eps_t(), [0.25, -0.0, -0.5], atol=1e-15)
    np.testing.assert_array_equal(th2.curves.semantic_global(), [False, True, True])
    np.testing.assert_allclose(th2.curves.global_values("m"), [0.25, 0.0, 0.0])
    assert (th2.alpha_c, th2.alpha_l, th2.eps_g_lin) == pytest.approx((1.2, 1.5, 1.5))
    th3 = theorydata.solve("fig3", FIG3)
    np.testing.assert_allclose(th3.omega, [0.1, 0.3])
    np.testing.assert_allclose(th3.alpha_c, [0.4, 1.2])
    assert np.isnan(th3.alpha_l[0]) and th3.alpha_l[1] == pytest.approx(1.5)
    thc = theorydata.solve("concentration", CONC)
    assert thc.points["semantic"]["theta"] == 0.75 and thc.points["positional"]["m"] == 0.25


class _RecordingPool:
    """Runs each job at once and records what was submitted."""

    def __init__(self):
        self.calls = []

    def submit(self, fn, *args):
        self.calls.append((fn.__name__, args))
        done = Future()
        done.set_result(fn(*args))
        return done


def test_reproduce_submits_shared_jobs_once(fake_theory):
    pool, submitted = _RecordingPool(), {}
    get2 = theorydata.submit(pool, submitted, "fig2", FIG2)
    get3 = theorydata.submit(pool, submitted, "fig3", FIG3)
    getc = theorydata.submit(pool, submitted, "concentration", CONC)
    boundaries = [args for name, args in pool.calls if name == "_fake_boundary"]
    assert sorted(boundaries) == [(0.1, 0.5, 0.01), (0.3, 0.5, 0.01)]  # 0.3 once, for both
    assert len(pool.calls) == 6  # fig2: 2 branches + 1 boundary; fig3: 1 new; conc: 2
    assert get2().alpha_c == pytest.approx(1.2)
    np.testing.assert_allclose(get3().alpha_c, [0.4, 1.2])
    assert getc().eps_g_lin == 1.5


@pytest.mark.slow
def test_real_theory_at_the_concentration_point():
    th = theorydata.solve("concentration", CONC)
    sem, pos = th.points["semantic"], th.points["positional"]
    assert sem["theta"] > 0.4 and sem["m"] < 1e-3
    assert pos["m"] > 0.2 and pos["theta"] < 1e-3
    assert sem["eps_g"] < pos["eps_g"]
