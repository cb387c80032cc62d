"""Stability check: are the trained masked solutions minima of the full (unmasked) model?

Each Fig. 1 model is written into the `both` architecture with its masked rows of W_q and W_k
set to zero (so it computes exactly the same function), every weight is perturbed by
`perturb` * N(0, 1), and the model is trained further with plain SGD (lr `sgd_lr`,
`stability_epochs` epochs, batch 32). If the masked solution is a minimum of the full model,
the weights return near it and neither the validation accuracy nor the attention pattern
changes; the rows that were masked stay near zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .experiment import FIG1_FIELDS, RunSpec, arch_of, fig1_study, load_data, run_study, train_fig1
from .model import NAMES, Arch, Params, qk_mask
from .runs import RunStore, settings_hash
from .score import attention_maps
from .settings import HistSettings
from .train import OptimSpec, eval_steps

STABILITY_FIELDS = (*FIG1_FIELDS, "seeds", "perturb", "sgd_lr", "stability_epochs")
ORDER_OFFSET = 10_000  # data-order seed of the continued training: seed + ORDER_OFFSET


def to_full(params: Params, arch: Arch, variant: str) -> Params:
    """The same function in the unmasked architecture: masked rows of W_q, W_k set to 0."""
    m = qk_mask(arch, variant).to(params["qkv"])
    qkv = params["qkv"].clone()
    qkv[:, : 2 * arch.d] *= m[:, None]
    return {**{k: v.clone() for k, v in params.items()}, "qkv": qkv}


def perturb(params: Params, scale: float, seed: int) -> Params:
    """Every weight plus scale * N(0, 1) noise (seeded)."""
    g = torch.Generator().manual_seed(int(seed) + ORDER_OFFSET)
    return {k: v + scale * torch.randn(v.shape, generator=g, dtype=torch.float64).to(v)
            for k, v in params.items()}


def masked_rows_norm(params: Params, arch: Arch, variant: str) -> float:
    """Frobenius norm of the rows of W_q, W_k that the variant had masked."""
    m = qk_mask(arch, variant).to(params["qkv"])
    return float(torch.linalg.norm(params["qkv"][:, : 2 * arch.d] * (1 - m)[:, None]))


def flat(params: Params) -> torch.Tensor:
    return torch.cat([params[k].reshape(-1).double() for k in NAMES])


def run_stability(s: HistSettings, root: str, progress: bool = True) -> list[dict[str, Any]]:
    """Train Fig. 1 if needed, run the check for each masked run; one table row per run."""
    arch = arch_of(s)
    fig1 = [r for r in train_fig1(s, root, progress) if r["variant"] != "both"]
    fig1_store = RunStore(root, fig1_study(s))
    store = RunStore(root, "stability-" + settings_hash(
        {f: getattr(s, f) for f in STABILITY_FIELDS}))
    pool = np.arange(s.n_train)

    def start(r: dict) -> Params:
        full = to_full(fig1_store.params(r["key"]), arch, r["variant"])
        return perturb(full, s.perturb, r["seed"])

    specs = [RunSpec(r["key"], r["seed"] + ORDER_OFFSET, "both", lambda r=r: start(r), pool,
                     {"from_variant": r["variant"], "fig1_seed": r["seed"]}) for r in fig1]
    steps = round(s.stability_epochs * s.steps_per_epoch)
    data = load_data(s)
    after = run_study(store, specs, data, s, OptimSpec("sgd", s.sgd_lr), steps,
                      eval_steps(steps, s.steps_per_epoch, s.evals), progress, "stability")
    xs = data.x_val[: s.map_samples]
    return [_row(r0, r1, fig1_store, store, arch, xs, s) for r0, r1 in zip(fig1, after,
                                                                            strict=True)]


def _row(r0: dict, r1: dict, fig1_store: RunStore, store: RunStore, arch: Arch,
         xs: torch.Tensor, s: HistSettings) -> dict[str, Any]:
    """Weights moved, accuracy and attention before and after, for one run."""
    w_star = to_full(fig1_store.params(r0["key"]), arch, r0["variant"])
    w_0 = perturb(w_star, s.perturb, r0["seed"])
    w_end = store.params(r1["key"])
    norm = float(torch.linalg.norm(flat(w_star)))
    dev = xs.device
    both = torch.ones(1, arch.d, dtype=w_star["tok"].dtype, device=dev)
    maps = [attention_maps({k: v[None].to(dev) for k, v in w.items()}, both, xs)[0]
            for w in (w_star, w_end)]
    diff = (maps[1] - maps[0]).abs()
    return {
        "variant": r0["variant"], "seed": r0["seed"],
        "perturbation_rel": float(torch.linalg.norm(flat(w_0) - flat(w_star))) / norm,
        "moved_rel": float(torch.linalg.norm(flat(w_end) - flat(w_star))) / norm,
        "moved_from_start_rel": float(torch.linalg.norm(flat(w_end) - flat(w_0))) / norm,
        "masked_rows_before": masked_rows_norm(w_0, arch, r0["variant"]),
        "masked_rows_after": masked_rows_norm(w_end, arch, r0["variant"]),
        "val_acc_before": r0["val_acc"], "val_acc_after": r1["val_acc"],
        "val_loss_before": r0["val_loss"], "val_loss_after": r1["val_loss"],
        "score_before": r0["score"], "score_after": r1["score"],
        "map_change_mean": float(diff.mean()), "map_change_max": float(diff.max()),
        "epochs": r1["epochs"], "sgd_lr": s.sgd_lr, "perturb": s.perturb,
    }
