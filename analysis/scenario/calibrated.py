"""Calibrated parameter sets: reading a calibration file and applying its best accepted draw.

Calibration is a layer on top of the scenario files, never hidden state: ``load_scenario(name)``
applies the *shipped* calibrations (``data/calibration/<scenario>.csv``) only because its default
is ``calibration="shipped"``; ``calibration=None`` gives the values written in the files, and a path
applies a calibration file the user made (``calcsim calibrate --out DIR``). The scenario records
what was applied (:attr:`Scenario.calibration`), and so do the estimates and ``run.json``.

A calibration file is a CSV whose leading ``# key: value`` lines are its header (scenario,
``prior_hash``, parameters, targets, settings) and whose rows are the draws, with ``accepted`` and
``distance`` columns. It was made from the scenario's prior values on top of the calibrations of
the scenarios it extends; ``prior_hash`` is the hash of that starting point. A file whose
``prior_hash`` no longer matches (the scenario file, one of its tables, or a calibration it extends
changed) is refused: its draws were scored against another model.
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import CalcsimInputError
from analysis.io.paths import data_dir

__all__ = ["AppliedCalibration", "CalibrationFile", "read_calibration", "shipped_calibration_path"]

#: Header keys every calibration file must have.
REQUIRED_HEADER = ("scenario", "prior_hash", "parameters")


@dataclass(frozen=True)
class AppliedCalibration:
    """One calibration applied to a scenario (one file of its ``extends`` chain)."""

    scenario: str
    file: str  # as shown to users: data/calibration/<name>.csv for shipped files, else the path given
    draw: int
    prior_hash: str
    path: str = ""  # where it was read from (internal; not shown in reports)
    parameters: tuple[str, ...] = ()  # the keys it set
    overridden: tuple[str, ...] = ()  # those of them later replaced by an override (--set, replace())

    @property
    def label(self) -> str:
        """``<file> (draw N)``, with the overridden parameters when an override replaced some of them."""
        over = f"; overridden: {', '.join(self.overridden)}" if self.overridden else ""
        return f"{self.file} (draw {self.draw}{over})"

    def with_overrides(self, keys: set[str] | frozenset[str]) -> AppliedCalibration:
        """The same calibration, recording which of its parameters ``keys`` replaced."""
        hit = tuple(k for k in self.parameters if k in keys and k not in self.overridden)
        return replace(self, overridden=self.overridden + hit) if hit else self


@dataclass(frozen=True)
class CalibrationFile:
    """A validated calibration file."""

    path: Path
    label: str
    meta: dict[str, str]
    draws: pd.DataFrame

    @property
    def parameters(self) -> list[str]:
        """The calibrated parameter keys, in header order."""
        return self.meta["parameters"].split()

    @property
    def accepted(self) -> pd.DataFrame:
        """The accepted draws, in draw order."""
        return self.draws[self.draws["accepted"]].sort_values("draw")

    def best(self) -> pd.Series:
        """The accepted draw with the smallest distance (ties: the lowest draw number)."""
        return self.draws[self.draws["accepted"]].sort_values(["distance", "draw"]).iloc[0]


def shipped_calibration_path(name: str) -> Path:
    """``data/calibration/<name>.csv`` of the installed data folder (it may not exist)."""
    return data_dir() / "calibration" / f"{name}.csv"


def display_path(path: Path) -> str:
    """A path as shown to users: relative to the data folder's parent for shipped files, else as given."""
    try:
        return str(path.resolve().relative_to(data_dir().resolve().parent))
    except ValueError:
        return str(path)


def _split_header(text: str) -> tuple[dict[str, str], str, int]:
    meta: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    n = 0
    for line in lines:
        if not (line.startswith("# ") and ":" in line):
            break
        k, v = line[2:].split(":", 1)
        meta[k.strip()] = v.strip()
        n += 1
    return meta, "".join(lines[n:]), n


def read_calibration(path: str | os.PathLike[str], label: str | None = None) -> CalibrationFile:
    """Read and validate a calibration file; every defect is one line naming the file, row and column.

    Parameters
    ----------
    path : path
        The CSV written by ``calcsim calibrate``.
    label : str, optional
        How to name the file in messages (default: the path relative to the project for shipped files).

    Raises
    ------
    CalcsimInputError
        Not UTF-8 text, a missing header key, missing columns, a torn or non-numeric row, an
        ``accepted`` value other than True/False, or no accepted draw.
    """
    path = Path(path)
    name = label or display_path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise CalcsimInputError(f"{name}: cannot read the calibration file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CalcsimInputError(f"{name}: not a calibration file (not UTF-8 text)") from None
    meta, body, header_lines = _split_header(text)
    missing = [k for k in REQUIRED_HEADER if not meta.get(k)]
    if missing:
        raise CalcsimInputError(
            f"{name}: header: '# {missing[0]}: ...' missing: not a calibration file written by calcsim calibrate"
        )
    try:
        df = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CalcsimInputError(f"{name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    needed = ["draw", "distance", "accepted", *meta["parameters"].split()]
    absent = [c for c in needed if c not in df.columns]
    if absent:
        raise CalcsimInputError(f"{name}: column {absent[0]!r} missing (needs {', '.join(needed)})")
    out = pd.DataFrame(index=df.index)
    for col in needed:
        values = df[col]
        if col == "accepted":
            low = values.str.strip().str.lower()
            bad = ~low.isin(["true", "false", "1", "0"])
            parsed: Any = low.isin(["true", "1"])
        else:
            parsed = pd.to_numeric(values, errors="coerce")
            bad = parsed.isna() | ~parsed.map(lambda v: math.isfinite(v) if v == v else False)
            if col == "distance":  # a rejected draw may have an infinite distance (invalid combination)
                bad = parsed.isna()
        if bad.any():
            i = int(bad.to_numpy().argmax())
            row = header_lines + 2 + i  # 1-based line number in the file (header line of the CSV counted)
            allowed = "True or False" if col == "accepted" else "a finite number"
            raise CalcsimInputError(
                f"{name}: line {row}, column {col!r} = {values.iloc[i]!r}: {allowed}"
                " (a torn or edited file? recalibrate or restore it)"
            )
        out[col] = parsed
    out["draw"] = out["draw"].astype(int)
    extra = [c for c in df.columns if c not in needed]
    if extra:  # one concat: a file with many per-target columns must not fragment the frame
        cols = {c: pd.to_numeric(df[c], errors="coerce") if c != "invalid" else df[c] for c in extra}
        out = pd.concat([out, pd.DataFrame(cols, index=out.index)], axis=1)
    if not out["accepted"].any():
        raise CalcsimInputError(
            f"{name}: no accepted draw (accepted column all False): nothing to apply;"
            " recalibrate, or run with --calibration none"
        )
    return CalibrationFile(path=path, label=name, meta=meta, draws=out)


def prior_record(values: dict[str, Any], tables: dict[str, pd.DataFrame]) -> str:
    """The ``prior_values`` header: parameter values and a digest of each table (JSON, one line)."""
    import hashlib

    digest = {k: hashlib.sha256(v.to_csv(index=False).encode()).hexdigest()[:12] for k, v in sorted(tables.items())}
    return json.dumps({"values": values, "tables": digest}, sort_keys=True, default=str, separators=(",", ":"))


def describe_change(meta: dict[str, str], values: dict[str, Any], tables: dict[str, pd.DataFrame]) -> str:
    """What differs between the calibration's recorded starting point and the scenario now."""
    if "prior_values" not in meta:
        return "the file does not record its prior values"
    then = json.loads(meta["prior_values"])
    now = json.loads(prior_record(values, tables))
    changed = [
        f"{k} {then['values'].get(k)!r} -> {v!r}" for k, v in now["values"].items() if then["values"].get(k) != v
    ]
    changed += [f"table {k}" for k, v in now["tables"].items() if then["tables"].get(k) != v]
    return (
        "changed: " + ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
        if changed
        else "same values and tables, different hash (format change?)"
    )
