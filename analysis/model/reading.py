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
recalling a benign finding by ``prior_images_false_positive_or``.

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
    "calc_malignant",
    "other_benign",
    "mass_malignant",
    "other_malignant",
)
_MALIGNANT = {"calc_malignant", "mass_malignant", "other_malignant"}
ROUNDS = ("first", "subsequent")
#: States of the calcification channel at a screen (index = code).
CALC_STATES = ("none", "nonsuspicious", "benign_cluster", "malignant")
#: Morphology code used in the lookup for "no suspicious calcification" (0..3 are the BI-RADS morphologies).
NO_MORPHOLOGY = 4


def reading_logits(s: Scenario) -> np.ndarray:
    """Single-reader recall logits, shape (state, density, round), at the programme threshold.

    Calcification states are at the reference morphology (amorphous); the screen's morphology
    odds ratio is added per screen.
    """
    r = s.reading
    base = {
        "calc_nonsuspicious": r.p_recall_nonsuspicious,
        "calc_benign_cluster": r.p_recall_benign_cluster,
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
                prior = 0.0 if (malignant or k == 0) else math.log(r.prior_images_false_positive_or)
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
    """Programme recall probabilities of both channels, looked up per screen (no per-screen ``expit``).

    Attributes
    ----------
    calc_p : ndarray
        Flat table over (calcification state 0..3, morphology 0..4, density 0..3, round 0..1);
        state 0 (no calcification) has probability 0.
    other_p : ndarray
        Flat table over (other-channel state: benign, malignant mass, other malignant; density; round).
    """

    calc_p: np.ndarray
    other_p: np.ndarray

    @classmethod
    def from_scenario(cls, s: Scenario) -> ReadingModel:
        """Build the lookup tables from a scenario's reading parameters."""
        rd = s.reading
        lg = reading_logits(s)
        morph_lor = np.append(np.log(np.asarray(rd.morphology_odds_ratio)), 0.0)
        calc_p = np.zeros((4, 5, 4, 2))
        calc_p[1:] = programme_recall_probability(lg[:3, None, :, :] + morph_lor[None, :, None, None], rd.readers)
        return cls(calc_p=calc_p.ravel(), other_p=programme_recall_probability(lg[3:], rd.readers).ravel())

    def calc_probability(self, calc_state: np.ndarray, morphology: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Recall probability of the calcification channel.

        ``calc_state`` codes :data:`CALC_STATES`; ``morphology`` is 0..3 or -1 (none);
        ``cell`` = density * 2 + round (from :func:`density_round_cell`).
        """
        morph = np.where(morphology < 0, NO_MORPHOLOGY, morphology)
        index = (calc_state.astype(np.intp) * 5 + morph) * 8 + cell  # intp: no int8 overflow
        return self.calc_p[index]

    def other_probability(self, other_state: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Recall probability of the other-findings channel (0 benign, 1 malignant mass, 2 other malignant)."""
        return self.other_p[other_state.astype(np.intp) * 8 + cell]


def density_round_cell(density: np.ndarray, subsequent: np.ndarray) -> np.ndarray:
    """Index of the (density, round) cell of the lookup tables: ``density * 2 + round``."""
    return density.astype(np.intp) * 2 + subsequent.astype(np.intp)
