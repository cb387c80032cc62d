"""attnphase: the solvable model of dot-product attention of Cui, Behrens, Krzakala and
Zdeborova (NeurIPS 2024): data, students, linear baseline, asymptotic theory, sweeps, figures."""

__version__ = "0.4.0"
