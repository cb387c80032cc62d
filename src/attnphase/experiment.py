"""Config in, results out: data, students, linear baseline and metrics for one or many runs.

`train_many` is the engine under both `attnphase train` and the sweeps: runs whose tensors
have the same shapes are trained together as one batch (students on the same data share
every pass over it), and runs of the same teacher share their fresh test samples. A run
therefore gives the same numbers alone or in a sweep, up to floating-point rounding.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from . import __version__
from .config import Config
from .data import Dataset, generate
from .device import TORCH_DTYPES, device_of
from .flow import FlowOptions
from .linear import fit_linear, linear_risk
from .metrics import exact_errors, overlaps, test_errors, uses_exact
from .objective import Risk
from .student import initial_Q
from .train import solve, status


@dataclass
class TrainResult:
    """Metrics of one trained student (docs/model.md §4) with the provenance of the run."""

    eps_g: float
    eps_t: float
    m: Any
    theta: Any
    q: Any
    q_star: Any
    eps_g_lin: float
    grad_norm: float
    converged: bool
    status: str  # converged / not converged / plateau (train.status)
    steps: int
    passes: int  # passes over the training inputs X (shared by students on the same data)
    wall_s: float
    init: str
    solver: str
    n: int
    d: int
    alpha: float
    omega: float
    sigma: float
    lam: float
    seed: int
    config: dict = field(repr=False)
    config_hash: str = ""
    version: str = __version__
    certified: bool | None = None  # flow with certify > 0: its end point checked (certify.py)
    rtol: float | None = None  # flow: the step tolerance that produced the end point
    Q: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict without the weights."""
        out = asdict(self)
        out.pop("Q")
        return out


@dataclass
class LinearResult:
    """The linear baseline fitted on one data set."""

    eps_g_lin: float
    eps_t_lin: float
    B: list[list[float]]
    n: int
    d: int
    alpha: float
    omega: float
    sigma: float
    lam_lin: float
    seed: int
    wall_s: float
    config: dict = field(repr=False)
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train(cfg: Config, data: Dataset | None = None, progress: bool = False) -> TrainResult:
    """Train one student as `cfg` says, on `data` (its first cfg.n_samples) or fresh samples."""
    return train_many([cfg], data=data, progress=progress)[0]


def train_many(
    cfgs: Sequence[Config], data: Dataset | None = None, progress: bool = False,
    on_result: Callable[[int, TrainResult], None] | None = None,
) -> list[TrainResult]:
    """Train every config; equal shapes are batched (across teachers too: one batch of many
    data sets is what keeps a GPU busy), equal teachers share the test samples.

    `data`, if given, replaces the generated training set of every config (first n samples).
    `on_result(i, result)` is called as results become final (after their teacher's test).
    """
    results: list[TrainResult | None] = [None] * len(cfgs)
    by_shape: dict[tuple, list[int]] = defaultdict(list)
    for i, cfg in enumerate(cfgs):
        by_shape[shape_key(cfg)].append(i)
    trained = {}
    for idx in by_shape.values():  # data sets of several teachers train as one batch
        trained.update(_train_batch([cfgs[i] for i in idx], idx, data, progress))
    by_teacher: dict[tuple, list[int]] = defaultdict(list)
    for i, cfg in enumerate(cfgs):
        by_teacher[teacher_key(cfg)].append(i)
    for members in by_teacher.values():
        for i, res in _evaluate({i: trained.pop(i) for i in members}).items():
            results[i] = res
            if on_result:
                on_result(i, res)
    return results  # type: ignore[return-value]


def linear(cfg: Config, data: Dataset | None = None) -> LinearResult:
    """Fit the linear baseline of `cfg` on its training set and test it on fresh samples."""
    start = time.perf_counter()
    ds = _dataset(cfg, data)
    device = device_of(cfg)
    Z = torch.from_numpy(ds.Z).to(device)[None]
    Y = torch.from_numpy(ds.Y).to(device)[None]
    B = fit_linear(Z, Y, cfg.lam_lin)
    eps_t_lin = float(linear_risk(Z, Y, B, cfg.lam_lin)[0]) / cfg.d
    _, eps_lin = _errors(cfg, ds.teacher(), None, B)
    return LinearResult(
        eps_g_lin=float(eps_lin[0]), eps_t_lin=eps_t_lin, B=B[0].cpu().tolist(), n=ds.n,
        d=ds.d, alpha=ds.n / ds.d, omega=cfg.omega, sigma=cfg.sigma, lam_lin=cfg.lam_lin,
        seed=cfg.seed, wall_s=time.perf_counter() - start, config=cfg.to_dict(),
    )


# ------------------------------------------------------------------------------ internals
def teacher_key(cfg: Config) -> tuple:
    """Fields that fix the teacher and its test samples (and the tensor placement)."""
    return (cfg.seed, cfg.d, cfg.L, cfg.teacher_rank, cfg.teacher_norm, cfg.sigma, cfg.omega,
            str(cfg.A_matrix), cfg.test_samples, cfg.dtype, cfg.device,
            uses_exact(cfg.eps_g_method))


def data_key(cfg: Config) -> tuple:
    """Fields that fix a training set."""
    return (*teacher_key(cfg), cfg.n_samples)


def shape_key(cfg: Config) -> tuple:
    """Fields that must agree for runs to train as one batch."""
    return (cfg.d, cfg.L, cfg.rank, cfg.n_samples, cfg.dtype, cfg.device, cfg.solver,
            cfg.solver_steps, cfg.solver_lr, cfg.tol, cfg.flow_rtol, cfg.flow_screen,
            cfg.certify)


def _dataset(cfg: Config, data: Dataset | None) -> Dataset:
    if data is None:
        return generate(cfg)
    return data.head(cfg.n_samples)


def _train_batch(
    cfgs: list[Config], idx: list[int], data: Dataset | None, progress: bool
) -> dict[int, tuple[Config, Dataset, dict]]:
    """Train runs of equal shapes as one batch: B data sets x c students each."""
    start = time.perf_counter()
    ref = cfgs[0]
    device, dtype = device_of(ref), TORCH_DTYPES[ref.dtype]
    slots: dict[tuple, list[int]] = defaultdict(list)
    for j, cfg in enumerate(cfgs):
        slots[data_key(cfg)].append(j)
    sets = {key: _dataset(cfgs[js[0]], data) for key, js in slots.items()}
    c = max(len(js) for js in slots.values())
    X = torch.stack([torch.from_numpy(sets[k].X) for k in slots]).to(device, dtype)
    Y = torch.stack([torch.from_numpy(sets[k].Y) for k in slots]).to(device, dtype)
    Q0 = torch.zeros(len(slots), c, ref.d, ref.rank, dtype=torch.float64)
    lam = torch.zeros(len(slots), c, dtype=torch.float64)
    where = {}
    for b, (key, js) in enumerate(slots.items()):
        ds = sets[key]
        for s in range(c):
            j = js[min(s, len(js) - 1)]  # pad short rows by repeating a student
            cfg = cfgs[j]
            Q0[b, s] = torch.from_numpy(initial_Q(cfg.init, cfg.d, cfg.rank, ds.Q_star, ds.P,
                                                  cfg.seed))
            lam[b, s] = cfg.lam
            if s < len(js):
                where[j] = (b, s)
    risk = Risk(X, Y, lam.to(device))
    bar, update = _progress_bar(ref, progress)
    options = FlowOptions(screen=ref.flow_screen)
    if ref.flow_rtol is not None:
        options.rtol = ref.flow_rtol
    out = solve(risk, Q0.to(device), ref.solver, ref.solver_steps, ref.solver_lr, ref.tol,
                progress=update, options=options, certify=ref.certify)
    if bar:
        bar.close()
    wall = (time.perf_counter() - start) / len(cfgs)
    trained = {}
    for j, cfg in enumerate(cfgs):
        b, s = where[j]
        key = data_key(cfg)
        trained[idx[j]] = (cfg, sets[key], {
            "Q": out.Q[b, s].cpu(),
            "eps_t": float(out.risk[b, s]) / cfg.d,
            "grad_norm": float(out.grad_norm[b, s]),
            "converged": bool(out.converged[b, s]),
            "steps": int(out.steps[b, s]),
            "passes": int(out.passes[b]),
            "wall_s": wall,
            "certified": None if out.certified is None else bool(out.certified[b, s]),
            "rtol": None if out.rtol is None else float(out.rtol[b, s]),
        })
    return trained


def _evaluate(trained: dict[int, tuple[Config, Dataset, dict]]) -> dict[int, TrainResult]:
    """Test all students of one teacher, and their linear baselines, on shared samples."""
    order = list(trained)
    cfg0, ds0, _ = trained[order[0]]
    start = time.perf_counter()
    device = device_of(cfg0)
    lin_keys: dict[tuple, int] = {}
    B_list = []
    for i in order:
        cfg, ds, _ = trained[i]
        key = (*data_key(cfg), cfg.lam_lin)
        if key not in lin_keys:
            lin_keys[key] = len(B_list)
            Z = torch.from_numpy(ds.Z).to(device)[None]
            B_list.append(fit_linear(Z, torch.from_numpy(ds.Y).to(device)[None], cfg.lam_lin)[0])
    Q = torch.stack([trained[i][2]["Q"] for i in order]).to(device)
    eps_g, eps_lin = _errors(cfg0, ds0.teacher(), Q, torch.stack(B_list))
    test_wall = (time.perf_counter() - start) / len(order)
    results = {}
    for k, i in enumerate(order):
        cfg, ds, r = trained[i]
        Qn = r["Q"].numpy()
        lin = lin_keys[(*data_key(cfg), cfg.lam_lin)]
        results[i] = TrainResult(
            eps_g=float(eps_g[k]), eps_t=r["eps_t"], **overlaps(Qn, ds.Q_star, ds.P).public(),
            eps_g_lin=float(eps_lin[lin]), grad_norm=r["grad_norm"], converged=r["converged"],
            status=status(r["grad_norm"], cfg.tol, cfg.solver), steps=r["steps"],
            passes=r["passes"], wall_s=r["wall_s"] + test_wall, init=cfg.init, solver=cfg.solver,
            n=ds.n, d=ds.d, alpha=ds.n / ds.d, omega=cfg.omega, sigma=cfg.sigma, lam=cfg.lam,
            seed=cfg.seed, config=cfg.to_dict(), config_hash=cfg.hash(),
            certified=r["certified"], rtol=r["rtol"], Q=Qn,
        )
    return results


def _errors(cfg: Config, teacher, Q: torch.Tensor | None, B: torch.Tensor | None):
    """eps_g of the students Q and of the linear baselines B, by the config's method."""
    if uses_exact(cfg.eps_g_method):
        return exact_errors(teacher, Q, B, cfg.eps_g_method)
    return test_errors(teacher, Q, cfg.test_samples, B, TORCH_DTYPES[cfg.dtype])


def _progress_bar(cfg: Config, enabled: bool):
    """A tqdm bar on stderr (drawn on terminals only) and the solver callback feeding it."""
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=cfg.solver_steps, desc=f"{cfg.solver} {cfg.init}", unit="step",
               leave=False, disable=None)

    def update(step: int, gn: torch.Tensor) -> None:
        bar.update(1)
        if step % 25 == 0:
            bar.set_postfix(grad_norm=f"{float(gn.max()):.2e}")

    return bar, update
