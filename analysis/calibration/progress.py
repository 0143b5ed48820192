"""Bookkeeping of a calibration on disk: the progress file, its header, and writes that fail in one line.

Every finished draw is appended (and flushed) to ``<out>/<scenario>.csv.partial`` as soon as it
is done, under a header of ``# key: value`` lines; a calibration started again with the same
settings resumes from it (a torn last line, from a kill while writing, is dropped), and one with
different settings is refused until ``--restart``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import ArgumentError, CalcsimInputError
from analysis.io.atomic import atomic_write_text
from analysis.io.commented_csv import read_commented_csv

__all__ = ["append_rows", "header_text", "open_progress", "targets_sha", "writing"]


def targets_sha(targets: pd.DataFrame) -> str:
    """A short digest of the targets table a calibration was scored against."""
    return hashlib.sha256(targets.to_csv(index=False).encode()).hexdigest()[:16]


def header_text(meta: dict[str, Any]) -> str:
    """``# key: value`` lines (values on one line each)."""
    return "".join(f"# {k}: {' '.join(str(v).split())}\n" for k, v in meta.items())


@contextlib.contextmanager
def writing(out: Path) -> Iterator[None]:
    """Turn a failed write into the calibration folder (full disk, read-only) into one line naming ``--out``."""
    try:
        yield
    except OSError as exc:
        raise ArgumentError(
            "out",
            str(out),
            f"cannot write the calibration there ({exc.strerror or exc});"
            " free space or choose another folder, then rerun to resume",
        ) from None


def _read_saved(path: Path) -> tuple[dict[str, str], pd.DataFrame]:
    """A progress file's header and rows (a torn last line is dropped first)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if text and not text.endswith("\n"):  # killed while writing a line: keep the complete lines only
        atomic_write_text(path, text[: text.rfind("\n") + 1])
    try:
        return read_commented_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CalcsimInputError(
            f"{path}: saved progress is not readable ({str(exc).splitlines()[0]}); rerun with --restart to discard it"
        ) from None


def open_progress(
    partial: Path,
    meta: dict[str, Any],
    keys: Sequence[str],
    restart: bool,
    *,
    previous: Path | None = None,
    columns: Sequence[str] = (),
) -> pd.DataFrame:
    """The draws saved with the same settings (header ``keys`` equal), or none (a fresh progress file).

    Parameters
    ----------
    partial : Path
        The progress file.
    meta : dict
        The header of this calibration.
    keys : sequence of str
        Header keys that must match to resume.
    restart : bool
        Discard saved progress.
    previous : Path, optional
        A finished calibration's complete record to continue from when there is no progress
        file and its settings match (e.g. with a larger draw budget); otherwise it is ignored.
    columns : sequence of str
        The progress file's columns (what is kept of ``previous``).

    Raises
    ------
    CalcsimInputError
        The progress file is unreadable or was made with different settings.
    """
    if partial.exists() and not restart:
        old_meta, done = _read_saved(partial)
        mismatch = [k for k in keys if str(old_meta.get(k)) != " ".join(str(meta[k]).split())]
        if mismatch:
            raise CalcsimInputError(
                f"{partial}: saved progress was made with different {', '.join(mismatch)}; "
                "rerun with --restart to discard it, or use the same settings to resume"
            )
        return done
    if previous is not None and previous.exists() and not restart:
        old_meta, done = _read_saved(previous)
        same = all(str(old_meta.get(k)) == " ".join(str(meta[k]).split()) for k in keys)
        if same and not done.empty and set(columns) <= set(done.columns):
            done = done[list(columns)]
            atomic_write_text(partial, header_text(meta) + done.to_csv(index=False))
            return done
    atomic_write_text(partial, header_text(meta))
    return pd.DataFrame()


def append_rows(partial: Path, rows: pd.DataFrame, header: bool) -> None:
    """Append rows to the progress file and flush them to disk."""
    with partial.open("a", encoding="utf-8") as fh:
        rows.to_csv(fh, header=header, index=False)
        fh.flush()
        os.fsync(fh.fileno())
