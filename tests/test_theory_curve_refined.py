"""`theory curve --refine`: the converged rules along a branch (wiring with stand-in rules,
fast), the CLI's bad input, and (slow) one real positional point."""

import importlib

import pytest

from attnphase.cli import main
from attnphase.theory.fixed_point import TheoryPoint

rc = importlib.import_module("attnphase.theory.refined_curve")
rb = importlib.import_module("attnphase.theory.refined_boundary")


def _exact(alpha: float) -> float:
    return 0.2 + 0.05 * alpha


def _point(alpha, branch, err, quad, th=None, converged=True, m=0.2):
    th = th or {"q_th": _exact(alpha) + err, "m_th": m, "theta_th": 0.0, "V": 10.0}
    return TheoryPoint(alpha, 0.3, 0.5, 0.01, branch, th["q_th"] / 0.25, m, 0.0, 10.0,
                       0.003 + err, 0.002 + err, converged, 1, 0.0, th, quad=quad,
                       _prox=(None, None))


def test_refined_curve_reports_the_fine_rule_and_its_change(monkeypatch):
    """Each usable split point is solved at the coarse then the fine adaptive rule, the
    coarse one started from the previous alpha's coarse point moved by the split rule's
    change; the row is the fine point with |fine - coarse|; an unusable split point is
    passed through unrefined; rows keep the order of the alphas given."""
    starts = []

    def fake_curve(alphas, omega, sigma, lam, branch, A, quad):
        return [_point(a, branch, 1e-2, quad, converged=a != 0.7) for a in alphas]

    def fake_adaptive(alpha, omega, sigma, lam, A, branch, n_eta, tol, init, x0):
        assert init.quad == 8 and init.alpha == alpha  # the split point starts the Jacobian
        starts.append((alpha, n_eta, None if x0 is None else x0.th["q_th"]))
        return _point(alpha, branch, 4.0**-n_eta, n_eta)

    monkeypatch.setattr(rc, "curve", fake_curve)
    monkeypatch.setattr(rb, "solve_adaptive", fake_adaptive)
    rows = rc.refined_curve([1.0, 0.5, 0.7, 0.9], branch="positional")
    assert [r["alpha"] for r in rows] == [1.0, 0.5, 0.7, 0.9]
    assert rows[2]["rule"] == "split (not refined)" and rows[2]["err_q"] is None
    fine = rows[0]
    assert fine["rule"] == "adaptive n_eta 6/8" and fine["converged"]
    assert fine["eps_t"] == pytest.approx(0.002 + 4.0**-8)
    assert fine["err_eps_t"] == pytest.approx(4.0**-6 - 4.0**-8)
    assert fine["err_q"] == pytest.approx((4.0**-6 - 4.0**-8) / 0.25)
    # ascending: 0.5 cold (start None), 0.7 skipped, 0.9 cold again (after the gap), 1.0 from
    # 0.9's coarse point moved by the split rule's change (0.05 * 0.1)
    coarse = [s for s in starts if s[1] == 6]
    assert [s[0] for s in coarse] == [0.5, 0.9, 1.0]
    assert coarse[0][2] is None and coarse[1][2] is None
    assert coarse[2][2] == pytest.approx(_exact(0.9) + 4.0**-6 + 0.05 * 0.1)
    fine_starts = [s for s in starts if s[1] == 8]
    assert all(s[2] == pytest.approx(_exact(s[0]) + 4.0**-6) for s in fine_starts)


def test_refined_curve_refuses_the_trivial_branch():
    with pytest.raises(ValueError, match="trivial"):
        rc.refined_curve([1.0], branch="trivial")


@pytest.mark.parametrize("args, needle", [
    (["--branch", "trivial"], "--refine: branches semantic, positional or all (got trivial)"),
    (["--n-eta", "8,6"], "--n-eta '8,6'"),
    (["--n-sem", "x"], "--n-sem 'x'"),
    (["--rank", "2"], "--refine: only with --rank 1"),
])
def test_curve_refine_bad_input_is_one_line_exit_2(args, needle, capsys, tmp_path):
    out = tmp_path / "c.csv"
    code = main(["theory", "curve", "--alphas", "1", "--refine", *args, "--csv", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.slow
def test_refined_positional_point_at_alpha_1():
    """One real point (about 3 CPU minutes): the table of docs/theory.md (n_eta 6 to 12)
    has q 0.17378-0.17379 and eps_t 0.0021682 at alpha 1, omega 0.3; the 8-node split rule
    is 1.7% off in q. The refined row must land on the table and report a change below
    1e-4 relative."""
    (row,) = rc.refined_curve([1.0], 0.3, branch="positional")
    assert row["converged"]
    assert row["q"] == pytest.approx(0.173787, rel=2e-5)
    assert row["eps_t"] == pytest.approx(0.0021682, rel=1e-5)
    assert row["err_q"] < 1e-4 * row["q"] and row["err_eps_t"] < 1e-4 * row["eps_t"]
