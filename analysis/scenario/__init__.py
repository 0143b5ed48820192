"""Scenarios: validated, cited parameter sets read from TOML (the bottom layer of the model)."""

from analysis.scenario.loader import (
    DENSITIES,
    DISTRIBUTIONS,
    MORPHOLOGIES,
    PRESENTATIONS,
    SECTIONS,
    STATUSES,
    TABLE_SPECS,
    CalcificationParams,
    CancerParams,
    CohortParams,
    ProgrammeParams,
    Provenance,
    ReadingParams,
    Scenario,
    WorkupParams,
    cumulative_rounds,
    list_scenarios,
    load_scenario,
    load_table,
    parse_set_option,
    read_commented_csv,
    references,
    resolve_scenario_path,
    scheduled_rounds,
    undocumented_sources,
)

__all__ = [
    "DENSITIES", "DISTRIBUTIONS", "MORPHOLOGIES", "PRESENTATIONS", "SECTIONS", "STATUSES", "TABLE_SPECS",
    "CalcificationParams", "CancerParams", "CohortParams", "ProgrammeParams", "Provenance", "ReadingParams",
    "Scenario", "WorkupParams", "cumulative_rounds", "list_scenarios", "load_scenario", "load_table",
    "parse_set_option", "read_commented_csv", "references", "resolve_scenario_path", "scheduled_rounds",
    "undocumented_sources",
]
