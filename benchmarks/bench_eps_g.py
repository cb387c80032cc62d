"""eps_g for a rank-2 teacher and student (8 Gaussian variables): the tensor rule, the
quasi-Monte Carlo default and Monte Carlo on fresh samples, side by side against a large
quasi-Monte Carlo reference. CPU seconds and error relative to the reference.

    OMP_NUM_THREADS=1 python benchmarks/bench_eps_g.py [--d 1000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from attnphase import metrics
from attnphase.config import Config
from attnphase.exact import eps_g_exact, eps_g_qmc
from attnphase.teacher import Teacher


def student(te: Teacher, m: float = 0.3) -> np.ndarray:
    """A rank-2 student with teacher overlap, a positional part and noise (seeded)."""
    rng = np.random.default_rng(0)
    Q = 0.6 * te.Q_star + 0.3 * rng.standard_normal(te.Q_star.shape)
    return Q + m * math.sqrt(te.d) * te.P[0][:, None]


def timed(fn, *args, **kw):
    """fn(*args, **kw) and the CPU seconds it took."""
    start = time.process_time()
    out = fn(*args, **kw)
    return out, time.process_time() - start


def tensor(te: Teacher, Q: np.ndarray, points: int) -> tuple[float, float]:
    return eps_g_exact(te, Q, points=points), math.nan


def monte_carlo(te: Teacher, Q: np.ndarray, samples: int, chunks: int = 8):
    """Mean and standard error over `chunks` independent fresh test sets."""
    vals = []
    for c in range(chunks):
        fresh = Teacher(te.Q_star, te.P, te.A, te.sigma, te.omega, 10_000 + c)
        g, _ = metrics.test_errors(fresh, torch.from_numpy(Q)[None], samples // chunks)
        vals.append(float(g[0]))
    return float(np.mean(vals)), float(np.std(vals, ddof=1) / math.sqrt(chunks))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=1000)
    args = ap.parse_args()
    print("| sigma | method | eps_g | rel. error vs reference | stated rel. error | CPU s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for sigma in (0.5, 1.0):
        te = Teacher.from_config(Config(d=args.d, rank=2, teacher_rank=2, seed=2, sigma=sigma))
        Q = student(te)
        (ref, ref_se), t_ref = timed(eps_g_qmc, te, Q, log2_points=18, seed=500)
        rows = [("qmc reference, 8 x 2^18", (ref, ref_se), t_ref)]
        rows.append(("qmc default, 8 x 2^15", *timed(eps_g_qmc, te, Q)))
        for p in (4, 5, 6):
            rows.append((f"tensor rule, {p}^8 nodes", *timed(tensor, te, Q, p)))
        rows.append(("Monte Carlo, 50,000 samples", *timed(monte_carlo, te, Q, 50_000)))
        for name, (value, se), cpu in rows:
            print(f"| {sigma} | {name} | {value:.7g} | {abs(value - ref) / ref:.1e} | "
                  f"{se / value:.1e} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
