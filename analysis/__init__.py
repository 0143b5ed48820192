"""calcsim: breast-screening microsimulation with calcification states.

The pipeline reads top to bottom (see :mod:`analysis.simulate`)::

    Scenario -> Cohort -> natural history -> programme rounds -> Results -> estimates
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import CalcsimInputError
from .scenario import Scenario, list_scenarios, load_scenario

__all__ = ["CalcsimInputError", "Scenario", "__version__", "list_scenarios", "load_scenario"]
