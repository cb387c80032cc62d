"""The positional stationary point that gradient flow reaches (rank 1, theta = 0).

The theory's fixed point (docs/model.md §5) sends every sample to its *global* prox. A
student trained from the positional initialisation starts with every sample's gap
h_1 - h_2 > 0 and ends with far fewer samples in the mirror half-plane h_1 < h_2 than the
global prox puts there (docs/theory.md, "The forward prox"). The *forward* prox keeps a
sample where that start leaves it: the lowest local minimum of the one-sample problem with
h_1 >= h_2, and the global minimiser only where the problem has no forward local minimum.
Everything else is the published theta = 0 equations (Stein's form of Vh, eps_t = -Phi).

The forward prox jumps where a sample's forward minimum disappears, a fold of the
one-sample problem that the split rule (which follows the global prox's switches) does not
see; the expectations therefore use scrambled Sobol points mapped to N(0, I_4), and the
error bar of a point is the spread over independent scramblings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import norm, qmc

from .channel import Problem, check_A, loss, teacher_diag
from .fixed_point import TheoryPoint, order_params, outputs_from
from .mixing import mix
from .prox import polish, prox_global

LOG2N = 14  # Sobol points per scrambling: 2^14
SCRAMBLES = 4
OUTPUTS = ("q", "m", "V", "eps_g", "eps_t", "reversed")


def prox_forward(w: np.ndarray, T: np.ndarray, V: float, sigma: float,
                 n_grid: int = 15) -> np.ndarray:
    """Forward prox of every row of w (N, 2), T (N, 2): the lowest local minimum with
    h_1 >= h_2, else the global minimiser.

    Candidates: the global search's minimum in each sign sector of (h_1, h_2, h_1 - h_2),
    and Newton descents from w and from w mirrored (h_1 <-> h_2), each polished to a local
    minimum (the polish never increases the objective).
    """
    w = np.ascontiguousarray(w, dtype=float)
    found = prox_global(w, T, V, sigma, n_grid, keep=6)
    starts = np.concatenate([found.offsets + w[:, None, :], w[:, None, :],
                             w[:, None, ::-1]], axis=1)
    N, K, _ = starts.shape
    hh, val = polish(starts.reshape(-1, 2), np.repeat(w, K, axis=0),
                     np.repeat(np.asarray(T, dtype=float), K, axis=0), V, sigma,
                     max_steps=400)
    hh, val = hh.reshape(N, K, 2), val.reshape(N, K)
    val = np.where(hh[..., 0] >= hh[..., 1], val, np.inf)
    best = np.argmin(val, axis=1)
    rows = np.arange(N)
    h = found.h.copy()
    has = np.isfinite(val[rows, best])
    h[has] = hh[rows[has], best[has]]
    return h


def gaussian_points(log2n: int, seed: int) -> np.ndarray:
    """2^log2n scrambled Sobol points mapped to N(0, I_4): columns (xi_1, xi_2, eta_1, eta_2)."""
    u = qmc.Sobol(4, scramble=True, seed=seed).random_base2(log2n)
    return norm.ppf(np.clip(u, 1e-15, 1.0 - 1e-15))


class ForwardMap:
    """The theta = 0 map x = (q_th, m_th, V) -> new x on one set of points."""

    def __init__(self, pb: Problem, points: np.ndarray):
        self.pb, self.xi = pb, points[:, :2]
        self.T = teacher_diag(pb.sigma * points[:, 2:], pb.omega, pb.A)

    def hats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Conjugates (qh, mh, 0, Vh), student means w and forward prox outputs at x."""
        q, m, V = x
        alpha = self.pb.alpha
        w = np.sqrt(q) * self.xi + np.array([m, -m])
        hp = prox_forward(w, self.T, V, self.pb.sigma)
        f = (hp - w) / V
        mh = alpha * np.mean(f[:, 0] - f[:, 1])
        qh = alpha * np.mean(np.sum(f * f, axis=1))
        Vh = -alpha / np.sqrt(q) * np.mean(np.sum(f * self.xi, axis=1))
        return np.array([qh, mh, 0.0, Vh]), w, hp

    def __call__(self, x: np.ndarray) -> np.ndarray:
        q, m, _, V = order_params(self.hats(x)[0], self.pb)
        return np.array([q, m, V])


def solve_forward(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
                  A: Sequence[Sequence[float]] | None = None,
                  init: TheoryPoint | Sequence[float] | None = None, log2n: int = LOG2N,
                  seed: int = 0, tol: float = 1e-7, max_iter: int = 300,
                  damping: float = 0.8, anderson: int = 4) -> TheoryPoint:
    """The forward fixed point at one alpha on the scrambling `seed` of 2^log2n points.

    `init`: a previous point (continuation) or (q_th, m_th, V); default a cold start at
    q_th = 0.1 sigma^2, m_th = 0.2, V = 10. Damped steps (the old state's weight `damping`),
    Anderson-accelerated after 10 of them. `branch` of the result is "forward".
    """
    if not (alpha > 0 and sigma > 0 and lam >= 0 and 0 <= omega <= 1):
        raise ValueError(f"alpha={alpha}, omega={omega}, sigma={sigma}, lam={lam}: expected "
                         "alpha > 0, omega in [0, 1], sigma > 0, lam >= 0")
    if not 6 <= log2n <= 22:
        raise ValueError(f"log2n={log2n}: expected an integer in 6..22")
    pb = Problem(float(alpha), float(omega), float(sigma), float(lam), check_A(A), "positional")
    fmap = ForwardMap(pb, gaussian_points(log2n, seed))
    if isinstance(init, TheoryPoint):
        x = np.array([init.th["q_th"], init.th["m_th"], init.V])
    elif init is not None:
        x = np.array(init, dtype=float)
    else:
        x = np.array([0.1 * pb.rho, 0.2, 10.0])
    xs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    residual, converged, it = np.inf, False, 0
    for it in range(1, max_iter + 1):
        fx = fmap(x)
        if not np.all(np.isfinite(fx)) or fx[0] <= 0:
            break
        residual = float(np.max(np.abs(fx - x) / np.abs(x)))
        if residual < tol:
            x, converged = fx, True
            break
        x = mix(x, fx, xs, gs, damping, anderson if it > 10 else 0,
                lambda c: c if c[0] > 0 and c[2] > 0 else None)
    hats, w, hp = fmap.hats(x)
    T, s2 = fmap.T, pb.sigma**2
    value = np.sum((hp - w) ** 2, axis=1) / x[2] + loss(hp, T, pb.sigma)
    full = np.array([x[0], x[1], 0.0, x[2]])
    eps_g, eps_t, phi = outputs_from(full, hats, pb, float(np.mean(loss(w, T, pb.sigma))),
                                     float(np.mean(value)))
    reversed_ = float(np.mean(hp[:, 0] - hp[:, 1] < -0.5))
    return TheoryPoint(pb.alpha, pb.omega, pb.sigma, pb.lam, "forward", x[0] / s2,
                       abs(x[1]), 0.0, x[2], eps_g, eps_t, converged, it, residual,
                       {"q_th": x[0], "m_th": x[1], "theta_th": 0.0, "V": x[2],
                        "qh": hats[0], "mh": hats[1], "thh": 0.0, "Vh": hats[3],
                        "phi": phi, "reversed": reversed_},
                       quad=0, split=False, A=tuple(map(tuple, pb.A)),
                       note=f"sobol 2^{log2n}, scrambling {seed}")


def forward_curve(alphas: Sequence[float], omega: float = 0.3, sigma: float = 0.5,
                  lam: float = 0.01, A: Sequence[Sequence[float]] | None = None,
                  log2n: int = LOG2N, scrambles: int = SCRAMBLES) -> list[dict]:
    """Rows along `alphas` (continuation per scrambling): the mean over `scrambles`
    scramblings of q, m, V, eps_g, eps_t and the fraction of samples with
    h_1 - h_2 < -0.5 (`reversed`), with err_* their standard errors (None for one)."""
    if scrambles < 1:
        raise ValueError(f"scrambles={scrambles}: expected >= 1")
    runs = []
    for seed in range(scrambles):
        prev, pts = None, []
        for a in alphas:
            pt = solve_forward(a, omega, sigma, lam, A, init=prev, log2n=log2n, seed=seed)
            pts.append(pt)
            prev = pt if pt.converged else prev
        runs.append(pts)
    rows = []
    for i, a in enumerate(alphas):
        pts = [run[i] for run in runs]
        vals = {k: np.array([p.th["reversed"] if k == "reversed" else getattr(p, k)
                             for p in pts]) for k in OUTPUTS}
        row: dict = {"alpha": float(a), "omega": float(omega), "sigma": float(sigma),
                     "lam": float(lam), "branch": "forward"}
        row |= {k: float(v.mean()) for k, v in vals.items()}
        row |= {f"err_{k}": float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None
                for k, v in vals.items()}
        row |= {"converged": all(p.converged for p in pts),
                "iterations": max(p.iterations for p in pts), "scrambles": scrambles,
                "points": 2**log2n}
        rows.append(row)
    return rows
