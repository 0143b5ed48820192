"""Helpers the BCSC readers share: the input-file check, one-line messages, the first bad row."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

import numpy as np

from analysis.errors import input_error

__all__ = ["BoundedReader", "ReadLimitExceeded", "first_bad_row", "one_line", "require_file"]


def require_file(path: Path, kind: str) -> str:
    """Check that ``path`` is an existing regular file and return the label its errors use.

    Parameters
    ----------
    path : pathlib.Path
        The input file.
    kind : str
        The file type the reader accepts, as shown in the message, e.g. ``".csv"`` or
        ``".zip or .txt"``.

    Returns
    -------
    str
        ``str(path)``: the ``where`` of every error about this file.

    Raises
    ------
    CalcsimInputError
        ``<path>: file = 'missing': expected an existing <kind> file`` when nothing is there, or
        ``<path>: file = 'not a regular file': expected a <kind> file`` for a directory or the like.
    """
    where = str(path)
    if not path.exists():
        raise input_error(where, "file", "missing", f"expected an existing {kind} file")
    if not path.is_file():
        raise input_error(where, "file", "not a regular file", f"expected a {kind} file")
    return where


def one_line(exc: BaseException) -> str:
    """Collapse an exception message to one short line.

    Parameters
    ----------
    exc : BaseException
        An exception raised by a lower-level reader (pandas, :mod:`zipfile`, the operating system).

    Returns
    -------
    str
        The message with every run of whitespace collapsed to one space, cut to 200 characters, or
        the exception's class name when the message is empty.
    """
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def first_bad_row(mask: np.ndarray) -> int:
    """Return the index of the first True in ``mask``.

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean array, one entry per data row, True where the row is bad.

    Returns
    -------
    int
        The 0-based position of the first True (0 when there is none).
    """
    return int(np.argmax(mask))


class ReadLimitExceeded(Exception):
    """Raised by :class:`BoundedReader` once more than its limit has been read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} bytes")
        self.limit = limit


class BoundedReader(io.RawIOBase):
    """A binary stream that reads ``raw`` and raises :class:`ReadLimitExceeded` beyond ``limit`` bytes.

    The guard on the bytes actually read, whatever a file's size or a zip's header declares.
    Closing it closes ``raw``.
    """

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        super().__init__()
        self.raw, self.limit, self.count = raw, int(limit), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise ReadLimitExceeded(self.limit)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            super().close()
