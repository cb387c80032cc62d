"""Every option of the histogram experiments in one validated dataclass (YAML and CLI).

Defaults are the paper's Fig. 1 protocol: L = 10, T = 15, 50,000 sequences split 70/30,
model dimension 64 (half token, half position), MLP hidden 128, Adam (lr 1e-3, betas
(0.9, 0.98)), batch 32, 200 epochs, 10 seeds per variant; stability check: perturbation
1e-3, SGD lr 1e-3 for 100 epochs.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

VARIANTS = ("semantic", "positional", "both")
DEVICES = ("cpu", "cuda")
DTYPES = ("float32", "float64")


@dataclass
class HistSettings:
    """The task, model, training protocol, stability check and transition study."""

    # task
    L: int = 10
    T: int = 15
    n_sequences: int = 50000
    train_frac: float = 0.7
    data_seed: int = 0
    # model
    d_model: int = 64
    d_hidden: int = 128
    # training (Fig. 1)
    variants: list[str] = field(default_factory=lambda: ["semantic", "positional"])
    seeds: list[int] = field(default_factory=lambda: list(range(10)))
    epochs: int = 200
    batch: int = 32
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.98
    adam_eps: float = 1e-8
    # stability check
    perturb: float = 1e-3
    sgd_lr: float = 1e-3
    stability_epochs: int = 100
    # transition study (unmasked model from random initialisation)
    transition_n: list[int] = field(
        default_factory=lambda: [500, 1000, 2000, 4000, 8000, 16000, 35000])
    transition_seeds: list[int] = field(default_factory=lambda: list(range(10)))
    transition_steps: int = 50000
    threshold: float = 0.5
    # evaluation
    curve_samples: int = 0
    evals: int = 0
    map_samples: int = 2000
    # execution
    device: str = "cpu"
    dtype: str = "float32"
    cuda_graphs: bool = True

    def __post_init__(self) -> None:
        self.seeds = _int_list(self.seeds, "seeds")
        self.transition_seeds = _int_list(self.transition_seeds, "transition_seeds")
        self.transition_n = [int(v) for v in _list(self.transition_n, "transition_n")]
        self.variants = [str(v) for v in _list(self.variants, "variants")]
        self.validate()

    @property
    def n_train(self) -> int:
        """Sequences in the training split."""
        return int(round(self.train_frac * self.n_sequences))

    @property
    def steps_per_epoch(self) -> float:
        return self.n_train / self.batch

    def validate(self) -> None:
        """Check every field; raise InputError naming the first bad value."""
        for name, low in (("L", 2), ("T", 2), ("n_sequences", 2), ("d_model", 2),
                          ("d_hidden", 1), ("epochs", 0), ("batch", 1),
                          ("stability_epochs", 0), ("transition_steps", 0), ("curve_samples", 0),
                          ("evals", 0), ("map_samples", 1), ("data_seed", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise InputError(f"{name} = {v!r}: must be an integer >= {low}")
        if self.d_model % 2:
            raise InputError(f"d_model = {self.d_model}: must be even (half token, half position)")
        for name, low, high in (("train_frac", 0.0, 1.0), ("beta1", 0.0, 1.0),
                                ("beta2", 0.0, 1.0), ("threshold", 0.0, math.inf)):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not low < v < high:
                raise InputError(f"{name} = {v!r}: must be in ({low}, {high})")
        for name in ("lr", "adam_eps", "sgd_lr", "perturb"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not 0 <= v < math.inf:
                raise InputError(f"{name} = {v!r}: must be a finite number >= 0")
        for v in self.variants:
            if v not in VARIANTS:
                raise InputError(f"variants: {v!r} is not one of {', '.join(VARIANTS)}")
        if not self.variants or len(set(self.variants)) != len(self.variants):
            raise InputError(f"variants = {self.variants}: must be distinct, at least one")
        for name in ("seeds", "transition_seeds"):
            vals = getattr(self, name)
            if len(set(vals)) != len(vals) or any(s < 0 for s in vals):
                raise InputError(f"{name} = {vals}: must be distinct integers >= 0")
        if not self.transition_n or any(n < 1 for n in self.transition_n):
            raise InputError(f"transition_n = {self.transition_n}: must be integers >= 1")
        if self.device not in DEVICES:
            raise InputError(f"device = {self.device!r}: must be one of {', '.join(DEVICES)}")
        if self.dtype not in DTYPES:
            raise InputError(f"dtype = {self.dtype!r}: must be one of {', '.join(DTYPES)}")
        if self.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise InputError("device = 'cuda': no CUDA device is available here (use cpu)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> HistSettings:
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(HistSettings))


def from_dict(values: dict[str, Any], where: str = "config") -> HistSettings:
    """Settings from a mapping of fields (unknown names are an error)."""
    if not isinstance(values, dict):
        raise InputError(f"{where}: expected a mapping of fields, got {type(values).__name__}")
    unknown = [k for k in values if k not in FIELDS]
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(FIELDS)}")
    try:
        return HistSettings(**values)
    except TypeError as exc:
        raise InputError(f"{where}: {exc}") from None


def _list(value: Any, name: str) -> list:
    """A list from a list, or from 'a,b,c' text."""
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple):
        raise InputError(f"{name} = {value!r}: must be a list (or 'a,b,c')")
    return list(value)


def _int_list(value: Any, name: str) -> list[int]:
    """Seeds: a count k (0..k-1), 'a:b' (a..b inclusive), 'a,b,c' or a list of integers.

    A single number, as an integer or as text ('10'), is a count: one seed s is 's:s'.
    """
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return list(range(value))
    if isinstance(value, str) and ":" in value:
        a, _, b = value.partition(":")
        try:
            return list(range(int(a), int(b) + 1))
        except ValueError:
            raise InputError(f"{name} = {value!r}: expected 'first:last'") from None
    try:
        return [int(v) for v in _list(value, name)]
    except (TypeError, ValueError):
        raise InputError(f"{name} = {value!r}: must be integers") from None
