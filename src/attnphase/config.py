"""Typed configuration with the paper's defaults, validation, and YAML in and out.

One flat dataclass holds every knob of a run (data, student, solver, evaluation), so that a
sweep can put any field in its grid and a run is identified by the hash of its config.
Its class body is the package's one parameter table: each field carries its type, default,
bounds and help text (a `Param`), from which the command-line options (`options.py`), the
YAML validation and the theory's argument checks are derived.
Validation follows scikit-learn's habit: every check names the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

A_PRESETS: dict[str, list[list[float]]] = {
    "paper": [[0.6, 0.4], [0.4, 0.6]],
    "appendix": [[0.3, 0.7], [0.8, 0.2]],
}
DEFAULT_A = "paper"  # the paper's A for L = 2 (docs/model.md §1)
INITS = ("semantic", "positional", "random")
BRANCH_INITS = INITS[:2]  # the two informed inits; the global minimiser is the lower eps_t
SOLVERS = ("flow", "lbfgs", "gd", "adam")
DEVICES = ("cpu", "cuda")
DTYPES = ("float32", "float64")
# the teacher's Q*: i.i.d. N(0, 1) entries (the paper's), or rescaled onto the sphere
# ||Q*||_F^2 = d r* (no seed-to-seed teacher-norm noise; the d -> infinity theory is the same)
TEACHER_NORMS = ("gaussian", "sphere")
# eps_g: the integral over span(Q, Q*) by a tensor rule (exact) or quasi-Monte Carlo (qmc),
# Monte Carlo on test_samples fresh samples (mc), or auto: exact where the integral has at
# most 6 dimensions (L (r + r*) <= 6), else qmc (docs/solver.md)
EPS_G_METHODS = ("auto", "exact", "qmc", "mc")
MAX_SAMPLES = 2**40  # far beyond any memory; keeps n = round(alpha d) an exact integer
MAX_D = 2**30  # d (and ranks) beyond any memory: a single sample would need 16 GiB

# The paper's training protocols (docs/model.md §2); `flow` is this package's default (the
# minimiser gradient flow reaches, docs/solver.md), `lbfgs` the former default.
SOLVER_DEFAULTS: dict[str, dict[str, float]] = {
    "flow": {"lr": 1.0, "steps": 20000},  # a guard only: the flow stops on --tol
    "gd": {"lr": 0.15, "steps": 5000},
    "adam": {"lr": 0.01, "steps": 2500},
    "lbfgs": {"lr": 1.0, "steps": 2000},
}



def _short_repr() -> reprlib.Repr:
    """repr that stays short for any value (a huge or deeply nested YAML value included)."""
    r = reprlib.Repr()
    r.maxlevel, r.maxlist, r.maxdict, r.maxstring, r.maxother = 2, 4, 4, 40, 40
    return r


_show = _short_repr().repr


@dataclass(frozen=True)
class Param:
    """One row of the parameter table: what a field holds and what values are allowed.

    `kind` is int, float, str (one of `choices`) or "A" (a preset name or a matrix);
    numbers must lie in [low, high] (`low_open`: low itself excluded); `optional` fields may
    be None (the solver's default, or alpha when n is given).
    """

    kind: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False

    def allowed(self, what: bool = True) -> str:
        """The allowed values, in words, for error messages (`what`: with the type)."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        kind = ("an integer" if self.kind is int else "a finite number") if what else ""
        fmt = int if self.kind is int else float
        lo, hi = (None if b is None else fmt(b) for b in (self.low, self.high))
        if lo is not None and hi is not None:
            bounds = f"in {'(' if self.low_open else '['}{lo}, {hi}]"
        elif lo is not None:
            bounds = f"{'>' if self.low_open else '>='} {lo}"
        else:
            bounds = ""
        return " ".join(w for w in (kind, bounds) if w)

    def check(self, name: str, value: Any) -> Any:
        """`value` normalised (ints as int, reals as float); InputError naming it otherwise."""
        if value is None and self.optional:
            return None
        if self.kind == "A":
            raise TypeError("A is checked with its L: use A_rows or Config")
        if self.choices:
            if value not in self.choices:
                raise InputError(f"{name} = {_show(value)}: must be {self.allowed()}")
            return value
        v = value
        if self.kind is int and isinstance(v, float) and v.is_integer():
            v = int(v)
        ok_type = int if self.kind is int else int | float
        if isinstance(v, bool) or not isinstance(v, ok_type) or (
                isinstance(v, float) and not math.isfinite(v)):
            hint = " (got text: write the number without quotes)" if isinstance(v, str) else ""
            raise InputError(f"{name} = {_show(value)}: must be {self.allowed()}{hint}")
        if (self.low is not None and (v < self.low or (self.low_open and v == self.low))) or (
            self.high is not None and v > self.high
        ):
            raise InputError(f"{name} = {_show(value)}: must be {self.allowed(what=False)}")
        return self.kind(v)


def param(default: Any, kind: Any, help: str, **bounds: Any) -> Any:
    """A dataclass field whose metadata is its row of the parameter table."""
    return dataclasses.field(default=default, metadata={"param": Param(kind, help, **bounds)})


@dataclass
class Config:
    """Every parameter of a data set, a student and its training; defaults are the paper's.

    `n` wins over `alpha` when both are given; otherwise `n = round(alpha * d)`.
    `A` may be an L x L matrix or the name of a preset (`paper`, `appendix`).
    The upper bounds keep every intermediate finite in float64; they are far beyond any
    meaningful value (the student is Q = 0 long before lambda = 1e6).
    """

    d: int = param(1000, int, "embedding dimension (default 1000)", low=1, high=MAX_D)
    alpha: float | None = param(2.0, float, "samples per dimension, n = round(alpha d) "
                                "(default 2)", low=0, high=1e6, low_open=True, optional=True)
    n: int | None = param(None, int, "number of samples (overrides --alpha)", low=1,
                          high=MAX_SAMPLES, optional=True)
    L: int = param(2, int, "tokens per sentence (default 2; L > 2 needs --A)", low=2, high=1e4)
    rank: int = param(1, int, "rank r of the student Q (default 1)", low=1, high=MAX_D)
    teacher_rank: int = param(1, int, "rank r* of the teacher Q* (default 1)", low=1,
                              high=MAX_D)
    teacher_norm: str = param("gaussian", str, "gaussian (the paper's N(0, 1) entries, "
                              "default) or sphere (rescaled to ||Q*||^2 = d r*: no "
                              "teacher-norm noise over seeds)", choices=TEACHER_NORMS)
    sigma: float = param(0.5, float, "std of the semantic parts z_l (default 0.5)", low=0,
                         high=1e3, low_open=True)
    omega: float = param(0.3, float, "weight of the positional part of the teacher "
                         "(default 0.3)", low=0, high=1)
    A: Any = param(None, "A", "positional attention: 'paper', 'appendix' or L*L numbers, "
                   "row-major, comma-separated (default paper)")
    lam: float = param(0.01, float, "ridge penalty lambda of the student (default 0.01)", low=0,
                       high=1e6)
    lam_lin: float = param(1e-4, float, "ridge penalty of the linear baseline (default 1e-4)",
                           low=0, high=1e6)
    init: str = param("semantic", str, "semantic, positional or random (default semantic)",
                      choices=INITS)
    solver: str = param("flow", str, "flow (default: the gradient flow's minimiser, to --tol), "
                        "lbfgs, gd (paper: lr 0.15, 5000 steps), adam (lr 0.01, 2500)",
                        choices=SOLVERS)
    steps: int | None = param(None, int, "maximum number of steps (solver default)", low=1,
                              high=MAX_SAMPLES, optional=True)
    lr: float | None = param(None, float, "learning rate (solver default)", low=0, high=1e6,
                             low_open=True, optional=True)
    tol: float = param(1e-6, float, "tolerance on the RMS entry of dR/dQ (default 1e-6)",
                       low=0, low_open=True)
    flow_rtol: float | None = param(None, float, "flow: local error of a step at most this "
                                    "times ||Q|| (default 1e-5)", low=0, high=0.25,
                                    low_open=True, optional=True)
    flow_screen: float = param(100.0, float, "flow: the step tolerance is this many times "
                               "looser (at most 1e-2) wherever the path meets no negative "
                               "curvature (default 100; 1: the same everywhere)", low=1,
                               high=1e6)
    certify: int = param(0, int, "flow: compare the end point with the flow at 10x the "
                         "tolerance, refining 10x at a time up to this many times until two "
                         "agree; records `certified` (default 0: no check)", low=0, high=4)
    seed: int = param(0, int, "seed of teacher, samples and initialisation (default 0)", low=0,
                      high=2**63 - 1)
    test_samples: int = param(50000, int, "fresh samples for eps_g with --eps-g-method mc "
                              "(default 50000)", low=1, high=MAX_SAMPLES)
    eps_g_method: str = param("auto", str, "auto (default: exact where L (r + r*) <= 6, else "
                              "qmc), exact (Gauss-Hermite), qmc (quasi-Monte Carlo over "
                              "span(Q, Q*)), mc (fresh samples)",
                              choices=EPS_G_METHODS)
    device: str = param("cpu", str, "cpu or cuda (default cpu)", choices=DEVICES)
    dtype: str = param("float64", str, "float32 or float64 (default float64)", choices=DTYPES)

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
        """Check every field against its row of the table; raise InputError naming the first
        bad value."""
        for name, p in PARAMS.items():
            if name != "A":
                setattr(self, name, p.check(name, getattr(self, name)))
        if self.n is None and self.alpha is None:
            raise InputError("alpha or n must be given (alpha > 0 or n >= 1)")
        if self.n is None and self.alpha * self.d > MAX_SAMPLES:
            raise InputError(f"alpha = {self.alpha:g}: n = alpha d = {self.alpha * self.d:.3g} "
                             f"samples; at most {MAX_SAMPLES:.3g} are allowed")
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
        for name, default in (("teacher_norm", "gaussian"), ("flow_rtol", None),
                              ("flow_screen", 100.0), ("certify", 0)):
            if d[name] == default:  # the default keeps the hashes of older runs
                d.pop(name)
        blob = json.dumps(d, sort_keys=True, default=float)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


PARAMS: dict[str, Param] = {f.name: f.metadata["param"] for f in dataclasses.fields(Config)}
DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(Config)}


def check_param(name: str, value: Any, flag: str | None = None) -> Any:
    """Check one value against the table (for callers without a Config, e.g. the theory);
    `flag` (like `--omega`) replaces the field name in the message."""
    try:
        return PARAMS[name].check(name, value)
    except InputError as exc:
        if flag is None:
            raise
        raise InputError(f"{flag} {str(exc).split(' = ', 1)[1]}") from None


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Config))


def from_dict(values: dict[str, Any], where: str = "config") -> Config:
    """Build a Config from a dict; unknown keys are refused."""
    return Config(**check_fields(values, where))


def check_fields(values: Any, where: str) -> dict[str, Any]:
    """`values` if it is a mapping of config fields; InputError naming the first unknown one."""
    if not isinstance(values, dict):
        raise InputError(f"{where}: expected a mapping of fields, got {type(values).__name__}")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(FIELDS)}")
    return values


MAX_YAML_BYTES = 1 << 20  # configs are a few hundred bytes


def load_yaml(path: str | Path, where: str | None = None) -> dict[str, Any]:
    """Read a YAML mapping from `path`, with one-line errors for missing or bad files."""
    where = where or f"--config {path}"
    p = Path(path)
    try:
        if not p.is_file():
            what = "a directory" if p.is_dir() else "not a regular file" if p.exists() else \
                "no such file"
            raise InputError(f"{where}: {what} (expected a YAML file)")
        if p.stat().st_size > MAX_YAML_BYTES:
            raise InputError(f"{where}: {p.stat().st_size} bytes; a config is at most "
                             f"{MAX_YAML_BYTES} bytes")
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(f"{where}: cannot read ({why})") from None
    import yaml  # here: `attnphase --help` needs no YAML

    from .safeyaml import safe_load

    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        raise InputError(f"{where}: not valid YAML{at}" + (f" ({problem})" if problem else ""))\
            from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a mapping of fields at the top level")
    return data


def config_resource(*parts: str) -> Path:
    """A file of the configs shipped with the package (`configs/` of the repository, mapped
    into the package as `attnphase/configs`), e.g. `config_resource("quick", "fig2.yaml")`.

    Found through importlib.resources, so it works from a wheel installed anywhere, an
    editable install and a source checkout alike, whatever the working directory.
    """
    from importlib.resources import files

    return Path(str(files("attnphase").joinpath("configs", *parts)))


def dump_yaml(cfg: Config) -> str:
    """YAML text of a config."""
    import yaml

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


# -------------------------------------------------------------------- A
def _matrix_A(A: Any, L: int) -> Any:
    """Validate A (a preset name or an L x L row-stochastic matrix); return it normalised."""
    if isinstance(A, str):
        if A not in A_PRESETS:
            raise InputError(f"A = {_show(A)}: must be a preset ({', '.join(A_PRESETS)}) "
                             "or a matrix")
        if L != 2:
            raise InputError(f"A = {_show(A)}: presets are 2 x 2, but L = {L}; give an L x L "
                             "matrix")
        return A
    if A is None:
        if L == 2:
            return DEFAULT_A
        raise InputError(f"A is required for L = {L}: an L x L row-stochastic matrix")
    try:
        rows = [[float(x) for x in row] for row in A]
    except (TypeError, ValueError):
        raise InputError(f"A = {_show(A)}: must be an L x L matrix of numbers") from None
    if len(rows) != L or any(len(r) != L for r in rows):
        raise InputError(f"A = {_show(A)}: must be {L} x {L} (L = {L})")
    for r in rows:
        if not all(math.isfinite(x) for x in r):
            raise InputError(f"A = {_show(A)}: entries must be finite numbers")
        if min(r) < 0:
            raise InputError(f"A = {_show(A)}: rows must be non-negative (row-stochastic)")
        if abs(sum(r) - 1.0) > 1e-9:
            raise InputError(f"A = {_show(A)}: rows must sum to 1 (row-stochastic)")
    return rows
