"""The .npz format: streamed writing equals in-memory generation; bad files are refused."""

import json
import zipfile

import numpy as np
import pytest

from attnphase.config import Config
from attnphase.data import generate, load, write
from attnphase.errors import InputError


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_streamed_file_equals_memory(tmp_path, dtype):
    cfg = Config(d=25, n=37, seed=4, omega=0.2, dtype=dtype)
    path = write(cfg, tmp_path / "a.npz", chunk=5)
    with np.load(path) as f:  # plain numpy can read it
        assert set(f.files) == {"X", "Y", "Q_star", "P", "A", "meta"}
        meta = json.loads(str(f["meta"]))
    ds, mem = load(path), generate(cfg)
    for k in ("X", "Y", "Q_star", "P", "A"):
        np.testing.assert_array_equal(getattr(ds, k), getattr(mem, k))
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
