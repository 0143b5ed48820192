"""The report folder: what in it is the report's, and how new pages get there.

The report only ever writes, replaces or deletes **its own files**: the ones listed under ``files`` in
the :data:`~analysis.report.provenance.MANIFEST` (``report.json``) of the previous build (for a manifest
written before that list existed: its pages, ``index.html`` and the manifest). Anything else in the
folder — a ``README.md``, a user's notes, a sub-folder — is left alone, and a build that would have to
overwrite such a file is refused before any notebook runs.

Every page is first written to a staging folder beside the report (``.<name>.building-XXXXXXXX``, same
filesystem), so a failing notebook leaves the report as it was. Once every notebook has run:

1. the manifest in the folder is rewritten to claim every file about to be moved in (so that a build
   killed halfway leaves nothing the next build would not recognise as its own);
2. each staged file is renamed over its target (:func:`os.replace`: a reader sees the old page or the
   new one, never half of one), the new manifest last;
3. files of the old report that the new one no longer has are deleted (a full build only removes
   pages of notebooks that are gone; a partial build, ``notebooks=[...]`` / ``--only``, keeps every
   other page).

A staging folder holds a lock (``flock``) while its build runs. Staging folders left by a killed build
(``.<name>.building-XXXXXXXX``, and ``.<name>.old-XXXXXXXX`` backups of the earlier whole-folder swap)
are deleted by the next build into the same folder unless their lock is held (a build still running).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from analysis.errors import ArgumentError
from analysis.io.atomic import atomic_write_text, staging_folder
from analysis.report.provenance import GENERATOR, MANIFEST

#: Label of the staging folders (``.<name>.building-XXXXXXXX``).
STAGING_LABEL = "building"
_LOCK = ".lock"
#: ``tempfile.mkdtemp``'s random part: 8 characters of ``[a-z0-9_]``.
_RANDOM = "[a-z0-9_]{8}"


def read_previous(out: Path) -> dict[str, Any] | None:
    """The manifest of the report already in ``out``; None when there is none.

    Raises
    ------
    ArgumentError
        ``out`` holds a :data:`MANIFEST` that this module did not write (a user's file of that name).
    """
    path = out / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("generator") != GENERATOR:
        raise ArgumentError(
            "out_dir",
            str(out),
            f"holds a {MANIFEST} that is not a calcsim report's manifest;"
            " the report would overwrite it — choose another folder",
            flag="--out",
        )
    return manifest


def owned_files(manifest: Mapping[str, Any] | None) -> set[str]:
    """The files (relative paths) an earlier build wrote into the folder, from its manifest."""
    if not manifest:
        return set()
    if isinstance(manifest.get("files"), list):
        return {str(f) for f in manifest["files"]}
    pages = manifest.get("pages", [])  # a manifest from before the "files" list
    return {str(p["page"]) for p in pages if isinstance(p, dict) and "page" in p} | {"index.html", MANIFEST}


def check_targets(out: Path, targets: Iterable[str], owned: set[str]) -> None:
    """Refuse a build that would overwrite a file in ``out`` that the report did not write."""
    conflicts = sorted(t for t in targets if t not in owned and ((out / t).exists() or (out / t).is_symlink()))
    if conflicts:
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise ArgumentError(
            "out_dir",
            str(out),
            f"holds {conflicts[0]}{more}, which the report did not write"
            " and would overwrite; move it away or choose another folder",
            flag="--out",
        )


def _locked(folder: Path) -> bool:
    """Whether a running build holds the lock of staging folder ``folder``."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): treat leftovers as abandoned
        return False
    try:
        fd = os.open(folder / _LOCK, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken just now
    return False


def leftovers(out: Path) -> list[Path]:
    """Staging folders and backups of earlier builds into ``out`` that no running build holds."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(?:{STAGING_LABEL}|old)-{_RANDOM}")
    if not out.parent.is_dir():
        return []
    return sorted(
        p
        for p in out.parent.iterdir()
        if pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink() and not _locked(p)
    )


def remove_leftovers(out: Path) -> list[Path]:
    """Delete :func:`leftovers`; return what was deleted."""
    gone = leftovers(out)
    for p in gone:
        shutil.rmtree(p, ignore_errors=True)
    return gone


@contextlib.contextmanager
def locked_stage(out: Path) -> Iterator[Path]:
    """A staging folder beside ``out`` that holds its lock while in use (deleted at the end)."""
    with staging_folder(out, STAGING_LABEL) as stage:
        fd = os.open(stage / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            with contextlib.suppress(ImportError, OSError):
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            yield stage
        finally:
            os.close(fd)


def _remove_file(out: Path, rel: str) -> None:
    """Delete the report's file ``rel`` and any folder of its path left empty (never ``out`` itself)."""
    target = out / rel
    if target.is_dir() and not target.is_symlink():
        return  # the report writes files only: a folder of that name is someone else's
    target.unlink(missing_ok=True)
    parent = target.parent
    while parent != out and out in parent.parents:
        try:
            parent.rmdir()  # only when empty
        except OSError:
            break
        parent = parent.parent


def move_into_place(
    stage: Path, out: Path, written: Iterable[str], manifest: Mapping[str, Any], claim: Mapping[str, Any]
) -> None:
    """Move the staged files ``written`` into ``out``; delete the old report's files no longer listed.

    Parameters
    ----------
    stage : Path
        The staging folder (files at the same relative paths as in ``out``); the new manifest is
        written last, from ``manifest``.
    out : Path
        The report folder (created if missing).
    written : iterable of str
        The staged files other than the manifest.
    manifest : mapping
        The new manifest; its ``files`` list every file of the report after this build.
    claim : mapping
        The manifest written first, listing (``files``) both the old report's files and the new ones.
    """
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / MANIFEST, json.dumps(claim, indent=2) + "\n")
    for rel in written:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, out / rel)
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    for rel in sorted(set(claim.get("files", [])) - set(manifest.get("files", []))):
        _remove_file(out, rel)
