"""The table formatter behind :mod:`analysis.figures.tables`: :func:`format_table` and :func:`style_table`.

:func:`format_table` turns any table into text cells column by column (the kinds of column are
:data:`KINDS`) and :func:`style_table` gives the cells the calcsim style (a pandas
:class:`~pandas.io.formats.style.Styler`). Import them from :mod:`analysis.figures.tables`, which
also formats estimates tables and odds-ratio fits.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from analysis.figures.cells import (
    DASH,
    format_count,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    format_range,
    is_missing,
    percent_digits,
    pretty_text,
    stratum_label,
    unit_of,
)
from analysis.figures.regression import term_label
from analysis.figures.style import measure_label

__all__ = ["KINDS", "fixed_decimals", "format_table", "style_table"]


#: Column kinds of :func:`format_table` (a column may also be given a function of one value returning text):
#: ``text`` (``>=`` as ``≥``), ``measure`` (its label), ``stratum`` (``"parity ≥3"``), ``term`` (a regression
#: term), ``count`` (``"15,454"``), ``number`` (three significant digits per cell), ``fixed`` (one number of
#: decimals down the column), ``ratio`` (two decimals), ``percent`` (a proportion in %), ``pp`` (a difference of
#: proportions in percentage points), ``per_1000`` (a rate, two decimals; name the unit in the header),
#: ``p_value`` (``"<0.001"``), ``yes_no``, ``by_measure`` / ``difference_by_measure`` (each row in the unit of
#: its measure, e.g. ``"24.5%"`` or ``"5.44 per 1,000 screens"``).
KINDS = (
    "text",
    "measure",
    "stratum",
    "term",
    "count",
    "number",
    "fixed",
    "ratio",
    "percent",
    "pp",
    "per_1000",
    "p_value",
    "yes_no",
    "by_measure",
    "difference_by_measure",
)
_RIGHT = {
    "count",
    "number",
    "fixed",
    "ratio",
    "percent",
    "pp",
    "per_1000",
    "p_value",
    "by_measure",
    "difference_by_measure",
}
_PERCENT_KINDS = ("percent", "pp")
_BY_MEASURE = ("by_measure", "difference_by_measure")


# ----------------------------------------------------------------------------- columns
def _infer(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s.dtype):
        return "yes_no"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "count"
    if pd.api.types.is_float_dtype(s.dtype):
        return "fixed"
    return "text"


def _yes_no(x: Any) -> str:
    if is_missing(x):
        return DASH
    return "yes" if (x is True or str(x).strip().lower() in ("true", "yes", "1")) else "no"


def fixed_decimals(values: Any) -> int:
    """Decimals of a column of plain numbers: three significant digits for its median size (0 to 4)."""
    v = np.array([float(x) for x in np.ravel(np.asarray(values, dtype=object)) if not is_missing(x)], dtype=float)
    v = np.abs(v[np.isfinite(v) & (v != 0)])
    if not len(v):
        return 0
    if np.all(v == np.round(v)):
        return 0
    return int(np.clip(2 - np.floor(np.log10(np.median(v))), 0, 4))


def _units(unit: str, n: int, measures: Sequence[Any] | None) -> list[str]:
    """The unit of each of ``n`` rows: ``unit``, or each row's measure's (``by_measure`` kinds)."""
    if unit not in _BY_MEASURE:
        return [unit] * n
    if measures is None:
        raise ValueError("a by_measure column or interval needs format_table(..., measure=<column of measures>)")
    return [unit_of(str(m), unit == "difference_by_measure") for m in measures]


def _percent_values(
    frame: pd.DataFrame,
    kinds: Mapping[str, Any],
    merged: Sequence[tuple[str, tuple, bool]],
    measures: Sequence[Any] | None,
) -> list[Any]:
    """Every value the table shows in % or pp (one number of decimals for the whole table)."""
    out: list[Any] = []
    for col, kind in kinds.items():
        if col in frame.columns and kind in _PERCENT_KINDS:
            out += list(frame[col])
        elif col in frame.columns and kind in _BY_MEASURE:
            out += [
                v
                for v, u in zip(frame[col], _units(kind, len(frame), measures), strict=True)
                if u in _PERCENT_KINDS + ("proportion",)
            ]
    for _, spec, ranged in merged:
        n = 2 if ranged else 3
        units = _units(spec[n] if len(spec) > n else "proportion", len(frame), measures)
        for col in spec[:n] if ranged else spec[:1]:
            out += [v for v, u in zip(frame[col], units, strict=True) if u in ("proportion", "pp")]
    return out


def _format_column(
    s: pd.Series, kind: str | Callable[[Any], str], measures: Sequence[Any] | None, digits: int
) -> list[str]:
    """The text cells of one column of kind ``kind`` (see :data:`KINDS`); ``digits``: decimals of percentages."""
    if callable(kind):
        return [DASH if is_missing(v) else str(kind(v)) for v in s]
    if kind in _BY_MEASURE:
        return [
            format_interval(v, unit=u, digits=digits if u in ("proportion", "pp") else None)
            for v, u in zip(s, _units(kind, len(s), measures), strict=True)
        ]
    fixed = fixed_decimals(s) if kind == "fixed" else 0
    cell: Callable[[Any], str] = {
        "text": pretty_text,
        "measure": lambda v: measure_label(str(v)),
        "stratum": stratum_label,
        "term": lambda v: term_label(str(v), {}),
        "count": format_count,
        "number": format_number,
        "fixed": lambda v: format_interval(v, unit="fixed", digits=fixed),
        "p_value": format_p_value,
        "ratio": lambda v: format_interval(v, unit="ratio"),
        "percent": lambda v: format_percent(v, digits),
        "pp": lambda v: format_interval(v, unit="pp", digits=digits),
        "per_1000": lambda v: format_interval(v, unit="per_1000"),
        "yes_no": _yes_no,
    }[kind]
    return [DASH if is_missing(v) else cell(v) for v in s]


def _interval_column(
    df: pd.DataFrame, spec: Sequence[str], measures: Sequence[Any] | None, digits: int, ranged: bool
) -> list[str]:
    """Cells of an interval (``(estimate, lower, upper[, unit])``) or range (``(lower, upper[, unit])``) spec."""
    n = 2 if ranged else 3
    rows = df[list(spec[:n])].to_numpy(dtype=object)
    units = _units(spec[n] if len(spec) > n else "proportion", len(df), measures)
    out = []
    for r, u in zip(rows, units, strict=True):
        d = digits if u in ("proportion", "pp") else None
        out.append(format_range(*r, unit=u, digits=d) if ranged else format_interval(*r, unit=u, digits=d))
    return out


def _header(name: Any) -> str:
    text = str(name).replace("_", " ")
    return text[:1].upper() + text[1:]


def _indexed(df: pd.DataFrame, index: bool | None) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with a meaningful (named) index as its first columns; the columns to show once per group."""
    keep = any(n is not None for n in df.index.names) if index is None else index
    if not keep:
        return df.reset_index(drop=True), []
    names = [n if n is not None else f"level_{i}" for i, n in enumerate(df.index.names)]
    out = df.copy()
    out.index = out.index.set_names(names)
    return out.reset_index(), names[:-1]


# ----------------------------------------------------------------------------- tables
def style_table(display: pd.DataFrame, *, right: Sequence[str] = (), caption: str | None = None) -> Styler:
    """The calcsim style of a table whose cells are already text.

    Parameters
    ----------
    display : DataFrame
        The cells as strings (its index is not shown).
    right : sequence of str
        Columns of numbers, aligned right and never broken across lines.
    caption : str, optional
        Shown above the table.

    Returns
    -------
    pandas.io.formats.style.Styler
        HTML-escaped cells and headers, no index, wrapped text columns; the table never grows wider
        than the page (it scrolls sideways when its columns do not fit).
    """
    st = display.style.hide(axis="index").format(escape="html").format_index(escape="html", axis=1)
    styles: list[dict[str, Any]] = [
        {
            "selector": "",
            "props": "display: block; overflow-x: auto; max-width: 100%; width: max-content; "
            "margin: 0 0 1em 0; border-collapse: collapse;",
        },
        {"selector": "th", "props": "text-align: left; vertical-align: bottom; white-space: normal;"},
        {"selector": "td", "props": "text-align: left; vertical-align: top; white-space: normal;"},
        {
            "selector": "caption",
            "props": "caption-side: top; text-align: left; font-weight: 600; padding: 0 0 4px 0; color: #333;",
        },
    ]
    cols = list(display.columns)
    for name in right:
        j = cols.index(name)
        styles.append({"selector": f"td.col{j}, th.col{j}", "props": "text-align: right; white-space: nowrap;"})
    st = st.set_table_styles(styles)
    return st.set_caption(html.escape(caption)) if caption else st


def format_table(
    df: pd.DataFrame,
    *,
    columns: Mapping[str, str | Callable[[Any], str]] | None = None,
    headers: Mapping[str, str] | None = None,
    intervals: Mapping[str, Sequence[str]] | None = None,
    ranges: Mapping[str, Sequence[str]] | None = None,
    measure: str | None = None,
    index: bool | None = None,
    caption: str | None = None,
    digits: int | None = None,
) -> Styler:
    """Any table, formatted column by column, as a :class:`~pandas.io.formats.style.Styler`.

    Parameters
    ----------
    df : DataFrame
        The table (not changed).
    columns : mapping, optional
        Kind of a column (one of :data:`KINDS`, or a function of one value returning its text).
        Unnamed columns: booleans ``yes_no``, integers ``count``, floats ``fixed`` (the same decimals
        down the column, three significant digits for its median size), anything else ``text``
        (``>=`` shown as ``≥``); ``number`` gives every cell three significant digits (for a column
        whose rows have different scales). ``by_measure`` shows each row in the
        unit of its measure (column ``measure``), ``difference_by_measure`` a difference (``pp`` for
        proportions).
    headers : mapping, optional
        Header of a column (name the unit there); default the column name, underscores as spaces.
    intervals : mapping, optional
        ``{header: (estimate, lower, upper[, unit])}``: three columns shown as one
        (:func:`format_interval`), at the place of ``estimate``; ``unit`` is ``"proportion"`` (default),
        ``"pp"``, ``"ratio"``, ``"per 1,000 screens"``, ``"by_measure"`` or ``"difference_by_measure"``.
    ranges : mapping, optional
        ``{header: (lower, upper[, unit])}``: two columns shown as one (:func:`format_range`).
    measure : str, optional
        The column naming each row's measure (for the ``by_measure`` kinds).
    index : bool, optional
        Show the index as the first columns; by default only when it is named (a plain row number
        is never shown). The outer levels of a shown MultiIndex are written once per group.
    caption : str, optional
        Shown above the table.
    digits : int, optional
        Decimals of every percentage and percentage point in the table (default: 1, or 2 when a
        value shown in % is under 1%).

    Returns
    -------
    pandas.io.formats.style.Styler
        See :func:`style_table`; ``.data`` holds the text cells.
    """
    frame, once = _indexed(df, index)
    kinds, heads = dict(columns or {}), dict(headers or {})
    measures = list(frame[measure]) if measure else None
    merged = [(h, tuple(spec), False) for h, spec in (intervals or {}).items()] + [
        (h, tuple(spec), True) for h, spec in (ranges or {}).items()
    ]
    members = {c: (h, spec, ranged) for h, spec, ranged in merged for c in spec[: 2 if ranged else 3]}
    if digits is None:
        digits = percent_digits(_percent_values(frame, kinds, merged, measures))
    cells: dict[str, list[str]] = {}
    right: list[str] = []
    for col in frame.columns:
        if col in members:
            h, spec, ranged = members[col]
            if col == spec[0]:
                cells[h] = _interval_column(frame, spec, measures, digits, ranged)
                right.append(h)
            continue
        kind = kinds.get(col) or _infer(frame[col])
        head = heads.get(col, _header(col))
        cells[head] = _format_column(frame[col], kind, measures, digits)
        if isinstance(kind, str) and kind in _RIGHT:
            right.append(head)
    display = pd.DataFrame(cells, index=range(len(frame)), dtype=object)
    for col in once:
        head = heads.get(col, _header(col))
        repeated = frame[col].eq(frame[col].shift()).to_numpy(bool)
        display.loc[repeated, head] = ""
    return style_table(display, right=right, caption=caption)
