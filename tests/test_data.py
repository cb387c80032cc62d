"""The .npz format: streamed writing equals in-memory generation; bad files are refused."""

import json
import zipfile

import numpy as np
import pytest
import torch

from attnphase.config import Config
from attnphase.data import _non_finite, generate, load, write
from attnphase.errors import InputError


def rounding_bound(ds) -> float:
    """Worst-case difference in Y between two float64 evaluations that order sums differently.

    X = Z + P is elementwise and correctly rounded, so chunking cannot change it; Y involves
    reductions whose order BLAS picks by CPU, thread count and block shape. A sum of k terms
    computed in any order is within k eps sum|terms| of the exact one (Higham, Thm 3.1): for
    the preactivations h = Z Q* / sqrt(d) (k = d), the logits h_l h_k (error 2 |h| dh), the
    softmax (Lipschitz 1/4 per logit, L logits), and Y = mix Z (k = L). Float32 files add one
    float32 rounding of Y that can fall either way.
    """
    eps = np.finfo(np.float64).eps
    Z = ds.Z.astype(np.float64)
    cfg = ds.config
    q = np.abs(ds.Q_star).max()
    d_h = cfg.d * eps * (np.abs(Z).sum(axis=2) * q / np.sqrt(cfg.d)).max()
    h = np.abs(Z @ ds.Q_star / np.sqrt(cfg.d)).max()
    d_mix = (1 - cfg.omega) * cfg.L * 0.25 * (2 * h * d_h + 2 * eps * h * h)
    bound = cfg.L * (d_mix + cfg.L * eps) * np.abs(Z).max()
    if ds.X.dtype == np.float32:
        bound += np.spacing(np.float32(np.abs(ds.Y).max()))
    return float(bound)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("chunk", [1, 5, 37, None])
@pytest.mark.parametrize("threads", [1, 2])
def test_streamed_file_equals_memory(tmp_path, dtype, chunk, threads):
    """Same samples whatever the chunk size and thread count: X, Q*, P, A bit for bit (no
    reduction), Y within the rounding bound of a reordered float64 evaluation."""
    cfg = Config(d=25, n=37, seed=4, omega=0.2, dtype=dtype)
    torch.set_num_threads(threads)
    path = write(cfg, tmp_path / "a.npz", chunk=chunk)
    torch.set_num_threads(1)
    with np.load(path) as f:  # plain numpy can read it
        assert set(f.files) == {"X", "Y", "Q_star", "P", "A", "meta"}
        meta = json.loads(str(f["meta"]))
    ds, mem = load(path), generate(cfg)
    for k in ("X", "Q_star", "P", "A"):
        np.testing.assert_array_equal(getattr(ds, k), getattr(mem, k))
    tol = rounding_bound(mem)
    assert 0 < tol < 1e-6 if dtype == "float32" else 0 < tol < 1e-11
    np.testing.assert_allclose(ds.Y, mem.Y, rtol=0, atol=tol)
    assert meta["seed"] == 4 and meta["version"] and meta["created"]
    assert meta["config"]["omega"] == 0.2 and meta["config"]["n"] == 37
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


def test_head_and_too_many(tmp_path):
    ds = load(write(Config(d=10, n=8), tmp_path / "b.npz"))
    assert ds.head(3).n == 3
    with pytest.raises(InputError, match="--n-train 9"):
        ds.head(9)


@pytest.mark.parametrize("damage", ["missing", "truncated", "not_npz", "incomplete", "bad_meta"])
def test_bad_files(tmp_path, damage):
    good = write(Config(d=10, n=8), tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "not_npz":
        bad.write_text("hello")
    elif damage == "incomplete":
        np.savez(bad, X=np.zeros((8, 2, 10)), Y=np.zeros((8, 2, 10)))
    elif damage == "bad_meta":
        with np.load(good) as f:
            arrays = {k: f[k] for k in f.files}
        arrays["meta"] = np.array("{not json")
        np.savez(bad, **arrays)
    with pytest.raises(InputError, match="--data"):
        load(bad)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import attnphase.data as data

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(data, "_write_member", boom)
    with pytest.raises(RuntimeError):
        write(Config(d=10, n=8), tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def test_zip64_members_are_streamed(tmp_path):
    path = write(Config(d=10, n=8), tmp_path / "c.npz")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == sorted(f"{k}.npy" for k in
                                               ("X", "Y", "Q_star", "P", "A", "meta"))


def test_written_files_have_the_usual_mode(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = write(Config(d=10, n=8), tmp_path / "m.npz")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_writing_a_large_set_keeps_memory_bounded(tmp_path):
    """A 320 MB file (X and Y, float64) is written with far less memory than its size."""
    import subprocess
    import sys

    code = (
        "import resource, sys\n"
        "from attnphase.config import Config\n"
        "from attnphase.data import write\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"write(Config(d=1000, n=20000), {str(tmp_path / 'big.npz')!r})\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print((after - before) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    grown_mb = int(out.stdout.strip())
    assert (tmp_path / "big.npz").stat().st_size > 300 * 2**20
    assert grown_mb < 120, f"peak memory grew by {grown_mb} MB"


@pytest.mark.parametrize("block", [1, 3, 7, 64, 1 << 22])
def test_non_finite_count_is_exact_for_any_block_size(block):
    """The block-wise count equals a direct count, whether or not blocks divide the size."""
    arr = np.arange(50, dtype=np.float64).reshape(5, 10)
    arr[1, 2], arr[3, 9], arr[4, 0] = np.nan, np.inf, -np.inf
    assert _non_finite(arr, block) == 3 == int((~np.isfinite(arr)).sum())
    assert _non_finite(np.ones(5 * block + 1), block) == 0
