"""The end-point check of the flow (certify.py): its comparison, its refinement logic on a
synthetic family of end points, and the whole path through `train`, the config and the
store."""

import math

import pytest
import torch

from attnphase.certify import EndPoint, refine, same_point
from attnphase.config import Config
from attnphase.data import generate
from attnphase.errors import InputError
from attnphase.experiment import train_many
from attnphase.flow import FlowOptions
from attnphase.objective import Risk
from attnphase.student import initial_Q
from attnphase.train import solve


def _end(Q: torch.Tensor, R: torch.Tensor) -> EndPoint:
    B, c = R.shape
    return EndPoint(Q, R, torch.zeros_like(Q), torch.ones(B, c, dtype=torch.long),
                    torch.full((B,), 10, dtype=torch.long), torch.ones(B, c, dtype=torch.bool))


def test_same_point_sees_the_stationary_point_not_the_parametrisation():
    g = torch.Generator().manual_seed(0)
    Q = torch.randn(1, 3, 20, 1, generator=g, dtype=torch.float64)
    R = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    a = _end(Q, R)
    flipped = _end(-Q, R.clone())  # R depends on Q Q^T only: -Q is the same point
    assert same_point(a, flipped).all()
    near = _end(Q * (1 + 1e-5), R * (1 + 1e-8))  # the gradient tolerance's scatter
    assert same_point(a, near).all()
    far_R = _end(Q.clone(), R * torch.tensor([[1.0, 1 + 1e-4, 1.0]], dtype=torch.float64))
    assert same_point(a, far_R).tolist() == [[True, False, True]]
    moved = Q.clone()
    moved[0, 2] += 0.1 * Q[0, 2].norm() * torch.randn(20, 1, generator=g, dtype=torch.float64)
    assert same_point(a, _end(moved, R.clone())).tolist() == [[True, True, False]]


def test_refine_reruns_only_what_disagrees_until_two_tolerances_agree():
    """Data set b's end point stops moving below the tolerance 10^-k[b] (k = 4, 5, 9): the
    check must certify data set 0 at once (1e-4 against 1e-5), data set 1 after one
    refinement (1e-6 against 1e-5), and give up on data set 2 after two."""
    settle = torch.tensor([1e-4, 1e-5, 1e-9], dtype=torch.float64)
    calls = []

    def run(rows: torch.Tensor, rtol: float) -> EndPoint:
        calls.append((rows.tolist(), rtol))
        level = torch.maximum(torch.full_like(settle, rtol), settle)[rows]
        R = (1 + 1e-2 * torch.log10(level))[:, None].repeat(1, 2)  # 1e-2 per decade
        Q = torch.ones(len(rows), 2, 4, 1, dtype=torch.float64)
        return _end(Q, R)

    end, certified, used = refine(run, 3, 1e-5, refinements=2)
    assert [r for r, _ in calls] == [[0, 1, 2], [0, 1, 2], [1, 2], [2]]
    assert [t for _, t in calls] == pytest.approx([1e-4, 1e-5, 1e-6, 1e-7])
    assert certified.tolist() == [[True, True], [True, True], [False, False]]
    assert used.tolist() == pytest.approx([1e-5, 1e-6, 1e-7])
    # what every run cost adds up: 2, 3 and 4 runs of 10 passes and 1 step per student
    assert end.passes.tolist() == [20, 30, 40]
    assert end.steps[:, 0].tolist() == [2, 3, 4]
    # the end point returned is the finest run's
    assert end.R[1, 0] == pytest.approx(1 + 1e-2 * -5)


def test_a_finer_run_that_does_not_converge_ends_the_check_and_is_not_kept():
    """Data set 1 never settles and its runs below 1e-5 hit their step budget."""
    calls = []

    def run(rows: torch.Tensor, rtol: float) -> EndPoint:
        calls.append((rows.tolist(), rtol))
        R = torch.full((len(rows), 1), 1 + 1e-2 * math.log10(rtol), dtype=torch.float64)
        end = _end(torch.ones(len(rows), 1, 4, 1, dtype=torch.float64), R)
        end.converged[:] = rtol >= 1e-5
        return end

    end, certified, used = refine(run, 2, 1e-5, refinements=3)
    assert [r for r, _ in calls] == [[0, 1], [0, 1], [0, 1]]  # no further refinement
    assert not certified.any()
    assert used.tolist() == pytest.approx([1e-5, 1e-5])
    assert end.converged.all() and end.R[1, 0] == pytest.approx(1 - 0.05)
    assert end.passes.tolist() == [30, 30]


def test_certified_flow_agrees_with_the_plain_flow_and_costs_both_runs():
    """The issue's case 2 at d = 40 (both inits on one data set, tolerances 1e-3 and 1e-4)."""
    cfg = Config(d=40, sigma=1.0, omega=0.3, alpha=1.5, seed=102)
    ds = generate(cfg)
    risk = Risk(torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None], cfg.lam)
    Q0 = torch.stack([torch.from_numpy(initial_Q(init, cfg.d, 1, ds.Q_star, ds.P, cfg.seed))
                      for init in ("semantic", "positional")])[None]
    plain = solve(risk, Q0, "flow", 2000, tol=1e-8, options=FlowOptions(rtol=1e-4))
    coarse = solve(risk, Q0, "flow", 2000, tol=1e-8, options=FlowOptions(rtol=1e-3))
    checked = solve(risk, Q0, "flow", 2000, tol=1e-8, options=FlowOptions(rtol=1e-4),
                    certify=2)
    assert checked.certified.tolist() == [[True, True]]
    assert checked.rtol.tolist() == [[1e-4, 1e-4]]
    torch.testing.assert_close(checked.risk, plain.risk, rtol=1e-9, atol=0)
    assert int(checked.passes) == int(plain.passes) + int(coarse.passes)


def test_config_fields_reach_the_record_and_bad_values_are_named():
    base = dict(d=30, alpha=1.0, seed=2, test_samples=500)
    plain, checked = train_many([Config(**base), Config(**base, certify=1, flow_rtol=1e-4)])
    # this path meets no negative curvature: it ends its screening pass, 100 x 1e-5
    assert plain.certified is None and plain.rtol == pytest.approx(1e-3)
    assert checked.certified is True and checked.rtol == pytest.approx(1e-4)
    assert checked.eps_t == pytest.approx(plain.eps_t, rel=1e-6)
    assert Config(**base).hash() != Config(**base, certify=1).hash()
    with pytest.raises(InputError, match="flow_rtol = 0.5"):
        Config(**base, flow_rtol=0.5)
    with pytest.raises(InputError, match="certify = -1"):
        Config(**base, certify=-1)


def test_flow_screen_field_reaches_the_solver_and_keeps_old_hashes():
    base = dict(d=30, alpha=1.0, seed=2, test_samples=500)
    screened, plain = train_many([Config(**base), Config(**base, flow_screen=1)])
    assert screened.rtol == pytest.approx(1e-3) and plain.rtol == pytest.approx(1e-5)
    assert screened.eps_t == pytest.approx(plain.eps_t, rel=1e-7)
    # the default keeps the hashes of runs made before the field existed
    assert Config(**base).hash() == Config(**base, flow_screen=100).hash()
    assert Config(**base).hash() != Config(**base, flow_screen=1).hash()
    with pytest.raises(InputError, match="flow_screen = 0.5"):
        Config(**base, flow_screen=0.5)
