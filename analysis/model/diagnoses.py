"""Diagnoses: each woman's first breast-cancer diagnosis, and incidence per 100,000 woman-years.

A woman is diagnosed once, at the first of

* her **screen detection** (screened run only): the age, type and invasive diameter the programme
  gives (:class:`analysis.model.programme.ProgrammeOutcome`);
* her **clinical surfacing** (``NaturalHistory.clinical_age``, invasive; ``inf`` when she would not
  surface before death or the model end age).

In the unscreened run (``simulate(..., screening=False)``) only clinical surfacing happens.

**Incidence** (:data:`RATE_MEASURES`) follows the registries' definition: diagnoses per 100,000
woman-years of *living* women, every living woman counting (those already diagnosed too), from the
model start age to ``cohort.model_end_age_years``. Woman-time is counted in whole **woman-months**
(:data:`MONTHS_PER_YEAR` per year): a woman's exit age ``min(death, end)`` is rounded to the nearest
month on the absolute age scale, so the time in every 5-year age band is an exact integer, the bands
add up to her whole follow-up, and block counts add exactly (the result does not depend on blocking
or workers). At 10 million women x 50 years x 12 that is 6e9 woman-months, far inside int64.

Strata: ``"all"`` always; a grouping of only woman-level fixed strata (:data:`INCIDENCE_STRATA`:
``age_group`` — attained age, the woman-time split over the 5-year bands of
:data:`analysis.scenario.codings.AGE_GROUP`, ages below 35 in the first band and from 85 on in the
last, as :func:`~analysis.scenario.codings.age_group` clips — ``brca``, ``family_history``,
``parity``, ``breastfeeding``) gets incidence rows too. A grouping with a screen-level stratum
(``round``, ``density``, ``menopause``) has no incidence rows: those are properties of a screen, not
of a woman-year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.model.cohort import Cohort
from analysis.model.measures import STRATA, Frame, Groupings, count_screens
from analysis.model.natural_history import DCIS, INVASIVE, NONE, NaturalHistory
from analysis.scenario import Scenario
from analysis.scenario.codings import AGE_GROUP, age_group

if TYPE_CHECKING:
    from analysis.model.programme import ProgrammeOutcome

__all__ = [
    "CLINICAL",
    "BlockOutcome",
    "DIAGNOSIS_MODES",
    "INCIDENCE_STRATA",
    "MONTHS_PER_YEAR",
    "NOT_DIAGNOSED",
    "RATE_MEASURES",
    "SCREEN_DETECTED",
    "Diagnoses",
    "RateMeasure",
    "block_counts",
    "count_incidence",
    "exit_months",
    "first_diagnoses",
    "incidence_groupings",
    "woman_strata",
]

#: Diagnosis modes (codes of :attr:`Diagnoses.mode`; labels in :data:`DIAGNOSIS_MODES`).
NOT_DIAGNOSED, SCREEN_DETECTED, CLINICAL = 0, 1, 2
DIAGNOSIS_MODES = ("none", "screen-detected", "clinical")
#: Integer woman-time units per woman-year (woman-months).
MONTHS_PER_YEAR = 12
#: Strata that are fixed properties of a woman (or, for ``age_group``, of a woman-year).
INCIDENCE_STRATA = ("age_group", "brca", "family_history", "parity", "breastfeeding")
#: Lower bounds of the 5-year age bands of :data:`AGE_GROUP` (years).
AGE_BAND_LOWER = 35 + 5 * np.arange(len(AGE_GROUP.labels))


@dataclass(frozen=True)
class RateMeasure:
    """Events per ``per`` woman-years; the count table's ``n`` is woman-time in ``1 / units_per_year`` years."""

    name: str
    numerator: str
    cancer_type: int
    units_per_year: int = MONTHS_PER_YEAR
    per: float = 100_000.0

    @property
    def unit(self) -> str:
        """``"per 100,000 woman-years"``."""
        return f"per {self.per:,.0f} woman-years"

    def denominator(self, ages: tuple[float, float] | None = None) -> str:
        """The denominator label: what ``n`` counts (woman-months), over which ages when known."""
        where = f"ages {ages[0]:g}-{ages[1]:g}" if ages else "model start to end age"
        return f"woman-months of living women, {where} ({self.units_per_year} per woman-year)"


#: The rate measures, by name.
RATE_MEASURES: dict[str, RateMeasure] = {
    m.name: m
    for m in (
        RateMeasure(
            "invasive_incidence_per_100000",
            "women whose first breast-cancer diagnosis is invasive (screen-detected or clinical)",
            INVASIVE,
        ),
        RateMeasure("dcis_incidence_per_100000", "women whose first breast-cancer diagnosis is DCIS", DCIS),
    )
}


@dataclass(frozen=True)
class Diagnoses:
    """Each woman's first breast-cancer diagnosis (arrays aligned with the block's women).

    Attributes
    ----------
    age : float array
        Age at diagnosis; ``inf`` when not diagnosed before death or the model end age.
    type : int8 array
        0 none, 1 DCIS, 2 invasive.
    diameter_mm : float array
        Invasive tumour diameter at diagnosis (mm); NaN when not invasive or not known.
    mode : int8 array
        :data:`NOT_DIAGNOSED`, :data:`SCREEN_DETECTED` or :data:`CLINICAL`.
    """

    age: np.ndarray
    type: np.ndarray
    diameter_mm: np.ndarray
    mode: np.ndarray

    @property
    def n(self) -> int:
        """Number of women."""
        return len(self.age)

    @classmethod
    def none(cls, n: int = 0) -> Diagnoses:
        """``n`` women without a diagnosis."""
        return cls(np.full(n, np.inf), np.zeros(n, np.int8), np.full(n, np.nan), np.zeros(n, np.int8))


def first_diagnoses(nh: NaturalHistory, end_age: float, outcome: ProgrammeOutcome | None = None) -> Diagnoses:
    """The first diagnosis of each woman of a block: screen detection or clinical surfacing, whichever is first.

    Parameters
    ----------
    nh : NaturalHistory
        The block's natural history (``death_age``, ``clinical_age``, ``clinical_diameter_mm``).
    end_age : float
        ``cohort.model_end_age_years``: diagnoses from then on are not counted.
    outcome : ProgrammeOutcome, optional
        The programme's screen detections (``detected_age``, ``detected_type``, ``detected_diameter_mm``);
        ``None`` for the unscreened run (clinical surfacing only).

    Returns
    -------
    Diagnoses
    """
    limit = np.minimum(np.asarray(nh.death_age, dtype=float), float(end_age))
    clinical = np.asarray(nh.clinical_age, dtype=float)
    n = len(clinical)
    diameter = np.asarray(nh.clinical_diameter_mm, dtype=float)
    age, ctype, mode = clinical.copy(), np.full(n, INVASIVE, np.int8), np.full(n, CLINICAL, np.int8)
    if outcome is not None:
        screen = np.asarray(outcome.detected_age, dtype=float) < clinical
        age[screen] = outcome.detected_age[screen]
        ctype[screen] = outcome.detected_type[screen]
        diameter = np.where(screen, outcome.detected_diameter_mm, diameter)
        mode[screen] = SCREEN_DETECTED
    found = age < limit
    return Diagnoses(
        age=np.where(found, age, np.inf),
        type=np.where(found, ctype, NONE).astype(np.int8),
        diameter_mm=np.where(found & (ctype == INVASIVE), diameter, np.nan),
        mode=np.where(found, mode, NOT_DIAGNOSED).astype(np.int8),
    )


def exit_months(death_age: np.ndarray, end_age: float) -> np.ndarray:
    """Each woman's exit age ``min(death, end)`` in whole months (nearest month, int64)."""
    return np.rint(np.minimum(np.asarray(death_age, dtype=float), float(end_age)) * MONTHS_PER_YEAR).astype(np.int64)


def woman_strata(c: Cohort | None) -> Frame:
    """The woman-level stratum columns of a cohort, as :data:`analysis.model.measures.STRATA` reads them.

    ``None``: the columns of no women.
    """
    if c is None:
        return {k: np.zeros(0, dtype=np.int8) for k in ("family_history", "brca", "births")} | {
            "breastfeeding_months": np.zeros(0)
        }
    return {
        "family_history": c.family_history,
        "brca": c.brca,
        "births": c.births,
        "breastfeeding_months": c.breastfeeding_months,
    }


def incidence_groupings(by: Groupings) -> Groupings:
    """The groupings of ``by`` that get incidence rows: those made of :data:`INCIDENCE_STRATA` only."""
    return tuple(g for g in by if all(b in INCIDENCE_STRATA for b in g))


def _band_months(exit_m: np.ndarray, start_m: int) -> np.ndarray:
    """Woman-months in each age band of :data:`AGE_GROUP`, shape ``(n, bands)`` (rows sum to ``exit - start``)."""
    big = np.iinfo(np.int64).max // 4
    lo = np.concatenate([[-big], AGE_BAND_LOWER[1:] * MONTHS_PER_YEAR]).astype(np.int64)
    hi = np.concatenate([AGE_BAND_LOWER[1:] * MONTHS_PER_YEAR, [big]]).astype(np.int64)
    return np.clip(exit_m[:, None], lo, hi) - np.clip(np.int64(start_m), lo, hi)


def _labels(group: Sequence[str]) -> list[str]:
    """Stratum labels of a grouping, in code order (as :func:`analysis.model.measures.stratum_codes` gives)."""
    labels = [""]
    for b in group:
        labels = [f"{lab}; {b}={c}" if lab else f"{b}={c}" for lab in labels for c in STRATA[b][1]]
    return labels if group else ["all"]


def _codes(group: Sequence[str], strata: Frame, age_codes: np.ndarray) -> np.ndarray:
    """Stratum codes of a grouping: woman-level strata per woman, ``age_group`` from ``age_codes`` (broadcast)."""
    codes = np.zeros((len(strata["brca"]), 1), dtype=np.intp)
    for b in group:
        fn, cats = STRATA[b]
        value = age_codes if b == "age_group" else np.asarray(fn(strata), dtype=np.intp)[:, None]
        codes = codes * len(cats) + value
    return codes


def count_incidence(
    d: Diagnoses, strata: Frame, death_age: np.ndarray, start_age: float, end_age: float, by: Groupings = ()
) -> pd.DataFrame:
    """Diagnoses and woman-months of the :data:`RATE_MEASURES`, overall and by the woman-level groupings of ``by``.

    Parameters
    ----------
    d : Diagnoses
        The women's first diagnoses (:func:`first_diagnoses`).
    strata : dict of arrays
        Their woman-level stratum columns (:func:`woman_strata`).
    death_age : array
        Their ages at (other-cause) death.
    start_age, end_age : float
        ``cohort.model_start_age_years`` and ``cohort.model_end_age_years``.
    by : tuple of tuple of str
        Groupings (:func:`analysis.model.measures.check_strata`); only :func:`incidence_groupings` are counted.

    Returns
    -------
    pandas.DataFrame
        ``stratum``, ``measure``, ``numerator`` (diagnoses), ``n`` (woman-months), int64, as
        :func:`analysis.model.measures.count_screens` gives for the screen measures.
    """
    start_m = int(np.rint(float(start_age) * MONTHS_PER_YEAR))
    months = _band_months(exit_months(death_age, end_age), start_m)
    events_age = age_group(np.where(np.isfinite(d.age), d.age, 0.0))[:, None]
    rows: list[pd.DataFrame] = []
    totals = months.sum(axis=1, keepdims=True)
    for group in ((), *incidence_groupings(by)):
        labels = _labels(group)
        k = len(labels)
        by_age = "age_group" in group
        cells = _codes(group, strata, np.arange(months.shape[1])[None, :] if by_age else np.zeros((1, 1), np.intp))
        time = np.zeros(k, dtype=np.int64)
        np.add.at(time, cells.ravel(), (months if by_age else totals).ravel())
        event_cells = _codes(group, strata, events_age)[:, 0]
        for m in RATE_MEASURES.values():
            num = np.bincount(event_cells[d.type == m.cancer_type], minlength=k).astype(np.int64)
            rows.append(
                pd.DataFrame(
                    {
                        "stratum": np.asarray(labels, dtype=object),
                        "measure": np.full(k, m.name, dtype=object),
                        "numerator": num,
                        "n": time,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


@dataclass(frozen=True)
class BlockOutcome:
    """One simulated block: its women, their natural history, its screens and each woman's first diagnosis."""

    cohort: Cohort
    history: NaturalHistory
    screens: Frame
    diagnoses: Diagnoses

    def counts(self, s: Scenario, by: Groupings = ()) -> pd.DataFrame:
        """The block's count table: the screen measures, then the incidence measures."""
        return block_counts(s, self.screens, self.diagnoses, self.cohort, self.history.death_age, by)


def block_counts(
    s: Scenario, screens: Frame, diagnoses: Diagnoses, cohort: Cohort | None, death_age: np.ndarray, by: Groupings
) -> pd.DataFrame:
    """The count table of some women: :func:`count_screens` rows, then :func:`count_incidence` rows.

    ``cohort=None`` (with empty ``diagnoses`` and ``death_age``): no women, every count 0.
    """
    co = s.cohort
    incidence = count_incidence(
        diagnoses, woman_strata(cohort), death_age, co.model_start_age_years, co.model_end_age_years, by
    )
    return pd.concat([count_screens(screens, by), incidence], ignore_index=True)
