"""Reader of the BCSC Risk Estimation Dataset (Barlow et al. 2006; index mammograms 1996-2002).

``risk_dataset.zip`` holds ``risk.txt`` (280,660 rows, 2,392,998 mammograms) and
``risk_dataset_v2.zip`` holds ``risk_rand.txt`` (one randomly chosen mammogram per woman); an
extracted ``.txt`` is read as well. See :func:`read_risk_estimation`; the weighted risk-factor
profiles built from its output are in :mod:`analysis.io.bcsc.profiles`.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError, input_error
from analysis.io.bcsc.common import BoundedReader, ReadLimitExceeded, first_bad_row, one_line, require_file

__all__ = ["MAX_RISK_TEXT_BYTES", "RISK_CODES", "RISK_COLUMNS", "agegrp_bounds", "read_risk_estimation"]

MAX_RISK_TEXT_BYTES = 64 * 2**20
"""Largest risk text read, uncompressed (64 MiB), so that a hostile file (a zip bomb) cannot exhaust memory.

A design choice: about six times the largest published file (``risk.txt`` of ``risk_dataset.zip``,
10,945,740 bytes; ``risk_rand.txt``, 7,094,217). Reading and profiling takes about eight times the
text's size in memory (measured: 88 MiB above the imports for ``risk.txt``), so at most about 0.5 GiB.
Checked against the size a ``.txt`` has or a zip declares, and against the bytes actually read.
"""

_LIMIT_RULE = (
    "at most {limit:,} bytes of text (the published risk.txt has 10,945,740; larger files are refused to bound memory)"
)

RISK_COLUMNS: tuple[str, ...] = (
    "menopaus",
    "agegrp",
    "density",
    "race",
    "Hispanic",
    "bmi",
    "agefirst",
    "nrelbc",
    "brstproc",
    "lastmamm",
    "surgmeno",
    "hrt",
    "invasive",
    "cancer",
    "training",
    "count",
)
"""The 16 columns of ``risk.txt`` / ``risk_rand.txt``, in file order."""

RISK_CODES: dict[str, tuple[tuple[int, ...], str]] = {
    "menopaus": (
        (0, 1, 9),
        "0 pre-menopausal, 1 post-menopausal or age >= 55, 9 unknown",
    ),
    "agegrp": (tuple(range(1, 11)), "1 (35-39) to 10 (80-84)"),
    "density": ((1, 2, 3, 4, 9), "BI-RADS 1-4, 9 unknown"),
    "race": ((1, 2, 3, 4, 5, 9), "1-5, 9 unknown"),
    "Hispanic": ((0, 1, 9), "0 no, 1 yes, 9 unknown"),
    "bmi": ((1, 2, 3, 4, 9), "1-4, 9 unknown"),
    "agefirst": ((0, 1, 2, 9), "0 <30, 1 >=30, 2 nulliparous, 9 unknown"),
    "nrelbc": ((0, 1, 2, 9), "0, 1, 2 (= 2+), 9 unknown"),
    "brstproc": ((0, 1, 9), "0 no, 1 yes, 9 unknown"),
    "lastmamm": ((0, 1, 9), "0 negative, 1 false positive, 9 unknown"),
    "surgmeno": ((0, 1, 9), "0 natural, 1 surgical, 9 unknown/not menopausal"),
    "hrt": ((0, 1, 9), "0 no, 1 yes, 9 unknown/not menopausal"),
    "invasive": ((0, 1), "0 or 1"),
    "cancer": ((0, 1), "0 or 1"),
    "training": ((0, 1), "0 validation, 1 training"),
}
"""Documented codes of each categorical column: ``(allowed codes, description)``.

``count`` is not listed: it must be a non-negative integer.
"""

_RISK_MEMBERS: tuple[str, ...] = ("risk.txt", "risk_rand.txt")

_PER_ROW = f"expected {len(RISK_COLUMNS)} whitespace-separated integers per row"


def agegrp_bounds(agegrp: int) -> tuple[int, int]:
    """Return the inclusive age range ``(lower, upper)`` of a BCSC ``agegrp`` code.

    Parameters
    ----------
    agegrp : int
        BCSC age group, 1 (35-39) to 10 (80-84).

    Returns
    -------
    tuple of int
        ``(35 + 5 * (agegrp - 1), 39 + 5 * (agegrp - 1))``.
    """
    lower = 35 + 5 * (int(agegrp) - 1)
    return lower, lower + 4


# --- opening the file ------------------------------------------------------------------------


def _open_txt(path: Path, where: str, limit: int) -> tuple[IO[bytes], str]:
    """Open an extracted ``.txt`` file of at most ``limit`` bytes; the caller closes the stream."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise input_error(where, "file size", f"{size:,} bytes", _LIMIT_RULE.format(limit=limit))
        return open(path, "rb"), where  # closed by the caller
    except OSError as exc:
        raise input_error(where, "file", one_line(exc), "expected a readable .txt file") from None


def _open_zip_member(path: Path, where: str, limit: int) -> tuple[IO[bytes], str]:
    """Open ``risk.txt`` or ``risk_rand.txt`` inside the archive ``path``; the caller closes the stream."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise input_error(where, "zip archive", one_line(exc), "expected a valid .zip file") from None
    names = archive.namelist()
    by_base = {Path(n).name: n for n in names if not n.endswith("/")}
    member = next((by_base[m] for m in _RISK_MEMBERS if m in by_base), None)
    if member is None:
        archive.close()
        raise input_error(
            where,
            "zip members",
            ", ".join(names[:5]) or "(empty)",
            "expected the archive to contain risk.txt or risk_rand.txt",
        )
    declared = archive.getinfo(member).file_size
    if declared > limit:
        archive.close()
        raise input_error(
            f"{where} [{member}]",
            "uncompressed size (declared in the zip)",
            f"{declared:,} bytes",
            _LIMIT_RULE.format(limit=limit),
        )
    try:
        stream = archive.open(member)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        archive.close()
        raise input_error(where, f"zip member {member}", one_line(exc), "expected a readable member") from None
    # the ZipExtFile keeps its own file handle; the archive object can go
    archive.close()
    return stream, f"{where} [{member}]"


def _open_risk_source(path: Path, limit: int) -> tuple[IO[bytes], str]:
    """Open the risk text stream of a ``.zip`` or ``.txt`` file, reading at most ``limit`` bytes.

    Returns the open binary stream and the ``where`` label used in errors.
    """
    where = require_file(path, ".zip or .txt")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return _bounded(*_open_txt(path, where, limit), limit)
    if suffix != ".zip":
        raise input_error(
            where,
            "file type",
            path.suffix or "(no suffix)",
            "expected a .zip containing risk.txt or risk_rand.txt, or an extracted .txt",
        )
    return _bounded(*_open_zip_member(path, where, limit), limit)


def _bounded(stream: IO[bytes], where: str, limit: int) -> tuple[IO[bytes], str]:
    """``stream`` behind a guard on the bytes actually read (a size or a zip header can lie)."""
    return io.BufferedReader(BoundedReader(stream, limit)), where


# --- parsing and checking --------------------------------------------------------------------


def _parser_error(exc: pd.errors.ParserError, where: str) -> CalcsimInputError:
    """The one-line error for a pandas parser failure, naming the ragged line when pandas does."""
    message = one_line(exc)
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if found:
        return input_error(
            where,
            f"line {found.group(2)}",
            f"{found.group(3)} fields (first row has {found.group(1)})",
            _PER_ROW,
        )
    return input_error(where, "file", message, "expected whitespace-separated integers")


def _parse_table(stream: IO[bytes], where: str) -> pd.DataFrame:
    """Parse the whitespace-separated rows of ``stream`` (closing it) into a headerless frame."""
    try:
        with stream:
            return pd.read_csv(stream, sep=r"\s+", header=None, engine="c")
    except ReadLimitExceeded as exc:
        raise input_error(
            where,
            "uncompressed size (bytes read)",
            f"more than {exc.limit:,} bytes",
            _LIMIT_RULE.format(limit=exc.limit),
        ) from None
    except pd.errors.EmptyDataError:
        raise input_error(
            where, "file", "empty", f"expected rows of {len(RISK_COLUMNS)} whitespace-separated integers"
        ) from None
    except pd.errors.ParserError as exc:
        raise _parser_error(exc, where) from None
    except (UnicodeDecodeError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise input_error(
            where, "file", one_line(exc), "expected a text file of whitespace-separated integers"
        ) from None


def _float_as_integer(col: pd.Series, name: str, where: str) -> np.ndarray:
    """Return a float column as int64; a NaN is a short row, a fraction a bad value."""
    values = col.to_numpy(dtype=np.float64)
    missing = np.isnan(values)
    if missing.any():
        row = first_bad_row(missing)
        raise input_error(where, f"data row {row + 1}", "too few fields", _PER_ROW)
    fractional = values != np.round(values)
    if fractional.any():
        row = first_bad_row(fractional)
        raise input_error(where, f"{name} (data row {row + 1})", float(values[row]), "expected an integer")
    return values.astype(np.int64)


def _as_integer_column(col: pd.Series, name: str, where: str) -> np.ndarray:
    """Return ``col`` as int64, or raise a one-line error at the first bad value."""
    if pd.api.types.is_integer_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(col.dtype):
        return _float_as_integer(col, name, where)
    # strings (or booleans): find the first token that is not an integer
    text = col.astype(str)
    numeric = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(numeric) | (numeric != np.round(numeric))
    row = first_bad_row(bad) if bad.any() else 0
    raise input_error(where, f"{name} (data row {row + 1})", str(text.iloc[row]), "expected an integer")


def _check_codes(values: np.ndarray, name: str, where: str) -> None:
    """Raise at the first value outside :data:`RISK_CODES` (or the first negative ``count``)."""
    if name == "count":
        negative = values < 0
        if negative.any():
            row = first_bad_row(negative)
            raise input_error(where, f"count (data row {row + 1})", int(values[row]), "expected a non-negative integer")
        return
    allowed, description = RISK_CODES[name]
    bad = ~np.isin(values, np.asarray(allowed, dtype=np.int64))
    if bad.any():
        row = first_bad_row(bad)
        raise input_error(
            where,
            f"{name} (data row {row + 1})",
            int(values[row]),
            f"allowed codes {', '.join(map(str, allowed))} ({description})",
        )


def _checked_columns(raw: pd.DataFrame, where: str) -> dict[str, np.ndarray]:
    """The 16 columns of ``raw`` as checked int64 arrays, keyed by :data:`RISK_COLUMNS`."""
    if raw.shape[1] != len(RISK_COLUMNS):
        raise input_error(
            where,
            "number of columns",
            int(raw.shape[1]),
            f"expected {len(RISK_COLUMNS)} ({', '.join(RISK_COLUMNS)})",
        )
    columns: dict[str, np.ndarray] = {}
    for position, name in enumerate(RISK_COLUMNS):
        values = _as_integer_column(raw.iloc[:, position], name, where)
        _check_codes(values, name, where)
        columns[name] = values
    return columns


def read_risk_estimation(path: str | os.PathLike[str], max_bytes: int | None = None) -> pd.DataFrame:
    """Read the BCSC Risk Estimation Dataset (Barlow et al. 2006).

    Parameters
    ----------
    path : str or os.PathLike
        Either an original BCSC download (``risk_dataset.zip`` containing
        ``risk.txt``, or ``risk_dataset_v2.zip`` containing ``risk_rand.txt``)
        or an extracted ``.txt`` file: whitespace separated, no header, one
        row per covariate combination, 16 integer columns.
    max_bytes : int, optional
        Largest text read, uncompressed (default :data:`MAX_RISK_TEXT_BYTES`, looked up at the call).

    Returns
    -------
    pandas.DataFrame
        One row per line of the file, columns :data:`RISK_COLUMNS` (all
        ``int64``). ``count`` is the number of mammograms with that
        combination and must be used as a weight. ``df.attrs["source"]`` holds
        the file (and zip member) the data came from.

    Raises
    ------
    CalcsimInputError
        If the file is missing, is not a ``.zip``/``.txt``, the archive does not
        contain ``risk.txt`` or ``risk_rand.txt``, the text is larger than
        ``max_bytes`` (its size, the zip's declared size or the bytes read), a row does not have 16
        fields, a value is not an integer, a code is outside the documented
        coding (:data:`RISK_CODES`) or a count is negative. The message is one
        line naming the file, the problem and what is allowed.

    Notes
    -----
    Codes are those of the BCSC documentation: ``menopaus`` 1 means
    post-menopausal *or aged 55 or over*; 9 means unknown in most columns.
    """
    limit = MAX_RISK_TEXT_BYTES if max_bytes is None else int(max_bytes)
    stream, where = _open_risk_source(Path(path), limit)
    raw = _parse_table(stream, where)
    df = pd.DataFrame(_checked_columns(raw, where), columns=list(RISK_COLUMNS))
    df.attrs["source"] = where
    return df
