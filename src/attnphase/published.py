"""The paper's published numbers (Cui et al. 2024, arXiv:2402.03902), kept in one table.

Used as references by the figures, the tests and the benchmark scripts; docs/model.md §5
says how closely a correct solver should meet them.
"""

from __future__ import annotations

# alpha_c(omega) of the paper's phase diagram (Fig. 3), sigma = 0.5, lambda = 0.01
ALPHA_C = {0.0: 0.548, 0.1: 0.707, 0.15: 0.818, 0.2: 0.928, 0.25: 1.06, 0.3: 1.241,
           0.35: 1.454, 0.4: 1.751, 0.425: 1.939}

# simulations at d = 1000, omega = 0.3, sigma = 0.5, lambda = 0.01 (paper Sec. 4):
# (initialisation, alpha) -> metric -> value; "linear" is the linear baseline
SIMULATIONS = {
    ("semantic", 2.0): {"theta": 0.63, "eps_g": 0.00144, "eps_t": 0.0036},
    ("positional", 1.0): {"m": 0.25, "eps_g": 0.0033},
    ("linear", 2.0): {"eps_g_lin": 0.00197},
}


def alpha_c(omega: float) -> float:
    """The published alpha_c at `omega`; NaN where the paper gives none."""
    return ALPHA_C.get(round(float(omega), 6), float("nan"))
