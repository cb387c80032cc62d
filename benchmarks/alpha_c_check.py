"""Is the late simulated alpha_c at omega = 0.3 a teacher-norm effect? (README, reproductions)

delta_eps_t = eps_t(semantic) - eps_t(positional) near the transition, d = 1000, 12 seeds:
the plain seed mean, and the mean adjusted to q_star = ||Q*||^2 / d = 1 by the control
variate of attnphase.stats.

    .venv/bin/python benchmarks/alpha_c_check.py
"""

from __future__ import annotations

import numpy as np
import torch

from attnphase.config import Config
from attnphase.experiment import train_many
from attnphase.stats import control_variate_mean, seed_mean

ALPHAS = (1.15, 1.25, 1.35)
SEEDS = range(12)


def main() -> None:
    torch.set_num_threads(1)
    base = Config(d=1000, test_samples=500, omega=0.3)  # only eps_t is used
    cfgs = [base.replace(seed=s, alpha=a, init=i)
            for s in SEEDS for a in ALPHAS for i in ("semantic", "positional")]
    res = train_many(cfgs)
    print("| alpha | delta_eps_t, plain mean | adjusted to q_star = 1 | mean q_star |")
    print("| --- | --- | --- | --- |")
    for a in ALPHAS:
        at = [r for r in res if abs(r.alpha - a) < 1e-9]
        sem = {r.seed: r for r in at if r.init == "semantic"}
        pos = {r.seed: r for r in at if r.init == "positional"}
        delta = np.array([sem[s].eps_t - pos[s].eps_t for s in SEEDS])
        q_star = np.array([sem[s].q_star for s in SEEDS])
        raw, adj = seed_mean(delta), control_variate_mean(delta, q_star)
        print(f"| {a} | {raw.mean:.2e} ± {raw.sem:.1e} | {adj.mean:.2e} ± {adj.sem:.1e} | "
              f"{q_star.mean():.3f} |")


if __name__ == "__main__":
    main()
