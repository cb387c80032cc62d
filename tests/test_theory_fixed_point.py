"""The fixed point: docs/model.md §5 reference values, normalisation, identities, failures."""

import numpy as np
import pytest

from attnphase.theory import curve, solve
from attnphase.theory.channel import Problem, attention_diag, check_A, loss, teacher_diag
from attnphase.theory.fixed_point import _Channel
from attnphase.theory.quadrature import line_rule


@pytest.fixture(scope="module")
def sem2():
    return solve(2.0, omega=0.3, sigma=0.5, lam=0.01, branch="semantic")


def test_alpha2_semantic_reference_values(sem2):
    """docs/model.md §5 (global prox, converged quadrature)."""
    assert sem2.converged
    assert sem2.th["q_th"] == pytest.approx(0.1148, rel=3e-3)
    assert sem2.th["theta_th"] == pytest.approx(0.1581, rel=3e-3)
    assert sem2.eps_g == pytest.approx(0.001405, rel=3e-3)
    assert sem2.eps_t == pytest.approx(0.003591, rel=3e-3)


def test_public_normalisation(sem2):
    s2 = sem2.sigma**2
    assert sem2.q == pytest.approx(sem2.th["q_th"] / s2)
    assert sem2.theta == pytest.approx(sem2.th["theta_th"] / s2)
    assert sem2.m == pytest.approx(abs(sem2.th["m_th"]))
    assert sem2.theta <= np.sqrt(sem2.q)  # Cauchy-Schwarz for Q*^T Q / d
    assert sem2.eps_t == pytest.approx(-sem2.th["phi"])


def test_eps_t_equals_training_loss_at_the_fixed_point(sem2):
    """-Phi = alpha E[sigma^2 ||S(hp) - T||^2] / 2 + lam q / 2: the training loss R(Q) / d."""
    p = sem2
    pb = Problem(p.alpha, p.omega, p.sigma, p.lam, check_A(None), "semantic")
    ch = _Channel(pb, line_rule(p.quad), 15)
    x = np.array([p.th[k] for k in ("q_th", "m_th", "theta_th", "V")])
    ch.conjugates(x, global_search=True)
    nd = ch.nodes
    train = p.alpha * 0.5 * nd.weights @ loss(nd.h, nd.T, p.sigma) + p.lam * p.q / 2
    assert p.eps_t == pytest.approx(train, rel=1e-4)


def test_positional_and_trivial_branches():
    pos = solve(1.25, branch="positional")
    triv = solve(1.25, branch="trivial")
    assert pos.converged and triv.converged
    assert pos.theta == 0.0 and pos.m > 0.1
    assert triv.theta == 0.0 and triv.m == 0.0
    assert triv.eps_t > pos.eps_t


@pytest.mark.parametrize("omega", [0.0, 0.3])
@pytest.mark.parametrize("alpha", [0.01, 2.0, 10.0])
def test_trivial_branch_converges_from_a_cold_start(alpha, omega):
    """It exists on the whole range (m = theta = 0, V of order sigma^2 / lam); a cold start
    from small q used to step where lam + sigma^2 Vh < 0 (alpha = 2, omega = 0.3)."""
    p = solve(alpha, omega=omega, branch="trivial", split=False)
    assert p.converged and p.m == 0.0 and p.theta == 0.0
    assert 1.0 < p.V < p.sigma**2 / p.lam * 1.5


def test_non_convergence_is_reported():
    p = solve(1.0, branch="positional", max_iter=3)
    assert not p.converged
    assert p.iterations == 3 and np.isfinite(p.residual) and p.residual > 1e-6


def test_general_A_uses_both_diagonal_entries():
    A = [[0.3, 0.7], [0.8, 0.2]]
    hstar = np.array([[0.3, -0.2]])
    T = teacher_diag(hstar, 0.3, check_A(A))
    assert T[0, 0] == pytest.approx(0.7 * attention_diag(hstar)[0, 0] + 0.3 * 0.3)
    assert T[0, 1] == pytest.approx(0.7 * attention_diag(hstar)[0, 1] + 0.3 * 0.2)
    p = solve(1.5, omega=0.3, A=A, branch="semantic")
    q = solve(1.5, omega=0.3, A=[[0.2, 0.8], [0.7, 0.3]], branch="semantic")
    assert p.converged and q.converged
    # swapping the tokens' roles (A11 <-> A22) is a symmetry of the equations
    assert p.eps_t == pytest.approx(q.eps_t, rel=2e-3)
    default = solve(1.5, omega=0.3, branch="semantic")
    assert abs(p.eps_t - default.eps_t) > 0.05 * default.eps_t
    assert p.A == ((0.3, 0.7), (0.8, 0.2))
    # tied attention has S_11 + S_22 >= 1: no positional solution against this A (m -> 0)
    pos = solve(1.5, omega=0.3, A=A, branch="positional")
    assert pos.converged and pos.m < 1e-3


def test_curve_warm_starts_and_keeps_order():
    pts = curve([1.8, 2.0, 1.9], branch="semantic")
    assert [p.alpha for p in pts] == [1.8, 2.0, 1.9]
    assert all(p.converged for p in pts)
    assert pts[0].theta < pts[2].theta < pts[1].theta


def test_bad_arguments():
    with pytest.raises(ValueError, match="branch"):
        solve(1.0, branch="sideways")
    with pytest.raises(ValueError, match="alpha"):
        solve(-1.0)
    with pytest.raises(ValueError, match="rows must sum to 1"):
        solve(1.0, A=[[0.5, 0.6], [0.4, 0.6]])


def test_row_is_strict_json():
    p = solve(1.0, branch="positional", max_iter=3)
    row = p.row()
    assert row["converged"] is False
    assert all(v is None or isinstance(v, (str, bool, int, float)) for v in row.values())


def test_fixed_points_enumerates_distinct_solutions():
    """omega = 0.3, alpha = 2: the semantic and the positional fixed point, each found once
    although two starts lead to each; sorted by eps_t (the semantic one is global there)."""
    from attnphase.theory.enumerate import fixed_points

    pts = fixed_points(2.0, 0.3, m_starts=(0.15, 0.4), theta_starts=(0.5, 0.9), quad=6)
    kinds = [("semantic" if p.theta > 1e-3 else "positional" if p.m > 1e-3 else "trivial")
             for p in pts]
    assert kinds.count("semantic") == 1 and kinds.count("positional") == 1
    assert kinds[0] == "semantic"
    assert [p.eps_t for p in pts] == sorted(p.eps_t for p in pts)


def test_scan_groups_results_and_names_their_kind():
    """`distinct` merges results within the relative tolerance and keeps the others apart;
    `kind` names a point by which of theta and m is above the floor."""
    from attnphase.theory.enumerate import distinct, kind
    from attnphase.theory.fixed_point import TheoryPoint

    def pt(q, m, theta):
        return TheoryPoint(1.0, 0.1, 0.5, 0.01, "semantic", q / 0.25, m, theta / 0.25, 20.0,
                           0.004, 0.002, True, 10, 1e-7,
                           {"q_th": q, "m_th": -m, "theta_th": theta, "V": 20.0})

    a, b, c = pt(0.05, 0.0, 0.07), pt(0.05 * (1 + 5e-4), 0.0, 0.07), pt(0.05, 0.0, 0.0707)
    assert [len(g) for g in distinct([a, b, c], same=1e-3)] == [2, 1]
    assert [kind(p) for p in (a, pt(0.05, 0.1, 0.0), pt(0.05, 0.0, 0.0),
                              pt(0.05, 0.1, 0.07))] == ["semantic", "positional", "trivial",
                                                         "mixed"]
