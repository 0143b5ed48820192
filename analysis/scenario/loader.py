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

Validation happens on load and names the file, the key, the value and what is
allowed, in one line: unknown keys (with "did you mean"), wrong types,
probabilities outside [0, 1], category probabilities not summing to 1, inverted
age ranges, intervals <= 0, values outside their stated range.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError, did_you_mean, input_error
from analysis.io.paths import parameters_dir, scenarios_dir

STATUSES = ("calibrated", "assumption")
DENSITIES = ("a", "b", "c", "d")
MORPHOLOGIES = ("amorphous", "coarse_heterogeneous", "fine_pleomorphic", "fine_linear_branching")
DISTRIBUTIONS = ("grouped", "regional", "linear", "segmental", "diffuse")
PRESENTATIONS = ("calc_only", "calc_mass", "mass", "other")


def _p(kind: str, doc: str) -> Any:
    """Declare a parameter field with its kind (used by validation) and meaning."""
    return field(metadata={"kind": kind, "doc": doc})


# --------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class CohortParams:
    """Risk-factor distributions of the simulated women (MODEL.md §5.1)."""

    model_start_age_years: float = _p("age", "age at which natural history starts")
    model_end_age_years: float = _p("age", "age at which follow-up ends")
    family_history_any_share: float = _p("probability", "share with >=1 affected first-degree relative")
    family_history_two_plus_share_of_any: float = _p(
        "probability", "share with >=2 affected relatives among those with >=1"
    )
    female_first_degree_relatives: int = _p("count", "female first-degree relatives (carrier Bayes)")
    brca1_share: float = _p("probability", "BRCA1 carrier prevalence")
    brca2_share: float = _p("probability", "BRCA2 carrier prevalence")
    nulliparous_share: float = _p("probability", "share of women with no births")
    mean_births_parous: float = _p("positive", "mean number of births among parous women (>=1)")
    ever_breastfed_share_parous: float = _p("probability", "share of parous women who ever breastfed")
    breastfeeding_mean_months_parous: float = _p(
        "positive", "mean lifetime breastfeeding (months) among parous women, zeros included"
    )
    breastfeeding_gamma_shape: float = _p("positive", "shape of the gamma for months among breastfeeders")
    natural_menopause_mean_age_years: float = _p("age", "mean age at natural menopause")
    natural_menopause_sd_years: float = _p("positive", "SD of age at natural menopause")
    surgical_menopause_share: float = _p("probability", "lifetime share with surgical menopause")
    surgical_menopause_mean_age_years: float = _p("age", "mean age at surgical menopause")
    surgical_menopause_sd_years: float = _p("positive", "SD of age at surgical menopause")
    mortality_hazard_age50: float = _p("positive", "other-cause mortality hazard at age 50 (per year)")
    mortality_gompertz_slope: float = _p("positive", "Gompertz slope of other-cause mortality (per year)")
    density_table: str = _p("table:density", "BI-RADS density by age group and menopause")


@dataclass(frozen=True)
class CancerParams:
    """Cancer natural history (MODEL.md §3.2, §5.2)."""

    incidence_table: str = _p("table:incidence", "invasive incidence by age (population average)")
    brca_incidence_table: str = _p("table:brca_incidence", "carrier-specific incidence by age")
    family_history_rr_1: float = _p("odds_ratio", "relative risk, one affected relative")
    family_history_rr_2plus: float = _p("odds_ratio", "relative risk, >=2 affected relatives")
    breastfeeding_rr_reduction_per_12_months: float = _p(
        "probability", "proportional risk reduction per 12 months of breastfeeding"
    )
    parity_rr_reduction_per_birth: float = _p("probability", "proportional risk reduction per birth")
    dcis_share_of_onsets: float = _p("probability", "share of preclinical cancers that are DCIS")
    invasive_mean_sojourn_years: float = _p("positive", "mean sojourn time of invasive cancer at 50")
    sojourn_years_per_decade: float = _p("real", "change of the mean sojourn time per decade of age")
    dcis_mean_sojourn_years: float = _p("positive", "mean time from DCIS onset to clinical surfacing")
    dcis_progressive_share: float = _p("probability", "share of DCIS that would ever surface clinically")
    presentation_table: str = _p("table:presentation", "how cancers present, by type")


@dataclass(frozen=True)
class CalcificationParams:
    """Benign and malignancy-associated calcifications (MODEL.md §3.3, §5.3, §5.5)."""

    nonsuspicious_prevalence_age50: float = _p("probability", "benign non-suspicious calcs at 50")
    nonsuspicious_odds_ratio_per_decade: float = _p("odds_ratio", "age trend of non-suspicious calcs")
    cluster_prevalence_age50: float = _p("probability", "benign cluster prevalence at 50, reference women")
    cluster_odds_ratio_per_decade: float = _p("odds_ratio", "age trend of cluster prevalence")
    cluster_or_breastfeeding_over_12_months_postmenopausal: float = _p(
        "odds_ratio", "cluster OR, >12 months breastfeeding, postmenopausal women only"
    )
    cluster_or_dense: float = _p("odds_ratio", "cluster OR, dense breasts (BI-RADS c/d)")
    cluster_or_family_history: float = _p("odds_ratio", "cluster OR, >=1 affected relative")
    cluster_or_per_birth: float = _p("odds_ratio", "cluster OR per birth")
    cluster_or_postmenopausal: float = _p("odds_ratio", "cluster OR, postmenopausal")
    morphology_table: str = _p("table:morphology", "morphology by origin of the calcification")
    distribution_table: str = _p("table:distribution", "distribution by origin of the calcification")
    compact_share_malignant: float = _p("probability", "share of malignant clusters that are compact")
    compact_share_benign: float = _p("probability", "share of benign clusters that are compact")


@dataclass(frozen=True)
class ReadingParams:
    """Mammogram reading (MODEL.md §3.4): a table built from these values."""

    readers: int = _p("count", "independent readers per screen (2 = double reading)")
    threshold_logit_shift: float = _p("real", "programme recall threshold, logit shift (+ = more recalls)")
    p_recall_calc_malignant: float = _p("probability", "single-reader recall of a malignant calc (ref)")
    p_recall_mass_malignant: float = _p("probability", "single-reader recall of a malignant mass")
    p_recall_other_malignant: float = _p("probability", "single-reader recall, distortion/asymmetry")
    p_recall_benign_cluster: float = _p("probability", "single-reader recall of a benign cluster (ref)")
    p_recall_nonsuspicious: float = _p("probability", "single-reader recall of non-suspicious calcs")
    p_recall_other_benign: float = _p("probability", "single-reader recall of a benign non-calc finding")
    morphology_odds_ratio: list = _p("vector4:odds_ratio", "recall OR by morphology (amorphous = ref)")
    density_odds_ratio_malignant: list = _p("vector4:odds_ratio", "recall OR of cancers by density a-d")
    density_odds_ratio_benign: list = _p("vector4:odds_ratio", "recall OR of benign findings by density")
    prior_images_false_positive_or: float = _p("odds_ratio", "OR of benign recall with prior images")


@dataclass(frozen=True)
class WorkupParams:
    """Work-up after recall (MODEL.md §3.5).

    A recall goes to biopsy with ``p_biopsy_*``; a recall that is not biopsied gets
    short-interval follow-up (BI-RADS 3) with ``p_short_interval_*`` and is otherwise
    cleared — conditional probabilities, so every combination in [0, 1] is valid.
    """

    p_biopsy_malignant: float = _p("probability", "biopsy after recall for a malignant finding")
    p_short_interval_malignant: float = _p("probability", "BI-RADS 3 among non-biopsied malignant recalls")
    p_biopsy_calc_benign: float = _p("probability", "biopsy after recall for benign calcs")
    p_short_interval_calc_benign: float = _p("probability", "BI-RADS 3 among non-biopsied benign calc recalls")
    p_biopsy_other_benign: float = _p("probability", "biopsy after recall for a benign other finding")
    p_short_interval_other_benign: float = _p("probability", "BI-RADS 3 among non-biopsied other recalls")
    p_short_interval_finds_cancer: float = _p("probability", "cancer found at the 6-month follow-up")
    p_core_inconclusive: float = _p("probability", "core biopsy inconclusive -> surgical biopsy")
    p_high_risk_calc_benign_biopsy: float = _p("probability", "high-risk lesion, benign calc biopsy")
    p_high_risk_other_benign_biopsy: float = _p("probability", "high-risk lesion, other benign biopsy")


@dataclass(frozen=True)
class ProgrammeParams:
    """Screening programme (MODEL.md §3.6)."""

    start_age_years: float = _p("age", "age at the first invitation")
    stop_age_years: float = _p("age", "age at the last invitation")
    interval_years: float = _p("positive", "years between invitations")
    attendance: float = _p("probability", "probability an invited woman attends (average)")
    attendance_logit_sd: float = _p("nonnegative", "woman-level SD of attendance propensity (logit)")
    cumulative_rounds: int = _p("count", "screens over which cumulative false-positive risk is counted")


SECTIONS: dict[str, type] = {
    "cohort": CohortParams,
    "cancer": CancerParams,
    "calcifications": CalcificationParams,
    "reading": ReadingParams,
    "workup": WorkupParams,
    "programme": ProgrammeParams,
}
TOP_LEVEL_KEYS = ("name", "description", "extends", "setting", *SECTIONS)


@dataclass(frozen=True)
class Provenance:
    """Where a parameter value comes from."""

    source: str | None = None
    status: str | None = None  # "calibrated", "assumption", "user" or None when sourced
    range: tuple[float, float] | None = None
    note: str | None = None
    origin: str = ""  # the file (or --set) that gave the value

    @property
    def label(self) -> str:
        """Short human label: the citation key or the status."""
        return self.source if self.source else (self.status or "")


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
    provenance: Mapping[str, Provenance]
    tables: Mapping[str, pd.DataFrame]
    origin: str = ""

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
        raw = _scenario_to_raw(self)
        for key, value in overrides.items():
            _set_dotted(raw, key, value, origin)
        return _build(raw, origin=self.origin, base_dir=None)


# --------------------------------------------------------------------------- loading
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
    name_or_path: str | Path = "nl-biennial", overrides: Mapping[str, Any] | None = None,
    option: str = "--scenario", calibrated: bool | str = True,
) -> Scenario:
    """Load, resolve ``extends``, apply overrides and validate a scenario.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped scenario name (``nl-biennial``, ``us-annual``, ``england-triennial``)
        or a path to a TOML file.
    overrides : mapping, optional
        ``{"section.key": value}`` pairs (as from ``--set``), applied last.
    option : str
        The option name used in error messages.
    calibrated : bool or "parents"
        Use the calibrated parameter sets in ``data/calibration/<name>.csv`` (the
        accepted draw nearest to the targets) for every file of the ``extends``
        chain that has one; ``False`` keeps the prior values written in the files;
        ``"parents"`` applies the calibrations of the files it extends but not its own
        (the starting point for calibrating this scenario).

    Returns
    -------
    Scenario

    Raises
    ------
    CalcsimInputError
        One line naming the file, key, value and what is allowed.
    """
    path = resolve_scenario_path(name_or_path, option)
    if calibrated not in (True, False, "parents"):
        raise ValueError(f"calibrated must be True, False or 'parents', not {calibrated!r}")
    raw = _read_with_extends(path, seen=(), calibrated=bool(calibrated),
                             skip_own=calibrated == "parents")
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, value, "--set")
    return _build(raw, origin=str(path), base_dir=path.parent)


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


def _read_with_extends(path: Path, seen: tuple[Path, ...], calibrated: bool = True,
                       skip_own: bool = False) -> dict[str, Any]:
    """Read a file, recursively merging it over the scenario it extends."""
    if path.resolve() in seen:
        raise CalcsimInputError(f"{path}: extends: circular chain {' -> '.join(map(str, seen))}")
    data = _read_toml(path)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise input_error(
                str(path), key, data[key], f"unknown section{did_you_mean(key, TOP_LEVEL_KEYS)};"
                f" allowed: {', '.join(TOP_LEVEL_KEYS)}"
            )
    own = _annotate(data, str(path), path.parent)
    own.setdefault("name", path.stem)  # a file that does not name itself is named after the file
    parent_name = data.get("extends")
    if parent_name is None:
        return _apply_calibration(own, path) if calibrated and not skip_own else own
    if not isinstance(parent_name, str):
        raise input_error(str(path), "extends", parent_name, "a scenario name or path (string)")
    parent_path = Path(parent_name)
    if not parent_path.is_absolute() and parent_path.suffix == ".toml":
        parent_path = path.parent / parent_path
    parent_path = resolve_scenario_path(parent_path if parent_path.suffix else parent_name,
                                        option=f"{path}: extends")
    base = _read_with_extends(parent_path, seen=(*seen, path.resolve()), calibrated=calibrated)
    for section, values in own.items():
        if section in SECTIONS:
            base.setdefault(section, {}).update(values)
        elif section != "extends":
            base[section] = values
    return _apply_calibration(base, path) if calibrated and not skip_own else base


def read_commented_csv(path: Path) -> tuple[dict[str, str], pd.DataFrame]:
    """Read a CSV whose leading ``# key: value`` lines are metadata."""
    import io

    meta: dict[str, str] = {}
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not body and line.startswith("# ") and ":" in line:
            k, v = line[2:].split(":", 1)
            meta[k.strip()] = v.strip()
        else:
            body.append(line)
    return meta, (pd.read_csv(io.StringIO("".join(body))) if body else pd.DataFrame())


def _apply_calibration(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Replace calibrated values by the best accepted draw of ``data/calibration/<stem>.csv``, if any."""
    cal_path = parameters_dir().parent / "calibration" / f"{path.stem}.csv"
    if not cal_path.is_file():
        return raw
    meta, df = read_commented_csv(cal_path)
    keys = meta.get("parameters", "").split()
    if df.empty or "accepted" not in df.columns or not keys:
        raise CalcsimInputError(f"{cal_path}: not a calibration file (needs a parameters header and an "
                                "accepted column)")
    acc = df[df["accepted"].astype(str).str.lower().isin(["true", "1"])]
    if acc.empty:
        return raw
    best = acc.sort_values(["distance", "draw"]).iloc[0]
    for key in keys:
        section, name = key.split(".", 1)
        if section not in raw or name not in raw[section]:
            raise CalcsimInputError(f"{cal_path}: parameters: {key!r}: not a parameter of {path.name}")
        value, prov, bd = raw[section][name]
        note = f"calibrated set {cal_path.name}, draw {int(best['draw'])} (nearest accepted)"
        raw[section][name] = (float(best[key]), dataclasses.replace(prov, status="calibrated", note=note), bd)
    return raw


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
            raise input_error(origin, f"{key}.{k}", entry[k], f"unknown field{did_you_mean(k, allowed)};"
                              f" allowed: {', '.join(allowed)}")
    if "value" not in entry:
        raise input_error(origin, key, entry, "needs a 'value'")
    source, status = entry.get("source"), entry.get("status")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise input_error(origin, f"{key}.source", source, "a citation key (non-empty string) of data/references.toml")
    if "note" in entry and not isinstance(entry["note"], str):
        raise input_error(origin, f"{key}.note", entry["note"], "a string")
    if source is None and status is None:
        raise input_error(origin, key, entry, "needs a 'source' (citation key) or a 'status'"
                          " ('calibrated' or 'assumption')")
    if status is not None and status not in STATUSES:
        raise input_error(origin, f"{key}.status", status, f"one of {', '.join(STATUSES)}")
    rng = entry.get("range")
    if rng is not None:
        if (not isinstance(rng, list) or len(rng) != 2
                or not all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                           for x in rng)):
            raise input_error(origin, f"{key}.range", rng, "a list of two numbers [low, high]")
        if rng[0] > rng[1]:
            raise input_error(origin, f"{key}.range", rng, "low must not exceed high")
        rng = (float(rng[0]), float(rng[1]))
    elif status is not None:
        raise input_error(origin, key, entry, f"status '{status}' needs a plausible 'range'")
    prov = Provenance(source=source, status=status, range=rng, note=entry.get("note"), origin=origin)
    return entry["value"], prov, base_dir


def _set_dotted(raw: dict[str, Any], key: str, value: Any, origin: str) -> None:
    parts = key.split(".")
    if len(parts) != 2 or parts[0] not in SECTIONS:
        hint = "" if parts[0] in SECTIONS else did_you_mean(parts[0], SECTIONS)
        raise input_error(origin, key, value, "expected section.key with section one of "
                          + ", ".join(SECTIONS) + hint)
    section, name = parts
    old = raw.get(section, {}).get(name)
    # tables named on the command line are looked for in the working folder first
    base_dir = Path.cwd() if origin == "--set" else (old[2] if old is not None else None)
    if old is not None and old[1].range is not None:
        prov = dataclasses.replace(old[1], status="user", source=None, origin=origin)
    else:
        prov = Provenance(status="user", origin=origin)
    raw.setdefault(section, {})[name] = (value, prov, base_dir)


def _scenario_to_raw(s: Scenario) -> dict[str, Any]:
    raw: dict[str, Any] = {"name": s.name, "description": s.description, "setting": s.setting}
    for section in SECTIONS:
        raw[section] = {}
        for f in dataclasses.fields(getattr(s, section)):
            key = f"{section}.{f.name}"
            raw[section][f.name] = (getattr(getattr(s, section), f.name), s.provenance[key], None)
    raw["_tables"] = dict(s.tables)
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
    if kind == "nonnegative" and v < 0:
        raise input_error(where, key, value, "a number >= 0")
    if kind == "age" and not 0.0 <= v <= 110.0:
        raise input_error(where, key, value, "an age in years between 0 and 110")
    return v


def _build(raw: dict[str, Any], origin: str, base_dir: Path | None) -> Scenario:
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
                raise input_error(where, f"{section}.{name}", value,
                                  f"unknown parameter{did_you_mean(name, names)}")
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
                for v in (value if isinstance(value, list) else [value]):
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
        raise input_error(pv[blame].origin or s.origin, blame, values[blame],
                          f"{allowed}" + (f" (with {others})" if others else ""))

    pg, co = s.programme, s.cohort
    if pg.stop_age_years < pg.start_age_years:
        fail(("programme.start_age_years", "programme.stop_age_years"),
             "programme.stop_age_years must be >= programme.start_age_years")
    if co.model_start_age_years > pg.start_age_years:
        fail(("programme.start_age_years", "cohort.model_start_age_years"),
             "cohort.model_start_age_years must be <= programme.start_age_years")
    if co.model_end_age_years < pg.stop_age_years + pg.interval_years:
        fail(("programme.stop_age_years", "programme.interval_years", "cohort.model_end_age_years"),
             f"cohort.model_end_age_years must be >= programme stop age + interval "
             f"({pg.stop_age_years + pg.interval_years:g}) so that interval cancers after the last screen"
             " are followed")
    if co.brca1_share + co.brca2_share >= 1:
        fail(("cohort.brca1_share", "cohort.brca2_share"), "brca1_share + brca2_share must be < 1")
    rounds = scheduled_rounds(pg)
    if pg.cumulative_rounds > rounds and pv["programme.cumulative_rounds"].status == "user":
        fail(("programme.cumulative_rounds",),
             f"at most the number of scheduled rounds ({rounds})")
    inc = s.tables["incidence"]
    if inc["age_lower"].iloc[0] > co.model_start_age_years or inc["age_upper"].iloc[-1] < co.model_end_age_years:
        fail(("cancer.incidence_table", "cohort.model_start_age_years", "cohort.model_end_age_years"),
             f"the incidence table must cover ages {co.model_start_age_years:g} to {co.model_end_age_years:g}"
             f" (it covers {inc['age_lower'].iloc[0]:g} to {inc['age_upper'].iloc[-1]:g})")


def scheduled_rounds(pg: ProgrammeParams) -> int:
    """Number of invitations from the start to the stop age."""
    return int(math.floor((pg.stop_age_years - pg.start_age_years) / pg.interval_years + 1e-9)) + 1


def cumulative_rounds(pg: ProgrammeParams) -> int:
    """Screens over which the cumulative false-positive risk is counted.

    ``programme.cumulative_rounds``, or all scheduled rounds when an inherited
    value exceeds them (e.g. after ``--set programme.interval_years=3``).
    """
    return min(pg.cumulative_rounds, scheduled_rounds(pg))


# --------------------------------------------------------------------------- tables
TABLE_SPECS: dict[str, dict[str, Any]] = {
    "incidence": {"columns": ["age_lower", "age_upper", "annual_incidence_per_100000", "source"]},
    "brca_incidence": {"columns": ["age_lower", "age_upper", "brca1_annual_hazard",
                                   "brca2_annual_hazard", "source"]},
    "density": {"columns": ["age_lower", "age_upper", "postmenopausal", "density_a", "density_b",
                            "density_c", "density_d", "n_mammograms", "source"],
                "sum_to_one": ["density_a", "density_b", "density_c", "density_d"]},
    "presentation": {"columns": ["cancer_type", *PRESENTATIONS, "source"],
                     "sum_to_one": list(PRESENTATIONS), "rows": ["dcis", "invasive"]},
    "morphology": {"columns": ["origin", *MORPHOLOGIES, "source"],
                   "sum_to_one": list(MORPHOLOGIES), "rows": ["benign", "dcis", "invasive"]},
    "distribution": {"columns": ["origin", *DISTRIBUTIONS, "source"],
                     "sum_to_one": list(DISTRIBUTIONS), "rows": ["benign", "dcis", "invasive"]},
}


def load_table(kind: str, fname: str, base_dir: Path | None, where: str, key: str) -> pd.DataFrame:
    """Read and validate a parameter table (CSV with a ``source`` column on every row)."""
    candidates = [Path(fname)] if Path(fname).is_absolute() else []
    if base_dir is not None:
        candidates.append(base_dir / fname)
    candidates.append(parameters_dir() / fname)
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        looked = ", ".join(dict.fromkeys(str(c.parent) for c in candidates))
        raise input_error(where, key, fname, f"table file not found (looked in {looked})")
    try:
        df = pd.read_csv(path, comment="#")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise CalcsimInputError(f"{path}: not a readable CSV: {str(exc).splitlines()[0]}") from None
    spec = TABLE_SPECS[kind]
    missing = [c for c in spec["columns"] if c not in df.columns]
    if missing:
        raise input_error(str(path), "columns", list(df.columns), f"needs {', '.join(spec['columns'])}"
                          f" (missing {', '.join(missing)})")
    df = df[spec["columns"]].copy()
    if df.empty:
        raise input_error(str(path), "rows", 0, "at least one row")
    if df["source"].isna().any() or (df["source"].astype(str).str.strip() == "").any():
        raise input_error(str(path), "source", "", "every row needs a source (citation key or status)")
    numeric = [c for c in spec["columns"] if c not in ("source", "cancer_type", "origin")]
    for c in numeric:
        col = pd.to_numeric(df[c], errors="coerce")
        bad = col.isna() | ~np.isfinite(col.astype(float))
        if bad.any():
            raise input_error(str(path), c, df.loc[bad.idxmax(), c], "a finite number")
        if (col < 0).any():
            raise input_error(str(path), c, col[col < 0].iloc[0], "a number >= 0")
        df[c] = col.astype(float)
    for c in spec.get("sum_to_one", []):
        if (df[c] > 1).any():
            raise input_error(str(path), c, df.loc[df[c] > 1, c].iloc[0], "a probability in [0, 1]")
    if spec.get("sum_to_one"):
        sums = df[spec["sum_to_one"]].sum(axis=1)
        bad = (sums - 1).abs() > 1e-6
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise input_error(str(path), f"row {i + 1} " + "+".join(spec["sum_to_one"]),
                              round(float(sums.iloc[i]), 6), "category probabilities must sum to 1")
    if "rows" in spec:
        label = spec["columns"][0]
        got = list(df[label].astype(str))
        if sorted(got) != sorted(spec["rows"]):
            raise input_error(str(path), label, got, f"exactly the rows {', '.join(spec['rows'])}")
        df = df.set_index(label).loc[spec["rows"]].reset_index()
    if kind == "density" and not df["postmenopausal"].isin([0, 1]).all():
        bad = df.loc[~df["postmenopausal"].isin([0, 1]), "postmenopausal"].iloc[0]
        raise input_error(str(path), "postmenopausal", bad, "0 (premenopausal) or 1 (postmenopausal)")
    if "age_lower" in df.columns:
        if (df["age_upper"] <= df["age_lower"]).any():
            i = int(np.argmax((df["age_upper"] <= df["age_lower"]).to_numpy()))
            raise input_error(str(path), f"row {i + 1} age_upper", df["age_upper"].iloc[i],
                              f"must be > age_lower ({df['age_lower'].iloc[i]:g})")
    if kind in ("incidence", "brca_incidence"):
        lowers = df["age_lower"].to_numpy()
        if np.any(np.diff(lowers) <= 0) or np.any(df["age_lower"].to_numpy()[1:]
                                                 != df["age_upper"].to_numpy()[:-1]):
            raise input_error(str(path), "age_lower", list(lowers),
                              "contiguous, increasing age bands (each age_lower = previous age_upper)")
    if kind == "brca_incidence" and ((df[["brca1_annual_hazard", "brca2_annual_hazard"]] > 1).any().any()):
        raise input_error(str(path), "annual_hazard", "> 1", "an annual hazard below 1")
    df.attrs["file"] = fname
    df.attrs["path"] = str(path)
    return df


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
