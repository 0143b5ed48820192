"""The schema of a scenario: its sections, every parameter with its kind and meaning, and provenance.

Each section is a frozen dataclass whose fields carry ``kind`` (what validation checks: a
probability, an age, an odds ratio, a table file ...) and ``doc`` (the meaning, shown by
``calcsim table parameters``). The design document (``docs/model.md``) explains each parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from analysis.scenario.codings import DENSITIES, DISTRIBUTIONS, MORPHOLOGIES, PRESENTATIONS

__all__ = [
    "DENSITIES",
    "DISTRIBUTIONS",
    "MIN_INTERVAL_YEARS",
    "MORPHOLOGIES",
    "PRESENTATIONS",
    "SECTIONS",
    "NOT_CALIBRATION_INPUTS",
    "STATUSES",
    "TOP_LEVEL_KEYS",
    "CalcificationParams",
    "CancerParams",
    "CohortParams",
    "ProgrammeParams",
    "Provenance",
    "ReadingParams",
    "SurvivalParams",
    "WorkupParams",
    "cumulative_rounds",
    "scheduled_rounds",
]

STATUSES = ("calibrated", "assumption")

#: Shortest ``programme.interval_years`` accepted: half a year. A design choice: no screening programme
#: invites more often than yearly (us-annual is the most frequent shipped), and six months is the
#: shortest interval at which screening repeats a mammogram at all (BI-RADS 3 short-interval follow-up,
#: which the model places six months after the screen: a shorter interval would put the next invitation
#: before it). It also keeps the number of rounds, and so the run time, bounded (at most 221 over 0-110 years).
MIN_INTERVAL_YEARS = 0.5


def _p(kind: str, doc: str) -> Any:
    """Declare a parameter field with its kind (used by validation) and meaning."""
    return field(metadata={"kind": kind, "doc": doc})


# --------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class CohortParams:
    """Risk-factor distributions of the simulated women (docs/model.md §3)."""

    model_start_age_years: float = _p("age", "age at which natural history starts")
    model_end_age_years: float = _p("age", "age at which follow-up ends")
    family_history_any_share: float = _p("probability", "share with >=1 affected first-degree relative")
    family_history_two_plus_share_of_any: float = _p(
        "probability", "share with >=2 affected relatives among those with >=1"
    )
    female_first_degree_relatives: int = _p("count", "female first-degree relatives (carrier Bayes)")
    brca1_share: float = _p("probability", "BRCA1 carrier prevalence")
    brca2_share: float = _p("probability", "BRCA2 carrier prevalence")
    nulliparous_share: float = _p("probability", "share of women with no births")
    mean_births_parous: float = _p("positive", "mean number of births among parous women (>=1)")
    ever_breastfed_share_parous: float = _p("probability", "share of parous women who ever breastfed")
    breastfeeding_mean_months_parous: float = _p(
        "positive", "mean lifetime breastfeeding (months) among parous women, zeros included"
    )
    breastfeeding_gamma_shape: float = _p("positive", "shape of the gamma for months among breastfeeders")
    natural_menopause_mean_age_years: float = _p("age", "mean age at natural menopause")
    natural_menopause_sd_years: float = _p("positive", "SD of age at natural menopause")
    surgical_menopause_share: float = _p("probability", "lifetime share with surgical menopause")
    surgical_menopause_mean_age_years: float = _p("age", "mean age at surgical menopause")
    surgical_menopause_sd_years: float = _p("positive", "SD of age at surgical menopause")
    life_table: str = _p("table:life_table", "female period life table of the setting (other-cause death)")
    density_table: str = _p("table:density", "BI-RADS density by age group and menopause")


@dataclass(frozen=True)
class CancerParams:
    """Cancer natural history (docs/model.md §4)."""

    incidence_table: str = _p("table:incidence", "invasive incidence by age (population average)")
    incidence_scale: float = _p(
        "positive", "level of the setting's invasive incidence relative to the table (the table's age shape kept)"
    )
    brca_incidence_table: str = _p("table:brca_incidence", "carrier-specific incidence by age")
    family_history_rr_1: float = _p("odds_ratio", "relative risk, one affected relative")
    family_history_rr_2plus: float = _p("odds_ratio", "relative risk, >=2 affected relatives")
    breastfeeding_rr_reduction_per_12_months: float = _p(
        "probability", "proportional risk reduction per 12 months of breastfeeding"
    )
    parity_rr_reduction_per_birth: float = _p("probability", "proportional risk reduction per birth")
    density_rr: list = _p("vector4:odds_ratio", "relative risk of breast cancer by BI-RADS density a-d (b = 1)")
    cluster_rr: float = _p("odds_ratio", "relative risk of breast cancer with a benign microcalcification cluster")
    growth_doubling_time_median_years: float = _p(
        "positive", "median time for an invasive tumour's diameter to double (10 -> 20 mm), at age 60"
    )
    growth_doubling_time_log_sd: float = _p("positive", "SD of the log diameter-doubling time between tumours")
    growth_time_ratio_per_decade: float = _p("positive", "ratio of doubling times per decade of age (older = slower)")
    onset_diameter_mm: float = _p("positive", "tumour diameter at invasive onset (mm)")
    clinical_diameter_median_mm: float = _p("positive", "median diameter at which a tumour surfaces clinically (mm)")
    clinical_diameter_log2_sd: float = _p("positive", "SD of the clinical diameter, in diameter doublings")
    dcis_precursor_share: float = _p(
        "probability", "share of invasive cancers preceded by a screen-detectable DCIS phase"
    )
    dcis_precursor_mean_years: float = _p("positive", "mean duration of the progressive DCIS phase (exponential)")
    dcis_nonprogressive_ratio: float = _p(
        "nonnegative", "non-progressive DCIS onsets per invasive cancer (same risk factors)"
    )
    dcis_high_grade_by_morphology: list = _p(
        "vector4:probability", "share of DCIS that is high grade, by calcification morphology"
    )
    presentation_table: str = _p("table:presentation", "how cancers present, by type")


@dataclass(frozen=True)
class CalcificationParams:
    """Benign and malignancy-associated calcifications (docs/model.md §4.9)."""

    nonsuspicious_prevalence_age50: float = _p("probability", "benign non-suspicious calcs at 50")
    nonsuspicious_odds_ratio_per_decade: float = _p("odds_ratio", "age trend of non-suspicious calcs")
    cluster_prevalence_age50: float = _p("probability", "benign cluster prevalence at 50, reference women")
    cluster_odds_ratio_per_decade: float = _p("odds_ratio", "age trend of cluster prevalence")
    cluster_or_breastfeeding_over_12_months_postmenopausal: float = _p(
        "odds_ratio", "cluster OR, >12 months breastfeeding, postmenopausal women only"
    )
    cluster_or_dense: float = _p("odds_ratio", "cluster OR, dense breasts (BI-RADS c/d)")
    cluster_or_family_history: float = _p("odds_ratio", "cluster OR, >=1 affected relative")
    cluster_or_per_birth: float = _p("odds_ratio", "cluster OR per birth")
    cluster_or_postmenopausal: float = _p("odds_ratio", "cluster OR, postmenopausal")
    morphology_table: str = _p("table:morphology", "morphology by origin of the calcification")
    distribution_table: str = _p("table:distribution", "distribution by origin of the calcification")
    compact_share_malignant: float = _p("probability", "share of malignant clusters that are compact")
    compact_share_benign: float = _p("probability", "share of benign clusters that are compact")


@dataclass(frozen=True)
class ReadingParams:
    """Mammogram reading (docs/model.md §5): a table built from these values."""

    readers: int = _p("count", "independent readers per screen (2 = double reading)")
    threshold_logit_shift: float = _p("real", "programme recall threshold, logit shift (+ = more recalls)")
    p_recall_calc_malignant: float = _p("probability", "single-reader recall of a malignant calc (ref)")
    p_recall_mass_malignant: float = _p("probability", "single-reader recall of a malignant mass")
    p_recall_other_malignant: float = _p("probability", "single-reader recall, distortion/asymmetry")
    p_recall_benign_cluster: float = _p("probability", "single-reader recall of a benign cluster (ref)")
    p_recall_nonsuspicious: float = _p("probability", "single-reader recall of non-suspicious calcs")
    p_recall_other_benign: float = _p("probability", "single-reader recall of a benign non-calc finding")
    morphology_odds_ratio: list = _p("vector4:odds_ratio", "recall OR by morphology (amorphous = ref)")
    density_odds_ratio_malignant: list = _p("vector4:odds_ratio", "recall OR of cancers by density a-d")
    density_odds_ratio_benign: list = _p("vector4:odds_ratio", "recall OR of benign findings by density")
    prior_images_false_positive_or: float = _p("odds_ratio", "OR of benign recall with prior images")
    size_logit_slope_per_mm: float = _p(
        "positive", "change of the malignant recall logit per mm of invasive tumour diameter (10 mm = reference)"
    )
    benign_recall_or_per_decade: float = _p("odds_ratio", "OR of benign recall per decade of age (50 = reference)")
    first_screen_benign_or: float = _p(
        "odds_ratio", "OR of benign recall at a woman's first screen, beyond prior images"
    )
    known_benign_cluster_or: float = _p(
        "odds_ratio", "OR of recalling a benign cluster already seen on prior images or worked up"
    )
    benign_propensity_logit_sd: float = _p("nonnegative", "woman-level SD of the benign recall logit")


@dataclass(frozen=True)
class WorkupParams:
    """Work-up after recall (docs/model.md §6).

    A recall goes to biopsy with ``p_biopsy_*``; a recall that is not biopsied gets
    short-interval follow-up (BI-RADS 3) with ``p_short_interval_*`` and is otherwise
    cleared — conditional probabilities, so every combination in [0, 1] is valid.
    """

    p_biopsy_malignant: float = _p("probability", "biopsy after recall for a malignant finding")
    p_short_interval_malignant: float = _p("probability", "BI-RADS 3 among non-biopsied malignant recalls")
    p_biopsy_calc_benign: float = _p("probability", "biopsy after recall for benign calcs")
    p_short_interval_calc_benign: float = _p("probability", "BI-RADS 3 among non-biopsied benign calc recalls")
    p_biopsy_other_benign: float = _p("probability", "biopsy after recall for a benign other finding")
    p_short_interval_other_benign: float = _p("probability", "BI-RADS 3 among non-biopsied other recalls")
    p_short_interval_finds_cancer: float = _p("probability", "cancer found at the 6-month follow-up")
    p_core_inconclusive: float = _p("probability", "core biopsy inconclusive -> surgical biopsy")
    p_high_risk_calc_benign_biopsy: float = _p("probability", "high-risk lesion, benign calc biopsy")
    p_high_risk_other_benign_biopsy: float = _p("probability", "high-risk lesion, other benign biopsy")


@dataclass(frozen=True)
class ProgrammeParams:
    """Screening programme (docs/model.md §7)."""

    start_age_years: float = _p("age", "age at the first invitation")
    stop_age_years: float = _p("age", "age at the last invitation")
    interval_years: float = _p(
        "interval",
        "years between invitations (>= 0.5: no programme screens more often "
        "than yearly; 6 months is the short-interval follow-up)",
    )
    attendance: float = _p("probability", "probability an invited woman attends (average)")
    attendance_logit_sd: float = _p("nonnegative", "woman-level SD of attendance propensity (logit)")
    cumulative_rounds: int = _p("count", "screens over which cumulative false-positive risk is counted")


@dataclass(frozen=True)
class SurvivalParams:
    """Breast-cancer death after diagnosis, lifetime follow-up and discounting (docs/model.md §11).

    Read only by the benefits-and-harms runs (:mod:`analysis.model.benefits`); no screening measure depends on
    it, so it is not part of the starting point a calibration is checked against (:attr:`Scenario.prior_hash`).
    """

    lethality_q: float = _p("positive", "Q of the size-lethality law L(D) = 1 - exp(-Q D^Z), D in mm")
    lethality_z: float = _p("positive", "Z of the size-lethality law (power of the diameter)")
    lethality_scale: float = _p("positive", "multiplier of Q D^Z: treatment since the source era (1 = source era)")
    dcis_lethality: float = _p("probability", "probability of breast-cancer death after a diagnosis of DCIS")
    death_median_years: float = _p("positive", "median time from diagnosis to breast-cancer death (fatal cases)")
    death_log_sd: float = _p("positive", "log-SD of the log-normal time from diagnosis to breast-cancer death")
    horizon_age_years: float = _p("age", "age at which lifetime follow-up ends")
    discount_rate: float = _p("nonnegative", "annual discount rate of life-years (default of harms-benefits)")
    discount_age_years: float = _p("age", "age life-years are counted and discounted from (every strategy)")


SECTIONS: dict[str, type] = {
    "cohort": CohortParams,
    "cancer": CancerParams,
    "calcifications": CalcificationParams,
    "reading": ReadingParams,
    "workup": WorkupParams,
    "programme": ProgrammeParams,
    "survival": SurvivalParams,
}
#: Sections no screening measure depends on: left out of the starting point a calibration is checked against.
NOT_CALIBRATION_INPUTS = ("survival",)
TOP_LEVEL_KEYS = ("name", "description", "extends", "setting", *SECTIONS)


@dataclass(frozen=True)
class Provenance:
    """Where a parameter value comes from."""

    source: str | None = None
    status: str | None = None  # "calibrated", "assumption", "user" or None when sourced
    range: tuple[float, float] | None = None
    note: str | None = None
    origin: str = ""  # the file (or --set) that gave the value

    @property
    def label(self) -> str:
        """Short human label: the citation key or the status."""
        return self.source if self.source else (self.status or "")


def scheduled_rounds(pg: ProgrammeParams) -> int:
    """Number of invitations from the start to the stop age."""
    return int(math.floor((pg.stop_age_years - pg.start_age_years) / pg.interval_years + 1e-9)) + 1


def cumulative_rounds(pg: ProgrammeParams) -> int:
    """Screens over which the cumulative false-positive risk is counted.

    ``programme.cumulative_rounds``, or all scheduled rounds when an inherited
    value exceeds them (e.g. after ``--set programme.interval_years=3``).
    """
    return min(pg.cumulative_rounds, scheduled_rounds(pg))
