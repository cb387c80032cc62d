"""The stationary points gradient flow reaches from each initialisation (rank 1): the
init-side prox.

The theory's fixed point (docs/model.md §5) sends every sample to its *global* prox. The
one-sample loss is even in h (S(-h) = S(h)), so its minima come in mirror pairs, and the
global prox takes a sample to whichever copy is lower. Trained students do not: a sample's
preactivations move continuously from where the initialisation puts them, and the students
keep far fewer samples on the far side of the mirror line than the global prox does
(docs/theory.md, "The init-side prox"). The *init-side prox* keeps each sample on its
initial side, h . r >= 0, with r its preactivation at the initialisation: r = (1, -1) from
the positional one (Q = 1_d / sqrt(d); there h . r = h_1 - h_2, the *forward* half-plane),
r = h* from the semantic one (Q = Q*, where h = h* at the start). It is the lowest local
minimum of the one-sample problem on that side, and the global minimiser only where that
side holds no local minimum. Everything else is the published equations (Stein's forms of
thh and Vh, eps_t = -Phi).

The prox jumps where a sample's minimum on its side disappears (a fold of the one-sample
problem), a curve the split rule (which follows the global prox's switches) does not see;
the expectations therefore use scrambled Sobol points mapped to N(0, I_4), and a point's
error bar is the spread over independent scramblings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtri

from ..transitions import downcrossing
from .channel import Inputs, Problem, check_A, loss
from .fixed_point import TheoryPoint, order_params, outputs_from, relative_change
from .mixing import mix
from .prox import polish, prox_global

BRANCHES = ("semantic", "positional")
LOG2N = 14  # Sobol points per scrambling: 2^14
SCRAMBLES = 4
OUTPUTS = ("q", "m", "theta", "V", "eps_g", "eps_t", "reversed")
CYCLE_AFTER, CYCLE_TAIL = 60, 40  # Anderson steps before plain ones; the cycle averaged
THETA_MIN = 1e-3  # a semantic point with theta below this fell onto the theta = 0 branch
JUMP_TOL = 5e-4  # a cycle's mean is converged below this relative step (scramblings: ~1e-3)


def prox_side(w: np.ndarray, T: np.ndarray, r: np.ndarray, V: float, sigma: float,
              n_grid: int = 15) -> np.ndarray:
    """Init-side prox of every row of w (N, 2), T (N, 2): the lowest local minimum with
    h . r >= 0 (r (N, 2) or (2,)), else the global minimiser.

    Candidates: the global search's minimum in each sign sector of (h_1, h_2, h_1 - h_2),
    and Newton descents from w, -w and w with h_1, h_2 swapped, each polished to a local
    minimum (the polish never increases the objective).
    """
    w = np.ascontiguousarray(w, dtype=float)
    found = prox_global(w, T, V, sigma, n_grid, keep=6)
    starts = np.concatenate([found.offsets + w[:, None, :], w[:, None, :], -w[:, None, :],
                             w[:, None, ::-1]], axis=1)
    N, K, _ = starts.shape
    hh, val = polish(starts.reshape(-1, 2), np.repeat(w, K, axis=0),
                     np.repeat(np.asarray(T, dtype=float), K, axis=0), V, sigma,
                     max_steps=400)
    hh, val = hh.reshape(N, K, 2), val.reshape(N, K)
    side = np.sum(hh * np.broadcast_to(r, (N, 2))[:, None, :], axis=-1) >= 0
    val = np.where(side, val, np.inf)
    best = np.argmin(val, axis=1)
    rows = np.arange(N)
    h = found.h.copy()
    has = np.isfinite(val[rows, best])
    h[has] = hh[rows[has], best[has]]
    return h


def gaussian_points(log2n: int, seed: int) -> np.ndarray:
    """2^log2n points of N(0, I_4), columns (xi_1, xi_2, eta_1, eta_2): 2^(log2n - 1)
    scrambled Sobol points mapped through the normal quantile, and their images under the
    token swap (xi_1, eta_1) <-> (xi_2, eta_2). The swap makes the rule exact for the
    model's token symmetry: with a swap-symmetric A the semantic branch keeps m = 0 exactly
    instead of wandering by the prox's jumps at a few points."""
    from scipy.stats import qmc  # scipy.stats is slow to import: only when points are made

    u = qmc.Sobol(4, scramble=True, seed=seed).random_base2(log2n - 1)
    z = ndtri(np.clip(u, 1e-15, 1.0 - 1e-15))
    return np.concatenate([z, z[:, [1, 0, 3, 2]]])


class SideMap:
    """The map x = (q_th, m_th, theta_th, V) -> new x with the init-side prox, on one set of
    points; theta is held at 0 on the positional branch."""

    def __init__(self, pb: Problem, points: np.ndarray):
        self.pb, self.points = pb, points
        self.xi, self.eta = points[:, :2], points[:, 2:]

    def hats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Conjugates (qh, mh, thh, Vh), student means w, teacher diagonals T and the prox
        outputs hp at x."""
        q, _, th, V = x
        pb, xi, eta = self.pb, self.xi, self.eta
        inp = Inputs.at_state(x, pb)
        w, T = inp(self.points)
        r = np.array([1.0, -1.0]) if pb.branch == "positional" else inp.a * xi + inp.b * eta
        hp = prox_side(w, T, r, V, pb.sigma)
        f = (hp - w) / V
        mh = pb.alpha * np.mean(f[:, 0] - f[:, 1])
        qh = pb.alpha * np.mean(np.sum(f * f, axis=1))
        thh = 0.0
        if pb.branch == "semantic" and inp.b > 0:
            thh = pb.alpha / inp.b * np.mean(np.sum(f * eta, axis=1))
        Vh = -pb.alpha / np.sqrt(q) * np.mean(np.sum(f * xi, axis=1)) + th * thh / q
        return np.array([qh, mh, thh, Vh]), w, T, hp

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return order_params(self.hats(x)[0], self.pb)


def _start(init, pb: Problem) -> np.ndarray:
    if isinstance(init, TheoryPoint):
        return np.array([init.th["q_th"], init.th["m_th"], init.th["theta_th"], init.V])
    if init is not None:
        return np.array(init, dtype=float)
    if pb.branch == "semantic":
        return np.array([pb.rho, 0.0, 0.9 * pb.rho, 1.0])
    return np.array([0.1 * pb.rho, 0.2, 0.0, 10.0])


def solve_side(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
               A: Sequence[Sequence[float]] | None = None, branch: str = "positional",
               init: TheoryPoint | Sequence[float] | None = None, log2n: int = LOG2N,
               seed: int = 0, tol: float = 1e-7, max_iter: int = 160,
               anderson: int = 4) -> TheoryPoint:
    """The init-side fixed point of `branch` at one alpha on the scrambling `seed` of
    2^log2n points.

    `init`: a previous point (continuation) or (q_th, m_th, theta_th, V); default a cold
    start (semantic: q_th = sigma^2, theta_th = 0.9 sigma^2, V = 1; positional:
    q_th = 0.1 sigma^2, m_th = 0.2, V = 10). Damped steps (the old state's weight 0.5 on the
    semantic, 0.8 on the positional branch), Anderson-accelerated after 10 of them; past
    CYCLE_AFTER steps plain damped ones, and where those cycle (the prox jumps at a few
    points as the state moves) the cycle's mean, converged if one step moves it by less
    than JUMP_TOL (relative).
    """
    if branch not in BRANCHES:
        raise ValueError(f"branch={branch!r}: expected one of {', '.join(BRANCHES)}")
    if not (alpha > 0 and sigma > 0 and lam >= 0 and 0 <= omega <= 1):
        raise ValueError(f"alpha={alpha}, omega={omega}, sigma={sigma}, lam={lam}: expected "
                         "alpha > 0, omega in [0, 1], sigma > 0, lam >= 0")
    if not 6 <= log2n <= 22:
        raise ValueError(f"log2n={log2n}: expected an integer in 6..22")
    pb = Problem(float(alpha), float(omega), float(sigma), float(lam), check_A(A), branch)
    smap = SideMap(pb, gaussian_points(log2n, seed))
    x = _start(init, pb)
    damping = 0.5 if branch == "semantic" else 0.8
    xs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    residual, converged, it = np.inf, False, 0
    tail: list[np.ndarray] = []
    for it in range(1, max_iter + 1):
        fx = smap(x)
        if not np.all(np.isfinite(fx)) or fx[0] <= 0:
            break
        residual = relative_change(x, fx, pb)
        if residual < tol:
            x, converged = fx, True
            break
        if it > CYCLE_AFTER:  # plain damped steps, whose cycle is averaged below
            x = x + (1.0 - damping) * (fx - x)
            tail.append(x)
        else:
            x = mix(x, fx, xs, gs, damping, anderson if it > 10 else 0,
                    lambda c: c if c[0] > 0 and c[3] > 0 and c[2] ** 2 < c[0] * pb.rho
                    else None)
    if not converged and len(tail) >= CYCLE_TAIL:
        # at finite points the prox's jumps can leave a cycle instead of a fixed point: its
        # mean is the point where one step moves it by less than JUMP_TOL
        mean = np.mean(tail[-CYCLE_TAIL:], axis=0)
        residual = relative_change(mean, smap(mean), pb)
        x, converged = mean, residual < JUMP_TOL
    hats, w, T, hp = smap.hats(x)
    value = np.sum((hp - w) ** 2, axis=1) / x[3] + loss(hp, T, pb.sigma)
    eps_g, eps_t, phi = outputs_from(x, hats, pb, float(np.mean(loss(w, T, pb.sigma))),
                                     float(np.mean(value)))
    s2 = pb.sigma**2
    th = dict(zip(("q_th", "m_th", "theta_th", "V"), map(float, x), strict=True))
    th |= dict(zip(("qh", "mh", "thh", "Vh"), map(float, hats), strict=True))
    th |= {"phi": float(phi), "reversed": float(np.mean(hp[:, 0] - hp[:, 1] < -0.5))}
    return TheoryPoint(pb.alpha, pb.omega, pb.sigma, pb.lam, branch, x[0] / s2, abs(x[1]),
                       abs(x[2]) / s2, x[3], eps_g, eps_t, converged, it, residual, th,
                       quad=0, split=False,
                       A=tuple(tuple(float(v) for v in row) for row in pb.A),
                       note=f"init-side prox, sobol 2^{log2n}, scrambling {seed}")


def side_curve(alphas: Sequence[float], omega: float = 0.3, sigma: float = 0.5,
               lam: float = 0.01, A: Sequence[Sequence[float]] | None = None,
               branch: str = "positional", log2n: int = LOG2N,
               scrambles: int = SCRAMBLES) -> list[dict]:
    """Rows along `alphas` (continuation per scrambling, from the largest alpha down on the
    semantic branch, where it is far from its end): the mean over `scrambles` scramblings
    of q, m, theta, V, eps_g, eps_t and the fraction of samples with h_1 - h_2 < -0.5
    (`reversed`), with err_* their standard errors (None for one scrambling)."""
    if scrambles < 1:
        raise ValueError(f"scrambles={scrambles}: expected >= 1")
    order = sorted(range(len(alphas)), key=lambda i: alphas[i],
                   reverse=branch == "semantic")
    runs = []
    for seed in range(scrambles):
        prev, pts = None, {}
        for i in order:
            pt = solve_side(alphas[i], omega, sigma, lam, A, branch, init=prev, log2n=log2n,
                            seed=seed)
            pts[i] = pt
            prev = pt if pt.converged else prev
        runs.append(pts)
    rows = []
    for i, a in enumerate(alphas):
        pts = [run[i] for run in runs]
        vals = {k: np.array([p.th["reversed"] if k == "reversed" else getattr(p, k)
                             for p in pts]) for k in OUTPUTS}
        row: dict = {"alpha": float(a), "omega": float(omega), "sigma": float(sigma),
                     "lam": float(lam), "branch": branch, "prox": "side"}
        row |= {k: float(v.mean()) for k, v in vals.items()}
        row |= {f"err_{k}": float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None
                for k, v in vals.items()}
        row |= {"converged": all(p.converged for p in pts),
                "iterations": max(p.iterations for p in pts), "scrambles": scrambles,
                "points": 2**log2n}
        rows.append(row)
    return rows


def side_deltas(alphas: Sequence[float], omega: float = 0.3, sigma: float = 0.5,
                lam: float = 0.01, A: Sequence[Sequence[float]] | None = None,
                log2n: int = LOG2N, scrambles: int = SCRAMBLES) -> np.ndarray:
    """delta_eps_t = eps_t(semantic) - eps_t(positional) of the init-side branches at
    `alphas`, shape (scrambles, len(alphas)); both branches of a scrambling share its
    points, continued from the largest alpha down. NaN where a point did not converge or
    the semantic one fell onto theta = 0 (below THETA_MIN)."""
    out = np.full((scrambles, len(alphas)), np.nan)
    for seed in range(scrambles):
        prev: dict[str, TheoryPoint | None] = {b: None for b in BRANCHES}
        for i in sorted(range(len(alphas)), key=lambda k: -alphas[k]):
            pts = {b: solve_side(alphas[i], omega, sigma, lam, A, b, init=prev[b],
                                 log2n=log2n, seed=seed) for b in BRANCHES}
            ok = {b: p.converged and (b == "positional" or p.theta > THETA_MIN)
                  for b, p in pts.items()}
            prev = {b: pts[b] if ok[b] else prev[b] for b in BRANCHES}
            if all(ok.values()):
                out[seed, i] = pts["semantic"].eps_t - pts["positional"].eps_t
    return out


def side_boundary(omega: float, alphas: Sequence[float], sigma: float = 0.5,
                  lam: float = 0.01, A: Sequence[Sequence[float]] | None = None,
                  log2n: int = LOG2N, scrambles: int = SCRAMBLES) -> dict:
    """alpha_c of the init-side branches at one omega: the last down-crossing of
    delta_eps_t on the grid `alphas` per scrambling (linear interpolation, the rule of
    `attnphase.transitions`), mean ± standard error over the scramblings that cross
    (None where none does)."""
    delta = side_deltas(alphas, omega, sigma, lam, A, log2n, scrambles)
    per = np.array([downcrossing(alphas, d) for d in delta])
    per = per[np.isfinite(per)]
    n = np.isfinite(delta).sum(axis=0)
    mean = np.where(n > 0, np.nansum(delta, axis=0) / np.maximum(n, 1), np.nan)
    return {"omega": float(omega), "alpha_c": float(per.mean()) if len(per) else None,
            "alpha_c_err": float(per.std(ddof=1) / np.sqrt(len(per)))
            if len(per) > 1 else None, "crossing_scramblings": len(per),
            "scrambles": scrambles, "points": 2**log2n,
            "alphas": " ".join(f"{a:.6g}" for a in alphas),
            "delta_eps_t": " ".join(f"{v:.4g}" for v in mean)}
