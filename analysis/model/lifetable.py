"""Other-cause death from a period life table.

A life table (:data:`analysis.scenario.tables.TABLE_SPECS` ``"life_table"``) gives, for contiguous age
bands ``[age_lower, age_upper)``, the probability ``q`` that a woman alive at ``age_lower`` dies before
``age_upper``. Within a band the hazard is constant, ``mu = -ln(1 - q) / (age_upper - age_lower)``, so a
single-year table (``nqx`` with n = 1) and an abridged one (n = 5) are read the same way; beyond the last
band the last band's hazard goes on. The age at death of a woman alive at the model start age is the
inverse of the cumulative hazard at a standard exponential draw (``history.death``), exactly.

All-cause tables are used as other-cause mortality: breast-cancer deaths are not removed, so other-cause
mortality is overstated by their (small) share of female deaths (docs/model.md §4.6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["LifeTable", "life_table"]


@dataclass(frozen=True)
class LifeTable:
    """Piecewise-constant hazard of other-cause death.

    Attributes
    ----------
    lower : float array
        Band lower ages (increasing; contiguous).
    upper : float array
        Band upper ages (``upper[i] == lower[i + 1]``).
    hazard : float array
        Hazard per year within each band (the last one continues beyond ``upper[-1]``).
    """

    lower: np.ndarray
    upper: np.ndarray
    hazard: np.ndarray

    def cumulative(self, age: np.ndarray | float) -> np.ndarray:
        """Cumulative hazard from ``lower[0]`` to ``age`` (0 below the first band)."""
        a = np.asarray(age, dtype=float)
        width = self.upper - self.lower
        before = np.concatenate([[0.0], np.cumsum(self.hazard[:-1] * width[:-1])])
        i = np.clip(np.searchsorted(self.lower, a, side="right") - 1, 0, len(self.lower) - 1)
        return np.where(a <= self.lower[0], 0.0, before[i] + self.hazard[i] * (a - self.lower[i]))

    def survival(self, start: float, age: np.ndarray | float) -> np.ndarray:
        """Probability of surviving from ``start`` to ``age`` (``age >= start``)."""
        return np.exp(-(self.cumulative(age) - self.cumulative(start)))

    def death_ages(self, start: float, e: np.ndarray) -> np.ndarray:
        """Ages at death of women alive at ``start``, from standard exponential draws ``e`` (exact inversion)."""
        target = self.cumulative(start) + np.asarray(e, dtype=float)
        width = self.upper - self.lower
        ends = np.cumsum(self.hazard * width)  # cumulative hazard at each band's upper age
        i = np.minimum(np.searchsorted(ends, target, side="right"), len(ends) - 1)
        before = ends[i] - self.hazard[i] * width[i]
        return self.lower[i] + (target - before) / self.hazard[i]


def life_table(table: pd.DataFrame) -> LifeTable:
    """The :class:`LifeTable` of a validated ``life_table`` table (``age_lower, age_upper, probability_of_death``)."""
    lower = table["age_lower"].to_numpy(dtype=float)
    upper = table["age_upper"].to_numpy(dtype=float)
    q = table["probability_of_death"].to_numpy(dtype=float)
    return LifeTable(lower, upper, -np.log1p(-q) / (upper - lower))
