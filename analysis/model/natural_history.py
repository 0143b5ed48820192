"""Natural history: other-cause death, one breast lesion per woman, and calcification propensities.

Everything is drawn once per woman (no yearly loop), vectorised over a block:

* **Death** from other causes: the setting's period life table (:mod:`analysis.model.lifetable`), from the model start.
* **Invasive cancer, drawn backward from its clinical surfacing.** The woman's hazard of a first
  clinical invasive cancer (:mod:`analysis.model.risk`: fixed relative risks, density and clusters
  by age, or the carrier table) is rescaled so that a reference population reproduces the
  incidence table exactly per living woman-year, depletion included. Her clinical age ``C`` inverts
  her cumulative hazard at a standard exponential (``history.clinical``) on a half-year grid to age
  100; tumour growth (:mod:`analysis.model.growth`) then gives the invasive onset ``C - S``, which
  may lie before the model start (she enters with a preclinical tumour). The tumour surfaces only
  if ``C < min(death, model end)``; otherwise it exists but never surfaces.
* **DCIS as precursor**: with probability ``dcis_precursor_share`` the invasive tumour is preceded
  by a progressive DCIS phase of exponential duration (mean ``dcis_precursor_mean_years``). It does
  not surface as DCIS: it becomes the invasive tumour unless screening finds it first.
* **Non-progressive DCIS**: a woman with no invasive lesion starting before her death may have a
  DCIS that never progresses nor surfaces, with onset hazard ``dcis_nonprogressive_ratio`` times
  her invasive hazard (her cumulative hazard inverted at ``Exp(1) / ratio``, ``history.dcis_nonprogressive``);
  it stays screen-detectable for life.
* **At most one lesion per woman** (an approximation: a second primary, or a non-progressive DCIS
  alongside an invasive lesion, is not simulated). A lesion that would start after the woman's
  death is no lesion.
* **Presentation**: the DCIS phase takes the DCIS row of the presentation table, the invasive
  phase the invasive row, drawn independently (:func:`analysis.model.calcifications.malignant_descriptors`).
* **Grade**: a DCIS is high grade with probability ``dcis_high_grade_by_morphology`` of its
  calcification morphology, or :data:`DCIS_HIGH_GRADE_SHARE` when it has no calcifications.
* **Calcification propensities** of benign findings as before (docs/model.md §4.9).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from analysis.model.calcifications import CALC_MASS, CALC_ONLY, MASS, OTHER, benign_descriptors, malignant_descriptors
from analysis.model.cohort import NO_EVENT, Cohort
from analysis.model.cohort import density_grid as make_density_grid
from analysis.model.growth import Growth, diameter_mm, draw_growth
from analysis.model.lifetable import life_table
from analysis.model.risk import (
    band_rate,
    code_factors,
    hazard_grid,
    noncarrier_family_history_rr,
    relative_risk,
    rescaled_baseline,
    risk_codes,
    table_rates,
)
from analysis.model.streams import exponentials, uniforms
from analysis.scenario import Scenario

__all__ = [
    "CALC_MASS",
    "CALC_ONLY",
    "DCIS",
    "DCIS_HIGH_GRADE_SHARE",
    "INVASIVE",
    "LESION_INVASIVE",
    "LESION_NONE",
    "LESION_NONPROGRESSIVE_DCIS",
    "MASS",
    "NONE",
    "OTHER",
    "HazardModel",
    "NaturalHistory",
    "WomanHazards",
    "band_rate",
    "draw_natural_history",
    "hazard_model",
    "noncarrier_family_history_rr",
    "relative_risk",
    "woman_hazards",
]

#: Cancer types (the phase present at an age).
NONE, DCIS, INVASIVE = 0, 1, 2
#: The woman's lesion: none, one that becomes (or is) invasive, or a non-progressive DCIS.
LESION_NONE, LESION_INVASIVE, LESION_NONPROGRESSIVE_DCIS = 0, 1, 2
#: Seed and block of the propensity uniforms of the reference population (its women are those of block 0, seed 0).
REFERENCE_SEED = 0
#: High-grade share of DCIS without calcifications: the share among all screen-detected DCIS with
#: calcifications, 149/202 (hofvind2011); applying it to DCIS without calcifications is an assumption.
DCIS_HIGH_GRADE_SHARE = 149 / 202


@dataclass(frozen=True, eq=False)
class HazardModel:
    """The baseline hazard on the age grid and what every block shares.

    Attributes
    ----------
    ages : numpy.ndarray
        Grid ages ``a_0 .. a_J`` (model start to :data:`analysis.model.risk.HAZARD_END_AGE`).
    baseline : numpy.ndarray
        Non-carrier hazard per year at relative risk 1 on each interval ``[a_j, a_{j+1})``.
    carrier : numpy.ndarray
        Shape (2, J): BRCA1 and BRCA2 hazards per year on each interval.
    family_history_rr : tuple of float
        Non-carrier relative risks for 1 and >= 2 affected relatives.
    density_grid : numpy.ndarray
        Density distribution by age and menopause (:func:`analysis.model.cohort.density_grid`).
    """

    ages: np.ndarray
    baseline: np.ndarray
    carrier: np.ndarray
    family_history_rr: tuple[float, float]
    density_grid: np.ndarray


def hazard_model(s: Scenario, reference: Cohort, density_grid: np.ndarray | None = None) -> HazardModel:
    """Rescale the baseline on the reference population (docs/model.md §4.3).

    The reference women's cluster propensities are the ``history.cluster`` uniforms of seed
    :data:`REFERENCE_SEED`, block 0. ``density_grid`` defaults to the scenario's density table.
    """
    grid = make_density_grid(s.tables["density"]) if density_grid is None else density_grid
    ages = hazard_grid(s)
    cluster_u = uniforms(REFERENCE_SEED, "history.cluster", 0, reference.n)
    codes, _ = risk_codes(s, reference, cluster_u, grid, ages[:-1])
    fh_ages = (ages[:-1] >= 40.0) & (ages[:-1] < 75.0)
    fh_rr = noncarrier_family_history_rr(s, reference, codes[fh_ages], ages[:-1][fh_ages])
    baseline = rescaled_baseline(s, reference, codes, fh_rr, ages)
    _, carrier = table_rates(s, ages[:-1])
    return HazardModel(ages=ages, baseline=baseline, carrier=carrier, family_history_rr=fh_rr, density_grid=grid)


@dataclass
class WomanHazards:
    """Each woman's hazard of a first clinical invasive cancer on the grid (arrays (ages, women))."""

    ages: np.ndarray  # grid ages a_0 .. a_J
    hazard: np.ndarray  # (J, n): hazard per year on [a_j, a_{j+1})
    cumulative: np.ndarray  # (J + 1, n): cumulative hazard at a_j
    cluster_onset_age: np.ndarray  # (n,): first grid age with a benign cluster (inf: none by the grid end)

    def invert(self, target: np.ndarray) -> np.ndarray:
        """Age at which each woman's cumulative hazard reaches ``target`` (inf beyond the grid)."""
        j = np.count_nonzero(self.cumulative[1:] < target, axis=0)
        inside = j < self.hazard.shape[0]
        jj = np.minimum(j, self.hazard.shape[0] - 1)
        cols = np.arange(target.size)
        h = self.hazard[jj, cols]
        with np.errstate(divide="ignore", invalid="ignore"):
            age = self.ages[jj] + (target - self.cumulative[jj, cols]) / h
        return np.where(inside & np.isfinite(target), age, NO_EVENT)

    def cumulative_at(self, age: float) -> np.ndarray:
        """Each woman's cumulative hazard at ``age`` (linear between grid ages)."""
        j = int(np.clip(np.searchsorted(self.ages, age, side="right") - 1, 0, self.hazard.shape[0] - 1))
        return self.cumulative[j] + self.hazard[j] * (age - self.ages[j])


def woman_hazards(s: Scenario, hm: HazardModel, c: Cohort, cluster_u: np.ndarray) -> WomanHazards:
    """Hazards of the women of ``c`` with cluster propensities ``cluster_u`` (non-carriers: baseline x RRs)."""
    ages = hm.ages
    codes, cluster_onset = risk_codes(s, c, cluster_u, hm.density_grid, ages[:-1])
    fixed = relative_risk(s, c, hm.family_history_rr)
    hazard = code_factors(s)[codes]
    hazard *= fixed[None, :]
    hazard *= hm.baseline[:, None]
    for k in (1, 2):
        carriers = np.flatnonzero(c.brca == k)
        hazard[:, carriers] = hm.carrier[k - 1][:, None]
    cum = np.zeros((len(ages), c.n))
    for j, d in enumerate(np.diff(ages)):
        np.add(cum[j], hazard[j] * d, out=cum[j + 1])
    return WomanHazards(ages=ages, hazard=hazard, cumulative=cum, cluster_onset_age=cluster_onset)


@dataclass
class NaturalHistory:
    """Per-woman natural history (arrays aligned with the cohort).

    A woman has at most one lesion (``lesion``): an invasive tumour, possibly preceded by a
    progressive DCIS phase (``LESION_INVASIVE``), or a non-progressive DCIS
    (``LESION_NONPROGRESSIVE_DCIS``). ``clinical_age`` is the age at which the invasive tumour
    surfaces absent screening, inf when that is not before ``min(death, model end)``.
    """

    death_age: np.ndarray
    lesion: np.ndarray  # int8 LESION_*
    dcis_onset_age: np.ndarray  # inf when the lesion has no DCIS phase
    invasive_onset_age: np.ndarray  # inf when no invasive tumour
    doubling_time_years: np.ndarray  # diameter doubling time (inf when no invasive tumour)
    clinical_age: np.ndarray  # inf: does not surface before min(death, model end)
    surfacing_age: np.ndarray  # age the invasive tumour would surface if she lived on (inf: no invasive tumour)
    clinical_diameter_mm: np.ndarray  # nan when no invasive tumour
    onset_diameter_mm: float
    dcis_presentation: np.ndarray  # int8, -1 when no DCIS phase
    invasive_presentation: np.ndarray  # int8, -1 when no invasive tumour
    dcis_morphology: np.ndarray  # int8, -1 when the DCIS phase has no calcification
    dcis_distribution: np.ndarray
    dcis_compact: np.ndarray  # bool
    invasive_morphology: np.ndarray  # int8, -1 when the invasive phase has no calcification
    invasive_distribution: np.ndarray
    invasive_compact: np.ndarray
    dcis_high_grade: np.ndarray  # bool (False when no DCIS phase)
    cluster_u: np.ndarray  # propensity for a benign microcalcification cluster
    nonsuspicious_u: np.ndarray  # propensity for benign non-suspicious calcifications
    benign_morphology: np.ndarray  # int8: morphology of the woman's benign cluster (if any)
    benign_distribution: np.ndarray
    benign_compact: np.ndarray
    cluster_onset_age: np.ndarray  # first grid age with a benign cluster, as used for the cluster RR (inf: none)

    @property
    def sojourn_years(self) -> np.ndarray:
        """Time from invasive onset to clinical surfacing absent screening (inf when no invasive tumour)."""
        ratio = self.clinical_diameter_mm / self.onset_diameter_mm
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(self.invasive_onset_age), self.doubling_time_years * np.log2(ratio), np.inf)

    def diameter_mm(self, idx: np.ndarray, age: float) -> np.ndarray:
        """Invasive diameter (mm) of women ``idx`` at ``age`` (0 before invasive onset)."""
        return diameter_mm(self.onset_diameter_mm, self.invasive_onset_age[idx], self.doubling_time_years[idx], age)

    def phase(self, idx: np.ndarray, age: float) -> np.ndarray:
        """Phase of the lesion of women ``idx`` at ``age``: NONE, DCIS or INVASIVE (int8).

        By onsets only: whether the woman is alive, or her lesion surfaced or was found, is the
        caller's business.
        """
        inv = self.invasive_onset_age[idx] <= age
        dcis = self.dcis_onset_age[idx] <= age
        return np.where(inv, INVASIVE, np.where(dcis, DCIS, NONE)).astype(np.int8)


def _death(s: Scenario, seed: int, block: int, n: int) -> np.ndarray:
    """Ages at other-cause death from the setting's life table, for women alive at the model start age."""
    e = exponentials(seed, "history.death", block, n)
    return life_table(s.tables["life_table"]).death_ages(s.cohort.model_start_age_years, e)


def _lesions(
    s: Scenario, wh: WomanHazards, death: np.ndarray, seed: int, block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Growth]:
    """Lesion type, DCIS onset, invasive onset, latent clinical age and growth of every woman."""
    ca = s.cancer
    n = death.size
    latent = wh.invert(exponentials(seed, "history.clinical", block, n))
    growth = draw_growth(s, latent, seed, block)
    has = np.isfinite(latent)
    inv_onset = np.where(has, latent - np.where(has, growth.sojourn_years, 0.0), NO_EVENT)  # no inf - inf
    precursor = uniforms(seed, "history.dcis_precursor", block, n) < ca.dcis_precursor_share
    duration = exponentials(seed, "history.dcis_duration", block, n) * ca.dcis_precursor_mean_years
    dcis_onset = np.where(precursor & has, inv_onset - duration, NO_EVENT)
    invasive = has & (np.minimum(dcis_onset, inv_onset) < death)
    ratio = ca.dcis_nonprogressive_ratio
    e2 = exponentials(seed, "history.dcis_nonprogressive", block, n)
    np_onset = wh.invert(e2 / ratio) if ratio > 0 else np.full(n, NO_EVENT)
    nonprog = ~invasive & (np_onset < death)
    lesion = np.select([invasive, nonprog], [LESION_INVASIVE, LESION_NONPROGRESSIVE_DCIS], LESION_NONE)
    dcis_onset = np.where(invasive, dcis_onset, np.where(nonprog, np_onset, NO_EVENT))
    inv_onset = np.where(invasive, inv_onset, NO_EVENT)
    latent = np.where(invasive, latent, NO_EVENT)
    return lesion.astype(np.int8), dcis_onset, inv_onset, latent, invasive, growth


def draw_natural_history(
    s: Scenario, hm: HazardModel, c: Cohort, seed: int, block: int, density_grid: np.ndarray | None = None
) -> NaturalHistory:
    """Draw death, the lesion and the calcification propensities of one block of women.

    ``density_grid`` defaults to the one stored in ``hm``.
    """
    if density_grid is not None:
        hm = replace(hm, density_grid=density_grid)
    n, ca = c.n, s.cancer
    death = _death(s, seed, block, n)
    cluster_u = uniforms(seed, "history.cluster", block, n)
    wh = woman_hazards(s, hm, c, cluster_u)
    lesion, dcis_onset, inv_onset, latent, invasive, growth = _lesions(s, wh, death, seed, block)
    clinical = np.where(latent < np.minimum(death, s.cohort.model_end_age_years), latent, NO_EVENT)
    has_dcis = np.isfinite(dcis_onset)
    dc = malignant_descriptors(s, seed, block, "dcis", has_dcis)
    iv = malignant_descriptors(s, seed, block, "invasive", invasive)
    p_high = np.append(np.asarray(ca.dcis_high_grade_by_morphology, dtype=float), DCIS_HIGH_GRADE_SHARE)
    high = uniforms(seed, "history.dcis_grade", block, n) < p_high[dc.morphology]  # -1: no calcification
    bn = benign_descriptors(s, seed, block, n)
    return NaturalHistory(
        death_age=death,
        lesion=lesion,
        dcis_onset_age=dcis_onset,
        invasive_onset_age=inv_onset,
        doubling_time_years=np.where(invasive, growth.doubling_time_years, np.inf),
        clinical_age=clinical,
        surfacing_age=latent,
        clinical_diameter_mm=np.where(invasive, growth.clinical_diameter_mm, np.nan),
        onset_diameter_mm=ca.onset_diameter_mm,
        dcis_presentation=dc.presentation,
        invasive_presentation=iv.presentation,
        dcis_morphology=dc.morphology,
        dcis_distribution=dc.distribution,
        dcis_compact=dc.compact,
        invasive_morphology=iv.morphology,
        invasive_distribution=iv.distribution,
        invasive_compact=iv.compact,
        dcis_high_grade=has_dcis & high,
        cluster_u=cluster_u,
        nonsuspicious_u=uniforms(seed, "history.nonsuspicious", block, n),
        benign_morphology=bn.morphology,
        benign_distribution=bn.distribution,
        benign_compact=bn.compact,
        cluster_onset_age=wh.cluster_onset_age,
    )
