"""Cells of tables and the sentences beside them: numbers, intervals, p-values and labels as people read them.

:mod:`analysis.figures.tables` builds whole tables from these; a notebook that prints a sentence about
a table uses them too, so that the sentence states each number exactly as the table shows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analysis.figures.style import is_proportion, pretty
from analysis.figures.style import unit as measure_unit

__all__ = [
    "DASH",
    "extremes_sentence",
    "format_count",
    "format_interval",
    "format_measure",
    "format_number",
    "format_p_value",
    "format_percent",
    "format_range",
    "is_missing",
    "percent_digits",
    "pretty_text",
    "stratum_label",
    "unit_of",
]

#: What a missing value shows as.
DASH = "—"
_MINUS = "−"
#: How each stratification column reads in a stratum label ("{}" is the level).
_STRATUM_TEXT = {
    "round": "{} round",
    "age_group": "age {}",
    "menopause": "{}",
    "family_history": "family history {}",
    "brca": "{}",
    "breastfeeding": "breastfeeding {}",
    "density": "density {}",
    "parity": "parity {}",
}


def is_missing(x: Any) -> bool:
    """Whether a cell is missing: None, NaN, ``pd.NA``, NaT, an infinite number, a blank string or ``"nan"``."""
    if x is None:
        return True
    if isinstance(x, str):
        return not x.strip() or x.strip().lower() in ("nan", "<na>")
    try:
        return bool(pd.isna(x)) or (isinstance(x, int | float | np.number) and not np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def _signed(text: str) -> str:
    """A formatted number with a typographic minus (and no sign on a rounded zero)."""
    if text.startswith("-"):
        return text[1:] if not any(c in "123456789" for c in text) else _MINUS + text[1:]
    return text


def percent_digits(values: Any) -> int:
    """Decimals of a column of proportions shown in %: 1, or 2 when a non-zero value is under 1%."""
    v = np.array([float(x) for x in np.ravel(np.asarray(values, dtype=object)) if not is_missing(x)], dtype=float)
    v = np.abs(v[np.isfinite(v) & (v != 0)])
    return 2 if len(v) and v.min() < 0.01 else 1


def format_percent(x: Any, digits: int = 1) -> str:
    """A proportion in %: ``0.2401`` → ``"24.0%"`` (``—`` when missing)."""
    return DASH if is_missing(x) else _signed(f"{100 * float(x):.{digits}f}") + "%"


def format_count(x: Any) -> str:
    """A count with thousands separators: ``15454`` → ``"15,454"``."""
    return DASH if is_missing(x) else _signed(f"{round(float(x)):,}")


def format_number(x: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, zeros kept (``0.06`` → ``"0.0600"``); whole numbers as they are."""
    if is_missing(x):
        return DASH
    v = float(x)
    if v.is_integer() or abs(v) >= 1000:
        return format_count(v)
    return _signed(f"{v:#.{digits}g}".rstrip("."))


def format_p_value(p: Any) -> str:
    """A p-value: ``"<0.001"`` below 0.001, else three decimals (``"0.042"``)."""
    if is_missing(p):
        return DASH
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def unit_of(measure: str, difference: bool = False) -> str:
    """The unit :func:`format_interval` takes for a measure: ``"proportion"`` (``"pp"`` as a difference) or a rate."""
    if is_proportion(measure):
        return "pp" if difference else "proportion"
    return measure_unit(measure)


def _parts(unit: str, digits: int | None) -> tuple[Callable[[float], str], str, str]:
    """How to show numbers of ``unit``: (one number, mark after the estimate, suffix after the interval)."""
    if unit in ("proportion", "pp"):
        d = 1 if digits is None else digits
        return (
            (lambda v: _signed(f"{100 * v:.{d}f}")),
            ("%" if unit == "proportion" else ""),
            ("" if unit == "proportion" else " pp"),
        )
    if unit == "number" and digits is None:
        return (lambda v: _signed(f"{v:g}")), "", ""
    d = 2 if digits is None else digits
    return (lambda v: _signed(f"{v:,.{d}f}")), "", (f" {unit}" if unit.startswith("per ") else "")


def format_interval(
    estimate: Any, lower: Any = None, upper: Any = None, *, unit: str = "proportion", digits: int | None = None
) -> str:
    """An estimate with its interval, the same decimals in all three numbers.

    Parameters
    ----------
    estimate, lower, upper : float
        The values (a proportion as a fraction, a rate as it is); a missing end shows as ``—``,
        and a bound with no other end (``lower`` missing, ``upper == estimate``) as ``"≤7.0%"``.
    unit : str
        ``"proportion"`` → ``"24.0% (22.5–25.5)"``; ``"pp"`` (a difference of proportions) →
        ``"8.3 (7.2–9.5) pp"``; ``"per 1,000 screens"`` (any ``"per …"``) →
        ``"6.21 (5.80–6.65) per 1,000 screens"``; ``"number"`` → each number in its shortest
        form, as a parameter file writes it (``"0.001–0.1"``); anything else (``"ratio"``) → ``"1.13 (0.94–1.35)"``.
    digits : int, optional
        Decimals (default 1 for proportions and percentage points, 2 otherwise).

    Returns
    -------
    str
        ``—`` when the estimate is missing; ends separated by ``" to "`` when one is negative.
    """
    if is_missing(estimate):
        return DASH
    num, mark, suffix = _parts(unit, digits)
    est, lo_ok, hi_ok = num(float(estimate)) + mark, not is_missing(lower), not is_missing(upper)
    if lo_ok and hi_ok:
        sep = " to " if min(float(lower), float(upper)) < 0 else "–"
        return f"{est} ({num(float(lower))}{sep}{num(float(upper))}){suffix}"
    if hi_ok and float(upper) == float(estimate):
        return f"≤{est}{suffix}"
    if lo_ok and float(lower) == float(estimate):
        return f"≥{est}{suffix}"
    if lo_ok or hi_ok:
        return f"{est} ({num(float(lower)) if lo_ok else DASH}–{num(float(upper)) if hi_ok else DASH}){suffix}"
    return est + suffix


def format_range(lower: Any, upper: Any, *, unit: str = "proportion", digits: int | None = None) -> str:
    """A range without an estimate: ``"14.1–31.3%"``, ``"4.79–7.41 per 1,000 screens"``, ``"0.94–1.35"``."""
    if is_missing(lower) and is_missing(upper):
        return DASH
    num, mark, suffix = _parts(unit, digits)
    lo = num(float(lower)) if not is_missing(lower) else DASH
    hi = num(float(upper)) if not is_missing(upper) else DASH
    neg = any(not is_missing(v) and float(v) < 0 for v in (lower, upper))
    return f"{lo}{' to ' if neg else '–'}{hi}{mark}{suffix}"


def format_measure(measure: str, value: Any, *, difference: bool = False, digits: int | None = None) -> str:
    """One value of a measure in its unit: ``"24.0%"``, ``"8.3 pp"``, ``"6.21 per 1,000 screens"``."""
    if digits is None and is_proportion(measure):
        digits = percent_digits([value])
    return format_interval(value, unit=unit_of(measure, difference), digits=digits)


def pretty_text(x: Any) -> str:
    """A text cell: ``>=`` and ``<=`` typeset as ``≥`` and ``≤``; ``—`` when missing."""
    return DASH if is_missing(x) else str(x).replace(">=", "≥").replace("<=", "≤")


def stratum_label(stratum: Any) -> str:
    """A stratum as people read it: ``"parity=>=3"`` → ``"parity ≥3"``, ``"density=d; round=first"`` →
    ``"density d, first round"``, ``"age_group=50-54"`` → ``"age 50–54"`` (``"all"`` stays)."""
    if is_missing(stratum):
        return DASH
    text = str(stratum)
    if "=" not in text:
        return pretty_text(text)
    parts = []
    for part in text.split("; "):
        col, _, level = part.partition("=")
        level = re.sub(r"(?<=\d)-(?=\d)", "–", pretty(level))
        parts.append(_STRATUM_TEXT.get(col, col.replace("_", " ") + " {}").format(level))
    return ", ".join(parts)


def extremes_sentence(e: pd.DataFrame, subject: str, *, digits: int | None = None) -> str:
    """Where a measure is highest and lowest, from the rows of a table (the digits of :func:`format_estimates`).

    Parameters
    ----------
    e : DataFrame
        Rows with ``measure``, ``stratum``, ``estimate`` (and ``lower``, ``upper``); rows without an
        estimate are left out.
    subject : str
        What the sentence is about, e.g. ``"Recall"``.

    Returns
    -------
    str
        e.g. ``"Recall is highest in density c (2.1%) and lowest in density a (1.2%); their 95%
        intervals overlap."``
    """
    d = e[[not is_missing(x) for x in e["estimate"]]]
    if d.empty:
        return f"{subject}: no stratum has an estimate."
    units = [unit_of(str(m)) for m in d["measure"]]
    dd = (
        digits
        if digits is not None
        else percent_digits([x for x, u in zip(d["estimate"], units, strict=True) if u == "proportion"])
    )
    hi, lo = d.loc[d["estimate"].idxmax()], d.loc[d["estimate"].idxmin()]

    def value(r: pd.Series) -> str:
        u = unit_of(str(r["measure"]))
        return format_interval(r["estimate"], unit=u, digits=dd if u == "proportion" else None)

    if len(d) == 1 or value(hi) == value(lo):
        return f"{subject} is {value(hi)} in every stratum with an estimate ({len(d)})."
    text = (
        f"{subject} is highest in {stratum_label(hi['stratum'])} ({value(hi)}) and lowest in "
        f"{stratum_label(lo['stratum'])} ({value(lo)})"
    )
    if {"lower", "upper"} <= set(d.columns):
        overlap = float(hi["lower"]) <= float(lo["upper"])
        text += f"; their 95% intervals {'overlap' if overlap else 'do not overlap'}"
    return text + "."
