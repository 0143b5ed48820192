"""The model: cohort, natural history, reading, work-up and the programme, simulated block by block.

It sees only the scenario layer (and :mod:`analysis.io`); statistics, calibration and
everything above consume its :class:`~analysis.model.results.Results`.
"""

from analysis.model.results import MEASURE_NAMES, MEASURES, SCREEN_COLUMNS, STRATA, Results, check_strata
from analysis.model.simulation import Model, block_sizes, build_model, simulate, simulate_block

__all__ = [
    "MEASURES",
    "MEASURE_NAMES",
    "SCREEN_COLUMNS",
    "STRATA",
    "Model",
    "Results",
    "block_sizes",
    "build_model",
    "check_strata",
    "simulate",
    "simulate_block",
]
