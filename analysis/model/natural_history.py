"""Natural history: other-cause death, cancer onset and sojourn, and calcifications.

All ages are drawn once per woman by inverting cumulative hazards (no yearly loop):

* **Death** from other causes: Gompertz hazard ``h(a) = h50 * exp(b (a - 50))``.
* **Preclinical cancer onset**: hazard ``baseline(a) * RR`` for non-carriers and the
  carrier-specific hazard for BRCA1/2 carriers (family history is not applied to
  carriers: the family-history relative risk already includes them). The baseline
  is rescaled (:func:`rescaled_baseline`) so that the reference population's
  average incidence at every age equals the input table — the population
  attributable fraction step of docs/model.md §4.3.
* The input table is *clinical* incidence; a preclinical cancer that arises at age
  ``a`` surfaces about one mean sojourn time later, so the onset hazard at ``a`` is
  the table's rate at ``a`` plus the mean sojourn time of cancers arising at ``a``
  (a first-order lag; ages past the table use its last band).
* A share ``dcis_share_of_onsets`` of onsets is DCIS (added on top of the invasive
  onsets, which match the invasive table). Sojourn times are exponential; the
  invasive mean grows with age at onset. Only a share ``dcis_progressive_share`` of
  DCIS would ever surface clinically; the rest is found by screening or never.
* Family history: the published RRs include carriers, so non-carriers get the RRs
  that reproduce the published group RRs (:func:`noncarrier_family_history_rr`).
* **Calcifications**: a woman-level propensity per calcification kind, thresholded
  at each screen by the age- and risk-factor-specific prevalence (so states
  persist; see :mod:`analysis.model.programme`); malignancy-associated calcifications come
  from how each cancer presents (docs/model.md §4.8) with morphology, distribution and
  cluster form drawn from the tables of docs/model.md §4.9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.model.cohort import NO_EVENT, Cohort, categorical_draw
from analysis.model.streams import exponentials, uniforms
from analysis.scenario import DISTRIBUTIONS, MORPHOLOGIES, PRESENTATIONS, Scenario

#: Cancer types.
NONE, DCIS, INVASIVE = 0, 1, 2
#: Presentation codes (index into PRESENTATIONS); -1 = no cancer.
CALC_ONLY, CALC_MASS, MASS, OTHER = range(4)

AGE_STEP = 0.5  # years per step of the hazard grid


@dataclass
class NaturalHistory:
    """Per-woman natural history (arrays aligned with the cohort)."""

    death_age: np.ndarray
    onset_age: np.ndarray  # inf: no preclinical cancer before death / end of follow-up
    cancer_type: np.ndarray  # int8: 0 none, 1 DCIS, 2 invasive
    clinical_age: np.ndarray  # inf: would not surface before death / end of follow-up
    presentation: np.ndarray  # int8: -1 none, else index into PRESENTATIONS
    malignant_morphology: np.ndarray  # int8: -1 when the cancer has no calcification
    malignant_distribution: np.ndarray
    malignant_compact: np.ndarray  # bool
    cluster_u: np.ndarray  # propensity for a benign microcalcification cluster
    nonsuspicious_u: np.ndarray  # propensity for benign non-suspicious calcifications
    benign_morphology: np.ndarray  # int8: morphology of the woman's benign cluster (if any)
    benign_distribution: np.ndarray
    benign_compact: np.ndarray


@dataclass(frozen=True)
class HazardModel:
    """Cumulative onset hazards on an age grid, shared by all blocks of a run."""

    ages: np.ndarray  # grid of ages (years), from the model start age
    baseline_cum: np.ndarray  # cumulative baseline (non-carrier, RR = 1) total onset hazard
    carrier_cum: np.ndarray  # shape (2, len(ages)): BRCA1, BRCA2 cumulative total onset hazard
    expected_rr: float  # E[RR] among non-carriers of the reference population
    family_history_rr: tuple[float, float] = (1.0, 1.0)  # non-carrier RR for 1 and >=2 relatives


def relative_risk(s: Scenario, c: Cohort, family_history_rr: tuple[float, float] | None = None) -> np.ndarray:
    """Multiplicative relative risk of invasive cancer for non-carriers (docs/model.md §4.2).

    ``family_history_rr`` are the *non-carrier* relative risks for 1 and >= 2
    affected relatives (:func:`noncarrier_family_history_rr`); by default the
    published (all-women) values of the scenario.
    """
    p = s.cancer
    rr1, rr2 = family_history_rr or (p.family_history_rr_1, p.family_history_rr_2plus)
    rr = np.ones(c.n)
    rr = np.where(c.family_history == 1, rr1, rr)
    rr = np.where(c.family_history >= 2, rr2, rr)
    rr = rr * (1 - p.breastfeeding_rr_reduction_per_12_months) ** (c.breastfeeding_months / 12.0)
    rr = rr * (1 - p.parity_rr_reduction_per_birth) ** c.births.astype(float)
    return rr


def _band_rate(table: pd.DataFrame, column: str, ages: np.ndarray) -> np.ndarray:
    """Piecewise-constant rate of a banded table at ``ages`` (last band beyond the end)."""
    lowers = table["age_lower"].to_numpy()
    idx = np.clip(np.searchsorted(lowers, ages, side="right") - 1, 0, len(lowers) - 1)
    rate = table[column].to_numpy()[idx]
    return np.where(ages < lowers[0], 0.0 if column.startswith("brca") else rate, rate)


def rescaled_baseline(
    s: Scenario, reference: Cohort, ages: np.ndarray, family_history_rr: tuple[float, float] | None = None
) -> tuple[np.ndarray, float]:
    """Non-carrier baseline invasive hazard so that the reference population matches the table.

    For each age ``a``: ``I(a) = (1 - P1 - P2) * baseline(a) * E[RR | non-carrier]
    + P1 * I_BRCA1(a) + P2 * I_BRCA2(a)``, with the carrier shares ``P1``, ``P2``
    and ``E[RR]`` taken from the reference population. Solved for ``baseline(a)``.

    Returns
    -------
    baseline : numpy.ndarray
        Hazard per year at ``ages`` (clinical-incidence scale, before the sojourn lag).
    expected_rr : float
        Mean relative risk among non-carriers of the reference population.
    """
    inc = s.tables["incidence"]
    brca = s.tables["brca_incidence"]
    table_rate = _band_rate(inc, "annual_incidence_per_100000", ages) / 1e5
    p1 = float(np.mean(reference.brca == 1))
    p2 = float(np.mean(reference.brca == 2))
    non = reference.brca == 0
    expected_rr = float(np.mean(relative_risk(s, reference, family_history_rr)[non]))
    carriers = p1 * _band_rate(brca, "brca1_annual_hazard", ages) + p2 * _band_rate(brca, "brca2_annual_hazard", ages)
    baseline = (table_rate - carriers) / ((1 - p1 - p2) * expected_rr)
    if np.any(baseline < 0):
        raise ValueError("carrier incidence exceeds the population incidence table at some age")
    return baseline, expected_rr


def noncarrier_family_history_rr(
    s: Scenario, reference: Cohort, ages: np.ndarray | None = None, iterations: int = 4
) -> tuple[float, float]:
    """Non-carrier relative risks that give the published family-history RRs for whole groups.

    The published RRs (CGHFBC 2001) compare all women with 1 (or >= 2) affected
    relatives, carriers included, with women without. Carriers are concentrated
    among women with affected relatives (:func:`analysis.model.cohort.carrier_probabilities`)
    and have their own incidence, so applying the published RR to non-carriers as
    well would count family history twice. For group ``k`` at age ``a``::

        RR_k * H_0(a) = P(nc | k) b(a) RR'_k E_k + sum_c P(c | k) I_c(a)

    where ``H_0`` is the mean hazard of women without affected relatives, ``b`` the
    baseline and ``E_k`` the group's mean of the other relative risks. ``RR'_k`` is
    solved at every age of ``ages`` (default 40–74, the screening ages) and averaged;
    the baseline is re-rescaled and the solution iterated to a fixed point.
    """
    ages = np.arange(40.5, 75.0, 1.0) if ages is None else ages
    p = s.cancer
    published = np.array([p.family_history_rr_1, p.family_history_rr_2plus])
    brca = s.tables["brca_incidence"]
    carrier_rate = np.vstack([_band_rate(brca, c, ages) for c in ("brca1_annual_hazard", "brca2_annual_hazard")])
    fh = np.minimum(reference.family_history, 2)
    other = relative_risk(s, reference, (1.0, 1.0))  # breastfeeding and parity only
    share = np.array([[np.mean(reference.brca[fh == k] == c) for c in (0, 1, 2)] for k in (0, 1, 2)])
    e_other = np.array([np.mean(other[(fh == k) & (reference.brca == 0)]) for k in (0, 1, 2)])
    rr = published.copy()
    for _ in range(iterations):
        b, _ = rescaled_baseline(s, reference, ages, (float(rr[0]), float(rr[1])))
        h0 = share[0, 0] * b * e_other[0] + share[0, 1:] @ carrier_rate
        for k in (1, 2):
            need = (published[k - 1] * h0 - share[k, 1:] @ carrier_rate) / (share[k, 0] * b * e_other[k])
            rr[k - 1] = max(float(np.mean(need)), 1.0)
    return float(rr[0]), float(rr[1])


def mean_sojourn_years(s: Scenario, onset_age: np.ndarray) -> np.ndarray:
    """Mean sojourn time of invasive cancer by age at onset (at least half a year)."""
    ca = s.cancer
    return np.maximum(ca.invasive_mean_sojourn_years + ca.sojourn_years_per_decade * (onset_age - 50.0) / 10.0, 0.5)


def hazard_model(s: Scenario, reference: Cohort) -> HazardModel:
    """Cumulative onset hazards (invasive + DCIS) on a half-year grid, with the sojourn lag.

    The onset hazard at age ``a`` is the rescaled clinical rate at ``a`` plus the mean
    sojourn time of cancers arising at ``a`` (an age-specific first-order lag).
    """
    start, end = s.cohort.model_start_age_years, s.cohort.model_end_age_years
    ages = np.arange(start, end + AGE_STEP / 2, AGE_STEP)
    mid = ages[:-1] + AGE_STEP / 2
    lag = mean_sojourn_years(s, mid)
    fh_rr = noncarrier_family_history_rr(s, reference)
    baseline, expected_rr = rescaled_baseline(s, reference, mid + lag, fh_rr)
    total = 1.0 / (1.0 - s.cancer.dcis_share_of_onsets)
    brca = s.tables["brca_incidence"]
    carrier = np.vstack([_band_rate(brca, c, mid + lag) for c in ("brca1_annual_hazard", "brca2_annual_hazard")])

    def cum(h: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros(h.shape[:-1] + (1,)), np.cumsum(h * AGE_STEP, axis=-1)], axis=-1)

    return HazardModel(
        ages=ages,
        baseline_cum=cum(baseline * total),
        carrier_cum=cum(carrier * total),
        expected_rr=expected_rr,
        family_history_rr=fh_rr,
    )


def _invert(cum: np.ndarray, ages: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Age at which a cumulative hazard reaches ``target`` (inf beyond the grid)."""
    age = np.interp(target, cum, ages)
    return np.where(target > cum[-1], NO_EVENT, age)


def draw_natural_history(s: Scenario, hm: HazardModel, c: Cohort, seed: int, block: int) -> NaturalHistory:
    """Draw death, cancer and calcification histories for one block of women."""
    n = c.n
    co, ca, cal = s.cohort, s.cancer, s.calcifications
    start = co.model_start_age_years

    # other-cause death (Gompertz, inverted exactly)
    e = exponentials(seed, "history.death", block, n)
    b, h50 = co.mortality_gompertz_slope, co.mortality_hazard_age50
    death = 50.0 + np.log(np.exp(b * (start - 50.0)) + b * e / h50) / b

    # preclinical onset
    e = exponentials(seed, "history.onset", block, n)
    rr = relative_risk(s, c, hm.family_history_rr)
    onset = _invert(hm.baseline_cum, hm.ages, e / rr)
    for k in (1, 2):
        carrier = np.flatnonzero(c.brca == k)
        onset[carrier] = _invert(hm.carrier_cum[k - 1], hm.ages, e[carrier])
    onset = np.where(onset < death, onset, NO_EVENT)
    has = np.isfinite(onset)

    ctype = np.where(uniforms(seed, "history.cancer_type", block, n) < ca.dcis_share_of_onsets, DCIS, INVASIVE)
    ctype = np.where(has, ctype, NONE).astype(np.int8)
    mean_sojourn = np.where(
        ctype == DCIS, ca.dcis_mean_sojourn_years, mean_sojourn_years(s, np.where(has, onset, 50.0))
    )
    sojourn = exponentials(seed, "history.sojourn", block, n) * mean_sojourn
    # only a share of DCIS would ever surface clinically; the rest stays screen-detectable for life
    progressive = uniforms(seed, "history.dcis_progressive", block, n) < ca.dcis_progressive_share
    surfaces = has & ((ctype != DCIS) | progressive)
    clinical = np.where(surfaces, onset + sojourn, NO_EVENT)
    clinical = np.where(clinical < np.minimum(death, co.model_end_age_years), clinical, NO_EVENT)

    pres_table = s.tables["presentation"].set_index("cancer_type")[list(PRESENTATIONS)].to_numpy()
    pres_probs = pres_table[np.where(ctype == DCIS, 0, 1)]
    presentation = categorical_draw(uniforms(seed, "history.presentation", block, n), pres_probs)
    presentation = np.where(has, presentation, -1).astype(np.int8)
    has_calc = (presentation == CALC_ONLY) | (presentation == CALC_MASS)

    morph = s.tables["morphology"].set_index("origin")[list(MORPHOLOGIES)].to_numpy()
    dist = s.tables["distribution"].set_index("origin")[list(DISTRIBUTIONS)].to_numpy()
    row = np.where(ctype == DCIS, 1, 2)
    m_morph = categorical_draw(uniforms(seed, "history.malignant_morphology", block, n), morph[row])
    m_dist = categorical_draw(uniforms(seed, "history.malignant_distribution", block, n), dist[row])
    m_compact = uniforms(seed, "history.malignant_compact", block, n) < cal.compact_share_malignant

    b_morph = categorical_draw(uniforms(seed, "history.benign_morphology", block, n), morph[0])
    b_dist = categorical_draw(uniforms(seed, "history.benign_distribution", block, n), dist[0])
    b_compact = uniforms(seed, "history.benign_compact", block, n) < cal.compact_share_benign

    return NaturalHistory(
        death_age=death,
        onset_age=onset,
        cancer_type=ctype,
        clinical_age=clinical,
        presentation=presentation,
        malignant_morphology=np.where(has_calc, m_morph, -1).astype(np.int8),
        malignant_distribution=np.where(has_calc, m_dist, -1).astype(np.int8),
        malignant_compact=has_calc & m_compact,
        cluster_u=uniforms(seed, "history.cluster", block, n),
        nonsuspicious_u=uniforms(seed, "history.nonsuspicious", block, n),
        benign_morphology=b_morph,
        benign_distribution=b_dist,
        benign_compact=b_compact,
    )
