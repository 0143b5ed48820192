"""Readers for the public Breast Cancer Surveillance Consortium (BCSC) datasets.

Two public-use BCSC datasets are supported:

* the **BCSC Risk Estimation Dataset** (Barlow et al. 2006; index mammograms
  1996-2002): ``risk_dataset.zip`` (``risk.txt``, 280,660 rows, 2,392,998
  mammograms) and ``risk_dataset_v2.zip`` (``risk_rand.txt``, one randomly
  chosen mammogram per woman). See :func:`read_risk_estimation` and
  :func:`risk_profiles`.
* the **BCSC Mammography Screening Performance Dataset** (aggregated
  screening exams 2005-2017, women aged 40-74). See
  :func:`read_screening_performance`.

Every problem with an input file raises :class:`~analysis.errors.CalcsimInputError`
with a single line naming the file, what is wrong and what is allowed. Nothing is
read at import time.

Required citations and acknowledgements are listed in
``data/parameters/README-bcsc-summaries.md``.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from analysis.errors import input_error

__all__ = [
    "PERFORMANCE_COLUMNS",
    "RISK_CODES",
    "RISK_COLUMNS",
    "agegrp_bounds",
    "read_risk_estimation",
    "read_screening_performance",
    "risk_profiles",
]

# ---------------------------------------------------------------------------
# Risk estimation dataset (Barlow et al. 2006)
# ---------------------------------------------------------------------------

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

_DENSITY_LETTERS: dict[int, str] = {1: "a", 2: "b", 3: "c", 4: "d"}

_PROFILE_COLUMNS: tuple[str, ...] = (
    "family_history",
    "nulliparous",
    "first_birth_age_30_plus",
    "density",
    "postmenopausal",
    "surgical_menopause",
)


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


def _one_line(exc: BaseException) -> str:
    """Collapse an exception message to one short line."""
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def _open_risk_source(path: Path) -> tuple[IO[bytes], str]:
    """Open the risk text stream of a ``.zip`` or ``.txt`` file.

    Returns the open binary stream and the ``where`` label used in errors.
    """
    where = str(path)
    if not path.exists():
        raise input_error(
            where, "file", "missing", "expected an existing .zip or .txt file"
        )
    if not path.is_file():
        raise input_error(
            where, "file", "not a regular file", "expected a .zip or .txt file"
        )
    suffix = path.suffix.lower()
    if suffix == ".txt":
        try:
            return open(path, "rb"), where  # closed by the caller
        except OSError as exc:
            raise input_error(
                where, "file", _one_line(exc), "expected a readable .txt file"
            ) from None
    if suffix != ".zip":
        raise input_error(
            where,
            "file type",
            path.suffix or "(no suffix)",
            "expected a .zip containing risk.txt or risk_rand.txt, or an extracted .txt",
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise input_error(
            where, "zip archive", _one_line(exc), "expected a valid .zip file"
        ) from None
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
    try:
        stream = archive.open(member)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        archive.close()
        raise input_error(
            where, f"zip member {member}", _one_line(exc), "expected a readable member"
        ) from None
    # the ZipExtFile keeps its own file handle; the archive object can go
    archive.close()
    return stream, f"{where} [{member}]"


def _first_bad_row(mask: np.ndarray) -> int:
    """Index of the first True in ``mask``."""
    return int(np.argmax(mask))


def _as_integer_column(col: pd.Series, name: str, where: str) -> np.ndarray:
    """Return ``col`` as int64, or raise a one-line error at the first bad value."""
    if pd.api.types.is_integer_dtype(col.dtype) and not pd.api.types.is_bool_dtype(
        col.dtype
    ):
        return col.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(col.dtype):
        values = col.to_numpy(dtype=np.float64)
        missing = np.isnan(values)
        if missing.any():
            row = _first_bad_row(missing)
            raise input_error(
                where,
                f"data row {row + 1}",
                "too few fields",
                f"expected {len(RISK_COLUMNS)} whitespace-separated integers per row",
            )
        fractional = values != np.round(values)
        if fractional.any():
            row = _first_bad_row(fractional)
            raise input_error(
                where,
                f"{name} (data row {row + 1})",
                float(values[row]),
                "expected an integer",
            )
        return values.astype(np.int64)
    # strings (or booleans): find the first token that is not an integer
    text = col.astype(str)
    numeric = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(numeric) | (numeric != np.round(numeric))
    row = _first_bad_row(bad) if bad.any() else 0
    raise input_error(
        where,
        f"{name} (data row {row + 1})",
        str(text.iloc[row]),
        "expected an integer",
    )


def read_risk_estimation(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the BCSC Risk Estimation Dataset (Barlow et al. 2006).

    Parameters
    ----------
    path : str or os.PathLike
        Either an original BCSC download (``risk_dataset.zip`` containing
        ``risk.txt``, or ``risk_dataset_v2.zip`` containing ``risk_rand.txt``)
        or an extracted ``.txt`` file: whitespace separated, no header, one
        row per covariate combination, 16 integer columns.

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
        contain ``risk.txt`` or ``risk_rand.txt``, a row does not have 16
        fields, a value is not an integer, a code is outside the documented
        coding (:data:`RISK_CODES`) or a count is negative. The message is one
        line naming the file, the problem and what is allowed.

    Notes
    -----
    Codes are those of the BCSC documentation: ``menopaus`` 1 means
    post-menopausal *or aged 55 or over*; 9 means unknown in most columns.
    """
    path = Path(path)
    stream, where = _open_risk_source(path)
    try:
        with stream:
            raw = pd.read_csv(stream, sep=r"\s+", header=None, engine="c")
    except pd.errors.EmptyDataError:
        raise input_error(
            where,
            "file",
            "empty",
            f"expected rows of {len(RISK_COLUMNS)} whitespace-separated integers",
        ) from None
    except pd.errors.ParserError as exc:
        message = _one_line(exc)
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
        if found:
            raise input_error(
                where,
                f"line {found.group(2)}",
                f"{found.group(3)} fields (first row has {found.group(1)})",
                f"expected {len(RISK_COLUMNS)} whitespace-separated integers per row",
            ) from None
        raise input_error(
            where, "file", message, "expected whitespace-separated integers"
        ) from None
    except (UnicodeDecodeError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise input_error(
            where,
            "file",
            _one_line(exc),
            "expected a text file of whitespace-separated integers",
        ) from None

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
        if name == "count":
            negative = values < 0
            if negative.any():
                row = _first_bad_row(negative)
                raise input_error(
                    where,
                    f"count (data row {row + 1})",
                    int(values[row]),
                    "expected a non-negative integer",
                )
        else:
            allowed, description = RISK_CODES[name]
            bad = ~np.isin(values, np.asarray(allowed, dtype=np.int64))
            if bad.any():
                row = _first_bad_row(bad)
                raise input_error(
                    where,
                    f"{name} (data row {row + 1})",
                    int(values[row]),
                    f"allowed codes {', '.join(map(str, allowed))} ({description})",
                )
        columns[name] = values

    df = pd.DataFrame(columns, columns=list(RISK_COLUMNS))
    df.attrs["source"] = where
    return df


def risk_profiles(df: pd.DataFrame, age_lower: int, age_upper: int) -> pd.DataFrame:
    """Weighted risk-factor profiles of women in an age range.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`read_risk_estimation`.
    age_lower, age_upper : int
        Inclusive age range in years. A BCSC 5-year age group is used when it
        lies entirely inside ``[age_lower, age_upper]`` (e.g. ``50, 54`` selects
        agegrp 4 = 50-54; ``40, 74`` selects agegrp 2-8; ``52, 53`` selects
        nothing and raises).

    Returns
    -------
    pandas.DataFrame
        One row per distinct profile, sorted by the profile columns, with
        columns

        ``family_history`` : int
            First-degree relatives with breast cancer: 0, 1 or 2 (2 = two or more).
        ``nulliparous`` : bool
            No live birth (``agefirst == 2``).
        ``first_birth_age_30_plus`` : bool
            First birth at age 30 or over (``agefirst == 1``).
        ``density`` : str
            BI-RADS density ``'a'``-``'d'`` (BI-RADS codes 1-4).
        ``postmenopausal`` : bool
            ``menopaus == 1`` (BCSC codes every woman aged 55+ as post-menopausal).
        ``surgical_menopause`` : bool
            ``surgmeno == 1``; False when natural, unknown or not menopausal.
        ``weight`` : float
            Summed ``count`` of the profile, normalised to sum to 1.

    Raises
    ------
    CalcsimInputError
        If ``df`` lacks a needed column, the ages are not integers with
        ``age_lower <= age_upper``, or no mammograms remain after selecting the
        age groups and dropping rows with unknown (9) ``nrelbc``, ``density``,
        ``agefirst`` or ``menopaus``.

    Notes
    -----
    Dropping unknown ``agefirst`` removes more than half of the mammograms
    (age at first birth is the least complete covariate), so the profiles
    describe women with complete reproductive history.
    """
    where = str(getattr(df, "attrs", {}).get("source", "risk_profiles"))
    for key, value in (("age_lower", age_lower), ("age_upper", age_upper)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise input_error(where, key, value, "expected an integer age in years")
    if age_lower > age_upper:
        raise input_error(
            where,
            "age range",
            f"{age_lower}-{age_upper}",
            "expected age_lower <= age_upper",
        )
    needed = (
        "agegrp",
        "nrelbc",
        "density",
        "agefirst",
        "menopaus",
        "surgmeno",
        "count",
    )
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise input_error(
            where,
            "columns",
            ", ".join(missing),
            "expected the output of read_risk_estimation",
        )

    groups = [
        g
        for g in range(1, 11)
        if age_lower <= agegrp_bounds(g)[0] and agegrp_bounds(g)[1] <= age_upper
    ]
    keep = (
        df["agegrp"].isin(groups)
        & (df["nrelbc"] != 9)
        & (df["density"] != 9)
        & (df["agefirst"] != 9)
        & (df["menopaus"] != 9)
        & (df["count"] > 0)
    )
    sub = df.loc[keep]
    if sub.empty:
        if groups:
            allowed = (
                "no mammograms with known family history, density, parity and menopause in BCSC "
                f"age groups {', '.join('{}-{}'.format(*agegrp_bounds(g)) for g in groups)}"
            )
        else:
            allowed = (
                "no BCSC 5-year age group (35-39, 40-44, ..., 80-84) lies entirely inside this "
                "range; choose e.g. 50-54 or 40-74"
            )
        raise input_error(where, "age range", f"{age_lower}-{age_upper}", allowed)

    profiles = pd.DataFrame(
        {
            "family_history": sub["nrelbc"].to_numpy(dtype=np.int64),
            "nulliparous": (sub["agefirst"] == 2).to_numpy(),
            "first_birth_age_30_plus": (sub["agefirst"] == 1).to_numpy(),
            "density": sub["density"].map(_DENSITY_LETTERS).astype(str).to_numpy(),
            "postmenopausal": (sub["menopaus"] == 1).to_numpy(),
            "surgical_menopause": (
                (sub["menopaus"] == 1) & (sub["surgmeno"] == 1)
            ).to_numpy(),
            "weight": sub["count"].to_numpy(dtype=np.float64),
        }
    )
    out = (
        profiles.groupby(list(_PROFILE_COLUMNS), sort=True, observed=True)["weight"]
        .sum()
        .reset_index()
        .sort_values(list(_PROFILE_COLUMNS), kind="mergesort")
        .reset_index(drop=True)
    )
    out["weight"] = out["weight"] / out["weight"].sum()
    out = out.astype(
        {
            "family_history": "int64",
            "nulliparous": bool,
            "first_birth_age_30_plus": bool,
            "postmenopausal": bool,
            "surgical_menopause": bool,
            "weight": "float64",
        }
    )
    out.attrs["source"] = where
    return out


# ---------------------------------------------------------------------------
# Mammography screening performance dataset (2005-2017)
# ---------------------------------------------------------------------------

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
    where = str(path)
    if not path.exists():
        raise input_error(where, "file", "missing", "expected an existing .csv file")
    if not path.is_file():
        raise input_error(where, "file", "not a regular file", "expected a .csv file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raise input_error(
            where, "file", "empty", "expected a CSV with a header row"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise input_error(
            where, "file", _one_line(exc), "expected a comma-separated text file"
        ) from None

    expected = list(PERFORMANCE_COLUMNS)
    found = [str(c).strip() for c in raw.columns]
    raw.columns = found
    missing = [c for c in expected if c not in found]
    if missing:
        raise input_error(
            where,
            "missing columns",
            ", ".join(missing),
            f"expected {', '.join(expected)}",
        )
    extra = [c for c in found if c not in PERFORMANCE_COLUMNS]
    if extra or len(found) != len(expected):
        raise input_error(
            where,
            "unexpected columns",
            ", ".join(extra) or "duplicates",
            f"expected {', '.join(expected)}",
        )

    out: dict[str, object] = {}
    for name, allowed in PERFORMANCE_COLUMNS.items():
        text = raw[name].astype(str).str.strip()
        if allowed is None:
            numeric = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
            bad = np.isnan(numeric) | (numeric != np.round(numeric)) | (numeric < 0)
            if bad.any():
                row = _first_bad_row(bad)
                raise input_error(
                    where,
                    f"{name} (data row {row + 1})",
                    text.iloc[row],
                    "expected a non-negative integer",
                )
            out[name] = numeric.astype(np.int64)
            continue
        valid = list(allowed)
        bad = ~text.isin(valid).to_numpy()
        if bad.any():
            row = _first_bad_row(bad)
            raise input_error(
                where,
                f"{name} (data row {row + 1})",
                text.iloc[row],
                f"allowed {', '.join(valid)}",
            )
        if isinstance(allowed, dict):
            out[name] = text.map(allowed).to_numpy(dtype=np.int64)
        else:
            out[name] = text.to_numpy()
    df = pd.DataFrame(out, columns=expected)
    df.attrs["source"] = where
    return df
