"""Atomic writes: one implementation for every file and folder calcsim writes.

A file is written to a temporary name in the same folder, flushed and fsynced, then renamed over
the target (:func:`os.replace` is atomic on POSIX), and the folder entry is fsynced. A reader sees
either the old file or the new one, never half of one; a failure or a kill leaves the old file
as it was. Several files that belong together (a run's ``estimates.csv``, ``run.json`` and
``screens.parquet``) are written as one :class:`AtomicGroup`: all of them are written and fsynced
before the first is renamed, so a full disk leaves none of the new files and every old one.

Temporary names are ``.<target name>.<8 characters>.tmp`` (:func:`tempfile.mkstemp`'s random part),
in the target's folder. While calcsim writes one it holds an exclusive :func:`fcntl.flock` on it;
a temporary file that nobody holds is what a killed run left behind, and
:func:`remove_stale_temporaries` removes exactly those, for the target names it is given (never a
file of another name, never one a running calcsim is writing). Without :mod:`fcntl` (Windows) no
lock can be taken and :func:`remove_stale_temporaries` removes nothing; on a filesystem without locks
a temporary file is written unlocked and a clean-up there leaves every file alone.

A folder (the HTML report, a coursework export) is built in a staging folder beside its target
(same filesystem) and swapped in with two renames (:func:`swap_into_place`).

New files and folders get the permissions of any new file (``0o666`` / ``0o777`` minus the umask),
not the private ``0o600`` that :func:`tempfile.mkstemp` would leave.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, so no clean-up of stale files
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "PROBE_PREFIX",
    "AtomicGroup",
    "atomic_file",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_writable",
    "fill",
    "remove_stale_temporaries",
    "staging_folder",
    "swap_into_place",
    "temporary_name_pattern",
]

#: Prefix of the empty file :func:`check_writable` creates and removes at once.
PROBE_PREFIX = ".calcsim-write-check"


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


def temporary_name_pattern(target_name: str, suffix: str = ".tmp") -> re.Pattern[str]:
    """The exact names of the temporary files calcsim writes for ``target_name`` (see the module notes)."""
    return re.compile(rf"\.{re.escape(target_name)}\.[a-z0-9_]{{8}}{re.escape(suffix)}")


def _locked_temporary(target: Path, suffix: str) -> tuple[int, Path]:
    """Create a temporary file beside ``target`` and hold an exclusive lock on it: ``(fd, path)``."""
    while True:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
        if fcntl is None:
            return fd, Path(name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a filesystem without locks (e.g. NFS without lockd): write it unlocked
            return fd, Path(name)
        except BaseException:
            os.close(fd)
            Path(name).unlink(missing_ok=True)
            raise
        try:
            mine, now = os.fstat(fd), os.stat(name)
            if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
                return fd, Path(name)
        except FileNotFoundError:
            pass  # a clean-up removed it between mkstemp and flock: take another name
        os.close(fd)


class AtomicGroup:
    """Temporary files beside ``paths``, renamed onto them together by :meth:`commit`.

    ``open()`` creates and locks the temporary files and returns their paths; the caller writes
    them (e.g. ``df.to_parquet(tmp)``); ``commit()`` sets their permissions, fsyncs every one of
    them, then renames each onto its target; ``abort()`` (also on leaving a ``with`` block with an
    exception) removes those not yet renamed. Used as a context manager it opens on entry and
    commits on a normal exit.
    """

    def __init__(self, paths: Iterable[str | os.PathLike[str]], suffix: str = ".tmp") -> None:
        self.targets = [Path(p) for p in paths]
        self.suffix = suffix
        self.held: list[tuple[int, Path]] = []

    def open(self) -> list[Path]:
        """Create (and lock) one temporary file per target; on failure none is left."""
        try:
            for target in self.targets:
                self.held.append(_locked_temporary(target, self.suffix))
        except BaseException:
            self.abort()
            raise
        return [tmp for _, tmp in self.held]

    def commit(self) -> None:
        """Permissions, fsync of every file, then the renames and the folders' fsync."""
        try:
            mode = 0o666 & ~_umask()
            for _, tmp in self.held:
                tmp.chmod(mode)
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
            for (_, tmp), target in zip(self.held, self.targets, strict=True):
                os.replace(tmp, target)
            for folder in dict.fromkeys(t.parent for t in self.targets):
                _fsync_dir(folder)
        finally:
            self.abort()

    def abort(self) -> None:
        """Remove the temporary files not renamed yet and release their locks (safe to call twice)."""
        held, self.held = self.held, []
        for fd, tmp in held:
            tmp.unlink(missing_ok=True)
            os.close(fd)

    def __enter__(self) -> list[Path]:
        return self.open()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    The caller writes the temporary file (e.g. ``df.to_parquet(tmp)``). On any exception the
    temporary file is removed and ``path`` is left as it was.
    """
    with AtomicGroup([path], suffix) as (tmp,):
        yield tmp


def fill(tmp: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` into the (temporary) file ``tmp``, replacing its contents."""
    with open(tmp, "wb") as fh:
        fh.write(data)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_file(path) as tmp:
        fill(tmp, data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` (``\\n`` line ends) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def check_writable(folder: str | os.PathLike[str]) -> None:
    """Create and remove an empty file in ``folder``; raise the :class:`OSError` if that is not possible."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=f"{PROBE_PREFIX}.", suffix=".tmp")
    os.close(fd)
    Path(name).unlink(missing_ok=True)  # missing: a concurrent clean-up took it, which is fine


def remove_stale_temporaries(
    folder: str | os.PathLike[str], names: Sequence[str], patterns: Sequence[re.Pattern[str]] = ()
) -> list[Path]:
    """Remove the temporary files of ``names`` in ``folder`` that no running calcsim holds.

    Parameters
    ----------
    folder : path
        The output folder.
    names : sequence of str
        Target file names (``estimates.csv``, ...): their temporary files
        (:func:`temporary_name_pattern`) and the probe of :func:`check_writable` are candidates.
    patterns : sequence of re.Pattern
        Further exact names (e.g. an earlier calcsim's temporary names).

    Returns
    -------
    list of pathlib.Path
        The files removed: regular files whose name matches exactly and whose lock could be taken
        (a file a running calcsim writes is locked and stays).
    """
    if fcntl is None:
        return []
    wanted = [temporary_name_pattern(n) for n in (*names, PROBE_PREFIX[1:])] + list(patterns)
    removed = []
    with os.scandir(folder) as entries:
        candidates = [
            e for e in entries if any(p.fullmatch(e.name) for p in wanted) and e.is_file(follow_symlinks=False)
        ]
    for entry in candidates:
        try:
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:  # gone already, or not ours to read: left alone
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held: a running calcsim is writing it
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:  # held (BlockingIOError), no locks here, or not ours to remove: left alone
            pass
        finally:
            os.close(fd)
    return removed


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
