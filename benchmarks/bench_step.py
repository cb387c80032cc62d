"""The cost of one flow step's parts at d = 1000, side by side: the per-sample curvature in
closed form (objective.py) against the autograd construction it replaced (L r backward
passes), and the passes over X (preactivations, pullback) and one Hessian-vector product.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_step.py [--d 1000]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import torch

from attnphase.config import Config
from attnphase.data import generate
from attnphase.objective import Risk, preactivations, pullback
from attnphase.teacher import attention


def autograd_curvature(risk: Risk, Q: torch.Tensor):
    """The former construction: autograd gradient in h, then L r backward passes."""
    with torch.enable_grad():
        h = preactivations(risk.X, Q).requires_grad_(True)
        data = 0.5 * risk.grams.squared_error(attention(h)).sum(-1)
        (dh,) = torch.autograd.grad(data.sum(), h, create_graph=True)
        L, r = h.shape[-2:]
        eye = torch.eye(L * r, dtype=h.dtype).reshape(L * r, L, r)
        cols = [torch.autograd.grad((dh * e).sum(), h, retain_graph=True)[0] for e in eye]
    curv = torch.stack(cols, -1).reshape(*h.shape[:-2], L * r, L * r)
    return data.detach(), pullback(risk.X, dh.detach()), curv.detach()


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """The least CPU time of `repeats` calls (CPU time: robust to other jobs on the cores)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def row(d: int, alpha: float, rank: int, repeats: int) -> str:
    """One table row: the parts of a step on one data set with two students."""
    ds = generate(Config(d=d, alpha=alpha, rank=rank, teacher_rank=rank, seed=0))
    X, Y = torch.from_numpy(ds.X)[None], torch.from_numpy(ds.Y)[None]
    risk = Risk(X, Y, 0.01)
    Q = torch.randn(1, 2, d, rank, dtype=torch.float64)
    h = preactivations(X, Q)
    _, _, curv = risk.value_grad_curvature(Q)
    old = best_of(lambda: autograd_curvature(risk, Q), repeats)
    new = best_of(lambda: risk.value_grad_curvature(Q), repeats)
    pre = best_of(lambda: preactivations(X, Q), repeats)
    pull = best_of(lambda: pullback(X, h), repeats)
    hvp = best_of(lambda: risk.hvp(curv, Q), repeats)
    return (f"| {alpha} | {rank} | {1e3 * old:.1f} | {1e3 * new:.1f} | {old / new:.1f} | "
            f"{1e3 * pre:.1f} | {1e3 * pull:.1f} | {1e3 * hvp:.1f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"d = {args.d}, 2 students per data set, torch threads 1, "
          f"least CPU time of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| alpha | rank | value, gradient, curvature: autograd (ms) | closed form (ms) | "
          "x faster | "
          "preactivations (ms) | pullback (ms) | HVP (ms) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for alpha, rank in [(0.5, 1), (2.0, 1), (2.0, 2)]:
        print(row(args.d, alpha, rank, args.repeats), flush=True)


if __name__ == "__main__":
    main()
