"""Tried, not adopted: the fourth-order exponential Rosenbrock method exprb43 (Hochbruck,
Ostermann and Schweitzer 2009; embedded order 3) in place of the flow's exprb32.

    U2 = Q + (tau/2) phi_1(-tau H / 2) F,        D2 = F(U2) - F(Q) + H (U2 - Q)
    U3 = Q + tau phi_1(-tau H) (F + D2),         D3 = F(U3) - F(Q) + H (U3 - Q)
    step = tau phi_1 F + tau (16 phi_3 - 48 phi_4) D2 + tau (-2 phi_3 + 12 phi_4) D3
    error estimate = || tau phi_4 (12 D3 - 48 D2) ||  (the order-3 solution's difference)

(F = -grad R, the phi's of -tau H applied by Lanczos, one Krylov space per vector: F (phi_1
at tau and tau/2), D2 (phi_1, phi_3, phi_4), D3 (phi_3, phi_4)). The step is swapped into
`flow._step` (order 4 in the controller) and each regime is solved with both methods on the
same data (plain flow, `screen` off unless --options says otherwise), one after the other.
`--order` first checks the local error's order on a d = 30 problem against a DOP853
integration at rtol 1e-13.

    OMP_NUM_THREADS=1 python benchmarks/bench_exprb43.py --order
    OMP_NUM_THREADS=1 python benchmarks/bench_exprb43.py '[{}, {"alpha": 0.5}]'
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from bench_solver import config, problem, same_point, summary
from scipy.integrate import solve_ivp

import attnphase.flow as F
from attnphase.krylov import inner, lanczos_extend
from attnphase.objective import Risk

Z_MAX = 60.0


def phik(k: int, z: torch.Tensor) -> torch.Tensor:
    """phi_k(z) = (e^z - sum_{j<k} z^j / j!) / z^k, a series below |z| = 1."""
    z = z.clamp_max(Z_MAX)
    small = z.abs() < 1.0
    zs = torch.where(small, 1.0, z)
    direct = torch.expm1(zs)
    for j in range(1, k):
        direct = direct - zs**j / math.factorial(j)
    direct = direct / zs**k
    series = torch.full_like(z, 1.0 / math.factorial(k + 20))
    for j in range(19, -1, -1):
        series = series * z + 1.0 / math.factorial(k + j)
    return torch.where(small, series, direct)


def lanczos_phis(apply, v, tau, funcs, active, atol, iters, rtol=0.1):
    """([x_j], [H x_j], converged, products, rayleigh) for x_j = s_j tau phi_kj(-s_j tau H) v,
    funcs = [(s_j, k_j)], from one Krylov space (krylov.lanczos_phi for several functions);
    a student stops when every function's change is below atol (the first's also below
    rtol of its norm)."""
    B, c = v.shape[:2]
    norm = inner(v, v).sqrt()
    running = active & (norm > 0)
    xs = [torch.zeros_like(v) for _ in funcs]
    Hxs = [torch.zeros_like(v) for _ in funcs]
    done = ~running
    products = torch.zeros(B, dtype=torch.long, device=v.device)
    unit = norm.clamp_min(1e-300)[..., None, None]
    basis = [torch.where(running[..., None, None], v / unit, 0.0)]
    alpha, beta = [], []
    prev = [torch.zeros_like(v) for _ in funcs]
    for _ in range(iters):
        rows = running.any(1)
        if not bool(rows.any()):
            break
        products += rows.long()
        w, a, b, Vm, T = lanczos_extend(apply, basis, rows, running, alpha, beta)
        theta, S = torch.linalg.eigh(T)
        coefs, x_ms = [], []
        small = running.clone()
        for j, (s, k) in enumerate(funcs):
            t = s * tau[..., None]
            coef = S @ (t * phik(k, -t * theta) * S[..., 0, :])[..., None]
            coef = norm[..., None] * coef[..., 0]
            x_m = (coef[..., None, None] * Vm).sum(2)
            change = inner(x_m - prev[j], x_m - prev[j]).sqrt()
            ok = change <= atol
            if j == 0:
                ok = ok & (change <= rtol * inner(x_m, x_m).sqrt())
            small &= ok
            coefs.append(coef)
            x_ms.append(x_m)
        stop = running & (small | (b <= 1e-14 * a.abs().clamp_min(1e-300)))
        beta[-1] = torch.where(stop, 0.0, beta[-1])
        w_unit = w / b.clamp_min(1e-300)[..., None, None]
        if bool(stop.any()):
            s4 = stop[..., None, None]
            for j, coef in enumerate(coefs):
                Tc = (T @ coef[..., None])[..., 0]
                Hx_m = ((Tc[..., None, None] * Vm).sum(2)
                        + (b * coef[..., -1])[..., None, None] * w_unit)
                xs[j] = torch.where(s4, x_ms[j], xs[j])
                Hxs[j] = torch.where(s4, Hx_m, Hxs[j])
            done |= stop
            running &= ~stop
        prev = x_ms
        basis.append(torch.where(running[..., None, None], w_unit, 0.0))
    rayleigh = alpha[0] if alpha else torch.zeros(B, c, dtype=v.dtype, device=v.device)
    return xs, Hxs, done, products, rayleigh


def exprb43_step(risk, here, mu, active, opt, P=None, rtol=None):
    """One exprb43 step (the module's docstring): (step, error estimate, converged,
    products and extra gradients per data set, the flow's curvature along g)."""
    tau = 1.0 / mu
    rtol = opt.rtol if rtol is None else rtol
    atol = opt.krylov_frac * (rtol * F._norm(here.Q) + opt.atol)
    proj = F._project

    def apply(V, rows):
        return proj(risk.hvp(here.curv, proj(V, P), rows), P)

    def lanczos(v, funcs, rel):
        return lanczos_phis(apply, v, tau, funcs, active, atol, opt.cg_iters, rel)

    (full, half), (H_full, H_half), ok1, n1, along = lanczos(-here.g, [(1.0, 1), (0.5, 1)],
                                                             opt.krylov_rtol)
    _, g2 = risk.value_and_grad(here.Q + half)
    D2 = -proj(g2, P) + here.g + H_half
    (c1, c3, c4), (H_c1, _, _), ok2, n2, _ = lanczos(D2, [(1.0, 1), (1.0, 3), (1.0, 4)],
                                                      float("inf"))
    _, g3 = risk.value_and_grad(here.Q + full + c1)
    D3 = -proj(g3, P) + here.g + H_full + H_c1
    (e3, e4), _, ok3, n3, _ = lanczos(D3, [(1.0, 3), (1.0, 4)], float("inf"))
    step = full + 16 * c3 - 48 * c4 - 2 * e3 + 12 * e4
    # the gradient at U3 counts as one more product in flow's pass accounting
    return step, F._norm(12 * (e4 - 4 * c4)), ok1 & ok2 & ok3, n1 + n2 + n3 + 1, along


def install():
    """Put exprb43 into flow._step (controller order 4); returns the original _step."""
    orig = F._step

    def _step(risk, here, mu, active, opt, P, rtol, tol):
        s, err, ok, n_hvp, along = exprb43_step(risk, here, mu, active, opt, P, rtol)
        new = F._evaluate(risk, here.Q + s, P)
        qn = F._norm(here.Q)
        ratio = err / (rtol * qn + opt.atol)
        short = F._norm(s) <= opt.max_rel_step * qn
        accept = active & ok & short & (new.f <= here.f) & (ratio <= 1)
        factor = (ratio.clamp_min(1e-12) ** 0.25 / opt.safety).clamp(0.2, 5.0)
        factor = torch.where(accept, factor, torch.where(ok, factor.clamp_min(2.0), 16.0))
        mu = torch.where(active, (mu * factor).clamp_min(opt.mu_min), mu)
        return accept, new, mu, n_hvp + 1, F._bends_back(here, new, accept, along, tol)

    F._step = _step
    return orig


def order_check() -> None:
    """Local error of one step of each method against DOP853, halving tau."""
    cfg = config(30, {"alpha": 1.0, "init": "positional", "sigma": 1.0})
    _, X, Y, Q0 = problem(cfg)
    risk = Risk(X, Y, cfg.lam)

    def rhs(_t, q):
        _, g = risk.value_and_grad(torch.from_numpy(q.reshape(1, 1, -1, 1)))
        return -g.numpy().ravel()

    def exact(q, t):
        return solve_ivp(rhs, (0, t), q, rtol=1e-13, atol=1e-15, method="DOP853").y[:, -1]

    q0 = exact(Q0.numpy().ravel(), 5.0)  # into the curved part of the path
    here = F._Point.at(risk, torch.from_numpy(q0.reshape(1, 1, -1, 1).copy()))
    opt = F.FlowOptions(rtol=1e-14, krylov_frac=1e-6)
    active = torch.ones(1, 1, dtype=torch.bool)
    for tau in (4.0, 2.0, 1.0, 0.5):
        ref = exact(q0, tau)
        mu = torch.tensor([[1.0 / tau]], dtype=torch.float64)
        s4, e4, *_ = exprb43_step(risk, here, mu, active, opt)
        s3, e3, *_ = F.exprb32_step(risk, here, mu, active, opt)
        err4 = np.linalg.norm(q0 + s4.numpy().ravel() - ref)
        err3 = np.linalg.norm(q0 + s3.numpy().ravel() - ref)
        print(f"tau {tau:4}: exprb43 error {err4:.3e} (estimate {float(e4):.3e}), "
              f"exprb32 error {err3:.3e} (estimate {float(e3):.3e})")


def compare(regimes: list[dict], opts: dict) -> None:
    """Both methods per regime at d = 1000: steps, passes, wall time, the end point."""
    for change in regimes:
        cfg = config(1000, change)
        ds, X, Y, Q0 = problem(cfg)
        out: dict = {"regime": change}
        ends = {}
        for name in ("exprb32", "exprb43"):
            orig = install() if name == "exprb43" else None
            start = time.perf_counter()
            Q, R, _, steps, passes, _ = F.flow(Risk(X, Y, cfg.lam), Q0, 100_000, cfg.tol,
                                               options=F.FlowOptions(**opts))
            ends[name] = summary(Q, R, ds, cfg.d)
            out[name] = {"steps": int(steps), "passes": int(passes),
                         "s": round(time.perf_counter() - start, 2),
                         **{k: ends[name][k] for k in ("eps_t", "theta", "m")}}
            if orig is not None:
                F._step = orig
        out["same point"] = same_point(ends["exprb32"], ends["exprb43"])
        out["passes ratio"] = round(out["exprb43"]["passes"] / out["exprb32"]["passes"], 3)
        print(json.dumps(out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("regimes", nargs="?", default='[{}, {"alpha": 0.5}, {"alpha": 1.0}, '
                    '{"init": "positional"}, {"omega": 0.9}, {"alpha": 0.05}]')
    ap.add_argument("--options", default='{"screen": null}', help="FlowOptions (JSON)")
    ap.add_argument("--order", action="store_true", help="the order check only")
    args = ap.parse_args()
    if args.order:
        order_check()
    else:
        compare(json.loads(args.regimes), json.loads(args.options))


if __name__ == "__main__":
    main()
