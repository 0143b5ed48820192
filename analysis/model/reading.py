"""Reading a mammogram: the reading table and the two channels read at every screen.

Reading is data (docs/model.md §5): :func:`reading_table` turns the scenario's reading parameters
into a table with one row per true finding state × BI-RADS density × round type (first /
subsequent) and the single-reader and programme recall probabilities. The simulator looks recall
up in that table (:class:`ReadingModel`); it is never a constant. Each screen has two channels,
read independently:

* **calcification channel** — the most suspicious calcification present:
  malignancy-associated > benign persistent cluster > benign non-suspicious;
* **other findings** — a malignant mass / distortion / asymmetry if the cancer presents so,
  otherwise the background chance of a benign non-calcification finding.

The recall threshold of the programme shifts every single-reader logit; the morphology of a
suspicious calcification multiplies its odds; with ``readers`` independent readers a finding is
recalled when any reader recalls it. Prior images (subsequent rounds) change the odds of
recalling a benign finding by ``prior_images_false_positive_or``, and a woman's first screen by
``first_screen_benign_or`` on top.

Three terms are per screen, not in the table (which is at the reference: age 50, a 10 mm invasive
tumour, a woman of average benign propensity):

* **size** — the programme-level logit of recalling an invasive tumour (after the readers are
  combined) changes by ``size_logit_slope_per_mm`` per mm of diameter away from
  :data:`REFERENCE_DIAMETER_MM` (Weedon-Fekjær et al. 2008: the programme's screen-test sensitivity,
  26% at 5 mm, 91% at 10 mm); DCIS is read without a size term;
* **age** — benign findings are recalled less with age (``benign_recall_or_per_decade``);
* **the woman** — a woman-level normal propensity (SD ``benign_propensity_logit_sd``) on every benign
  logit: some women are recalled again and again.

A benign cluster already seen on a prior screen is *known* and read with the odds of a new one
times ``known_benign_cluster_or`` (BI-RADS 2: benign, stable).

This module is the one place where the reading model lives: change how screens are read here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from analysis.scenario import DENSITIES, Scenario

__all__ = [
    "CALC_STATES",
    "READING_STATES",
    "REFERENCE_DIAMETER_MM",
    "ROUNDS",
    "ReadingModel",
    "density_round_cell",
    "programme_recall_probability",
    "reading_logits",
    "reading_table",
]

READING_STATES = (
    "calc_nonsuspicious",
    "calc_benign_cluster",
    "calc_known_benign_cluster",
    "calc_malignant",
    "other_benign",
    "mass_malignant",
    "other_malignant",
)
_MALIGNANT = {"calc_malignant", "mass_malignant", "other_malignant"}
ROUNDS = ("first", "subsequent")
#: States of the calcification channel at a screen (index = code).
CALC_STATES = ("none", "nonsuspicious", "benign_cluster", "known_benign_cluster", "malignant")
#: Diameter (mm) of the invasive tumour at which the malignant recall probabilities apply.
REFERENCE_DIAMETER_MM = 10.0
#: Morphology code used in the lookup for "no suspicious calcification" (0..3 are the BI-RADS morphologies).
NO_MORPHOLOGY = 4


def reading_logits(s: Scenario) -> np.ndarray:
    """Single-reader recall logits, shape (state, density, round), at the programme threshold.

    Calcification states are at the reference morphology (amorphous); the screen's morphology
    odds ratio is added per screen, and so are the size, age and woman terms of the module
    docstring (the table is at their reference: a 10 mm invasive tumour, age 50, average woman).
    """
    r = s.reading
    base = {
        "calc_nonsuspicious": r.p_recall_nonsuspicious,
        "calc_benign_cluster": r.p_recall_benign_cluster,
        "calc_known_benign_cluster": r.p_recall_benign_cluster,
        "calc_malignant": r.p_recall_calc_malignant,
        "other_benign": r.p_recall_other_benign,
        "mass_malignant": r.p_recall_mass_malignant,
        "other_malignant": r.p_recall_other_malignant,
    }
    out = np.empty((len(READING_STATES), 4, 2))
    for i, state in enumerate(READING_STATES):
        malignant = state in _MALIGNANT
        dens_or = np.asarray(r.density_odds_ratio_malignant if malignant else r.density_odds_ratio_benign)
        p0 = float(np.clip(base[state], 1e-12, 1 - 1e-12))
        for j in range(4):
            for k in range(2):
                prior = 0.0
                if not malignant:
                    prior = math.log(r.prior_images_false_positive_or if k else r.first_screen_benign_or)
                if state == "calc_known_benign_cluster":
                    prior += math.log(r.known_benign_cluster_or)
                out[i, j, k] = logit(p0) + math.log(dens_or[j]) + prior + r.threshold_logit_shift
    return out


def programme_recall_probability(logits: np.ndarray, readers: int) -> np.ndarray:
    """Probability that at least one of ``readers`` independent readers recalls."""
    p = expit(logits)
    if readers == 1:
        return p
    if readers == 2:
        return p * (2.0 - p)
    return 1.0 - (1.0 - p) ** readers


def reading_table(s: Scenario) -> pd.DataFrame:
    """The reading table: recall probability by true state × density × round.

    Returns
    -------
    pandas.DataFrame
        Columns ``state``, ``density``, ``round``, ``p_recall_single_reader``,
        ``p_recall_programme`` (with the programme's number of readers) and
        ``p_no_recall``; the last two sum to 1 on every row.
    """
    lg = reading_logits(s)
    rows = []
    for i, state in enumerate(READING_STATES):
        for j, dens in enumerate(DENSITIES):
            for k, rnd in enumerate(ROUNDS):
                p1 = float(expit(lg[i, j, k]))
                pp = 1 - (1 - p1) ** s.reading.readers
                rows.append(
                    {
                        "state": state,
                        "density": dens,
                        "round": rnd,
                        "p_recall_single_reader": p1,
                        "p_recall_programme": pp,
                        "p_no_recall": 1 - pp,
                    }
                )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ReadingModel:
    """Single-reader recall logits of both channels, looked up per screen; the per-screen terms added here.

    Attributes
    ----------
    calc_logit : ndarray
        Flat table over (calcification state 0..4 of :data:`CALC_STATES`, morphology 0..4, density 0..3,
        round 0..1); state 0 (no calcification) is ``-inf``.
    other_logit : ndarray
        Flat table over (other-channel state: benign, malignant mass, other malignant; density; round).
    readers : int
        Independent readers (a finding is recalled when any reader recalls it).
    size_slope, age_lor : float
        Logit change per mm of invasive diameter and log odds ratio of benign recall per decade of age.
    """

    calc_logit: np.ndarray
    other_logit: np.ndarray
    readers: int
    size_slope: float
    age_lor: float

    @classmethod
    def from_scenario(cls, s: Scenario) -> ReadingModel:
        """Build the lookup tables from a scenario's reading parameters."""
        rd = s.reading
        lg = reading_logits(s)
        morph_lor = np.append(np.log(np.asarray(rd.morphology_odds_ratio)), 0.0)
        calc = np.full((5, 5, 4, 2), -np.inf)
        calc[1:] = lg[:4, None, :, :] + morph_lor[None, :, None, None]
        return cls(
            calc_logit=calc.ravel(),
            other_logit=lg[4:].ravel(),
            readers=rd.readers,
            size_slope=rd.size_logit_slope_per_mm,
            age_lor=math.log(rd.benign_recall_or_per_decade),
        )

    def calc_logits(self, calc_state: np.ndarray, morphology: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Single-reader logit of the calcification channel from the table (no per-screen terms).

        ``calc_state`` codes :data:`CALC_STATES`; ``morphology`` is 0..3 or -1 (none);
        ``cell`` = density * 2 + round (from :func:`density_round_cell`).
        """
        morph = np.where(morphology < 0, NO_MORPHOLOGY, morphology)
        index = (calc_state.astype(np.intp) * 5 + morph) * 8 + cell  # intp: no int8 overflow
        return self.calc_logit[index]

    def other_logits(self, other_state: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Single-reader logit of the other-findings channel (0 benign, 1 malignant mass, 2 other malignant)."""
        return self.other_logit[other_state.astype(np.intp) * 8 + cell]

    def size_term(self, diameter_mm: np.ndarray) -> np.ndarray:
        """Logit shift of an invasive tumour of this diameter (0 at :data:`REFERENCE_DIAMETER_MM`)."""
        return self.size_slope * (diameter_mm - REFERENCE_DIAMETER_MM)

    def benign_term(self, age: float, propensity: np.ndarray) -> np.ndarray:
        """Logit shift of a benign finding: the age term and the woman's propensity (SD-scaled normal)."""
        return self.age_lor * (age - 50.0) / 10.0 + propensity

    def sized_probability(self, logits: np.ndarray, diameter_mm: np.ndarray) -> np.ndarray:
        """Programme recall probability of an invasive tumour: the size term shifts the *programme* logit.

        The slope is of the programme's screen-test sensitivity (Weedon-Fekjaer et al. 2008 estimated it
        for the Norwegian double-reading programme), so it acts after the readers are combined:
        ``expit(logit(P(readers, logits)) + slope * (d - 10 mm))``.
        """
        p = np.clip(self.probability(logits), 1e-12, 1 - 1e-12)
        return expit(logit(p) + self.size_term(diameter_mm))

    def probability(self, logits: np.ndarray) -> np.ndarray:
        """Programme recall probability of single-reader ``logits`` with this model's readers."""
        return programme_recall_probability(logits, self.readers)


def density_round_cell(density: np.ndarray, subsequent: np.ndarray) -> np.ndarray:
    """Index of the (density, round) cell of the lookup tables: ``density * 2 + round``."""
    return density.astype(np.intp) * 2 + subsequent.astype(np.intp)
