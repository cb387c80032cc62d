"""The data-set container and its `.npz` file format.

A file holds `X` (n, L, d) inputs with positions added, `Y` (n, L, d) targets, `Q_star`
(d, r*), `P` (L, d), `A` (L, L) and `meta`, a JSON string with the config, seed, package
version and creation time. It is a plain uncompressed `.npz`: `numpy.load` reads it.
Writing streams the samples chunk by chunk into the zip members, so memory stays bounded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .config import Config, from_dict
from .errors import InputError
from .io import atomic_path, file_kind
from .teacher import CHUNK_ENTRIES, Teacher

KEYS = ("X", "Y", "Q_star", "P", "A", "meta")


@dataclass
class Dataset:
    """Training samples of one teacher, with the config that made them."""

    X: np.ndarray
    Y: np.ndarray
    Q_star: np.ndarray
    P: np.ndarray
    A: np.ndarray
    meta: dict[str, Any]

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def L(self) -> int:
        return self.X.shape[1]

    @property
    def d(self) -> int:
        return self.X.shape[2]

    @property
    def config(self) -> Config:
        return from_dict(self.meta["config"], where="data file meta")

    @property
    def Z(self) -> np.ndarray:
        """Semantic parts: inputs minus positional encodings."""
        return self.X - self.P.astype(self.X.dtype)

    def teacher(self) -> Teacher:
        cfg = self.config
        return Teacher(self.Q_star, self.P, self.A, cfg.sigma, cfg.omega, cfg.seed)

    def head(self, n: int) -> Dataset:
        """The first n samples (what a smaller alpha with the same seed would draw)."""
        if not 1 <= n <= self.n:
            raise InputError(f"--n-train {n}: must be in [1, {self.n}] (samples in the data)")
        return Dataset(self.X[:n], self.Y[:n], self.Q_star, self.P, self.A, self.meta)


# Peak memory of training on an in-memory data set, in units of the data (X and Y): measured
# 2.3x at d = 500 (the data, its float64 Gram inputs, and the solver's activations); 3x leaves
# room. Generation streams: its memory is a few chunks whatever n is.
MEMORY_FACTOR = 3
GIB = 2**30


def data_bytes(cfg: Config, n: int | None = None) -> int:
    """Bytes of X and Y of `n` (default: the config's) samples."""
    n = cfg.n_samples if n is None else n
    return 2 * n * cfg.L * cfg.d * np.dtype(cfg.dtype).itemsize


def available_memory() -> int | None:
    """Bytes of memory available now (Linux MemAvailable; else free pages), None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(need: int, what: str, max_gib: float | None = None) -> None:
    """Refuse work that needs more than `max_gib` GiB (default: the memory available now),
    up front, with the estimate; `--max-memory` raises the limit."""
    limit = max_gib * GIB if max_gib is not None else available_memory()
    if limit is not None and need > limit:
        source = "the limit --max-memory" if max_gib is not None else "the memory available"
        raise InputError(f"{what}: needs about {need / GIB:.3g} GiB of memory, more than "
                         f"{source} ({limit / GIB:.3g} GiB); use fewer samples or a smaller d, "
                         "or --max-memory GIB to allow it")


def check_trainable(cfg: Config, max_gib: float | None = None, n: int | None = None) -> None:
    """Refuse a run whose in-memory data set and training cannot fit in memory."""
    n = cfg.n_samples if n is None else n
    check_memory(MEMORY_FACTOR * data_bytes(cfg, n), f"n = {n}, d = {cfg.d}, L = {cfg.L}",
                 max_gib)


def check_writable(cfg: Config, path: str | Path, max_gib: float | None = None) -> None:
    """Refuse a data file that cannot fit on its disk, or whose chunks cannot fit in memory."""
    folder = Path(path).resolve().parent
    while not folder.exists():
        folder = folder.parent
    size = data_bytes(cfg)
    free = shutil.disk_usage(folder).free
    if size > free:
        raise InputError(f"--out {path}: the file (n = {cfg.n_samples}, d = {cfg.d}, "
                         f"L = {cfg.L}) needs {size / GIB:.3g} GiB, but {folder} has "
                         f"{free / GIB:.3g} GiB free")
    rows = max(1, CHUNK_ENTRIES // (cfg.L * cfg.d))
    check_memory(4 * rows * cfg.L * cfg.d * 8, f"d = {cfg.d}, L = {cfg.L}", max_gib)


def make_meta(cfg: Config, n: int) -> dict[str, Any]:
    """Provenance recorded with every data set and result."""
    return {
        "config": {**cfg.to_dict(), "n": n},
        "seed": cfg.seed,
        "version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def generate(cfg: Config) -> Dataset:
    """Draw the training set of `cfg` in memory: n = cfg.n_samples samples, seeded."""
    teacher = Teacher.from_config(cfg)
    n = cfg.n_samples
    dtype = np.dtype(cfg.dtype)
    X = np.empty((n, cfg.L, cfg.d), dtype=dtype)
    Y = np.empty_like(X)
    teacher.fill(X, Y)
    return Dataset(X, Y, teacher.Q_star, teacher.P, teacher.A, make_meta(cfg, n))


def write(cfg: Config, path: str | Path, chunk: int | None = None) -> Path:
    """Generate the training set of `cfg` straight into `path` with bounded memory.

    Two passes over the sample stream (one for X, one for Y): each chunk is drawn twice
    rather than held, so memory is a few chunks whatever n is. The file appears only when
    complete (written to a temporary file, then renamed).
    """
    teacher = Teacher.from_config(cfg)
    n, dtype = cfg.n_samples, np.dtype(cfg.dtype)
    shape = (n, cfg.L, cfg.d)

    def column(index: int) -> Callable[[], Iterator[np.ndarray]]:
        return lambda: (c[index] for c in teacher.sample_chunks(n, "train", dtype, chunk))

    meta = json.dumps(make_meta(cfg, n))
    with atomic_path(path, suffix=".npz") as tmp, zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        _write_member(zf, "X", shape, dtype, column(0))
        _write_member(zf, "Y", shape, dtype, column(1))
        for name, arr in (("Q_star", teacher.Q_star), ("P", teacher.P), ("A", teacher.A)):
            _write_member(zf, name, arr.shape, arr.dtype, lambda a=arr: iter([a]))
        meta_arr = np.array(meta)
        _write_member(zf, "meta", meta_arr.shape, meta_arr.dtype, lambda: iter([meta_arr]))
    return Path(path)


def _write_member(
    zf: zipfile.ZipFile,
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    chunks: Callable[[], Iterator[np.ndarray]],
) -> None:
    """Write one `.npy` member from C-ordered chunks whose rows concatenate to `shape`."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": tuple(shape)}
    with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_2_0(f, header)
        for c in chunks():
            f.write(memoryview(np.ascontiguousarray(c, dtype=dtype)).cast("B"))


def load(path: str | Path) -> Dataset:
    """Read and check a data file; any problem is an InputError naming the file."""
    where = f"--data {path}"
    p = Path(path)
    if not p.is_file():  # not even opened: np.load on a FIFO or /dev/zero would hang
        raise InputError(f"{where}: " + ("no such file" if not p.exists() else
                                         f"is {file_kind(p.stat().st_mode)}, not a data file"))
    try:
        with np.load(p, allow_pickle=False) as f:
            missing = [k for k in KEYS if k not in f.files]
            if missing:
                raise InputError(f"{where}: incomplete data file, missing {', '.join(missing)}")
            arrays = {k: f[k] for k in KEYS}
    except InputError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise InputError(f"{where}: not a readable .npz data file ({type(exc).__name__})") from None
    try:
        meta = json.loads(str(arrays["meta"]))
        from_dict(meta["config"], where=f"{where} meta")
    except (json.JSONDecodeError, KeyError, TypeError):
        raise InputError(f"{where}: meta is not the JSON written by attnphase") from None
    X, Y, Q_star, P, A = (arrays[k] for k in KEYS[:5])
    for key in KEYS[:5]:
        arr = arrays[key]
        if arr.dtype not in (np.float32, np.float64):
            raise InputError(f"{where}: {key} has dtype {arr.dtype}; expected float32 or "
                             "float64 (real floating-point numbers)")
        bad = _non_finite(arr)
        if bad:
            raise InputError(f"{where}: {key} holds {bad} NaN or infinite entries; "
                             "expected finite numbers")
    if X.ndim != 3 or Y.shape != X.shape:
        raise InputError(f"{where}: X and Y must have the same shape (n, L, d); got "
                         f"{X.shape} and {Y.shape}")
    n, L, d = X.shape
    if Q_star.ndim != 2 or Q_star.shape[0] != d or P.shape != (L, d) or A.shape != (L, L):
        raise InputError(f"{where}: Q_star {Q_star.shape}, P {P.shape}, A {A.shape} do not "
                         f"match X {X.shape}")
    return Dataset(X, Y, Q_star, P, A, meta)


def _non_finite(arr: np.ndarray, block: int = 1 << 22) -> int:
    """Number of NaN or infinite entries, counted block by block (no array-sized mask)."""
    flat = arr.reshape(-1)
    blocks = (flat[i:i + block] for i in range(0, flat.size, block))
    return sum(int(b.size - np.count_nonzero(np.isfinite(b))) for b in blocks)
