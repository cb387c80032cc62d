"""A study: many runs (seed, variant, pool of training data) trained as batched jobs, each
run's metrics, curves, attention maps and weights saved on its own (`runs.RunStore`).

`run_study` is shared by Fig. 1 (masked variants from random initialisation), the stability
check and the transition study; `fig1` defines the Fig. 1 runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .model import NAMES, Arch, Params, init_params, qk_mask, stack
from .runs import RunStore, settings_hash
from .score import attention_maps, scores
from .settings import HistSettings
from .task import HistogramData, make_data
from .train import Job, OptimSpec, evaluate, train

EXAMPLES = 3  # validation sequences whose attention maps each run keeps (the figure's)
TRAIN_EVAL = 5000  # training sequences of a run's pool on which train accuracy is measured
TASK_FIELDS = ("L", "T", "n_sequences", "train_frac", "data_seed", "d_model", "d_hidden",
               "dtype")
FIG1_FIELDS = (*TASK_FIELDS, "variants", "epochs", "batch", "lr", "beta1", "beta2", "adam_eps")


@dataclass
class RunSpec:
    """One run: its key, seed (data order), q/k variant, initial weights and data pool."""

    key: str
    seed: int
    variant: str
    init: Callable[[], Params]
    pool: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


def arch_of(s: HistSettings) -> Arch:
    return Arch(L=s.L, T=s.T, d=s.d_model, hidden=s.d_hidden)


def dtype_of(s: HistSettings) -> torch.dtype:
    return getattr(torch, s.dtype)


def load_data(s: HistSettings) -> HistogramData:
    """The task's data set, on the settings' device."""
    return make_data(s.L, s.T, s.n_sequences, s.train_frac, s.data_seed).to(s.device)


def adam(s: HistSettings) -> OptimSpec:
    return OptimSpec("adam", s.lr, s.beta1, s.beta2, s.adam_eps)


def run_study(store: RunStore, specs: list[RunSpec], data: HistogramData, s: HistSettings,
              optim: OptimSpec, steps: int, eval_at: list[int], progress: bool = True,
              desc: str = "train") -> list[dict[str, Any]]:
    """Train the specs not yet in `store` as one batched job; return every spec's record."""
    todo = [r for r in specs if not store.has(r.key)]
    if todo:
        _run_job(store, todo, data, s, optim, steps, eval_at, progress, desc)
    return [store.record(r.key) for r in specs]


def _run_job(store: RunStore, todo: list[RunSpec], data: HistogramData, s: HistSettings,
             optim: OptimSpec, steps: int, eval_at: list[int], progress: bool,
             desc: str) -> None:
    dev, dt, arch = s.device, dtype_of(s), arch_of(s)
    keys = [r.key for r in todo]
    params = {k: v.to(dev) for k, v in stack([r.init() for r in todo]).items()}
    masks = torch.stack([qk_mask(arch, r.variant) for r in todo]).to(dev, dt)
    job = Job(params, masks, [r.seed for r in todo], [r.pool for r in todo])
    n_curve = s.curve_samples or len(data.x_val)
    start = time.perf_counter()
    curves = train(job, data.x_train, data.y_train, optim, steps, s.batch, eval_at,
                   data.x_val[:n_curve], data.y_val[:n_curve], graphs=s.cuda_graphs,
                   progress=progress, resume=store.load_checkpoint(keys),
                   checkpoint=lambda state: store.save_checkpoint(keys, state), desc=desc)
    wall = time.perf_counter() - start
    final = {k: v.detach() for k, v in params.items()}
    val_loss, val_acc = evaluate(final, masks, data.x_val, data.y_val)
    train_loss, train_acc = _pool_metrics(final, masks, data, todo)
    xs = data.x_val[: s.map_samples]
    score = scores(final, masks, xs)
    examples = data.x_val[:EXAMPLES]
    maps = attention_maps(final, masks, examples)
    for i, r in enumerate(todo):
        pool_n = len(r.pool)
        record = {
            "key": r.key, "study": store.dir.name, "variant": r.variant, "seed": r.seed,
            "n_train": pool_n, "steps": steps, "epochs": steps * s.batch / pool_n,
            "optimizer": vars(optim), **r.meta,
            "val_acc": float(val_acc[i]), "val_loss": float(val_loss[i]),
            "train_acc": float(train_acc[i]), "train_loss": float(train_loss[i]),
            "score": float(score[i]), "semantic": bool(score[i] >= s.threshold),
            "curves": {**curves.model(i),
                       "epoch": [st * s.batch / pool_n for st in curves.step]},
            "examples": examples.cpu().tolist(), "maps": maps[i].tolist(),
            "job_runs": len(todo), "job_wall_s": wall, "device": dev,
            "settings": s.to_dict(),
        }
        store.save(r.key, record, {k: final[k][i] for k in NAMES})
    store.clear_checkpoint(keys)


def _pool_metrics(params: Params, masks: torch.Tensor, data: HistogramData,
                  todo: list[RunSpec]) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and accuracy of each model on (up to TRAIN_EVAL sequences of) its own pool."""
    pools = {tuple(r.pool[:TRAIN_EVAL].tolist()) for r in todo}
    if len(pools) == 1:  # all models share their training sequences
        idx = torch.as_tensor(todo[0].pool[:TRAIN_EVAL], device=data.x_train.device)
        return evaluate(params, masks, data.x_train[idx], data.y_train[idx])
    out = []
    for i, r in enumerate(todo):
        idx = torch.as_tensor(r.pool[:TRAIN_EVAL], device=data.x_train.device)
        one = {k: v[i:i + 1] for k, v in params.items()}
        out.append(evaluate(one, masks[i:i + 1], data.x_train[idx], data.y_train[idx]))
    return torch.cat([o[0] for o in out]), torch.cat([o[1] for o in out])


def fig1_study(s: HistSettings) -> str:
    """The folder name of the Fig. 1 runs of these settings."""
    return "fig1-" + settings_hash({f: getattr(s, f) for f in FIG1_FIELDS})


def fig1_specs(s: HistSettings) -> list[RunSpec]:
    """Every (variant, seed) of Fig. 1: the whole training split, random initialisation."""
    arch, dt = arch_of(s), dtype_of(s)
    pool = np.arange(s.n_train)
    return [RunSpec(f"{v}-seed{seed}", seed, v,
                    lambda seed=seed: init_params(arch, seed, dt), pool)
            for v in s.variants for seed in s.seeds]


def train_fig1(s: HistSettings, root: str, progress: bool = True) -> list[dict[str, Any]]:
    """Train (or load) the Fig. 1 runs: each variant and seed for `epochs` epochs of Adam."""
    from .train import eval_steps

    steps = round(s.epochs * s.steps_per_epoch)
    store = RunStore(root, fig1_study(s))
    return run_study(store, fig1_specs(s), load_data(s), s, adam(s), steps,
                     eval_steps(steps, s.steps_per_epoch, s.evals), progress, "fig1")
