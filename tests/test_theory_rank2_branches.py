"""Rank-2 theory: the convergence test on the quadrature's scale, the isotropic trivial
branch, and the rank-2 boundary and its CLI (small rules: these check the code paths and
the equations' identities, not the paper-scale numbers of docs/theory_rank2.md)."""

import numpy as np
import pytest

from attnphase.theory.channel import Problem, check_A
from attnphase.theory.rank2_equations import Channel2
from attnphase.theory.rank2_quadrature import qmc_rule
from attnphase.theory.rank2_solve import KAPPA, solve_rank2

SIGMA, LAM = 0.5, 0.01


@pytest.mark.parametrize("alpha", [0.3, 1.5, 4.0])
def test_trivial_branch_converges_isotropic(alpha):
    """The trivial branch (m = theta = 0, q and V multiples of I) converges from its cold
    start where the unconstrained m = theta = 0 iteration drove D below lam / 2 (alpha = 1.5);
    D = sigma^2 V^-1 stays above the safeguard, and -Phi is the training loss."""
    rule = qmc_rule(32, 8)
    p = solve_rank2(alpha, 0.3, SIGMA, LAM, branch="trivial", rule=rule)
    assert p.converged
    s = p.state
    assert np.allclose(s.q, s.q[0, 0] * np.eye(2)) and np.allclose(s.V, s.V[0, 0] * np.eye(2))
    assert p.inv["theta_norm"] == 0 and p.inv["m_norm"] == 0 and p.inv["q_eig2"] > 0
    D = SIGMA**2 / s.V[0, 0]
    assert 0.5 * LAM < D
    pb = Problem(alpha, 0.3, SIGMA, LAM, check_A(None), "trivial")
    values = Channel2(pb, rule.nodes, rule.weights).per_node(s, True)
    direct = alpha / 2 * rule.weights @ values["loss_h"] + LAM / 2 * np.trace(s.q) / SIGMA**2
    assert p.eps_t == pytest.approx(direct, abs=3 * p.err["eps_t"] + 1e-9)


def test_convergence_is_measured_against_the_quadrature_error():
    """A point that stopped at the iteration cap under the old relative test (positional,
    alpha = 1) converges: its last step is below KAPPA times the one-step quadrature error
    or 1e-5 of its matrix's scale in every component; the fixed point's own error, from the
    fixed points of the k blocks, is reported for every output."""
    p = solve_rank2(1.0, 0.3, SIGMA, LAM, branch="positional", rule=qmc_rule(32, 8),
                    fp_error=True)
    assert p.converged and p.iterations < 200
    assert p.residual <= 1e-5 or p.residual_qmc <= KAPPA
    assert set(p.inv) <= set(p.fp_err) and {"eps_g", "eps_t"} <= set(p.fp_err)
    assert all(np.isfinite(v) and v >= 0 for v in p.fp_err.values())
    assert p.fp_err["theta_norm"] == 0 and p.fp_err["m_norm"] > 0
    row = p.row()
    assert "fperr_eps_t" in row and "residual_qmc" in row
