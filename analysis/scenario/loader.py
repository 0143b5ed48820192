"""Scenarios: validated, cited parameter sets read from TOML.

A scenario file is TOML. Every parameter is written with its provenance::

    [programme]
    interval_years = { value = 2, source = "rivm2020" }
    threshold_logit_shift = { value = 0.0, status = "calibrated", range = [-3.0, 3.0] }

``source`` is a citation key into ``data/references.toml``; ``status`` is
``calibrated`` or ``assumption`` and then needs a plausible ``range``. A file may
say ``extends = "nl-biennial"`` (a shipped name or a path) and override any key;
overrides written as plain values (``interval_years = 3``) are recorded with
status ``user``. ``--set programme.interval_years=3`` does the same from the
command line.

Calibrated values are a layer on top (:mod:`analysis.scenario.calibrated`): ``load_scenario``
applies the shipped calibrations because ``calibration="shipped"`` is its default, ``calibration=None``
gives the values written in the files, and a path applies a calibration file of the user's.

Validation happens on load and names the file, the key, the value and what is
allowed, in one line: unknown keys (with "did you mean"), wrong types,
probabilities outside [0, 1], category probabilities not summing to 1, inverted
age ranges, intervals <= 0, values outside their stated range.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from analysis.errors import ArgumentError, CalcsimInputError, did_you_mean, input_error
from analysis.io.paths import parameters_dir, scenarios_dir
from analysis.scenario.build import Scenario, build_scenario, set_dotted
from analysis.scenario.calibrated import (
    AppliedCalibration,
    CalibrationFile,
    describe_change,
    read_calibration,
    shipped_calibration_path,
)
from analysis.scenario.schema import SECTIONS, STATUSES, TOP_LEVEL_KEYS, Provenance

__all__ = [
    "CALIBRATIONS",
    "list_scenarios",
    "load_scenario",
    "parse_set_option",
    "references",
    "resolve_scenario_path",
    "undocumented_sources",
]

#: Named calibration choices of :func:`load_scenario` (a path to a calibration file is also accepted).
CALIBRATIONS = ("shipped", "none", "parents")


def list_scenarios() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in scenarios_dir().glob("*.toml"))


def resolve_scenario_path(name_or_path: str | Path, option: str = "--scenario") -> Path:
    """Turn a shipped scenario name or a file path into a path, or fail in one line."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise CalcsimInputError(f"{option}: {str(p)!r}: file not found")
        return p
    shipped = scenarios_dir() / f"{name_or_path}.toml"
    if shipped.is_file():
        return shipped
    names = list_scenarios()
    raise CalcsimInputError(
        f"{option}: {str(name_or_path)!r}: unknown scenario{did_you_mean(str(name_or_path), names)};"
        f" shipped scenarios are {', '.join(names)}, or give a .toml path"
    )


def load_scenario(
    name_or_path: str | Path = "nl-biennial",
    overrides: Mapping[str, Any] | None = None,
    *,
    calibration: str | os.PathLike[str] | None = "shipped",
    option: str = "--scenario",
) -> Scenario:
    """Load, resolve ``extends``, apply calibrations and overrides, and validate a scenario.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped scenario name (``nl-biennial``, ``us-annual``, ``england-triennial``)
        or a path to a TOML file.
    overrides : mapping, optional
        ``{"section.key": value}`` pairs (as from ``--set``), applied last.
    calibration : "shipped", None, "none", "parents" or path
        ``"shipped"`` (default): for every shipped scenario file of the ``extends`` chain that has
        one, apply the best accepted draw of ``data/calibration/<name>.csv``. ``None`` or
        ``"none"``: the values written in the files. ``"parents"``: the shipped calibrations of the
        scenarios this one extends, not its own (the starting point of calibrating it). A path: a
        calibration file for this scenario (``calcsim calibrate --out``), applied on top of the
        shipped calibrations of the scenarios it extends. A calibration whose ``prior_hash`` no
        longer matches its starting point is refused.
    option : str
        The option name used in error messages about the scenario name.

    Returns
    -------
    Scenario
        With :attr:`Scenario.calibration` recording what was applied.

    Raises
    ------
    CalcsimInputError
        One line naming the file, key, value and what is allowed.
    """
    path = resolve_scenario_path(name_or_path, option)
    mode, own_file = _calibration_mode(calibration)
    chain = _read_chain(path, seen=())
    raw: dict[str, Any] = {}
    applied: list[AppliedCalibration] = []
    for i, (level_path, own) in enumerate(chain):
        raw = _merge(raw, own)
        leaf = i == len(chain) - 1
        cal = _level_calibration(level_path, leaf, mode, own_file)
        if cal is not None:
            applied.append(_apply(raw, level_path, cal))
    for key, value in (overrides or {}).items():
        set_dotted(raw, key, value, "--set")
    raw["_calibration"] = tuple(c.with_overrides(set(overrides or {})) for c in applied)
    return build_scenario(raw, origin=str(path), base_dir=path.parent)


def _calibration_mode(calibration: str | os.PathLike[str] | None) -> tuple[str, Path | None]:
    """``(mode, file)`` of a ``calibration=`` argument."""
    if calibration is None:
        return "none", None
    if isinstance(calibration, str) and calibration in CALIBRATIONS:
        return calibration, None
    if isinstance(calibration, str | os.PathLike):
        p = Path(calibration)
        if not p.is_file():
            raise ArgumentError(
                "calibration",
                str(calibration),
                "'shipped', 'none' or the path of a calibration"
                " file (calcsim calibrate --out DIR writes DIR/<scenario>.csv): file not found",
            )
        return "file", p
    raise ArgumentError("calibration", calibration, "'shipped', 'none' or the path of a calibration file")


def _level_calibration(level_path: Path, leaf: bool, mode: str, own_file: Path | None) -> CalibrationFile | None:
    """The calibration file to apply after merging this file of the chain, if any."""
    if mode == "none" or (leaf and mode == "parents"):
        return None
    if leaf and mode == "file":
        return read_calibration(own_file)  # type: ignore[arg-type]
    shipped = shipped_calibration_path(level_path.stem)
    is_shipped_file = level_path.resolve().parent == scenarios_dir().resolve()
    return read_calibration(shipped) if is_shipped_file and shipped.is_file() else None


def _apply(raw: dict[str, Any], level_path: Path, cal: CalibrationFile) -> AppliedCalibration:
    """Check the file's ``prior_hash`` against ``raw`` (its starting point), then apply its best draw."""
    start = build_scenario(raw, origin=str(level_path), base_dir=level_path.parent)
    if cal.meta["scenario"] != start.name:
        raise CalcsimInputError(
            f"{cal.label}: scenario = {cal.meta['scenario']!r}: a calibration of another"
            f" scenario; this is {start.name!r}"
        )
    if cal.meta["prior_hash"] != start.prior_hash:
        what = describe_change(cal.meta, start.calibration_values(), dict(start.tables))
        raise CalcsimInputError(
            f"{cal.label}: prior_hash = {cal.meta['prior_hash']}: made from other prior values than"
            f" {start.name} has now (hash {start.prior_hash}; {what}): the scenario or a calibration it extends"
            " changed; recalibrate it, or run with --calibration none"
        )
    best = cal.best()
    draw = int(best["draw"])
    for key in cal.parameters:
        section, name = key.split(".", 1)
        if section not in raw or name not in raw[section]:
            raise CalcsimInputError(f"{cal.label}: parameters: {key!r}: not a parameter of {level_path.name}")
        value, prov, bd = raw[section][name]
        note = f"calibrated set {cal.label}, draw {draw} (nearest accepted)"
        raw[section][name] = (float(best[key]), _calibrated(prov, note, f"{cal.label} (draw {draw})"), bd)
    return AppliedCalibration(
        scenario=start.name,
        file=cal.label,
        draw=draw,
        prior_hash=cal.meta["prior_hash"],
        path=str(cal.path),
        parameters=tuple(cal.parameters),
    )


def _calibrated(prov: Provenance, note: str, origin: str) -> Provenance:
    """The provenance of a calibrated value: errors about it name the calibration file and draw."""
    from dataclasses import replace

    return replace(prov, status="calibrated", note=note, origin=origin)


def _merge(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """``own`` (one file) merged over ``base`` (the scenario it extends)."""
    out = {k: (dict(v) if k in SECTIONS else v) for k, v in base.items()}
    for section, values in own.items():
        if section in SECTIONS:
            out.setdefault(section, {}).update(values)
        elif section != "extends":
            out[section] = values
    return out


def parse_set_option(text: str) -> tuple[str, Any]:
    """Parse one ``--set key=value``; the value is read as a TOML value, else as a string."""
    if "=" not in text:
        raise CalcsimInputError(f"--set: {text!r}: expected section.key=value")
    key, value_text = (s.strip() for s in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text
    return key, value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CalcsimInputError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise CalcsimInputError(f"{path}: cannot read: {exc.strerror}") from None


def _read_chain(path: Path, seen: tuple[Path, ...]) -> list[tuple[Path, dict[str, Any]]]:
    """The files of the ``extends`` chain, root first, each as its own annotated entries."""
    if path.resolve() in seen:
        raise CalcsimInputError(f"{path}: extends: circular chain {' -> '.join(map(str, seen))}")
    data = _read_toml(path)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise input_error(
                str(path),
                key,
                data[key],
                f"unknown section{did_you_mean(key, TOP_LEVEL_KEYS)}; allowed: {', '.join(TOP_LEVEL_KEYS)}",
            )
    own = _annotate(data, str(path), path.parent)
    own.setdefault("name", path.stem)  # a file that does not name itself is named after the file
    parent_name = data.get("extends")
    if parent_name is None:
        return [(path, own)]
    if not isinstance(parent_name, str):
        raise input_error(str(path), "extends", parent_name, "a scenario name or path (string)")
    parent_path = Path(parent_name)
    if not parent_path.is_absolute() and parent_path.suffix == ".toml":
        parent_path = path.parent / parent_path
    parent_path = resolve_scenario_path(parent_path if parent_path.suffix else parent_name, option=f"{path}: extends")
    return [*_read_chain(parent_path, seen=(*seen, path.resolve())), (path, own)]


def _annotate(data: Mapping[str, Any], origin: str, base_dir: Path) -> dict[str, Any]:
    """Convert a TOML document to ``{section: {key: (value, Provenance, base_dir)}}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise input_error(origin, key, value, "a table of parameters ([section])")
            out[key] = {}
            for name, entry in value.items():
                out[key][name] = _entry(origin, f"{key}.{name}", entry, base_dir)
        else:
            out[key] = value
    return out


def _entry(origin: str, key: str, entry: Any, base_dir: Path | None) -> tuple[Any, Provenance, Path | None]:
    """Split ``{value, source|status, range, note}`` or a plain value into value + provenance."""
    if not isinstance(entry, dict):
        return entry, Provenance(status="user", origin=origin), base_dir
    allowed = ("value", "source", "status", "range", "note")
    for k in entry:
        if k not in allowed:
            raise input_error(
                origin,
                f"{key}.{k}",
                entry[k],
                f"unknown field{did_you_mean(k, allowed)}; allowed: {', '.join(allowed)}",
            )
    if "value" not in entry:
        raise input_error(origin, key, entry, "needs a 'value'")
    source, status = entry.get("source"), entry.get("status")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise input_error(origin, f"{key}.source", source, "a citation key (non-empty string) of data/references.toml")
    if "note" in entry and not isinstance(entry["note"], str):
        raise input_error(origin, f"{key}.note", entry["note"], "a string")
    if source is None and status is None:
        raise input_error(
            origin, key, entry, "needs a 'source' (citation key) or a 'status' ('calibrated' or 'assumption')"
        )
    if status is not None and status not in STATUSES:
        raise input_error(origin, f"{key}.status", status, f"one of {', '.join(STATUSES)}")
    rng = entry.get("range")
    if rng is not None:
        if (
            not isinstance(rng, list)
            or len(rng) != 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in rng)
        ):
            raise input_error(origin, f"{key}.range", rng, "a list of two numbers [low, high]")
        if rng[0] > rng[1]:
            raise input_error(origin, f"{key}.range", rng, "low must not exceed high")
        rng = (float(rng[0]), float(rng[1]))
    elif status is not None:
        raise input_error(origin, key, entry, f"status '{status}' needs a plausible 'range'")
    prov = Provenance(source=source, status=status, range=rng, note=entry.get("note"), origin=origin)
    return entry["value"], prov, base_dir


def references() -> dict[str, str]:
    """The citation keys and full references of ``data/references.toml``."""
    path = parameters_dir().parent / "references.toml"
    data = _read_toml(path)
    return {k: v["citation"] for k, v in data.items()}


def undocumented_sources(s: Scenario, refs: Iterable[str]) -> list[str]:
    """Citation keys used by a scenario (values and table rows) that are not in the references."""
    known = set(refs)
    used = {p.source for p in s.provenance.values() if p.source}
    for t in s.tables.values():
        for src in t["source"].astype(str):
            used.update(x.strip() for x in src.split(";") if x.strip() not in STATUSES)
    return sorted(str(u) for u in used if u not in known)
