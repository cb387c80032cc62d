"""The default solver follows the gradient flow: it ends where an independent stiff
integrator of the flow (scipy BDF, tests/flow_reference.py) ends, from every init."""

import numpy as np
import pytest
import torch
from flow_reference import flow_limit, rk4_limit, rk4_path

from attnphase.config import Config
from attnphase.data import generate
from attnphase.flow import (
    GAMMA,
    FlowOptions,
    _bends_back,
    _Point,
    _Schedule,
    conjugate_gradients,
    exprb32_step,
    flow,
    invariant_projector,
    ros2_step,
)
from attnphase.metrics import overlaps
from attnphase.objective import Risk
from attnphase.student import initial_Q
from attnphase.train import solve, status

# (name, config fields): the counter-example of issue 10 (case 2), the omega = 0.7 case and a
# plateau of the paper's protocol (large omega, small alpha), the rough sigma 0.7-1.0
# landscapes, lambda 0.001, the appendix A, and rank 2 - scaled down to d = 40.
REGIMES = {
    "case2": dict(sigma=1.0, omega=0.3, alpha=1.5, seed=102),
    "omega0.7": dict(sigma=0.5, omega=0.7, alpha=2.0, seed=100),
    "plateau": dict(sigma=0.5, omega=0.5, alpha=0.5, seed=1),
    "sigma0.7": dict(sigma=0.7, omega=0.3, alpha=1.0, seed=2),
    "lam0.001": dict(sigma=1.0, omega=0.1, alpha=0.5, lam=0.001, seed=3),
    "appendixA": dict(sigma=0.5, omega=0.9, alpha=0.2, lam=0.1, A="appendix", seed=4),
    "rank2": dict(sigma=0.7, omega=0.3, alpha=2.0, rank=2, teacher_rank=2, seed=6),
}
FAST = {("case2", "positional"), ("case2", "semantic"), ("omega0.7", "semantic"),
        ("plateau", "random")}
CASES = [pytest.param(name, init, marks=() if (name, init) in FAST else pytest.mark.slow)
         for name in REGIMES for init in ("semantic", "positional", "random")]


def _invariants(Q: np.ndarray, ds) -> list[np.ndarray]:
    """Overlaps up to the symmetry Q -> Q O (O orthogonal; Q -> -Q for rank one), under
    which m -> m O and theta -> theta O: ||m||^2, theta theta^T, theta m and the spectrum
    of q. (For rank 2 the minimisers form orbits of this symmetry, and two integrations
    of the flow may end at different points of one orbit.)"""
    o = overlaps(Q, ds.Q_star, ds.P)
    return [np.atleast_1d(o.m @ o.m), o.theta @ o.theta.T, o.theta @ o.m,
            np.linalg.eigvalsh(o.q)]


@pytest.mark.parametrize(("name", "init"), CASES)
def test_flow_reaches_the_flow_limit(name, init):
    cfg = Config(d=40, **REGIMES[name])
    ds = generate(cfg)
    risk = Risk(torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None], cfg.lam)
    Q0 = torch.from_numpy(initial_Q(init, cfg.d, cfg.rank, ds.Q_star, ds.P, cfg.seed))
    out = solve(risk, Q0[None, None], "flow", steps=2000, tol=1e-9)
    if init == "positional" and cfg.rank > 1:
        # equal columns: the exact flow stays in Q (e1 - e2) = 0, where it is the rank-1 flow
        # of u = sqrt(r) v; an integration in floating point leaves that saddle subspace
        r = cfg.rank
        ref = np.repeat(flow_limit(risk, np.sqrt(r) * Q0[:, :1]) / np.sqrt(r), r, axis=1)
    else:
        ref = flow_limit(risk, Q0)
    assert bool(out.converged.all())
    R_ref = float(risk.value(torch.from_numpy(ref)[None, None]))
    assert float(out.risk) == pytest.approx(R_ref, rel=1e-7)
    # the overlaps of the two limits (up to the symmetry) agree to 0.01
    for a, b in zip(_invariants(out.Q[0, 0].numpy(), ds), _invariants(ref, ds), strict=True):
        np.testing.assert_allclose(a, b, atol=0.01 * max(1.0, float(np.abs(b).max())))


def _problem(name: str, init: str, d: int = 40):
    cfg = Config(d=d, **REGIMES[name])
    ds = generate(cfg)
    risk = Risk(torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None], cfg.lam)
    Q0 = torch.from_numpy(initial_Q(init, cfg.d, cfg.rank, ds.Q_star, ds.P, cfg.seed))
    return ds, risk, Q0


def test_flow_ends_where_runge_kutta_ends_across_a_plateau():
    """From a random start at omega 0.7 the path crosses a plateau (the RMS gradient falls
    to ~2e-3, then rises ten-fold): the default solver ends where classical Runge-Kutta
    (h = 0.5 / lambda_max, then Newton) ends."""
    ds, risk, Q0 = _problem("omega0.7", "random")
    gs: list[float] = []
    out = solve(risk, Q0[None, None], "flow", steps=5000, tol=1e-9,
                progress=lambda k, g: gs.append(float(g)))
    dip = int(np.argmin(gs[:len(gs) // 2]))
    assert max(gs[dip:]) > 5 * gs[dip]  # the plateau: the gradient rises after the dip
    ref, _ = rk4_limit(risk, Q0)
    assert float(out.risk) == pytest.approx(
        float(risk.value(torch.from_numpy(ref)[None, None])), rel=1e-7)
    for a, b in zip(_invariants(out.Q[0, 0].numpy(), ds), _invariants(ref, ds), strict=True):
        np.testing.assert_allclose(a, b, atol=0.01)


def test_flow_ends_where_runge_kutta_ends_where_the_former_default_did_not():
    """sigma 1.0, alpha 2, positional start, d = 100, seed 2: a long path across plateaus
    whose end depends on the time-discretisation error. The former default (linearly
    implicit Euler steps controlled by their defect, not their time error) ended at eps_t
    0.039774, 0.5% above the flow's limit; the time-error-controlled steps end where
    classical Runge-Kutta ends (eps_t 0.039583)."""
    cfg = Config(d=100, sigma=1.0, omega=0.3, alpha=2.0, seed=2)
    ds = generate(cfg)
    risk = Risk(torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None], cfg.lam)
    Q0 = torch.from_numpy(initial_Q("positional", cfg.d, 1, ds.Q_star, ds.P, cfg.seed))
    out = solve(risk, Q0[None, None], "flow", steps=5000, tol=1e-9)
    ref, _ = rk4_limit(risk, Q0, c=0.6, every=500)
    assert float(out.risk) == pytest.approx(
        float(risk.value(torch.from_numpy(ref)[None, None])), rel=1e-7)
    for a, b in zip(_invariants(out.Q[0, 0].numpy(), ds), _invariants(ref, ds), strict=True):
        np.testing.assert_allclose(a, b, atol=0.01)


def _local_errors(tau: float) -> tuple[float, float]:
    """At a point on the path of issue 10's case 2 (d = 40, after flow time 2 of Runge-Kutta
    from the positional start): the ROS2 step's local error estimate and its true local
    error (against Runge-Kutta with 400 substeps) for one step of length tau."""
    _, risk, Q0 = _problem("case2", "positional")
    Q = rk4_path(risk, Q0[None, None], 0.01, 2.0)
    f, g, curv = risk.value_grad_curvature(Q)
    here = _Point(Q, f, g, curv)
    mu = torch.full((1, 1), 1 / (GAMMA * tau), dtype=torch.float64)
    tight = FlowOptions(cg_rtol=1e-13, cg_iters=400)
    s, err, positive, _ = ros2_step(risk, here, mu, torch.ones(1, 1, dtype=bool), tight)
    assert bool(positive.all())
    exact = rk4_path(risk, Q, tau / 400, tau)
    return float(err), float((Q + s - exact).norm())


def test_local_error_estimate_and_step_have_their_orders():
    """Halving the time step divides the estimate (the Euler step's local error, O(tau^2))
    by ~4 and the ROS2 step's true local error (O(tau^3)) by ~8; the estimate bounds it."""
    (e1, t1), (e2, t2) = _local_errors(0.02), _local_errors(0.01)
    assert 3.5 < e1 / e2 < 4.5
    assert 6.5 < t1 / t2 < 9.5
    assert t1 < e1


def _exprb_local_errors(tau: float) -> tuple[float, float]:
    """As `_local_errors`, for the exprb32 step (Krylov solved to rounding)."""
    _, risk, Q0 = _problem("case2", "positional")
    Q = rk4_path(risk, Q0[None, None], 0.01, 2.0)
    f, g, curv = risk.value_grad_curvature(Q)
    here = _Point(Q, f, g, curv)
    mu = torch.full((1, 1), 1 / tau, dtype=torch.float64)
    tight = FlowOptions(krylov_frac=1e-12, krylov_rtol=1e-12, cg_iters=200)
    s, err, ok, _, _ = exprb32_step(risk, here, mu, torch.ones(1, 1, dtype=bool), tight)
    assert bool(ok.all())
    exact = rk4_path(risk, Q, tau / 400, tau)
    return float(err), float((Q + s - exact).norm())


def test_exprb32_estimate_and_step_have_their_orders():
    """Halving the time step divides the estimate (the exponential Euler step's local error,
    O(tau^3)) by ~8 and the exprb32 step's true local error (O(tau^4)) by ~16; the estimate
    bounds it."""
    (e1, t1), (e2, t2) = _exprb_local_errors(0.04), _exprb_local_errors(0.02)
    assert 7 < e1 / e2 < 9
    assert 13 < t1 / t2 < 19
    assert t1 < e1


def test_hvp_matches_the_autograd_hessian(small_data):
    X, Y = torch.from_numpy(small_data.X)[None, :30], torch.from_numpy(small_data.Y)[None, :30]
    risk = Risk(X, Y, 0.03)
    d, r = small_data.d, 2
    Q = torch.from_numpy(np.random.default_rng(4).standard_normal((1, 1, d, r)))
    H = torch.autograd.functional.hessian(lambda q: risk.value(q).sum(), Q).reshape(d * r, -1)
    _, _, curv = risk.value_grad_curvature(Q)
    V = torch.from_numpy(np.random.default_rng(5).standard_normal((1, 1, d, r)))
    torch.testing.assert_close(risk.hvp(curv, V).reshape(-1), H @ V.reshape(-1),
                               rtol=1e-9, atol=1e-10)


def test_conjugate_gradients_solves_and_flags_indefinite_systems():
    rng = np.random.default_rng(6)
    M = rng.standard_normal((2, 1, 5, 5))
    A = torch.from_numpy(M @ M.transpose(0, 1, 3, 2) + 5 * np.eye(5))
    A[1, 0] -= 30 * torch.eye(5, dtype=torch.float64)  # the second system is indefinite
    b = torch.from_numpy(rng.standard_normal((2, 1, 5, 1)))
    everyone = torch.ones(2, 1, dtype=bool)
    s, res, positive, _ = conjugate_gradients(lambda v, rows: A @ v, b, everyone,
                                              torch.full((2, 1), 1e-12), 50)
    torch.testing.assert_close(A[0, 0] @ s[0, 0], b[0, 0])
    torch.testing.assert_close(res, b - A @ s)
    assert positive.tolist() == [[True], [False]]


def test_converged_data_sets_stop_costing_passes():
    easy = generate(Config(d=40, alpha=2.0, sigma=0.5, omega=0.3, seed=7))
    hard = generate(Config(d=40, alpha=1.5, sigma=1.0, omega=0.3, seed=102).replace(n=80))
    X = torch.stack([torch.from_numpy(easy.X), torch.from_numpy(hard.X)])
    Y = torch.stack([torch.from_numpy(easy.Y), torch.from_numpy(hard.Y)])
    Q0 = torch.stack([torch.from_numpy(easy.Q_star), torch.from_numpy(hard.P[:1].T)])[:, None]
    batch = solve(Risk(X, Y, 0.01), Q0, "flow", steps=2000, tol=1e-8)
    alone = [solve(Risk(X[b:b + 1], Y[b:b + 1], 0.01), Q0[b:b + 1], "flow", steps=2000,
                   tol=1e-8) for b in (0, 1)]
    assert int(batch.passes[0]) < int(batch.passes[1])
    for b in (0, 1):  # the batch costs each data set what it costs alone (up to rounding)
        assert abs(int(batch.passes[b]) - int(alone[b].passes[0])) <= 0.1 * int(batch.passes[b])
        assert float(batch.risk[b]) == pytest.approx(float(alone[b].risk), rel=1e-9)


def test_status_of_fixed_step_protocols(small_data):
    risk = Risk(torch.from_numpy(small_data.X)[None], torch.from_numpy(small_data.Y)[None], 0.01)
    Q0 = torch.from_numpy(small_data.Q_star)[None, None]
    short = solve(risk, Q0, "gd", steps=3, lr=0.15)
    assert status(float(short.grad_norm), 1e-6, "gd") == "plateau"
    assert status(float(short.grad_norm), 1e-6, "flow") == "not converged"
    assert status(1e-7, 1e-6, "gd") == "converged"


def test_stopped_students_leave_the_batch_with_their_lambda():
    """Two students on one data set with different lambda: the first to stop is dropped from
    the products over X, and the other continues with its own lambda (as when alone)."""
    ds = generate(Config(d=40, alpha=1.0, sigma=0.5, omega=0.3, seed=8))
    X, Y = torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None]
    Q0 = torch.stack([torch.from_numpy(ds.Q_star), torch.from_numpy(ds.P[:1].T)])[None]
    lam = torch.tensor([[0.1, 0.001]], dtype=torch.float64)
    batch = solve(Risk(X, Y, lam), Q0, "flow", steps=2000, tol=1e-8)
    assert int(batch.steps[0, 0]) != int(batch.steps[0, 1])
    for c in (0, 1):
        alone = solve(Risk(X, Y, lam[:, c:c + 1]), Q0[:, c:c + 1], "flow", steps=2000, tol=1e-8)
        assert abs(int(alone.steps) - int(batch.steps[0, c])) <= 0.1 * int(alone.steps)
        assert float(alone.risk) == pytest.approx(float(batch.risk[0, c]), rel=1e-9)


def test_flow_keeps_the_null_space_of_the_start():
    """From the positional start of a rank-2 student (two equal columns) the flow stays in
    the invariant subspace Q (e1 - e2) = 0: it is the rank-1 flow of u = sqrt(2) v from
    sqrt(2) p_1, since Q = v 1^T has Q Q^T = u u^T (docs/solver.md)."""
    cfg = Config(d=40, sigma=0.7, omega=0.3, alpha=2.0, rank=2, seed=6)
    ds = generate(cfg)
    risk = Risk(torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None], cfg.lam)
    Q0 = torch.from_numpy(initial_Q("positional", cfg.d, 2, ds.Q_star, ds.P, cfg.seed))
    two = solve(risk, Q0[None, None], "flow", steps=2000, tol=1e-9)
    one = solve(risk, np.sqrt(2.0) * Q0[None, None, :, :1], "flow", steps=2000, tol=1e-9)
    Q = two.Q[0, 0]
    assert bool(two.converged.all()) and bool(one.converged.all())
    assert float((Q[:, 0] - Q[:, 1]).abs().max()) <= 1e-12 * float(Q.abs().max())
    assert float(two.risk) == pytest.approx(float(one.risk), rel=1e-9)
    torch.testing.assert_close(Q[:, :1] * np.sqrt(2.0), one.Q[0, 0], rtol=0, atol=1e-6)


def test_invariant_projector_removes_only_the_null_space():
    rng = np.random.default_rng(7)
    v = torch.from_numpy(rng.standard_normal((6, 1)))
    full = torch.from_numpy(rng.standard_normal((6, 2)))
    Q0 = torch.stack([torch.cat([v, v], 1), full])[:, None]  # (B=2, c=1, d, r)
    P = invariant_projector(Q0)
    torch.testing.assert_close(P[0, 0], torch.full((2, 2), 0.5, dtype=torch.float64))
    torch.testing.assert_close(P[1, 0], torch.eye(2, dtype=torch.float64))
    assert invariant_projector(Q0[1:]) is None


def test_flow_rejects_an_unknown_method(small_data):
    risk = Risk(torch.from_numpy(small_data.X)[None], torch.from_numpy(small_data.Y)[None], 0.01)
    Q0 = torch.ones(1, 1, small_data.d, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="'rk45'.*exprb32"):
        flow(risk, Q0, 10, 1e-6, options=FlowOptions(method="rk45"))


def test_screening_pass_is_kept_on_benign_paths_and_rerun_where_the_path_bends():
    """Both inits on one data set (issue 10's case 2 at d = 40): the semantic path meets no
    negative curvature and keeps its screening pass (rtol 1e-3, fewer steps); the
    positional one bends back, restarts at rtol 1e-5 and loosens again only after its bends.
    Each ends where the plain flow (no screening) ends."""
    ds, risk, _ = _problem("case2", "semantic")
    Q0 = torch.stack([torch.from_numpy(initial_Q(i, ds.d, 1, ds.Q_star, ds.P, 102))
                      for i in ("semantic", "positional")])[None]
    screened = solve(risk, Q0, "flow", steps=2000, tol=1e-9)
    plain = solve(risk, Q0, "flow", steps=2000, tol=1e-9, options=FlowOptions(screen=None))
    assert screened.rtol[0].tolist() == pytest.approx([1e-3, 1e-5])
    assert plain.rtol[0].tolist() == pytest.approx([1e-5, 1e-5])
    assert int(screened.steps[0, 0]) < int(plain.steps[0, 0])
    torch.testing.assert_close(screened.risk, plain.risk, rtol=1e-9, atol=0)
    for c in (0, 1):
        for a, b in zip(_invariants(screened.Q[0, c].numpy(), ds),
                        _invariants(plain.Q[0, c].numpy(), ds), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_path_bends_back_on_negative_curvature_or_a_growing_gradient():
    def point(g: float) -> _Point:
        return _Point(torch.zeros(1, 4, 2, 1), torch.zeros(1, 4), torch.full((1, 4, 2, 1), g),
                      torch.zeros(1, 4, 1, 1, 1))

    accept = torch.tensor([[True, True, False, True]])
    along = torch.tensor([[-1e-3, 1.0, 1.0, 1.0]])
    here, new = point(1e-4), point(2e-4)
    new.g[0, 3] = 1e-5  # the last student's gradient shrinks
    bends = _bends_back(here, new, accept, along, tol=1e-6)
    assert bends.tolist() == [[True, True, False, False]]
    # growth at the rounding level near the end (below 10 tol) does not count
    assert not bool(_bends_back(point(5e-6), point(6e-6), accept, along.abs(), 1e-6).any())


def test_schedule_restarts_loosens_after_the_bends_and_returns_to_its_checkpoint():
    def point(v: float) -> _Point:
        return _Point(torch.full((1, 1, 2, 1), v), torch.full((1, 1), v),
                      torch.full((1, 1, 2, 1), v), torch.full((1, 1, 1, 1, 1), v))

    here, mu = point(0.0), torch.ones(1, 1)
    plan = _Schedule.of(here, mu, FlowOptions(rtol=1e-5, patience=2))
    yes, no = torch.ones(1, 1, dtype=bool), torch.zeros(1, 1, dtype=bool)
    assert plan.rtol().item() == pytest.approx(1e-3)
    assert plan.advance(here, mu, no, yes).item() is False  # no bend: the screen goes on
    assert plan.advance(here, mu, yes, no).item() is True  # a bend: restart at rtol
    for _ in range(3):  # no bend yet at rtol: the one the screen met lies ahead
        plan.advance(here, mu, no, yes)
    assert plan.rtol().item() == pytest.approx(1e-5)
    plan.advance(here, mu, yes, yes)  # the bend, then `patience` steps without one
    here.Q.fill_(1.0)
    mu.fill_(3.0)
    plan.advance(here, mu, no, yes)
    plan.advance(here, mu, no, yes)
    assert plan.rtol().item() == pytest.approx(1e-3)  # loose from the checkpoint Q = 1
    here.Q.fill_(2.0)
    plan.advance(here, mu, yes, yes)  # a bend on the loose stretch: back to the checkpoint
    assert here.Q.unique().tolist() == [1.0] and mu.item() == 3.0
    assert plan.rtol().item() == pytest.approx(1e-5) and plan.patience.item() == 4
    assert plan.end_rtol().item() == pytest.approx(1e-5)
