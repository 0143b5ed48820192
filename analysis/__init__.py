"""calcsim: breast-screening microsimulation with calcification states.

The package follows its pipeline, one import direction (lower layers never import
higher ones; ``tests/test_architecture.py`` enforces it)::

    analysis.errors, analysis.io       errors users see; paths, atomic writes, BCSC readers
    analysis.scenario                  validated, cited parameter sets (TOML) and calibrated values
    analysis.model                     cohort, natural history, reading, work-up, programme, simulate
    analysis.stats                     intervals, replicates, paired comparisons, regression, Table 1
    analysis.calibration               targets, ABC calibration, posterior runs, sensitivity, validation
    analysis.figures, analysis.report, analysis.teach, analysis.scaleout
    analysis.cli                       the ``calcsim`` command

The design of the model is ``docs/model.md`` in the repository.
"""

from __future__ import annotations

__version__ = "0.1.0"

from analysis.errors import CalcsimInputError
from analysis.scenario import Scenario, list_scenarios, load_scenario

__all__ = ["CalcsimInputError", "Scenario", "__version__", "list_scenarios", "load_scenario"]
