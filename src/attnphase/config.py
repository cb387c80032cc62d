"""Typed configuration with the paper's defaults, validation, and YAML in and out.

One flat dataclass holds every knob of a run (data, student, solver, evaluation), so that a
sweep can put any field in its grid and a run is identified by the hash of its config.
Validation follows scikit-learn's habit: every check names the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

A_PRESETS: dict[str, list[list[float]]] = {
    "paper": [[0.6, 0.4], [0.4, 0.6]],
    "appendix": [[0.3, 0.7], [0.8, 0.2]],
}
INITS = ("semantic", "positional", "random")
SOLVERS = ("lbfgs", "gd", "adam")
DEVICES = ("cpu", "cuda")
DTYPES = ("float32", "float64")
# the teacher's Q*: i.i.d. N(0, 1) entries (the paper's), or rescaled onto the sphere
# ||Q*||_F^2 = d r* (no seed-to-seed teacher-norm noise; the d -> infinity theory is the same)
TEACHER_NORMS = ("gaussian", "sphere")

# The paper's training protocols (docs/model.md §2); `lbfgs` is this package's fast default.
SOLVER_DEFAULTS: dict[str, dict[str, float]] = {
    "gd": {"lr": 0.15, "steps": 5000},
    "adam": {"lr": 0.01, "steps": 2500},
    "lbfgs": {"lr": 1.0, "steps": 2000},
}


@dataclass
class Config:
    """Every parameter of a data set, a student and its training; defaults are the paper's.

    `n` wins over `alpha` when both are given; otherwise `n = round(alpha * d)`.
    `A` may be an L x L matrix or the name of a preset (`paper`, `appendix`).
    """

    d: int = 1000
    alpha: float | None = 2.0
    n: int | None = None
    L: int = 2
    rank: int = 1
    teacher_rank: int = 1
    teacher_norm: str = "gaussian"
    sigma: float = 0.5
    omega: float = 0.3
    A: Any = None
    lam: float = 0.01
    lam_lin: float = 1e-4
    init: str = "semantic"
    solver: str = "lbfgs"
    steps: int | None = None
    lr: float | None = None
    tol: float = 1e-6
    seed: int = 0
    test_samples: int = 50000
    device: str = "cpu"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        self.validate()

    # ---------------------------------------------------------------- derived values
    @property
    def n_samples(self) -> int:
        """The number of training samples: `n`, or `round(alpha * d)`."""
        return int(self.n) if self.n is not None else max(1, round(float(self.alpha) * self.d))

    @property
    def A_matrix(self) -> list[list[float]]:
        """`A` as an explicit L x L list of rows."""
        return A_PRESETS[self.A] if isinstance(self.A, str) else self.A

    @property
    def solver_steps(self) -> int:
        default = SOLVER_DEFAULTS[self.solver]["steps"]
        return int(self.steps if self.steps is not None else default)

    @property
    def solver_lr(self) -> float:
        return float(self.lr) if self.lr is not None else SOLVER_DEFAULTS[self.solver]["lr"]

    # ---------------------------------------------------------------- validation
    def validate(self) -> None:
        """Check every field; raise InputError naming the first bad value."""
        _int(self, "d", 1)
        _int(self, "L", 2)
        _int(self, "rank", 1)
        _int(self, "teacher_rank", 1)
        _int(self, "seed", 0)
        _int(self, "test_samples", 1)
        if self.n is not None:
            _int(self, "n", 1)
        elif self.alpha is None:
            raise InputError("alpha or n must be given (alpha > 0 or n >= 1)")
        if self.alpha is not None:
            _real(self, "alpha", low=0.0, low_open=True)
        _real(self, "sigma", low=0.0, low_open=True)
        _real(self, "omega", low=0.0, high=1.0)
        _real(self, "lam", low=0.0)
        _real(self, "lam_lin", low=0.0)
        _real(self, "tol", low=0.0, low_open=True)
        _choice(self, "init", INITS)
        _choice(self, "teacher_norm", TEACHER_NORMS)
        _choice(self, "solver", SOLVERS)
        _choice(self, "device", DEVICES)
        _choice(self, "dtype", DTYPES)
        if self.steps is not None:
            _int(self, "steps", 1)
        if self.lr is not None:
            _real(self, "lr", low=0.0, low_open=True)
        self.A = _matrix_A(self.A, self.L)

    # ---------------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-able dict of the fields."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> Config:
        """A validated copy with some fields changed."""
        return from_dict({**self.to_dict(), **changes})

    def hash(self) -> str:
        """Stable short hash of the fields that change results (not the device)."""
        d = self.to_dict()
        d.pop("device")
        d["A"] = self.A_matrix
        d["n"] = self.n_samples
        d.pop("alpha")
        if d["teacher_norm"] == "gaussian":  # the default keeps the hashes of older runs
            d.pop("teacher_norm")
        blob = json.dumps(d, sort_keys=True, default=float)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Config))


def from_dict(values: dict[str, Any], where: str = "config") -> Config:
    """Build a Config from a dict; unknown keys are refused."""
    if not isinstance(values, dict):
        raise InputError(f"{where}: expected a mapping of fields, got {type(values).__name__}")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(FIELDS)}")
    return Config(**values)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping from `path`, with one-line errors for missing or bad files."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise InputError(f"--config {path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" at line {line + 1}" if line is not None else ""
        raise InputError(f"--config {path}: not valid YAML{at}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"--config {path}: expected a mapping of fields at the top level")
    return data


def dump_yaml(cfg: Config) -> str:
    """YAML text of a config."""
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)


def parse_A(text: str, L: int | None = None) -> Any:
    """Parse `--A`: a preset name or comma-separated entries in row-major order."""
    text = text.strip()
    if text in A_PRESETS:
        return text
    try:
        flat = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(
            f"--A {text!r}: expected a preset ({', '.join(A_PRESETS)}) or comma-separated numbers"
        ) from None
    size = math.isqrt(len(flat))
    if size * size != len(flat) or (L is not None and size != L):
        want = f"{L * L} numbers (L x L, L = {L})" if L is not None else "a square number of values"
        raise InputError(f"--A {text!r}: got {len(flat)} numbers, expected {want}")
    return [flat[i * size : (i + 1) * size] for i in range(size)]


def A_rows(A: Any, L: int) -> list[list[float]]:
    """A validated L x L row-stochastic matrix from a preset name or rows."""
    A = _matrix_A(A, L)
    return A_PRESETS[A] if isinstance(A, str) else A


# -------------------------------------------------------------------- field checks
def _int(cfg: Config, name: str, low: int) -> None:
    v = getattr(cfg, name)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise InputError(f"{name} = {getattr(cfg, name)!r}: must be an integer >= {low}")
    setattr(cfg, name, v)


def _real(
    cfg: Config,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> None:
    v = getattr(cfg, name)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InputError(f"{name} = {v!r}: must be a finite number")
    if low is not None and (v < low or (low_open and v == low)):
        bound = f"> {low}" if low_open else f">= {low}"
        allowed = f"in [{low}, {high}]" if high is not None else bound
        raise InputError(f"{name} = {v!r}: must be {allowed}")
    if high is not None and v > high:
        raise InputError(f"{name} = {v!r}: must be in [{low}, {high}]")
    setattr(cfg, name, float(v))


def _choice(cfg: Config, name: str, allowed: tuple[str, ...]) -> None:
    v = getattr(cfg, name)
    if v not in allowed:
        raise InputError(f"{name} = {v!r}: must be one of {', '.join(allowed)}")


def _matrix_A(A: Any, L: int) -> Any:
    """Validate A (a preset name or an L x L row-stochastic matrix); return it normalised."""
    if isinstance(A, str):
        if A not in A_PRESETS:
            raise InputError(f"A = {A!r}: must be a preset ({', '.join(A_PRESETS)}) or a matrix")
        if L != 2:
            raise InputError(f"A = {A!r}: presets are 2 x 2, but L = {L}; give an L x L matrix")
        return A
    if A is None:
        if L == 2:
            return "paper"
        raise InputError(f"A is required for L = {L}: an L x L row-stochastic matrix")
    try:
        rows = [[float(x) for x in row] for row in A]
    except (TypeError, ValueError):
        raise InputError(f"A = {A!r}: must be an L x L matrix of numbers") from None
    if len(rows) != L or any(len(r) != L for r in rows):
        raise InputError(f"A = {A!r}: must be {L} x {L} (L = {L})")
    for r in rows:
        if not all(math.isfinite(x) for x in r):
            raise InputError(f"A = {A!r}: entries must be finite numbers")
        if min(r) < 0 or abs(sum(r) - 1.0) > 1e-9:
            raise InputError(f"A = {A!r}: rows must be non-negative and sum to 1")
    return rows
