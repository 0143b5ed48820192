"""Screening strategies: the schedules a benefits-and-harms comparison runs on the same simulated women.

A strategy is a programme schedule: the age at the first invitation (``start_age_years``), the age
at the last (``stop_age_years``) and the years between invitations (``interval_years``). Its three
values override ``programme.start_age_years``, ``programme.stop_age_years`` and
``programme.interval_years`` of a scenario (:meth:`Strategy.overrides`); everything else about the
women and the programme stays as the scenario has it.

A strategy may be **risk-based**: ``high_risk`` names one of :data:`HIGH_RISK_RULES` and the interval
then depends on the woman's risk group, decided once, at the programme start age:

* **high-risk**: she carries a BRCA1/2 mutation (rule ``brca``), or, according to the rule, also
  when she has a first-degree family history of breast cancer (``brca_or_family_history``), BI-RADS
  density d at the programme start age (``brca_or_density_d``), or either
  (``brca_or_family_history_or_density_d``);
* **low-risk**: not high-risk, no first-degree family history and density a or b at the start age;
* **average**: everyone else.

High-risk women are screened every ``high_risk_interval_years``, low-risk women every
``low_risk_interval_years`` (which defaults to ``interval_years``) and average women every
``interval_years``. A uniform strategy (``high_risk`` empty) screens everyone every
``interval_years`` and leaves both risk intervals empty.

Strategy grids are CSV files (``data/strategies/``, a ``#`` comment header allowed) with exactly the
columns :data:`COLUMNS`; :func:`load_strategies` reads and checks one, and every problem is one
:class:`~analysis.errors.CalcsimInputError` line naming the file, the row and field, the value and
what is allowed. A ``#`` anywhere in a line starts a comment, so a ``note`` cannot contain one.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import CalcsimInputError, did_you_mean, input_error
from analysis.io.paths import data_dir
from analysis.scenario.schema import MIN_INTERVAL_YEARS

__all__ = [
    "AGE_RANGE_YEARS",
    "COLUMNS",
    "DEFAULT_STRATEGIES",
    "HIGH_RISK_LABELS",
    "HIGH_RISK_RULES",
    "Strategy",
    "load_strategies",
    "strategies_dir",
    "strategies_table",
]

#: The shipped grid, in :func:`strategies_dir`.
DEFAULT_STRATEGIES = "default.csv"
#: The columns of a strategy file, in this order in :func:`strategies_table`.
COLUMNS = (
    "name",
    "start_age_years",
    "stop_age_years",
    "interval_years",
    "high_risk",
    "high_risk_interval_years",
    "low_risk_interval_years",
    "note",
)
#: The high-risk rules of a risk-based strategy, with the words :meth:`Strategy.describe` uses.
HIGH_RISK_LABELS: dict[str, str] = {
    "brca": "BRCA",
    "brca_or_density_d": "BRCA or density d",
    "brca_or_family_history": "BRCA or family history",
    "brca_or_family_history_or_density_d": "BRCA, family history or density d",
}
HIGH_RISK_RULES: tuple[str, ...] = tuple(HIGH_RISK_LABELS)
#: Ages a programme may start and stop at (inclusive): the span of the programmes in the literature
#: (40 in the US to 74-75) with five years either side.
AGE_RANGE_YEARS = (35.0, 85.0)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NAME_ALLOWED = "a non-empty name of letters, digits, '-', '_' and '.' (starting with a letter or digit)"


@dataclass(frozen=True)
class Strategy:
    """One screening schedule (see the module docstring for the risk groups).

    Parameters
    ----------
    name : str
        Unique name: letters, digits, ``-``, ``_`` and ``.``, starting with a letter or digit.
    start_age_years, stop_age_years : float
        Ages at the first and last invitation, ``start <= stop``, both in :data:`AGE_RANGE_YEARS`.
    interval_years : float
        Years between invitations (everyone, or the average-risk group of a risk-based strategy);
        at least ``MIN_INTERVAL_YEARS`` (0.5).
    high_risk : str or None
        ``None`` for a uniform strategy, else one of :data:`HIGH_RISK_RULES`.
    high_risk_interval_years : float or None
        Interval of the high-risk group; required when ``high_risk`` is set, else ``None``.
    low_risk_interval_years : float or None
        Interval of the low-risk group; defaults to ``interval_years`` when ``high_risk`` is set,
        else ``None``.
    note : str
        Free text.

    Raises
    ------
    CalcsimInputError
        A value out of range or inconsistent with the others (one line naming it).
    """

    name: str
    start_age_years: float
    stop_age_years: float
    interval_years: float
    high_risk: str | None = None
    high_risk_interval_years: float | None = None
    low_risk_interval_years: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        checked = _validated("Strategy", "", {f.name: getattr(self, f.name) for f in fields(self)})
        for key, value in checked.items():
            object.__setattr__(self, key, value)

    @property
    def risk_based(self) -> bool:
        """Whether the interval depends on the woman's risk group."""
        return self.high_risk is not None

    def describe(self) -> str:
        """A short label: ``"50-74 every 2 y"``, or for a risk-based strategy
        ``"50-74: 1 y high-risk (BRCA or density d), 3 y low-risk, 2 y others"`` (the low-risk part
        left out when it equals the others' interval)."""
        ages = f"{self.start_age_years:g}-{self.stop_age_years:g}"
        if not self.risk_based:
            return f"{ages} every {self.interval_years:g} y"
        parts = [f"{self.high_risk_interval_years:g} y high-risk ({HIGH_RISK_LABELS[str(self.high_risk)]})"]
        if self.low_risk_interval_years != self.interval_years:
            parts.append(f"{self.low_risk_interval_years:g} y low-risk")
        parts.append(f"{self.interval_years:g} y others")
        return f"{ages}: {', '.join(parts)}"

    def overrides(self) -> dict[str, float]:
        """The scenario values this strategy sets (``--set`` keys): start age, stop age and interval.

        For a risk-based strategy ``programme.interval_years`` is the average group's interval; the
        risk groups' intervals are the strategy's own (:attr:`high_risk_interval_years`,
        :attr:`low_risk_interval_years`).
        """
        return {
            "programme.start_age_years": self.start_age_years,
            "programme.stop_age_years": self.stop_age_years,
            "programme.interval_years": self.interval_years,
        }

    def intervals(self) -> tuple[float, ...]:
        """The distinct intervals the strategy uses, in increasing order."""
        used = {self.interval_years, self.high_risk_interval_years, self.low_risk_interval_years}
        return tuple(sorted(v for v in used if v is not None))


def _number(where: str, key: str, value: object, required: bool) -> float | None:
    """A finite number from a float, int or CSV text; ``None`` for empty when not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise input_error(where, key, "" if value is None else value, "a number (required)")
        return None
    if isinstance(value, bool):
        raise input_error(where, key, value, "a number")
    if isinstance(value, str):
        try:
            v = float(value.strip())
        except ValueError:
            raise input_error(where, key, value, "a number") from None
    elif isinstance(value, numbers.Real):
        v = float(value)
    else:
        raise input_error(where, key, value, "a number")
    if not math.isfinite(v):
        raise input_error(where, key, value, "a finite number")
    return v


def _interval(where: str, key: str, value: object, required: bool) -> float | None:
    v = _number(where, key, value, required)
    if v is not None and not v >= MIN_INTERVAL_YEARS:
        raise input_error(where, key, value, f"a number of years >= {MIN_INTERVAL_YEARS:g}")
    return v


def _validated(where: str, prefix: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise one strategy's fields; ``prefix`` starts every key (``"row 3 (x) "``)."""
    name = raw["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise input_error(where, f"{prefix}name", name, _NAME_ALLOWED)
    out: dict[str, Any] = {"name": name}
    lo, hi = AGE_RANGE_YEARS
    for key in ("start_age_years", "stop_age_years"):
        v = _number(where, prefix + key, raw[key], required=True)
        if not lo <= v <= hi:
            raise input_error(where, prefix + key, raw[key], f"an age in years between {lo:g} and {hi:g}")
        out[key] = v
    if out["stop_age_years"] < out["start_age_years"]:
        allowed = f"an age >= start_age_years ({out['start_age_years']:g})"
        raise input_error(where, prefix + "stop_age_years", raw["stop_age_years"], allowed)
    out["interval_years"] = _interval(where, prefix + "interval_years", raw["interval_years"], required=True)
    rule = raw["high_risk"]
    if isinstance(rule, str):
        rule = rule.strip() or None
    if rule is not None and rule not in HIGH_RISK_RULES:
        allowed = f"empty (uniform) or one of {', '.join(HIGH_RISK_RULES)}"
        raise input_error(where, prefix + "high_risk", rule, allowed + did_you_mean(str(rule), HIGH_RISK_RULES))
    out["high_risk"] = rule
    risk_keys = ("high_risk_interval_years", "low_risk_interval_years")
    if rule is None:
        for key in risk_keys:
            if _number(where, prefix + key, raw[key], required=False) is not None:
                raise input_error(where, prefix + key, raw[key], "empty when high_risk is empty (a uniform strategy)")
            out[key] = None
    else:
        for key, required in zip(risk_keys, (True, False), strict=True):
            out[key] = _interval(where, prefix + key, raw[key], required=required)
        if out["low_risk_interval_years"] is None:
            out["low_risk_interval_years"] = out["interval_years"]
    note = raw["note"]
    if note is None or (isinstance(note, float) and math.isnan(note)):
        note = ""
    if not isinstance(note, str):
        raise input_error(where, prefix + "note", note, "free text")
    out["note"] = note.strip()
    return out


def strategies_dir() -> Path:
    """Return the folder of shipped strategy grids (``data/strategies``)."""
    return data_dir() / "strategies"


def _resolve(path: str | os.PathLike[str] | None) -> Path:
    """The file to read: the default grid, the path as given, or a bare name in :func:`strategies_dir`."""
    if path is None:
        candidates = [strategies_dir() / DEFAULT_STRATEGIES]
    else:
        given = Path(path)
        candidates = [given]
        if given.parent == Path(".") and not given.is_absolute():
            candidates += [strategies_dir() / given, strategies_dir() / f"{given}.csv"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        looked = ", ".join(dict.fromkeys(str(c) for c in candidates))
        raise input_error("strategies", "file", str(path or DEFAULT_STRATEGIES), f"no such file (looked for {looked})")
    return found


def _read(path: Path) -> pd.DataFrame:
    """The file as text cells (empty cells are ``""``) with exactly :data:`COLUMNS`."""
    try:
        df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, OSError) as exc:
        raise CalcsimInputError(f"{path}: not a readable CSV: {str(exc).splitlines()[0]}") from None
    got = [str(c).strip() for c in df.columns]
    df.columns = got
    missing = [c for c in COLUMNS if c not in got]
    unknown = [c for c in got if c not in COLUMNS]
    if missing or unknown or len(set(got)) != len(got):
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(c + did_you_mean(c, COLUMNS) for c in unknown)}" if unknown else "",
            )
            if part
        )
        raise input_error(str(path), "columns", got, f"exactly {', '.join(COLUMNS)} ({detail or 'a repeated column'})")
    if df.empty:
        raise input_error(str(path), "rows", 0, "at least one strategy")
    return df[list(COLUMNS)]


def load_strategies(path: str | os.PathLike[str] | None = None) -> list[Strategy]:
    """Read and check a strategy grid.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A CSV file with the columns :data:`COLUMNS` (a ``#`` comment header allowed). A bare file name
        that is not in the working directory is looked up in :func:`strategies_dir` (``.csv`` may be left
        off). ``None`` (the default) reads the shipped grid, :data:`DEFAULT_STRATEGIES`.

    Returns
    -------
    list of Strategy
        One per row, in file order.

    Raises
    ------
    CalcsimInputError
        The file is missing or unreadable, a column is missing or unknown, there are no rows, a name
        is repeated (ignoring case: names become file names) or a value is bad; the one-line message
        names the file, the row and field, the value and what is allowed.
    """
    file = _resolve(path)
    df = _read(file)
    where = str(file)
    out: list[Strategy] = []
    seen: dict[str, tuple[int, str]] = {}
    for i, row in enumerate(df.to_dict("records"), start=1):
        name = row["name"].strip()
        prefix = f"row {i} ({name}) " if _NAME.fullmatch(name) else f"row {i} "
        values = _validated(where, prefix, {**row, "name": name})
        if name.lower() in seen:
            j, other = seen[name.lower()]
            allowed = f"a unique name, ignoring case (row {j} is {other!r})"
            raise input_error(where, f"row {i} name", name, allowed)
        seen[name.lower()] = (i, name)
        out.append(Strategy(**values))
    return out


def strategies_table(strategies: Sequence[Strategy]) -> pd.DataFrame:
    """One row per strategy: the columns :data:`COLUMNS` and ``label`` (:meth:`Strategy.describe`).

    Parameters
    ----------
    strategies : sequence of Strategy
        The strategies, e.g. from :func:`load_strategies`.

    Returns
    -------
    pandas.DataFrame
        ``high_risk`` is ``""`` for a uniform strategy and the risk intervals are NaN, so that
        ``table.drop(columns="label").to_csv(path, index=False)`` writes a file
        :func:`load_strategies` reads back to the same strategies.
    """
    rows = []
    for s in strategies:
        if not isinstance(s, Strategy):
            raise input_error("strategies", "item", type(s).__name__, "a Strategy")
        row: dict[str, Any] = {c: getattr(s, c) for c in COLUMNS}
        row["high_risk"] = s.high_risk or ""
        row["label"] = s.describe()
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*COLUMNS, "label"])
    for c in (
        "start_age_years",
        "stop_age_years",
        "interval_years",
        "high_risk_interval_years",
        "low_risk_interval_years",
    ):
        table[c] = pd.to_numeric(table[c]).astype(float)
    return table
