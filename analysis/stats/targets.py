"""Published targets (docs/model.md §9.2): values, count-based uncertainty, setting and source.

``data/targets/targets.csv`` holds one row per published figure. A target with
counts gets a Wilson interval from them; one with a published interval keeps it;
guideline maxima are ``upper_bound``; the literature's "12.7–41.2%" is a ``band``
because its denominator is not stated; a ``check`` is a published figure shown beside
the model but not fitted (it is implied by other targets, so fitting it would count
the same evidence twice).

The optional ``stratum`` column (empty = all screens) names the screens a figure is about,
as ``key=value`` pairs joined by ``"; "`` (``round=subsequent; age_group=40-49; density=c``).
The keys are the model's strata (:data:`analysis.model.results.STRATA`); an ``age_group``
may be a range made of whole model age groups (``40-49`` = ``40-44`` + ``45-49``), whose
counts are summed (:func:`model_strata`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError, did_you_mean, input_error
from analysis.io.paths import data_dir
from analysis.model.results import MEASURE_NAMES, MEASURES, STRATA, wilson

COLUMNS = (
    "target",
    "setting",
    "scenario",
    "measure",
    "stratum",
    "kind",
    "value",
    "numerator",
    "denominator",
    "lower",
    "upper",
    "source",
    "note",
)
KINDS = ("point", "upper_bound", "band", "check")
#: Columns a targets file may leave out (filled with empty values).
OPTIONAL_COLUMNS = ("stratum",)


def default_targets_path() -> Path:
    """The shipped targets file."""
    return data_dir() / "targets" / "targets.csv"


def _read(p: Path) -> pd.DataFrame:
    """The file's columns :data:`COLUMNS`, text columns as strings and number columns as floats."""
    try:
        df = pd.read_csv(p, comment="#", dtype={"scenario": str, "measure": str, "stratum": str, "note": str})
    except FileNotFoundError:
        raise CalcsimInputError(f"{p}: targets file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CalcsimInputError(f"{p}: not a readable CSV: {str(exc).splitlines()[0]}") from None
    for c in OPTIONAL_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise input_error(
            str(p), "columns", list(df.columns), f"needs {', '.join(COLUMNS)} (missing {', '.join(missing)})"
        )
    df = df[list(COLUMNS)].copy()
    for c in ("scenario", "measure", "stratum", "note", "setting"):
        df[c] = df[c].fillna("").astype(str)
    for c in ("value", "numerator", "denominator", "lower", "upper"):
        col = pd.to_numeric(df[c], errors="coerce")
        bad = col.isna() & df[c].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise input_error(str(p), f"row {i + 1} {c}", df[c].iloc[i], "a number or empty")
        df[c] = col
    if df["target"].duplicated().any():
        dup = df.loc[df["target"].duplicated(), "target"].iloc[0]
        raise input_error(str(p), "target", dup, "unique target names")
    return df


def _check_counts(p: Path, where: str, row: Any, scale: float) -> None:
    """A row's numerator and denominator: both or neither, whole, consistent with its value."""
    has_num, has_den = np.isfinite(row.numerator), np.isfinite(row.denominator)
    if has_num != has_den:
        raise input_error(
            str(p), f"{where} numerator/denominator", [row.numerator, row.denominator], "both counts or neither"
        )
    if has_den and (
        row.denominator <= 0
        or not 0 <= row.numerator <= row.denominator
        or row.numerator != int(row.numerator)
        or row.denominator != int(row.denominator)
    ):
        raise input_error(
            str(p),
            f"{where} numerator/denominator",
            [row.numerator, row.denominator],
            "whole numbers with 0 <= numerator <= denominator, denominator > 0",
        )
    if has_den and abs(row.numerator / row.denominator * scale - row.value) > 5e-4 * scale:
        raise input_error(
            str(p),
            f"{where} value",
            row.value,
            f"must equal numerator/denominator ({row.numerator / row.denominator * scale:.6g})",
        )


def _check_row(p: Path, i: int, row: Any, per: dict[str, float]) -> None:
    """One target (row ``i``): its kind, its band, or its measure, value, counts and interval."""
    where = f"row {i + 1} ({row.target})"
    if row.kind not in KINDS:
        raise input_error(
            str(p), f"{where} kind", row.kind, f"one of {', '.join(KINDS)}{did_you_mean(str(row.kind), KINDS)}"
        )
    if row.stratum:
        try:
            model_strata(row.stratum)
        except CalcsimInputError as exc:
            raise CalcsimInputError(f"{p}: {where} stratum: {exc}") from None
    if row.kind == "band":
        if not (np.isfinite(row.lower) and np.isfinite(row.upper)) or row.lower > row.upper:
            raise input_error(str(p), f"{where} lower/upper", [row.lower, row.upper], "a band needs lower <= upper")
        return
    if row.measure not in MEASURE_NAMES:
        raise input_error(
            str(p), f"{where} measure", row.measure, f"a calcsim measure{did_you_mean(row.measure, MEASURE_NAMES)}"
        )
    scale = per[row.measure]
    if not np.isfinite(row.value) or not 0 <= row.value <= scale:
        raise input_error(str(p), f"{where} value", row.value, f"a number in [0, {scale:g}]")
    _check_counts(p, where, row, scale)
    if np.isfinite(row.lower) and np.isfinite(row.upper) and not row.lower <= row.value <= row.upper:
        raise input_error(str(p), f"{where} lower/upper", [row.lower, row.upper], "an interval around value")


def load_targets(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read and validate a targets file; add ``interval_lower``/``interval_upper``.

    The interval is the Wilson 95% interval of the counts when the source gives
    counts, else the published interval, else empty.

    Raises
    ------
    CalcsimInputError
        One line naming the file, row, column, value and what is allowed.
    """
    p = Path(path) if path is not None else default_targets_path()
    df = _read(p)
    per = {m.name: m.per for m in MEASURES}
    for i, row in enumerate(df.itertuples(index=False)):
        _check_row(p, i, row, per)
    lo = df["lower"].to_numpy(dtype=float).copy()
    hi = df["upper"].to_numpy(dtype=float).copy()
    counts = df["denominator"].notna().to_numpy()
    if counts.any():
        _, wl, wu = wilson(df.loc[counts, "numerator"].to_numpy(), df.loc[counts, "denominator"].to_numpy())
        scale = df.loc[counts, "measure"].map(per).to_numpy()
        lo[counts], hi[counts] = wl * scale, wu * scale
    df["interval_lower"], df["interval_upper"] = lo, hi
    df["interval_kind"] = np.where(
        counts, "wilson95 (counts)", np.where(df["lower"].notna() & (df["kind"] != "band"), "published", "")
    )
    df.attrs["path"] = str(p)
    return df


def parse_stratum(stratum: str) -> dict[str, str]:
    """The ``key=value`` pairs of a stratum (``""`` or ``"all"``: all screens), keys in :data:`STRATA` order.

    Raises
    ------
    CalcsimInputError
        A part that is not ``key=value``, an unknown or repeated key.
    """
    text = (stratum or "").strip()
    if text in ("", "all"):
        return {}
    out: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = (x.strip() for x in part.partition("="))
        if not sep or not key or not value:
            raise CalcsimInputError(f"{part.strip()!r}: a stratum is key=value pairs joined by '; '")
        if key not in STRATA:
            raise CalcsimInputError(
                f"{key!r}: unknown stratum key{did_you_mean(key, STRATA)}; allowed: {', '.join(STRATA)}"
            )
        if key in out:
            raise CalcsimInputError(f"{key!r}: repeated in the stratum {text!r}")
        out[key] = value
    return {k: out[k] for k in STRATA if k in out}


def stratum_grouping(stratum: str) -> tuple[str, ...]:
    """The model grouping (``simulate(by=...)``) a stratum needs: its keys in :data:`STRATA` order."""
    return tuple(parse_stratum(stratum))


def _age_groups(value: str) -> list[str]:
    """The model's five-year age groups that make up ``value`` (one of them, or a range of whole ones)."""
    labels = STRATA["age_group"][1]
    if value in labels:
        return [value]
    bounds = [tuple(int(x) for x in lab.split("-")) for lab in labels]
    try:
        lo, hi = (int(x) for x in value.split("-"))
    except ValueError:
        lo, hi = 1, 0
    inside = [lab for lab, (a, b) in zip(labels, bounds, strict=True) if a >= lo and b <= hi]
    if not inside or int(inside[0].split("-")[0]) != lo or int(inside[-1].split("-")[1]) != hi:
        raise CalcsimInputError(
            f"age_group={value!r}: a model age group or a range of whole ones"
            f" ({labels[0]} ... {labels[-1]}, e.g. 40-49 = 40-44 + 45-49)"
        )
    return inside


def model_strata(stratum: str) -> list[str]:
    """The model stratum labels whose counts add up to ``stratum`` (``["all"]`` for all screens).

    The labels are those of ``simulate(..., by=[stratum_grouping(stratum)])``; an ``age_group``
    range expands to the model's five-year groups inside it.

    Raises
    ------
    CalcsimInputError
        An unknown key or a value that is not one of the key's categories.
    """
    parts = parse_stratum(stratum)
    if not parts:
        return ["all"]
    labels = [""]
    for key, value in parts.items():
        cats = STRATA[key][1]
        if key == "age_group":
            values = _age_groups(value)
        elif value in cats:
            values = [value]
        else:
            raise CalcsimInputError(f"{key}={value!r}: one of {', '.join(cats)}{did_you_mean(value, cats)}")
        labels = [f"{lab}; {key}={v}" if lab else f"{key}={v}" for lab in labels for v in values]
    return labels
