"""Fixed point of the saddle-point equations (docs/model.md §5) for L = 2, rank 1.

The state is `x = (q, m, theta, V)` in the theory's normalisation (q_th = sigma^2 q,
m_th = m, theta_th = sigma^2 theta). One step maps x to the conjugates (qh, mh, thh, Vh)
through Gaussian expectations of the proximal step, then back to a new x. The map is odd in
m and in theta (signs carry no meaning): the iteration starts from m, theta >= 0 and the
outputs report absolute values, but the residual keeps signs, so a sign-flipping 2-cycle is
never mistaken for a fixed point.
Iteration: damped steps accelerated by Anderson mixing, with the global prox search re-run
periodically and always once more at the candidate fixed point before declaring convergence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .channel import DEFAULT_A, Inputs, Problem, check_A, loss
from .mixing import mix
from .prox import ProxResult, prox_global, refine
from .quadrature import LineRule, line_rule
from .split import Nodes, split_nodes

BRANCHES = ("semantic", "positional", "trivial")
DEFAULT_QUAD = 8
LOST_PROBE = 4  # past a lost branch, a cold start at every 4th point only
MAX_ITER = 300  # iterations of one solve, at most (the default of `solve`)
PLAIN_UNTIL = 1e-3  # cold starts: plain-rule steps until the relative change is below this


@dataclass
class TheoryPoint:
    """One fixed point. Public fields follow docs/model.md §4; `th` keeps the theory's values."""

    alpha: float
    omega: float
    sigma: float
    lam: float
    branch: str
    q: float
    m: float
    theta: float
    V: float
    eps_g: float
    eps_t: float
    converged: bool
    iterations: int
    residual: float
    th: dict[str, float] = field(default_factory=dict)
    quad: int = DEFAULT_QUAD
    split: bool = True
    A: tuple[tuple[float, float], tuple[float, float]] = DEFAULT_A
    note: str = ""  # why a point is not usable, where known (e.g. the branch ends nearby)
    _prox: tuple | None = field(default=None, repr=False, compare=False)

    def row(self) -> dict[str, float | str | bool | int | None]:
        """Flat dict of the public fields (for JSON / CSV); non-finite numbers become None."""
        keys = ("alpha", "omega", "sigma", "lam", "branch", "q", "m", "theta", "V",
                "eps_g", "eps_t", "converged", "iterations", "residual")
        row = {k: getattr(self, k) for k in keys}
        return {k: None if isinstance(v, float) and not np.isfinite(v) else v
                for k, v in row.items()}


class _Channel:
    """Expectations over the quadrature rule, with the prox minima carried between calls.

    The minimisers are tracked at the rule's probes (`LineRule`); with `split` the nodes of
    each state are rebuilt around the prox's basin switches (`split.split_nodes`).
    """

    def __init__(self, pb: Problem, rule: LineRule, n_grid: int, split: bool = True):
        self.pb, self.rule, self.n_grid, self.split = pb, rule, n_grid, split
        self.probes = rule.probes
        self.prox: ProxResult | None = None
        self.nodes: Nodes | None = None
        self._V = None

    def run_prox(self, w, T, V: float, global_search: bool) -> ProxResult:
        sigma = self.pb.sigma
        if global_search or self.prox is None:
            found = prox_global(w, T, V, sigma, self.n_grid)
            if self.prox is not None:  # keep the tracked minima as extra candidates
                offsets = np.concatenate([found.offsets, self._scaled(V)], axis=1)
                found = refine(w, T, V, sigma, offsets)
        else:
            found = refine(w, T, V, sigma, self._scaled(V))
        self.prox, self._V = found, V
        return found

    def _scaled(self, V: float) -> np.ndarray:
        return self.prox.offsets * np.sqrt(V / self._V)

    def conjugates(self, x: np.ndarray, global_search: bool) -> np.ndarray:
        """(qh, mh, thh, Vh) at state x; the nodes used are kept in `self.nodes`."""
        q, m, th, V = x
        pb = self.pb
        inputs = Inputs.at_state(x, pb)
        w, T = inputs(self.probes)
        res = self.run_prox(w, T, V, global_search)
        if self.split:
            nd = split_nodes(self.rule, res, inputs, V, pb.sigma, at_probes=(w, T))
        else:
            nd = Nodes(self.probes, self.rule.weights, w, T, res.h, res.value)
        self.nodes = nd
        wt, xi, eta = nd.weights, nd.points[:, :2], nd.points[:, 2:]
        f = (nd.h - nd.w) / V
        mh = pb.alpha * wt @ (f[:, 0] - f[:, 1])
        qh = pb.alpha * wt @ np.sum(f * f, axis=1)
        thh = 0.0
        resid = inputs.b
        if pb.branch == "semantic" and resid > 0:
            thh = pb.alpha / resid * (wt @ np.sum(f * eta, axis=1))
        Vh = -pb.alpha / np.sqrt(q) * (wt @ np.sum(f * xi, axis=1)) + th * thh / q
        if pb.branch == "trivial":
            mh = 0.0
        return np.array([qh, mh, thh, Vh])


def order_params(hats: np.ndarray, pb: Problem) -> np.ndarray:
    """New (q, m, theta, V) from the conjugates."""
    qh, mh, thh, Vh = hats
    s2 = pb.sigma**2
    D = pb.lam + s2 * Vh
    if not D > 0:
        return np.full(4, np.nan)
    q = s2 * (s2 * qh + mh**2 + s2 * pb.rho * thh**2) / D**2
    return np.array([q, mh / D, s2 * pb.rho * thh / D, s2 / D])


def relative_change(x: np.ndarray, fx: np.ndarray, pb: Problem) -> float:
    """Largest change relative to max(|x|, 1% of the natural scale: rho for q, theta; 1 else)."""
    floor = 0.01 * np.array([pb.rho, 1.0, pb.rho, 1.0])
    return float(np.max(np.abs(fx - x) / np.maximum(np.abs(x), floor)))


def _initial(pb: Problem) -> np.ndarray:
    rho = pb.rho
    if pb.branch == "semantic":
        return np.array([rho, 0.0, 0.9 * rho, 1.0])
    if pb.branch == "positional":
        return np.array([0.1 * rho, 0.5, 0.0, 1.0])
    # m = theta = 0: V is of order sigma^2 / lam there; from small q (or V = 1) the first
    # step has lam + sigma^2 Vh < 0 for alpha >~ 1.7, where the map is undefined
    return np.array([0.5 * rho, 0.0, 0.0, 0.5 * pb.sigma**2 / max(pb.lam, 1e-3)])


def _outputs(x: np.ndarray, hats: np.ndarray, ch: _Channel) -> tuple[float, float, float]:
    """(eps_g, eps_t, Phi) at state x with conjugates hats (prox already run at x)."""
    nd = ch.nodes
    return outputs_from(x, hats, ch.pb, float(nd.weights @ loss(nd.w, nd.T, ch.pb.sigma)),
                        float(nd.weights @ nd.value))


def outputs_from(x: np.ndarray, hats: np.ndarray, pb: Problem, e_loss: float,
                 e_value: float) -> tuple[float, float, float]:
    """(eps_g, eps_t, Phi) from the expectations of the loss at w and of the prox value."""
    q, m, th, V = x
    qh, mh, thh, Vh = hats
    s2 = pb.sigma**2
    D = pb.lam + s2 * Vh
    phi = ((Vh * q - qh * V) / 2 - m * mh - th * thh
           + (s2 * qh + mh**2 + s2 * pb.rho * thh**2) / (2 * D) - pb.alpha / 2 * e_value)
    return 0.5 * e_loss, -phi, phi


def solve(alpha: float, omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
          A: Sequence[Sequence[float]] | None = None, branch: str = "semantic",
          init: TheoryPoint | Sequence[float] | None = None, damping: float | None = None,
          tol: float = 1e-6, max_iter: int = MAX_ITER, quad: int = DEFAULT_QUAD,
          anderson: int = 4, research_every: int = 10, n_grid: int = 15,
          split: bool = True) -> TheoryPoint:
    """Solve the fixed-point equations at one alpha on one branch.

    `init` is a previous TheoryPoint (continuation) or theory values (q_th, m_th, theta_th, V).
    `damping` is the weight of the old state in a plain step (default 0.8 on the positional
    branch, where m otherwise flips sign from step to step, 0.5 elsewhere); `anderson` the
    Anderson memory (0: plain damped iteration; from a cold start on the theta = 0 branches
    it begins after 20 plain steps); `quad` the Gauss-Hermite nodes per variable; `n_grid`
    the points per side of the prox search grid; `split` cuts the quadrature lines at the
    prox's basin switches (`split.py`; False: the plain product rule). Convergence means:
    relative change below `tol` at a step that used the global prox search.
    """
    if branch not in BRANCHES:
        raise ValueError(f"branch={branch!r}: expected one of {', '.join(BRANCHES)}")
    if not (alpha > 0 and sigma > 0 and lam >= 0 and 0 <= omega <= 1):
        raise ValueError(f"alpha={alpha}, omega={omega}, sigma={sigma}, lam={lam}: expected "
                         "alpha > 0, omega in [0, 1], sigma > 0, lam >= 0")
    if n_grid < 3 or n_grid % 2 == 0:
        raise ValueError(f"n_grid={n_grid}: expected an odd number >= 3")
    if damping is None:
        damping = 0.8 if branch == "positional" else 0.5
    pb = Problem(float(alpha), float(omega), float(sigma), float(lam), check_A(A), branch)
    ch = _Channel(pb, line_rule(quad, even_in_eta=branch != "semantic"), n_grid, split)
    if (isinstance(init, TheoryPoint) and init.quad == quad and init._prox is not None
            and init._prox[0].h.shape[0] == ch.probes.shape[0]):
        ch.prox, ch._V = init._prox
    x = _start(init, pb)
    # from cold, plain damped steps first on the theta = 0 branches: Anderson's early
    # extrapolations can land on another of their several solutions
    warmup = 20 if init is None and branch != "semantic" else 0
    xs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    residual, it, converged = np.inf, 0, False
    since_search = 0 if ch.prox is not None else research_every
    # from a cold start the split rule is switched on only near the fixed point (the plain
    # rule's fixed point lies within ~2% of it): the early steps do not need it
    ch.split = split and isinstance(init, TheoryPoint)
    while it < max_iter:
        it += 1
        full = since_search >= research_every
        since_search = 0 if full else since_search + 1
        hats = ch.conjugates(x, global_search=full)
        fx = _constrain(order_params(hats, pb), pb)
        if not np.all(np.isfinite(fx)):
            break
        residual = relative_change(x, fx, pb)
        if ch.split != split and (residual < PLAIN_UNTIL or it >= max_iter // 3):
            ch.split = split
            xs.clear()
            gs.clear()
            continue
        if residual < tol:
            if full:
                converged = True
                break
            since_search = research_every  # verify with the global search next round
            continue
        x = _mix(x, fx, xs, gs, damping, anderson if it > warmup else 0, pb)
    if not converged:  # outputs at the final state, from a global prox there
        hats = ch.conjugates(x, global_search=True)
    eps_g, eps_t, phi = _outputs(x, hats, ch)
    pt = _point(pb, x, hats, eps_g, eps_t, phi, converged, it, residual)
    pt.quad, pt.split, pt._prox = quad, split, (ch.prox, ch._V)
    pt.A = tuple(map(tuple, pb.A.tolist()))
    return pt


def stability(pt: TheoryPoint, n_grid: int = 15) -> float:
    """Largest real part of the eigenvalues of the undamped map's Jacobian at `pt`.

    The Jacobian is taken without the branch constraints (theta free), so on the positional
    branch it includes the growth of a small theta. Values above 1 mark an unstable fixed
    point; the crossing of 1 along alpha is a spinodal.
    """
    pb = Problem(pt.alpha, pt.omega, pt.sigma, pt.lam, check_A(pt.A), "semantic")
    ch = _Channel(pb, line_rule(pt.quad), n_grid, pt.split)
    x0 = np.array([pt.th["q_th"], pt.th["m_th"], pt.th["theta_th"], pt.th["V"]])
    base = pt._prox

    def F(x: np.ndarray) -> np.ndarray:
        if base is not None:
            ch.prox, ch._V = base
        return order_params(ch.conjugates(x, global_search=base is None), pb)

    f0 = F(x0)
    steps = 1e-5 * np.maximum(np.abs(x0), 0.01 * np.array([pb.rho, 1.0, pb.rho, 1.0]))
    J = np.empty((4, 4))
    for i in range(4):
        x = x0.copy()
        x[i] += steps[i]
        J[:, i] = (F(x) - f0) / steps[i]
    return float(np.max(np.linalg.eigvals(J).real))


def _constrain(x: np.ndarray, pb: Problem) -> np.ndarray:
    if pb.branch != "semantic":
        x[2] = 0.0
    if pb.branch == "trivial":
        x[1] = 0.0
    return x


def _mix(x, fx, xs: list, gs: list, damping: float, memory: int, pb: Problem) -> np.ndarray:
    """Damped step, Anderson-accelerated over the last `memory` steps when that is safe."""
    def admit(cand: np.ndarray) -> np.ndarray | None:
        cand = _constrain(cand, pb)
        ok = np.all(np.isfinite(cand)) and cand[0] > cand[2] ** 2 / pb.rho and cand[3] > 0
        return cand if ok else None

    new = mix(x, fx, xs, gs, damping, memory, admit)
    new[0] = max(new[0], 1.0001 * new[2] ** 2 / pb.rho, 1e-10)
    new[3] = max(new[3], 1e-10)
    return new


def _start(init, pb: Problem) -> np.ndarray:
    if init is None:
        x = _initial(pb)
    elif isinstance(init, TheoryPoint):
        x = np.array([init.th["q_th"], init.th["m_th"], init.th["theta_th"], init.th["V"]])
        if not np.all(np.isfinite(x)):  # an unsolved point: start cold
            x = _initial(pb)
    else:
        x = np.asarray(init, dtype=float).copy()
    x = _constrain(np.abs(x), pb)
    x[0] = max(x[0], 1.01 * x[2] ** 2 / pb.rho, 1e-6)
    return x


def _point(pb, x, hats, eps_g, eps_t, phi, converged, it, residual) -> TheoryPoint:
    s2 = pb.sigma**2
    q, m, th, V = (float(v) for v in x)
    th_vals = {"q_th": q, "m_th": m, "theta_th": th, "V": V, "qh": float(hats[0]),
               "mh": float(hats[1]), "thh": float(hats[2]), "Vh": float(hats[3]),
               "phi": float(phi)}
    return TheoryPoint(pb.alpha, pb.omega, pb.sigma, pb.lam, pb.branch, q / s2, abs(m),
                       abs(th) / s2, V, float(eps_g), float(eps_t), bool(converged), int(it),
                       float(residual), th_vals)


def curve(alphas: Sequence[float], omega: float = 0.3, sigma: float = 0.5, lam: float = 0.01,
          branch: str = "semantic", A: Sequence[Sequence[float]] | None = None,
          multistart: bool = False, **kwargs) -> list[TheoryPoint]:
    """Solve along `alphas` by continuation; points are returned in the order given.

    Each point starts from the previous one, linearly extrapolated from the last two; a step
    that does not converge or leaves its branch is retried in 2, then 4 sub-steps, and if
    those fail too the branch is lost there: the point carries a `note` saying between which
    alphas, and beyond it only every 4th point is solved (from a cold start), the others are
    returned unsolved (NaN, `converged` False, with a note). The semantic
    branch is followed from the largest alpha down (it is born at large alpha). The theta = 0
    equations can have several solutions, so the positional (and trivial) branch is followed
    upwards with a cold start probed every 4th alpha (every alpha with `multistart`), the
    pass switching to it where its eps_t (the training loss) is lower.
    """
    alphas = [float(a) for a in alphas]
    order = sorted(range(len(alphas)), key=lambda i: alphas[i])
    asc = [alphas[i] for i in order]
    if branch == "semantic":
        best = _follow(asc[::-1], omega, sigma, lam, branch, A, kwargs)[::-1]
    else:
        best = _follow(asc, omega, sigma, lam, branch, A, kwargs, probe=1 if multistart else 4)
    out: list[TheoryPoint] = [best[0]] * len(alphas)
    for k, i in enumerate(order):
        out[i] = best[k]
    return out


def _rank(pt: TheoryPoint) -> tuple[bool, float]:
    """Sort key: usable points first, then the lower eps_t."""
    return (not usable(pt), pt.eps_t)


def _follow(alphas: list[float], omega, sigma, lam, branch, A, kwargs,
            probe: int = 0) -> list[TheoryPoint]:
    """Continuation along `alphas`; every `probe`-th point also tries a cold start (with a
    budget of 60 iterations: it only competes). Once the branch is lost (`_substeps` fails),
    only every `LOST_PROBE`-th further point is solved (cold: the branch may reappear); the
    others are returned unsolved, with a note."""
    points: list[TheoryPoint] = []
    good: list[TheoryPoint] = []
    capped = {**kwargs, "max_iter": min(kwargs.get("max_iter", MAX_ITER), 60)}
    lost: TheoryPoint | None = None
    lost_k = 0
    for k, a in enumerate(alphas):
        if lost is not None and not good and (k - lost_k) % LOST_PROBE:
            points.append(_unsolved(lost, a))
            continue
        pt = solve(a, omega, sigma, lam, A, branch, init=_predict(good, a), **kwargs)
        if good and not usable(pt):
            pt = _substeps(good, pt, kwargs)
            if pt.note:
                lost, lost_k = pt, k
        elif not usable(pt):
            pt.note = pt.note or (
                f"no {branch} fixed point reached from a cold start at alpha {a:.4g} ("
                + (f"the iteration ends on {'theta' if branch == 'semantic' else 'm'} = 0)"
                   if pt.converged else "not converged)"))
        if probe and good and k % probe == 0:
            cold = solve(a, omega, sigma, lam, A, branch, **capped)
            if _rank(cold) < _rank(pt):
                pt, good = cold, []
        points.append(pt)
        good = good[-1:] + [pt] if usable(pt) else []
    return points


def _unsolved(lost: TheoryPoint, alpha: float) -> TheoryPoint:
    """A placeholder at `alpha` past the point where the branch was lost: not solved."""
    nan = float("nan")
    return replace(lost, alpha=float(alpha), q=nan, m=nan, theta=nan, V=nan, eps_g=nan,
                   eps_t=nan, converged=False, iterations=0, residual=nan,
                   th={k: nan for k in lost.th}, _prox=None,
                   note=f"not solved: {lost.note} (only every {LOST_PROBE}th point beyond "
                        "is tried from a cold start)")


def _substeps(good: list[TheoryPoint], failed: TheoryPoint, kwargs,
              splits: Sequence[int] = (2, 4)) -> TheoryPoint:
    """Retry a continuation step that failed in 2, then 4 equal sub-steps from the last good
    point. If none reaches `failed.alpha` on the branch, the branch is lost in between (it
    ends, or turns too steep to follow): `failed` is returned with a `note` saying where."""
    last = good[-1]
    for n in splits:
        chain = list(good)
        for a in np.linspace(last.alpha, failed.alpha, n + 1)[1:]:
            pt = solve(a, last.omega, last.sigma, last.lam, last.A, last.branch,
                       init=_predict(chain, a), **kwargs)
            if not usable(pt):
                break
            chain = chain[-1:] + [pt]
        else:
            return pt
    failed.note = (f"{failed.branch} branch lost between alpha {last.alpha:.4g} and "
                   f"{failed.alpha:.4g}: continuation in up to {max(splits)} steps does not "
                   "converge on it")
    return failed


def _predict(good: list[TheoryPoint], alpha: float) -> TheoryPoint | None:
    """Linear extrapolation in alpha of the last two good points (or the last one)."""
    if not good:
        return None
    last = good[-1]
    if len(good) < 2 or good[0].alpha == last.alpha:
        return last
    t = (alpha - last.alpha) / (last.alpha - good[0].alpha)
    th = dict(last.th)
    for k in ("q_th", "m_th", "theta_th", "V"):
        th[k] = max(last.th[k] + t * (last.th[k] - good[0].th[k]), 0.5 * last.th[k])
    return replace(last, th=th)


def on_branch(pt: TheoryPoint, floor: float = 1e-4) -> bool:
    """Whether a point still is what its branch name says (theta > 0 / m > 0)."""
    if pt.branch == "semantic":
        return pt.theta > floor
    if pt.branch == "positional":
        return pt.m > floor
    return True


def usable(pt: TheoryPoint) -> bool:
    """Converged and on its branch: the only points the boundaries, plots and figures use."""
    return pt.converged and on_branch(pt)


def values(points: Sequence[TheoryPoint], name: str) -> np.ndarray:
    """The field `name` of each point; NaN where a point is not `usable`."""
    return np.array([getattr(p, name) if usable(p) else np.nan for p in points], dtype=float)
