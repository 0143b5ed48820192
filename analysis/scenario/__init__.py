"""Scenarios: validated, cited parameter sets read from TOML, with calibrated values as a layer on top.

The scenario layer imports nothing of calcsim's above :mod:`analysis.io`; the model, statistics,
calibration and everything else build on it.
"""

from analysis.scenario.build import Scenario
from analysis.scenario.calibrated import AppliedCalibration, CalibrationFile, read_calibration
from analysis.scenario.loader import (
    CALIBRATIONS,
    list_scenarios,
    load_scenario,
    parse_set_option,
    references,
    resolve_scenario_path,
    undocumented_sources,
)
from analysis.scenario.schema import (
    DENSITIES,
    DISTRIBUTIONS,
    MORPHOLOGIES,
    PRESENTATIONS,
    SECTIONS,
    STATUSES,
    CalcificationParams,
    CancerParams,
    CohortParams,
    ProgrammeParams,
    Provenance,
    ReadingParams,
    SurvivalParams,
    WorkupParams,
    cumulative_rounds,
    scheduled_rounds,
)
from analysis.scenario.tables import TABLE_SPECS, load_table

__all__ = [
    "CALIBRATIONS",
    "DENSITIES",
    "DISTRIBUTIONS",
    "MORPHOLOGIES",
    "PRESENTATIONS",
    "SECTIONS",
    "STATUSES",
    "TABLE_SPECS",
    "AppliedCalibration",
    "CalcificationParams",
    "CalibrationFile",
    "CancerParams",
    "CohortParams",
    "ProgrammeParams",
    "Provenance",
    "ReadingParams",
    "Scenario",
    "SurvivalParams",
    "WorkupParams",
    "cumulative_rounds",
    "list_scenarios",
    "load_scenario",
    "load_table",
    "parse_set_option",
    "read_calibration",
    "references",
    "resolve_scenario_path",
    "scheduled_rounds",
    "undocumented_sources",
]
