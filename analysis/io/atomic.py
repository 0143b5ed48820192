"""Atomic writes: one implementation for every file and folder calcsim writes.

A file is written to a temporary name in the same folder, flushed and fsynced, then renamed over
the target (:func:`os.replace` is atomic on POSIX), and the folder entry is fsynced. A reader sees
either the old file or the new one, never half of one; a failure or a kill leaves the old file
as it was. Temporary names start with ``.`` and end with ``.tmp`` so that they are easy to
recognise (and to clean).

A folder (the HTML report, a coursework export) is built in a staging folder beside its target
(same filesystem) and swapped in with two renames (:func:`swap_into_place`).

New files and folders get the permissions of any new file (``0o666`` / ``0o777`` minus the umask),
not the private ``0o600`` that :func:`tempfile.mkstemp` would leave.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_file", "atomic_write_bytes", "atomic_write_text", "staging_folder", "swap_into_place"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename is durable only once its folder is synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. not permitted on this platform: the rename itself is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    The caller writes the temporary file (e.g. ``df.to_parquet(tmp)``). On any exception the
    temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(0o666 & ~_umask())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_file(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` (``\\n`` line ends) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def swap_into_place(new: Path, out: Path) -> None:
    """Replace folder ``out`` by folder ``new`` (same filesystem) as atomically as POSIX allows.

    The old folder is renamed to a backup beside it, ``new`` renamed to ``out``, then the backup
    deleted; if the second rename fails the backup is renamed back.
    """
    backup = None
    if out.exists():
        backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        backup.rmdir()  # reserve a unique name, then let rename create it
        os.rename(out, backup)
    try:
        os.rename(new, out)
    except BaseException:
        if backup is not None:
            os.rename(backup, out)
        raise
    _fsync_dir(out.parent)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def staging_folder(out: Path, label: str) -> Iterator[Path]:
    """A fresh folder beside ``out`` (same filesystem), deleted unless it has been moved away."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.{label}-", dir=out.parent))
    stage.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the result should look like any new folder
    try:
        yield stage
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
