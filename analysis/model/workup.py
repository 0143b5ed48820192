"""Work-up after a recall: biopsy, short-interval follow-up or clearance, and the pathology found.

A recall triggered by a malignant finding leads to biopsy, short-interval follow-up (BI-RADS 3)
or clearance; benign recalls likewise with their own probabilities (docs/model.md §6). Biopsy is
core needle (stereotactic for calcifications) and surgical when the core is inconclusive; its
pathology is benign, high-risk lesion, DCIS or invasive. A malignant finding under short-interval
follow-up is found at the 6-month visit with ``p_short_interval_finds_cancer`` and then biopsied.

This module is the one place where work-up lives: change what happens after a recall here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.scenario import Scenario

__all__ = ["BIOPSY_METHOD", "PATHOLOGY", "WORKUP", "WorkupDraws", "WorkupModel", "WorkupOutcome"]

WORKUP = ("none", "cleared", "short_interval", "biopsy")
PATHOLOGY = ("none", "benign", "high_risk", "dcis", "invasive")
BIOPSY_METHOD = ("none", "core", "surgical")


@dataclass(frozen=True)
class WorkupDraws:
    """The uniforms of the recalled women at one screen, one per decision (common random numbers)."""

    workup: np.ndarray
    short_interval: np.ndarray
    core_inconclusive: np.ndarray
    pathology: np.ndarray


@dataclass(frozen=True)
class WorkupOutcome:
    """What work-up gave for each recalled woman (codes of :data:`WORKUP`, :data:`BIOPSY_METHOD`, :data:`PATHOLOGY`)."""

    workup: np.ndarray
    biopsy: np.ndarray
    method: np.ndarray
    detected: np.ndarray
    pathology: np.ndarray


@dataclass(frozen=True)
class WorkupModel:
    """Work-up probabilities by kind of recall: 0 malignant, 1 benign calcification, 2 benign other finding."""

    p_biopsy: np.ndarray
    p_short: np.ndarray
    p_short_finds_cancer: float
    p_core_inconclusive: float
    p_high_risk_calc: float
    p_high_risk_other: float

    @classmethod
    def from_scenario(cls, s: Scenario) -> WorkupModel:
        """The work-up probabilities of a scenario."""
        wk = s.workup
        return cls(
            p_biopsy=np.array([wk.p_biopsy_malignant, wk.p_biopsy_calc_benign, wk.p_biopsy_other_benign]),
            p_short=np.array(
                [wk.p_short_interval_malignant, wk.p_short_interval_calc_benign, wk.p_short_interval_other_benign]
            ),
            p_short_finds_cancer=wk.p_short_interval_finds_cancer,
            p_core_inconclusive=wk.p_core_inconclusive,
            p_high_risk_calc=wk.p_high_risk_calc_benign_biopsy,
            p_high_risk_other=wk.p_high_risk_other_benign_biopsy,
        )

    def work_up(self, malignant: np.ndarray, calc: np.ndarray, dcis: np.ndarray, u: WorkupDraws) -> WorkupOutcome:
        """Work up the recalled women.

        Parameters
        ----------
        malignant : bool array
            The recalled finding was malignant (a malignant calcification recalled in the calcification
            channel, or a malignant sign recalled in the other channel).
        calc : bool array
            The calcification channel recalled the woman.
        dcis : bool array
            Her cancer (if any) is DCIS.
        u : WorkupDraws
            Her uniforms for the work-up decisions at this screen.
        """
        kind = np.where(malignant, 0, np.where(calc, 1, 2))
        p_b, p_si = self.p_biopsy[kind], self.p_short[kind]
        workup = np.where(u.workup < p_b, 3, np.where(u.workup < p_b + (1.0 - p_b) * p_si, 2, 1)).astype(np.int8)
        si_finds = malignant & (workup == 2) & (u.short_interval < self.p_short_finds_cancer)
        biopsy = (workup == 3) | si_finds
        method = np.where(biopsy, np.where(u.core_inconclusive < self.p_core_inconclusive, 2, 1), 0).astype(np.int8)
        detected = malignant & biopsy
        high_risk = u.pathology < np.where(calc, self.p_high_risk_calc, self.p_high_risk_other)
        pathology = np.where(detected, np.where(dcis, 3, 4), np.where(biopsy, np.where(high_risk, 2, 1), 0)).astype(
            np.int8
        )
        return WorkupOutcome(workup=workup, biopsy=biopsy, method=method, detected=detected, pathology=pathology)
