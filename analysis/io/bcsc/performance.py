"""Reader of the BCSC Mammography Screening Performance Dataset (screening exams 2005-2017, ages 40-74).

See :func:`read_screening_performance`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import input_error
from analysis.io.bcsc.common import first_bad_row, one_line, require_file

__all__ = ["PERFORMANCE_COLUMNS", "read_screening_performance"]

_NEG_POS = {"0: Negative": 0, "1: Positive": 1}
_NO_YES = {"0: No": 0, "1: Yes": 1}

PERFORMANCE_COLUMNS: dict[str, tuple[str, ...] | dict[str, int] | None] = {
    "agegrp": ("40-49", "50-59", "60-69", "70-74"),
    "density_c": ("a", "b", "c", "d", "unknown"),
    "examyear_cat": ("2005-2008", "2009-2010", "2011-2012", "2013-2014", "2015-2017"),
    "riskBCSC_v2_5y_cat": (
        "0.00 to < 1.00",
        "1.00 to 1.66",
        "1.67 to 2.49",
        "2.50 to 3.99",
        ">=4.00",
        "unknown",
    ),
    "resinit_c": _NEG_POS,
    "resfnl_c": _NEG_POS,
    "resfnl_c3": _NEG_POS,
    "cancscrfu1yr_c": _NO_YES,
    "dcisscrfu1yr_c": _NO_YES,
    "invscrfu1yr_c": _NO_YES,
    "stage_advanced": _NO_YES,
    "count": None,
}
"""The 12 columns of the screening performance CSV, in file order.

Each value is the tuple of allowed strings (kept as strings), a mapping of
allowed strings to 0/1 (converted to ``int64``), or ``None`` for ``count``
(non-negative integer).
"""


def _read_csv(path: Path, where: str) -> pd.DataFrame:
    """Read the CSV with every cell as a string, with one-line errors."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raise input_error(where, "file", "empty", "expected a CSV with a header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise input_error(where, "file", one_line(exc), "expected a comma-separated text file") from None


def _check_header(raw: pd.DataFrame, where: str) -> None:
    """Strip the column names of ``raw`` (in place) and raise unless they are :data:`PERFORMANCE_COLUMNS`."""
    expected = list(PERFORMANCE_COLUMNS)
    found = [str(c).strip() for c in raw.columns]
    raw.columns = found
    missing = [c for c in expected if c not in found]
    if missing:
        raise input_error(where, "missing columns", ", ".join(missing), f"expected {', '.join(expected)}")
    extra = [c for c in found if c not in PERFORMANCE_COLUMNS]
    if extra or len(found) != len(expected):
        raise input_error(
            where, "unexpected columns", ", ".join(extra) or "duplicates", f"expected {', '.join(expected)}"
        )


def _counts(text: pd.Series, name: str, where: str) -> np.ndarray:
    """The ``count`` column as int64, raising at the first value that is not a non-negative integer."""
    numeric = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(numeric) | (numeric != np.round(numeric)) | (numeric < 0)
    if bad.any():
        row = first_bad_row(bad)
        raise input_error(where, f"{name} (data row {row + 1})", text.iloc[row], "expected a non-negative integer")
    return numeric.astype(np.int64)


def _converted(column: pd.Series, name: str, allowed: tuple[str, ...] | dict[str, int] | None, where: str) -> object:
    """One column checked against ``allowed``: strings kept, 0/1 mappings applied, counts as int64."""
    text = column.astype(str).str.strip()
    if allowed is None:
        return _counts(text, name, where)
    valid = list(allowed)
    bad = ~text.isin(valid).to_numpy()
    if bad.any():
        row = first_bad_row(bad)
        raise input_error(where, f"{name} (data row {row + 1})", text.iloc[row], f"allowed {', '.join(valid)}")
    if isinstance(allowed, dict):
        return text.map(allowed).to_numpy(dtype=np.int64)
    return text.to_numpy()


def read_screening_performance(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the BCSC Mammography Screening Performance Dataset CSV.

    Parameters
    ----------
    path : str or os.PathLike
        ``BCSC_Mammography_Screening_Performance_Dataset.csv``: comma
        separated with a header row and the 12 columns of
        :data:`PERFORMANCE_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        Columns in :data:`PERFORMANCE_COLUMNS` order. ``agegrp``,
        ``density_c``, ``examyear_cat`` and ``riskBCSC_v2_5y_cat`` stay strings;
        the outcome columns (``resinit_c``, ``resfnl_c``, ``resfnl_c3``,
        ``cancscrfu1yr_c``, ``dcisscrfu1yr_c``, ``invscrfu1yr_c``,
        ``stage_advanced``) are ``int64`` 0/1 ("0: Negative"/"0: No" -> 0,
        "1: Positive"/"1: Yes" -> 1); ``count`` (number of screening exams) is
        ``int64``. ``df.attrs["source"]`` holds the path.

    Raises
    ------
    CalcsimInputError
        If the file is missing or unreadable, columns are missing or
        unexpected, a value is outside the documented set, or a count is not a
        non-negative integer. The message is one line naming the file.
    """
    path = Path(path)
    where = require_file(path, ".csv")
    raw = _read_csv(path, where)
    _check_header(raw, where)
    out = {name: _converted(raw[name], name, allowed, where) for name, allowed in PERFORMANCE_COLUMNS.items()}
    df = pd.DataFrame(out, columns=list(PERFORMANCE_COLUMNS))
    df.attrs["source"] = where
    return df
