"""Tumour growth: from the age an invasive tumour would surface clinically back to its onset.

An invasive tumour grows exponentially in volume from ``onset_diameter_mm`` at its onset; its
diameter doubles every ``T`` years (one diameter doubling is three volume doublings)::

    d(t) = onset_diameter * 2 ** ((t - onset) / T)

* ``T = median * exp(log_sd * z) * ratio ** ((clip(C, 50, 70) - 60) / 10)`` with ``z`` standard normal and ``C``
  the age at which the tumour would surface clinically *absent screening* (older women's tumours
  grow more slowly; the median is the doubling time at 60).
* It surfaces clinically at diameter ``Dc``, ``log2 Dc = log2(median Dc) + log2_sd * z2``.
* The time from invasive onset to clinical surfacing (the invasive sojourn) is therefore
  ``S = T * log2(Dc / onset_diameter)`` and the onset is ``C - S``: an output, not an input.

The clinical age ``C`` is drawn first (:mod:`analysis.model.natural_history`), the growth given it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.model.streams import normals
from analysis.scenario import Scenario

#: Reference age (years) of the median doubling time.
GROWTH_REFERENCE_AGE = 60.0


@dataclass
class Growth:
    """Growth of each woman's invasive tumour (inf / nan where she has none)."""

    doubling_time_years: np.ndarray  # diameter doubling time T
    clinical_diameter_mm: np.ndarray  # Dc
    sojourn_years: np.ndarray  # S = T * log2(Dc / onset diameter)


#: Ages of the women in Weedon-Fekjaer et al. 2008 (50-69): the age trend of growth is applied within them
#: and held at its end values outside (not extrapolated to tumours surfacing at 35 or at 95).
GROWTH_AGE_RANGE = (50.0, 70.0)


def doubling_time_factor(s: Scenario, clinical_age: np.ndarray) -> np.ndarray:
    """``ratio ** ((C - 60) / 10)`` with ``C`` clipped to :data:`GROWTH_AGE_RANGE`: how much slower
    tumours surfacing at ``C`` grow than at 60."""
    ratio = s.cancer.growth_time_ratio_per_decade
    age = np.clip(np.asarray(clinical_age, dtype=float), *GROWTH_AGE_RANGE)
    return ratio ** ((age - GROWTH_REFERENCE_AGE) / 10.0)


def median_doublings(s: Scenario) -> float:
    """Median number of diameter doublings from onset to clinical surfacing, ``log2(median Dc / d0)``."""
    ca = s.cancer
    return math.log2(ca.clinical_diameter_median_mm / ca.onset_diameter_mm)


def draw_growth(s: Scenario, clinical_age: np.ndarray, seed: int, block: int) -> Growth:
    """Doubling time, clinical diameter and sojourn of the tumours surfacing at ``clinical_age``.

    ``clinical_age`` is inf for women without a tumour (their values are inf / nan). Streams
    ``history.growth`` (``z``) and ``history.clinical_diameter`` (``z2``). The number of doublings
    is kept above zero (``Dc`` above the onset diameter; at the shipped values the clamp needs
    ``z2 < -12``).
    """
    ca = s.cancer
    n = clinical_age.size
    has = np.isfinite(clinical_age)
    z = normals(seed, "history.growth", block, n)
    z2 = normals(seed, "history.clinical_diameter", block, n)
    factor = doubling_time_factor(s, np.where(has, clinical_age, GROWTH_REFERENCE_AGE))
    doubling = ca.growth_doubling_time_median_years * np.exp(ca.growth_doubling_time_log_sd * z) * factor
    doublings = np.maximum(median_doublings(s) + ca.clinical_diameter_log2_sd * z2, np.finfo(float).eps)
    return Growth(
        doubling_time_years=np.where(has, doubling, np.inf),
        clinical_diameter_mm=np.where(has, ca.onset_diameter_mm * 2.0**doublings, np.nan),
        sojourn_years=np.where(has, doubling * doublings, np.inf),
    )


def diameter_mm(onset_diameter: float, onset_age: np.ndarray, doubling_time: np.ndarray, age: float) -> np.ndarray:
    """Invasive diameter at ``age`` (0 before the onset, and for women without a tumour)."""
    grown = onset_age <= age
    with np.errstate(invalid="ignore", over="ignore"):
        d = onset_diameter * np.exp2((age - onset_age) / doubling_time)
    return np.where(grown, d, 0.0)
