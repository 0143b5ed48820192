"""Building a validated :class:`Scenario` from merged raw entries (values with their provenance).

``raw`` is ``{section: {key: (value, Provenance, base_dir)}}`` plus ``name``, ``description``,
``setting`` and optionally ``_tables`` (tables already loaded). :func:`build_scenario` checks every
value against its kind and stated range, loads the parameter tables and runs the checks that
involve several parameters; errors are one line naming the file (or ``--set``), the key, the value
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import CalcsimInputError, did_you_mean, input_error
from analysis.scenario.calibrated import AppliedCalibration
from analysis.scenario.schema import (
    MIN_INTERVAL_YEARS,
    NOT_CALIBRATION_INPUTS,
    SECTIONS,
    CalcificationParams,
    CancerParams,
    CohortParams,
    ProgrammeParams,
    Provenance,
    ReadingParams,
    SurvivalParams,
    WorkupParams,
    scheduled_rounds,
)
from analysis.scenario.tables import load_table

__all__ = ["Scenario", "build_scenario", "scenario_to_raw", "set_dotted"]


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario: parameters, their provenance and the loaded tables."""

    name: str
    description: str
    setting: str
    cohort: CohortParams
    cancer: CancerParams
    calcifications: CalcificationParams
    reading: ReadingParams
    workup: WorkupParams
    programme: ProgrammeParams
    survival: SurvivalParams
    provenance: Mapping[str, Provenance]
    tables: Mapping[str, pd.DataFrame]
    origin: str = ""
    calibration: tuple[AppliedCalibration, ...] = ()

    @property
    def calibration_label(self) -> str:
        """What calibration was applied: ``"none"`` or ``<file> (draw N)`` per calibrated file."""
        return "; ".join(c.label for c in self.calibration) if self.calibration else "none"

    def __repr__(self) -> str:
        pg = self.programme
        return (
            f"Scenario({self.name!r}: ages {pg.start_age_years:g}-{pg.stop_age_years:g} every"
            f" {pg.interval_years:g} y, {self.reading.readers} reader(s); hash {self.hash};"
            f" calibration {self.calibration_label})"
        )

    def _repr_html_(self) -> str:
        """A compact card for Jupyter: the programme, the parameter counts and the provenance line."""
        import html

        pg = self.programme
        counts = self.parameter_table()["status"].value_counts().to_dict()
        rows = [
            (
                "programme",
                f"ages {pg.start_age_years:g}–{pg.stop_age_years:g}, every {pg.interval_years:g}"
                f" years, {self.reading.readers} reader(s), attendance {pg.attendance:.0%}",
            ),
            ("parameters", ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))),
            ("calibration", self.calibration_label),
            ("scenario_hash", self.hash),
            ("file", Path(self.origin).name if self.origin else ""),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
            f"{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return (
            f"<div><strong>Scenario {html.escape(self.name)}</strong> — {html.escape(self.description)}"
            f"<table>{body}</table><small>Every parameter with its source: "
            "<code>.parameter_table()</code></small></div>"
        )

    def values(self) -> dict[str, Any]:
        """Flat ``{"section.key": value}`` mapping of every parameter."""
        out: dict[str, Any] = {}
        for section in SECTIONS:
            obj = getattr(self, section)
            for f in dataclasses.fields(obj):
                out[f"{section}.{f.name}"] = getattr(obj, f.name)
        return out

    @property
    def hash(self) -> str:
        """SHA-256 (first 16 hex digits) of the parameter values and table contents."""
        payload = {
            "values": self.values(),
            "tables": {k: v.to_csv(index=False) for k, v in sorted(self.tables.items())},
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def calibration_values(self) -> dict[str, Any]:
        """:meth:`values` without the sections no screening measure reads (:data:`NOT_CALIBRATION_INPUTS`)."""
        return {k: v for k, v in self.values().items() if k.split(".", 1)[0] not in NOT_CALIBRATION_INPUTS}

    @property
    def prior_hash(self) -> str:
        """The hash a calibration is checked against: :attr:`hash` of the :meth:`calibration_values` and tables.

        Changing breast-cancer survival or discounting (``[survival]``) does not invalidate a calibration.
        """
        payload = {
            "values": self.calibration_values(),
            "tables": {k: v.to_csv(index=False) for k, v in sorted(self.tables.items())},
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def parameter_table(self) -> pd.DataFrame:
        """Every parameter with its value, source or status, range and meaning."""
        rows = []
        for section, cls in SECTIONS.items():
            for f in dataclasses.fields(cls):
                key = f"{section}.{f.name}"
                prov = self.provenance[key]
                rows.append(
                    {
                        "parameter": key,
                        "value": getattr(getattr(self, section), f.name),
                        "source": prov.source or "",
                        "status": prov.status or "sourced",
                        "range": "" if prov.range is None else f"{prov.range[0]:g}–{prov.range[1]:g}",
                        "meaning": f.metadata["doc"],
                    }
                )
        return pd.DataFrame(rows)

    def replace(self, overrides: Mapping[str, Any], origin: str = "override") -> Scenario:
        """Return a new scenario with ``{"section.key": value}`` overrides applied and validated."""
        raw = scenario_to_raw(self)
        for key, value in overrides.items():
            set_dotted(raw, key, value, origin)
        raw["_calibration"] = tuple(c.with_overrides(set(overrides)) for c in self.calibration)
        return build_scenario(raw, origin=self.origin, base_dir=None)


def set_dotted(raw: dict[str, Any], key: str, value: Any, origin: str) -> None:
    """Set ``section.key`` in a raw scenario to a user value (status ``user``), keeping its range."""
    parts = key.split(".")
    if len(parts) != 2 or parts[0] not in SECTIONS:
        hint = "" if parts[0] in SECTIONS else did_you_mean(parts[0], SECTIONS)
        raise input_error(origin, key, value, "expected section.key with section one of " + ", ".join(SECTIONS) + hint)
    section, name = parts
    old = raw.get(section, {}).get(name)
    # tables named on the command line are looked for in the working folder first
    base_dir = Path.cwd() if origin == "--set" else (old[2] if old is not None else None)
    if old is not None and old[1].range is not None:
        prov = dataclasses.replace(old[1], status="user", source=None, origin=origin)
    else:
        prov = Provenance(status="user", origin=origin)
    raw.setdefault(section, {})[name] = (value, prov, base_dir)


def scenario_to_raw(s: Scenario) -> dict[str, Any]:
    """The raw entries of a built scenario (to apply overrides and build it again)."""
    raw: dict[str, Any] = {"name": s.name, "description": s.description, "setting": s.setting}
    for section in SECTIONS:
        raw[section] = {}
        for f in dataclasses.fields(getattr(s, section)):
            key = f"{section}.{f.name}"
            raw[section][f.name] = (getattr(getattr(s, section), f.name), s.provenance[key], None)
    raw["_tables"] = dict(s.tables)
    raw["_calibration"] = s.calibration
    return raw


# --------------------------------------------------------------------------- validation
def _check_value(where: str, key: str, kind: str, value: Any) -> Any:
    """Validate one value against its kind; return it normalised."""

    def number(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise input_error(where, key, v, f"a finite number ({kind})")
        return float(v)

    if kind.startswith("vector4:"):
        inner = kind.split(":", 1)[1]
        if not isinstance(value, list) or len(value) != 4:
            raise input_error(where, key, value, "a list of 4 numbers, one per density a, b, c, d")
        return [_check_value(where, key, inner, v) for v in value]
    if kind.startswith("table:"):
        if not isinstance(value, str) or not value:
            raise input_error(where, key, value, "a CSV file name (string)")
        return value
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise input_error(where, key, value, "a whole number >= 1")
        return value
    v = number(value)
    if kind == "probability" and not 0.0 <= v <= 1.0:
        raise input_error(where, key, value, "a probability in [0, 1]")
    if kind in ("positive", "odds_ratio") and v <= 0:
        raise input_error(where, key, value, "a number > 0")
    if kind == "interval" and not v >= MIN_INTERVAL_YEARS:
        raise input_error(
            where,
            key,
            value,
            f"a number of years >= {MIN_INTERVAL_YEARS:g} (no programme screens "
            "more often than yearly; six months is the short-interval follow-up)",
        )
    if kind == "nonnegative" and v < 0:
        raise input_error(where, key, value, "a number >= 0")
    if kind == "age" and not 0.0 <= v <= 110.0:
        raise input_error(where, key, value, "an age in years between 0 and 110")
    return v


def build_scenario(raw: dict[str, Any], origin: str, base_dir: Path | None) -> Scenario:
    """Validate the merged raw scenario and build the frozen objects."""
    sections: dict[str, Any] = {}
    provenance: dict[str, Provenance] = {}
    table_files: dict[str, tuple[str, str, Path | None, str]] = {}
    for section, cls in SECTIONS.items():
        given = raw.get(section, {})
        names = [f.name for f in dataclasses.fields(cls)]
        for name, (value, prov, _bd) in given.items():
            if name not in names:
                where = prov.origin or origin
                raise input_error(where, f"{section}.{name}", value, f"unknown parameter{did_you_mean(name, names)}")
        kwargs = {}
        for f in dataclasses.fields(cls):
            key = f"{section}.{f.name}"
            if f.name not in given:
                raise input_error(origin, key, None, f"missing; required ({f.metadata['doc']})")
            value, prov, bd = given[f.name]
            where = prov.origin or origin
            value = _check_value(where, key, f.metadata["kind"], value)
            if prov.range is not None and prov.status != "user" and not isinstance(value, str):
                lo, hi = prov.range
                for v in value if isinstance(value, list) else [value]:
                    if not lo <= v <= hi:
                        raise input_error(where, key, value, f"outside its stated range [{lo:g}, {hi:g}]")
            kwargs[f.name] = value
            provenance[key] = prov
            if f.metadata["kind"].startswith("table:"):
                table_files[key] = (value, f.metadata["kind"].split(":", 1)[1], bd, where)
        sections[section] = cls(**kwargs)

    tables: dict[str, pd.DataFrame] = dict(raw.get("_tables", {}))
    for key, (fname, kind, bd, where) in table_files.items():
        cached = tables.get(kind)
        if cached is not None and cached.attrs.get("file") == fname:
            continue
        try:
            tables[kind] = load_table(kind, fname, bd, where, key)
        except CalcsimInputError as exc:
            text = str(exc)
            if not text.startswith(where):
                text += f" (table named by {key} in {where})"
            raise CalcsimInputError(text) from None

    name = raw.get("name", Path(origin).stem if origin else "scenario")
    for k in ("name", "description", "setting"):
        if k in raw and not isinstance(raw[k], str):
            raise input_error(origin, k, raw[k], "a string")
    scenario = Scenario(
        name=name,
        description=raw.get("description", ""),
        setting=raw.get("setting", ""),
        provenance=provenance,
        tables=tables,
        origin=origin,
        calibration=tuple(raw.get("_calibration", ())),
        **sections,
    )
    _cross_checks(scenario)
    return scenario


def _cross_checks(s: Scenario) -> None:
    """Checks that involve more than one parameter.

    The error names the parameter the user changed (``--set`` or a user file) when
    one of the parameters involved was changed, and shows the other one's value.
    """
    pv = s.provenance
    values = s.values()

    def fail(keys: tuple[str, ...], allowed: str) -> None:
        changed = [k for k in keys if pv[k].status == "user"] or list(keys)
        blame = changed[-1]
        others = ", ".join(f"{k} = {values[k]!r}" for k in keys if k != blame)
        raise input_error(
            pv[blame].origin or s.origin, blame, values[blame], f"{allowed}" + (f" (with {others})" if others else "")
        )

    pg, co = s.programme, s.cohort
    if pg.stop_age_years < pg.start_age_years:
        fail(
            ("programme.start_age_years", "programme.stop_age_years"),
            "programme.stop_age_years must be >= programme.start_age_years",
        )
    if co.model_start_age_years > pg.start_age_years:
        fail(
            ("programme.start_age_years", "cohort.model_start_age_years"),
            "cohort.model_start_age_years must be <= programme.start_age_years",
        )
    if co.model_end_age_years < pg.stop_age_years + pg.interval_years:
        fail(
            ("programme.stop_age_years", "programme.interval_years", "cohort.model_end_age_years"),
            f"cohort.model_end_age_years must be >= programme stop age + interval "
            f"({pg.stop_age_years + pg.interval_years:g}) so that interval cancers after the last screen"
            " are followed",
        )
    if co.brca1_share + co.brca2_share >= 1:
        fail(("cohort.brca1_share", "cohort.brca2_share"), "brca1_share + brca2_share must be < 1")
    rounds = scheduled_rounds(pg)
    if pg.cumulative_rounds > rounds and pv["programme.cumulative_rounds"].status == "user":
        fail(("programme.cumulative_rounds",), f"at most the number of scheduled rounds ({rounds})")
    if s.survival.horizon_age_years > 100:
        fail(("survival.horizon_age_years",), "at most 100 (the age to which the incidence hazard is defined)")
    if s.survival.horizon_age_years < co.model_end_age_years:
        fail(
            ("survival.horizon_age_years", "cohort.model_end_age_years"),
            "survival.horizon_age_years must be >= cohort.model_end_age_years (lifetime follow-up goes on from there)",
        )
    life = s.tables["life_table"]
    if life["age_lower"].iloc[0] > co.model_start_age_years:
        fail(
            ("cohort.life_table", "cohort.model_start_age_years"),
            f"the life table must start at or before age {co.model_start_age_years:g}"
            f" (it starts at {life['age_lower'].iloc[0]:g})",
        )
    inc = s.tables["incidence"]
    if inc["age_lower"].iloc[0] > co.model_start_age_years or inc["age_upper"].iloc[-1] < co.model_end_age_years:
        fail(
            ("cancer.incidence_table", "cohort.model_start_age_years", "cohort.model_end_age_years"),
            f"the incidence table must cover ages {co.model_start_age_years:g} to {co.model_end_age_years:g}"
            f" (it covers {inc['age_lower'].iloc[0]:g} to {inc['age_upper'].iloc[-1]:g})",
        )
