"""Default solver (flow on the Gram form) against the paper's GD protocol, same data.

At d = 1000, alpha = 2, omega = 0.3 (issue 2). Measured side by side in one run:
- `flow`: this package's default, to a gradient-norm tolerance (docs/solver.md);
- `lbfgs`: the former default;
- `gd (paper style)`: full-batch GD, lr 0.15, 5000 steps, weight decay lambda, on the
  readable module (autograd through S X - Y), as the paper's code trains;
- `gd (Gram form)`: the same GD iterates on this package's Gram-form risk;
plus the time to generate the d = 1000, n = 2200 data set.

    .venv/bin/python benchmarks/bench_train.py [--gd-steps 5000] [--init semantic]
"""

from __future__ import annotations

import argparse
import time

import torch

from attnphase.config import Config
from attnphase.data import generate
from attnphase.objective import Risk
from attnphase.student import TiedAttention, initial_Q
from attnphase.train import grad_norm, solve


def paper_gd(X: torch.Tensor, Y: torch.Tensor, Q0: torch.Tensor, lam: float, lr: float,
             steps: int) -> torch.Tensor:
    """Full-batch GD with weight decay on the module, the way the paper's code trains."""
    model = TiedAttention(Q0)
    opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=lam)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(X) - Y) ** 2).sum() / (2 * model.d)
        loss.backward()
        opt.step()
    return model.Q.detach()


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--alpha", type=float, default=2.0)
    p.add_argument("--init", default="semantic")
    p.add_argument("--gd-steps", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=5, help="repeats of the fast timings")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the CLI uses 1)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cfg = Config(d=args.d, alpha=args.alpha, init=args.init)

    gen = min(timed(generate, cfg.replace(alpha=2.2))[1] for _ in range(args.repeats))
    ds = generate(cfg)
    X, Y = torch.from_numpy(ds.X), torch.from_numpy(ds.Y)
    Q0 = torch.from_numpy(initial_Q(cfg.init, cfg.d, 1, ds.Q_star, ds.P, cfg.seed))

    def default_run(solver: str):
        risk = Risk(X[None], Y[None], cfg.lam)  # Gram matrices are part of the cost
        return solve(risk, Q0[None, None], solver, cfg.solver_steps, 1.0, cfg.tol)

    fast, t_fast = min((timed(default_run, "flow") for _ in range(args.repeats)),
                       key=lambda x: x[1])
    old, t_old = min((timed(default_run, "lbfgs") for _ in range(args.repeats)),
                     key=lambda x: x[1])
    risk = Risk(X[None], Y[None], cfg.lam)
    gram_gd, t_gram_gd = timed(solve, risk, Q0[None, None], "gd", args.gd_steps, 0.15, cfg.tol)
    Q_gd, t_paper = timed(paper_gd, X, Y, Q0, cfg.lam, 0.15, args.gd_steps)
    R_gd, g_gd = risk.value_and_grad(Q_gd[None, None])

    data_mb = ds.X.nbytes / 2**20
    print(f"d = {cfg.d}, n = {ds.n}, init = {cfg.init}, float64 inputs ({data_mb:.0f} MB), "
          f"torch threads = {torch.get_num_threads()}")
    print(f"generate d = {cfg.d}, n = {round(2.2 * cfg.d)}: {gen:.3f} s (best of {args.repeats})")
    print("| solver | wall s | eps_t | grad_norm | steps | speed-up vs paper GD |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = [
        ("flow (default)", t_fast, float(fast.risk) / cfg.d, float(fast.grad_norm),
         int(fast.steps)),
        ("lbfgs (former default)", t_old, float(old.risk) / cfg.d, float(old.grad_norm),
         int(old.steps)),
        ("gd, Gram form", t_gram_gd, float(gram_gd.risk) / cfg.d, float(gram_gd.grad_norm),
         args.gd_steps),
        ("gd, paper style", t_paper, float(R_gd) / cfg.d, float(grad_norm(g_gd)), args.gd_steps),
    ]
    for name, t, eps_t, gn, steps in rows:
        print(f"| {name} | {t:.3f} | {eps_t:.8f} | {gn:.1e} | {steps} | {t_paper / t:.0f}x |")
    print(f"flow: {int(fast.passes[0])} passes over X (risk, gradient and Hessian-vector "
          f"products, 2 passes each) in {t_fast:.3f} s")
    print(f"eps_t(flow) - eps_t(paper gd) = {rows[0][2] - rows[3][2]:.2e} (<= 0: flow lower)")


if __name__ == "__main__":
    main()
