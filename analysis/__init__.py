"""calcsim: breast-screening microsimulation with calcification states.

The everyday calls are here, at the top level (imported on first use, so ``import analysis`` is
quick)::

    import analysis as cs
    s = cs.load_scenario("nl-biennial")                  # calibration="shipped" by default
    res = cs.simulate(s, women=200_000, seed=1, by=[["density"], ["round"]], keep_screens=True)
    res.estimates()                                      # tidy table with provenance columns
    cs.calc_only_question(res)                           # both denominators beside the 12.7–41.2% band
    cs.fit_odds_ratios(res.screens, "recalled")          # statsmodels GEE, woman as the cluster
    cs.table1(res.screens)
    cs.compare("us-annual", "nl-biennial", women=100_000, seed=1)
    cs.run_replicates("nl-biennial", women=50_000, seed=1, replicates=10)
    cs.figures.screening_funnel(res)
    hb = cs.harms_benefits(s, women=200_000, seed=1, strategies=cs.load_strategies())  # same women, 21 schedules
    hb.balance(), hb.wide()                              # balance sheet per 1,000 screened; frontier flags

The package follows its pipeline, with one import direction (lower layers never import higher
ones; ``tests/test_architecture.py`` enforces it with import-linter)::

    analysis.errors, analysis.io       errors users see; paths, atomic writes, BCSC readers
    analysis.scenario                  validated, cited parameter sets (TOML) and calibrated values
    analysis.model                     cohort, natural history, reading, work-up, programme, simulate
    analysis.stats                     intervals, replicates, paired comparisons, regression, Table 1
    analysis.calibration               ABC calibration, posterior runs, sensitivity, validation
    analysis.figures, analysis.report, analysis.teach, analysis.scaleout
    analysis.cli                       the ``calcsim`` command

The design of the model is ``docs/model.md`` in the repository.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from analysis.errors import CalcsimInputError
from analysis.scenario import Scenario, list_scenarios, load_scenario

#: Top-level names imported on first use: name -> (module, attribute or None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "simulate": ("analysis.model.simulation", "simulate"),
    "build_model": ("analysis.model.simulation", "build_model"),
    "Results": ("analysis.model.results", "Results"),
    "compare": ("analysis.stats.uncertainty", "compare"),
    "run_replicates": ("analysis.stats.uncertainty", "run_replicates"),
    "calc_only_question": ("analysis.stats.question", "calc_only_question"),
    "fit_odds_ratios": ("analysis.stats.regression", "fit_odds_ratios"),
    "table1": ("analysis.stats.table1", "table1"),
    "cumulative_false_positive_curve": ("analysis.stats.cumulative", "cumulative_false_positive_curve"),
    "load_targets": ("analysis.stats.targets", "load_targets"),
    "run_posterior": ("analysis.calibration.posterior", "run_posterior"),
    "harms_benefits": ("analysis.stats.harms_benefits", "harms_benefits"),
    "load_strategies": ("analysis.scenario.strategies", "load_strategies"),
    "figures": ("analysis.figures", None),
}

__all__ = ["CalcsimInputError", "Scenario", "__version__", "list_scenarios", "load_scenario", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        value = value if attr is None else getattr(value, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
