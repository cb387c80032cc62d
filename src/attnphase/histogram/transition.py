"""Beyond the paper: does the unmasked model switch from positional to semantic with n?

The `both` model is trained from random initialisation on the first n sequences of a
seed-dependent order of the training split, for each n of `transition_n` and each seed of
`transition_seeds`; every run takes the same number of Adam steps (`transition_steps`), so
that each size is trained to the same budget and the smallest ones to convergence. Each
trained model's attention is scored by how it responds to reordering the tokens (`score`:
0 positional, 1 semantic); semantic if score >= threshold, else positional.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .experiment import TASK_FIELDS, RunSpec, adam, arch_of, dtype_of, load_data, run_study
from .model import init_params
from .runs import RunStore, settings_hash
from .settings import HistSettings
from .train import eval_steps

TRANSITION_FIELDS = (*TASK_FIELDS, "batch", "lr", "beta1", "beta2", "adam_eps",
                     "transition_steps")
CURVE_POINTS = 20  # evaluation points of each run's curves when `evals` is 0


def pool_of(seed: int, n: int, n_train: int) -> np.ndarray:
    """The first n of a seed's order of the training split (nested in n for one seed)."""
    return np.random.default_rng([int(seed), 0x7A5]).permutation(n_train)[:n]


def transition_specs(s: HistSettings) -> list[RunSpec]:
    arch, dt = arch_of(s), dtype_of(s)
    bad = [n for n in s.transition_n if n > s.n_train]
    if bad:
        raise InputError(f"transition_n: {bad[0]} is more than the {s.n_train} training "
                         "sequences")
    return [RunSpec(f"n{n}-seed{seed}", seed, "both",
                    lambda seed=seed: init_params(arch, seed, dt), pool_of(seed, n, s.n_train),
                    {"n": n}) for n in s.transition_n for seed in s.transition_seeds]


def run_transition(s: HistSettings, root: str, progress: bool = True) -> list[dict[str, Any]]:
    """Train (or load) every (n, seed) of the study; one row per run."""
    specs = transition_specs(s)
    store = RunStore(root, "transition-" + settings_hash(
        {f: getattr(s, f) for f in TRANSITION_FIELDS}))
    steps = s.transition_steps
    records = run_study(store, specs, load_data(s), s, adam(s), steps,
                        eval_steps(steps, steps, s.evals or CURVE_POINTS), progress,
                        "transition")
    cols = ("n", "seed", "epochs", "val_acc", "val_loss", "train_acc", "train_loss", "score",
            "semantic")
    return [{c: r[c] for c in cols} for r in records]


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per n: runs, fraction semantic, mean and spread of accuracy and score."""
    out = []
    for n in sorted({r["n"] for r in rows}):
        sel = [r for r in rows if r["n"] == n]
        acc = np.array([r["val_acc"] for r in sel])
        score = np.array([r["score"] for r in sel], dtype=float)
        out.append({"n": n, "runs": len(sel),
                    "frac_semantic": float(np.mean([r["semantic"] for r in sel])),
                    "val_acc_mean": float(acc.mean()), "val_acc_std": float(acc.std(ddof=0)),
                    "val_acc_min": float(acc.min()), "score_median": float(np.nanmedian(score)),
                    "score_min": float(np.nanmin(score)), "score_max": float(np.nanmax(score))})
    return out
