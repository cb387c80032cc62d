"""Safe output files: every writer of the package goes through `atomic_path`.

A file is written to a temporary name beside its target and renamed onto it when complete,
so a reader never sees half a file and a failure leaves nothing behind. Only regular files
are ever replaced: a symlink, FIFO, device or directory at the target is refused (renaming
onto it would silently replace it, as `--out /dev/full` once turned a device into a file).
Problems with the target become one-line InputErrors naming it.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError

# errors of the output's file system that the user can act on (no space, read-only, ...)
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                 errno.EFBIG, errno.ENAMETOOLONG}


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words, from its st_mode."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_output(path: str | os.PathLike, flag: str = "output") -> Path:
    """Refuse an output path that cannot be written as a regular file, before any work.

    The target may be missing or a regular file (it is replaced); its folder must exist or
    be creatable, and be writable.
    """
    target = Path(path)
    where = f"{flag} {path}"
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        raise InputError(f"{where}: a parent of it is a file, not a folder") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot use it ({exc.strerror})") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(f"{where}: is {file_kind(mode)}; only regular files are replaced "
                         "(give a new file name)")
    folder = target.parent
    while not folder.exists():
        if folder.is_symlink():  # a dangling link: cannot become a folder
            raise InputError(f"{where}: its folder {folder} is a broken symbolic link")
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"{where}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{where}: cannot write in {folder} (permission denied)")
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "", flag: str = "output"
                ) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `path` on success.

    The one way the package writes files. On any exception (SIGTERM included, which the CLI
    turns into SystemExit) the temporary file is removed, so nothing half-written is left.
    `suffix` keeps an extension that some writers insist on (numpy adds `.npz`).
    """
    target = check_output(path, flag)
    where = f"{flag} {path}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp",
                                   dir=target.parent)
    except OSError as exc:
        raise InputError(f"{where}: cannot write ({exc.strerror})") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
            check_output(path, flag)  # still a regular file or missing (a race is refused)
            os.replace(tmp_path, target)
        except OSError as exc:
            if exc.errno in _WRITE_ERRNOS:
                raise InputError(f"{where}: cannot write ({exc.strerror})") from None
            raise
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str, flag: str = "output") -> Path:
    """Write `text` to `path` atomically."""
    with atomic_path(path, flag=flag) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_csv_atomic(path: str | os.PathLike, table: Any, flag: str = "output") -> Path:
    """Write a CSV atomically from a pandas DataFrame or a list of dicts (same keys)."""
    with atomic_path(path, suffix=".csv", flag=flag) as tmp:
        if hasattr(table, "to_csv"):
            table.to_csv(tmp, index=False)
        else:
            with open(tmp, "w", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(table[0]) if table else [])
                w.writeheader()
                w.writerows(table)
    return Path(path)


def finite_json(value: Any, **kwargs: Any) -> str:
    """JSON text that is always valid: NaN and infinities become null (as the sweep stores
    them), never the bare `NaN` / `Infinity` that json.dumps writes by default."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value), allow_nan=False, **kwargs)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
