"""K-fold cross-validation of the ridge penalties: lambda of the attention student (semantic
and positional initialisation, and their global minimiser) and lambda_lin of the linear
baseline.

The training set is cut into K contiguous folds (samples are i.i.d., so no shuffling is
needed). For each fold the model is fitted on the other K - 1 folds and scored on the held-out
one by the validation error `sum ||Yhat - Y||_F^2 / (2d)` per sample, the same quantity as
eps_g. A CV curve is the mean over folds; the chosen value is its minimiser on the grid. The
global minimiser of a fold and lambda is the initialisation with the lower training risk
(the rule of `attnphase.transitions`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import __version__
from .config import BRANCH_INITS, Config
from .data import Dataset, generate
from .device import TORCH_DTYPES, device_of
from .errors import InputError
from .io import write_text_atomic
from .linear import fit_linear
from .objective import Grams, Risk, preactivations
from .student import initial_Q
from .teacher import attention
from .train import solve
from .transitions import semantic_global

INITS = BRANCH_INITS


@dataclass
class CVCurve:
    """Validation error per grid value: mean and standard deviation over folds."""

    values: list[float]
    mean: list[float]
    std: list[float]

    @property
    def best(self) -> float:
        """The grid value with the lowest mean validation error."""
        return float(self.values[int(np.nanargmin(self.mean))])


@dataclass
class CVResult:
    """CV curves of lambda (per initialisation and for the global minimiser) and lambda_lin."""

    student: dict[str, CVCurve]
    linear: CVCurve
    folds: int
    n: int
    config: dict[str, Any]
    wall_s: float
    version: str = __version__
    chosen: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self.chosen = {f"lam_{k}": c.best for k, c in self.student.items()}
        self.chosen["lam_lin"] = self.linear.best

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> Path:
        """Write the result as JSON (atomically)."""
        write_text_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> CVResult:
        """Read a JSON file written by `save`."""
        try:
            raw = json.loads(Path(path).read_text())
            return cls(student={k: CVCurve(**v) for k, v in raw["student"].items()},
                       linear=CVCurve(**raw["linear"]), folds=raw["folds"], n=raw["n"],
                       config=raw["config"], wall_s=raw["wall_s"], version=raw["version"])
        except OSError as exc:
            raise InputError(f"--cv {path}: cannot read ({exc.strerror or exc})") from None
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(f"--cv {path}: not a JSON file written by `attnphase cv-lambda`"
                             ) from None


def fold_indices(n: int, folds: int) -> list[np.ndarray]:
    """K contiguous, near-equal folds of range(n)."""
    if not 2 <= folds <= n:
        raise InputError(f"--folds {folds}: must be an integer in [2, n = {n}]")
    return np.array_split(np.arange(n), folds)


def cross_validate(cfg: Config, lams: list[float], lam_lins: list[float], folds: int = 5,
                   data: Dataset | None = None) -> CVResult:
    """Cross-validate lambda and lambda_lin on the training set of `cfg` (or `data`)."""
    _check_grid(lams, "lams")
    _check_grid(lam_lins, "lam-lins")
    start = time.perf_counter()
    ds = generate(cfg) if data is None else data.head(cfg.n_samples)
    device, dtype = device_of(cfg), TORCH_DTYPES[cfg.dtype]
    X = torch.from_numpy(ds.X).to(device, dtype)
    Y = torch.from_numpy(ds.Y).to(device, dtype)
    Q0 = {i: torch.from_numpy(initial_Q(i, cfg.d, cfg.rank, ds.Q_star, ds.P, cfg.seed))
          for i in INITS}
    student = student_curves(X, Y, Q0, lams, folds, cfg)
    Z = torch.from_numpy(ds.Z).to(device, dtype)
    lin = linear_curve(Z, Y, lam_lins, folds)
    return CVResult(student, lin, folds, ds.n, cfg.to_dict(), time.perf_counter() - start)


def linear_curve(Z: torch.Tensor, Y: torch.Tensor, lam_lins: list[float], folds: int) -> CVCurve:
    """CV curve of the linear baseline's lambda_lin; Z, Y of shape (n, L, d)."""
    errors = np.empty((folds, len(lam_lins)))
    for k, val in enumerate(fold_indices(Z.shape[0], folds)):
        train = _complement(Z.shape[0], val)
        grams = Grams.of(Z[val][None], Y[val][None])
        for j, lam in enumerate(lam_lins):
            B = fit_linear(Z[train][None], Y[train][None], float(lam))  # (1, L, L)
            S = B[:, None, None].expand(1, 1, len(val), -1, -1)
            errors[k, j] = float(grams.squared_error(S).mean()) / 2
    return _curve(lam_lins, errors)


def student_curves(X: torch.Tensor, Y: torch.Tensor, Q0: dict[str, torch.Tensor],
                   lams: list[float], folds: int, cfg: Config) -> dict[str, CVCurve]:
    """CV curves of lambda per initialisation in `Q0` (each d x r; semantic and positional
    among them), and of their global minimiser.

    For each fold, all (initialisation, lambda) students are trained together in one batch
    with the solver settings of `cfg`.
    """
    inits = list(Q0)
    c = len(inits) * len(lams)
    lam = torch.tensor([lams] * len(inits), dtype=torch.float64, device=X.device).reshape(1, c)
    Qs = torch.stack([Q0[i] for i in inits for _ in lams])[None].to(X.device)  # (1, c, d, r)
    val_err = np.empty((folds, c))
    train_risk = np.empty((folds, c))
    for k, val in enumerate(fold_indices(X.shape[0], folds)):
        train = _complement(X.shape[0], val)
        out = solve(Risk(X[train][None], Y[train][None], lam), Qs, cfg.solver, cfg.solver_steps,
                    cfg.solver_lr, cfg.tol)
        S = attention(preactivations(X[val][None], out.Q))
        val_err[k] = (Grams.of(X[val][None], Y[val][None]).squared_error(S)[0].mean(-1) / 2
                      ).cpu().numpy()
        train_risk[k] = out.risk[0].cpu().numpy()
    shape = (folds, len(inits), len(lams))
    val_err, train_risk = val_err.reshape(shape), train_risk.reshape(shape)
    curves = {init: _curve(lams, val_err[:, a]) for a, init in enumerate(inits)}
    sem, pos = inits.index("semantic"), inits.index("positional")
    use_sem = semantic_global(train_risk[:, sem], train_risk[:, pos])  # (folds, lams)
    curves["global"] = _curve(lams, np.where(use_sem, val_err[:, sem], val_err[:, pos]))
    return curves


def _complement(n: int, idx: np.ndarray) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[idx] = False
    return np.flatnonzero(keep)


def _curve(values: list[float], errors: np.ndarray) -> CVCurve:
    """Mean and standard deviation over folds (axis 0)."""
    return CVCurve([float(v) for v in values], errors.mean(0).tolist(),
                   errors.std(0, ddof=1).tolist())


def _check_grid(values: list[float], name: str) -> None:
    if not values or any(v < 0 for v in values):
        raise InputError(f"--{name} {values}: expected one or more values >= 0")
