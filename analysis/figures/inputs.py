"""Reading the tables figures are drawn from: estimates, strata, several scenarios, coded columns.

Every check raises a one-line :class:`~analysis.errors.CalcsimInputError` naming the figure
function, the argument or column, and what to pass instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError, did_you_mean
from analysis.model.results import STRATA
from analysis.scenario.codings import (
    AGE_GROUP,
    BRCA,
    BREASTFEEDING,
    DENSITY,
    FAMILY_HISTORY,
    MENOPAUSE,
    PARITY,
    ROUND,
    Coding,
)

__all__ = [
    "COUNT_ALIASES",
    "STRATUM_CODINGS",
    "check_by",
    "column_codes",
    "need",
    "parse_stratum",
    "series",
    "stratified",
    "stratum_levels",
    "table",
    "with_counts",
]

#: The coding of each stratification column of :data:`analysis.model.results.STRATA` (its labels, in order).
STRATUM_CODINGS: dict[str, Coding] = {
    "round": ROUND,
    "age_group": AGE_GROUP,
    "menopause": MENOPAUSE,
    "family_history": FAMILY_HISTORY,
    "brca": BRCA,
    "breastfeeding": BREASTFEEDING,
    "density": DENSITY,
    "parity": PARITY,
}


#: Count columns of estimates tables (``numerator_count``, ``denominator_count``) and the names figures read.
COUNT_ALIASES = {"numerator_count": "numerator", "denominator_count": "n"}


def with_counts(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the count columns ``numerator`` and ``n`` (from ``numerator_count`` / ``denominator_count``).

    Estimates tables name their counts ``numerator_count`` and ``denominator_count``; count tables
    (``Results.counts``) ``numerator`` and ``n``. Figures read the latter; a table that already has
    them is returned as it is.
    """
    extra = {short: df[long] for long, short in COUNT_ALIASES.items() if long in df.columns and short not in df.columns}
    return df.assign(**extra) if extra else df


def table(x: Any) -> pd.DataFrame:
    """An estimates table (with :func:`with_counts`) from a table or from anything with ``.estimates()``.

    Raises
    ------
    CalcsimInputError
        If ``x`` is neither.
    """
    if isinstance(x, pd.DataFrame):
        return with_counts(x)
    if hasattr(x, "estimates"):
        e = x.estimates()
        pooled = getattr(x, "pooled", x)
        e.attrs.setdefault("scenario", getattr(pooled, "scenario", ""))
        return with_counts(e)
    raise CalcsimInputError(f"expected a DataFrame (or Results), not {type(x).__name__}")


def series(data: Any) -> list[tuple[str, pd.DataFrame]]:
    """``[(label, table), ...]`` from one table, a table with a ``scenario`` column, a sequence or a mapping."""
    if isinstance(data, Mapping):
        return [(str(k), table(v)) for k, v in data.items()]
    if isinstance(data, list | tuple):
        return [(str(table(v).attrs.get("scenario", "") or f"#{i + 1}"), table(v)) for i, v in enumerate(data)]
    t = table(data)
    if "scenario" in t.columns and t["scenario"].nunique() > 1:
        return [(str(k), g) for k, g in t.groupby("scenario", sort=False)]
    label = t.attrs.get("scenario", "")
    if not label and "scenario" in t.columns and len(t):
        label = str(t["scenario"].iloc[0])
    return [(str(label), t)]


def need(df: pd.DataFrame, cols: Sequence[str], where: str, hint: str) -> None:
    """Raise :class:`~analysis.errors.CalcsimInputError` (``where``: no column …; ``hint``) if a column is missing."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CalcsimInputError(f"{where}: no column {missing[0]!r}; {hint}")


def parse_stratum(label: str) -> dict[str, str]:
    """``"density=c; round=first"`` → ``{"density": "c", "round": "first"}`` (``"all"`` → ``{}``)."""
    if label == "all" or not label:
        return {}
    return dict(part.split("=", 1) for part in str(label).split("; "))


def stratum_levels(column: str) -> tuple[str, ...]:
    """Labels of a stratification column in their natural order (from :mod:`analysis.scenario.codings`)."""
    coding = STRATUM_CODINGS.get(column)
    return coding.labels if coding is not None else tuple(STRATA[column][1])


def check_by(by: str | Sequence[str], where: str, most: int) -> list[str]:
    """The stratification columns ``by`` as a list, checked: 1 to ``most`` known columns of ``STRATA``."""
    cols = [by] if isinstance(by, str) else list(by)
    if not 1 <= len(cols) <= most:
        raise CalcsimInputError(f"{where}: by = {cols!r}: one{' or two' if most > 1 else ''} stratification columns")
    for b in cols:
        if b not in STRATA:
            raise CalcsimInputError(
                f"{where}: by = {b!r}: unknown column{did_you_mean(b, STRATA)}; allowed: {', '.join(STRATA)}"
            )
    return cols


def stratified(e: pd.DataFrame, measure: str, by: list[str], where: str) -> pd.DataFrame:
    """Rows of ``measure`` stratified by exactly the columns ``by``, with one column per stratum variable."""
    need(
        e,
        ("measure", "stratum", "estimate", "lower", "upper", "n"),
        where,
        "pass an estimates table (Results.estimates())",
    )
    e = e[e["measure"] == measure]
    parsed = e["stratum"].map(parse_stratum)
    keep = parsed.map(lambda p: set(p) == set(by)).to_numpy(bool)
    if not keep.any():
        found = sorted({" × ".join(p) for p in parsed if p}) or ["none (overall only)"]
        raise CalcsimInputError(
            f"{where}: no {measure!r} rows stratified by {' × '.join(by)}; strata in the "
            f"table: {', '.join(found)}; run simulate(..., by={by!r})"
        )
    out = e[keep].copy()
    for b in by:
        out[b] = parsed[keep].map(lambda p, b=b: p[b]).to_numpy()
    return out


def column_codes(df: pd.DataFrame, column: str, coding: Coding, where: str) -> np.ndarray:
    """Integer codes of a coded column, whether it holds a Categorical, labels or integer codes.

    Raises
    ------
    CalcsimInputError
        ``where: screens[column]: <value>: one of <labels>`` if a value is neither a label nor a code.
    """
    try:
        return coding.codes(df[column])
    except ValueError as err:
        raise CalcsimInputError(f"{where}: screens[{column!r}]: {err}") from None
