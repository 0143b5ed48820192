"""Breast-cancer death after diagnosis: a size-lethality law and a log-normal time to death.

* **Lethality** of an invasive cancer of diameter ``D`` mm at diagnosis (the 15-year cancer-specific
  death rate of the source, read as the probability of eventual breast-cancer death absent other causes):
  ``L(D) = 1 - exp(-s Q D^Z)`` (Chen et al. 2009, the law of Michaelson et al. 2002 with nodal status
  unknown; ``s`` = ``survival.lethality_scale``). The law does not depend on how the cancer was found:
  mode of detection acts only through size, as the source found.
* **DCIS**: a fixed lethality (``survival.dcis_lethality``, 20-year breast-cancer mortality after DCIS).
* **Time** from diagnosis to breast-cancer death for the fatal cases: log-normal with median
  ``survival.death_median_years`` and log-SD ``survival.death_log_sd``.

Age does not enter: the source gives none, and age acts through other-cause death (the life table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from analysis.scenario import Scenario

__all__ = ["Survival"]


@dataclass(frozen=True)
class Survival:
    """The survival model of a scenario (``[survival]``)."""

    q: float
    z: float
    scale: float
    dcis_lethality: float
    median_years: float
    log_sd: float

    @classmethod
    def from_scenario(cls, s: Scenario) -> Survival:
        """The survival model of ``s``."""
        sv = s.survival
        return cls(
            sv.lethality_q,
            sv.lethality_z,
            sv.lethality_scale,
            sv.dcis_lethality,
            sv.death_median_years,
            sv.death_log_sd,
        )

    def invasive_lethality(self, diameter_mm: np.ndarray) -> np.ndarray:
        """Probability of breast-cancer death of an invasive cancer diagnosed at ``diameter_mm`` (0 at 0 mm)."""
        d = np.maximum(np.asarray(diameter_mm, dtype=float), 0.0)
        return -np.expm1(-self.scale * self.q * d**self.z)

    def years_to_death(self, u: np.ndarray) -> np.ndarray:
        """Years from diagnosis to breast-cancer death of a fatal case, from uniforms ``u`` (inverse CDF)."""
        return self.median_years * np.exp(self.log_sd * ndtri(np.asarray(u, dtype=float)))
