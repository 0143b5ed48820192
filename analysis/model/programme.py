"""The screening programme: schedule, attendance, reading (a table) and work-up.

Reading is data (docs/model.md §5): :func:`reading_table` turns the scenario's reading
parameters into a table with one row per true finding state x BI-RADS density x
round type (first / subsequent) and the single-reader and programme recall
probabilities. The simulator looks recall up in that table; it is never a
constant. Each screen has two channels, read independently:

* **calcification channel** — the most suspicious calcification present:
  malignancy-associated > benign persistent cluster > benign non-suspicious;
* **other findings** — a malignant mass / distortion / asymmetry if the cancer
  presents so, otherwise the background chance of a benign non-calcification
  finding.

The recall threshold of the programme shifts every single-reader logit; the
morphology of a suspicious calcification multiplies its odds; with ``readers``
independent readers a finding is recalled when any reader recalls it. Prior
images (subsequent rounds) halve the odds of recalling a benign finding.

A recall triggered by a malignant finding leads to biopsy, short-interval
follow-up (BI-RADS 3) or clearance; benign recalls likewise with their own
probabilities. Biopsy is core needle (stereotactic for calcifications) and
surgical when the core is inconclusive; its pathology is benign, high-risk
lesion, DCIS or invasive.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from analysis.model.cohort import Cohort, density_category
from analysis.model.natural_history import CALC_MASS, CALC_ONLY, DCIS, MASS, OTHER, NaturalHistory
from analysis.model.streams import normals, uniforms
from analysis.scenario import DENSITIES, Scenario, cumulative_rounds, scheduled_rounds

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
WORKUP = ("none", "cleared", "short_interval", "biopsy")
PATHOLOGY = ("none", "benign", "high_risk", "dcis", "invasive")
BIOPSY_METHOD = ("none", "core", "surgical")


def schedule(s: Scenario) -> np.ndarray:
    """Invitation ages: start, start + interval, ... up to the stop age."""
    pg = s.programme
    return pg.start_age_years + pg.interval_years * np.arange(scheduled_rounds(pg))


def reading_logits(s: Scenario) -> np.ndarray:
    """Single-reader recall logits, shape (state, density, round), at the programme threshold.

    Calcification states are at the reference morphology (amorphous); the
    screen's morphology odds ratio is added per screen.
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


def reading_table(s: Scenario) -> pd.DataFrame:
    """The reading table: recall probability by true state x density x round.

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
                rows.append({"state": state, "density": dens, "round": rnd,
                             "p_recall_single_reader": p1, "p_recall_programme": pp,
                             "p_no_recall": 1 - pp})
    return pd.DataFrame(rows)


def _programme_p(logits: np.ndarray, readers: int) -> np.ndarray:
    """Probability that at least one of ``readers`` independent readers recalls."""
    p = expit(logits)
    if readers == 1:
        return p
    if readers == 2:
        return p * (2.0 - p)
    return 1.0 - (1.0 - p) ** readers


def screen_block(s: Scenario, c: Cohort, nh: NaturalHistory, seed: int, block: int,
                 density_grid: np.ndarray, first_woman: int = 0,
                 detail: bool = True) -> dict[str, np.ndarray]:
    """Run the programme over one block of women; return its screens as columns.

    One row per attended screen; see :data:`analysis.model.results.SCREEN_COLUMNS` for
    the columns. Women are advanced round by round (a loop over the handful of
    rounds, vectorised over women). With ``detail=False`` only the columns that
    the measures and strata need are returned (same draws, same counts; faster).
    """
    n = c.n
    pg, rd, wk, cal = s.programme, s.reading, s.workup, s.calcifications
    ages = schedule(s)
    n_cumulative = cumulative_rounds(pg)
    lg = reading_logits(s)
    # Programme recall probabilities looked up per screen (no per-screen expit):
    # calcification channel (state 0 none .. 3 malignant, morphology 0..3 or 4 = none, density, round)
    # and other-findings channel (benign, mass malignant, other malignant; density; round).
    morph_lor = np.append(np.log(np.asarray(rd.morphology_odds_ratio)), 0.0)
    calc_p = np.zeros((4, 5, 4, 2))
    calc_p[1:] = _programme_p(lg[:3, None, :, :] + morph_lor[None, :, None, None], rd.readers)
    calc_p = calc_p.ravel()
    other_p = _programme_p(lg[3:], rd.readers).ravel()

    menopause = c.menopause_age
    z = normals(seed, "programme.attendance_propensity", block, n)
    p_attend = expit(logit(pg.attendance) + pg.attendance_logit_sd * z)
    # propensities on the logit scale: present when logit(u) < the woman's log-odds of prevalence
    cluster_lu = logit(nh.cluster_u)
    nonsusp_lu = logit(nh.nonsuspicious_u)
    # a woman's cluster log-odds before and after menopause, without the age and density terms
    cluster_pre = (logit(cal.cluster_prevalence_age50)
                   + math.log(cal.cluster_or_family_history) * (c.family_history >= 1)
                   + math.log(cal.cluster_or_per_birth) * c.births)
    cluster_post = (cluster_pre + math.log(cal.cluster_or_postmenopausal)
                    + math.log(cal.cluster_or_breastfeeding_over_12_months_postmenopausal)
                    * (c.breastfeeding_months > 12.0))
    dense_lor = np.array([0.0, 0.0, 1.0, 1.0]) * math.log(cal.cluster_or_dense)  # BI-RADS c/d
    ns_base = logit(cal.nonsuspicious_prevalence_age50)

    detected_age = np.full(n, np.inf)
    n_screens = np.zeros(n, dtype=np.int16)
    any_fp = np.zeros(n, dtype=bool)
    cluster = np.zeros(n, dtype=bool)
    buf = np.empty(n)  # reused for every per-screen uniform draw
    has_calc_cancer = (nh.presentation == CALC_ONLY) | (nh.presentation == CALC_MASS)
    other_cancer_state = np.select([(nh.presentation == CALC_MASS) | (nh.presentation == MASS),
                                    nh.presentation == OTHER], [1, 2], 0).astype(np.int8)
    p_hr = (wk.p_high_risk_calc_benign_biopsy, wk.p_high_risk_other_benign_biopsy)
    p_biopsy = np.array([wk.p_biopsy_malignant, wk.p_biopsy_calc_benign, wk.p_biopsy_other_benign])
    p_short = np.array([wk.p_short_interval_malignant, wk.p_short_interval_calc_benign,
                        wk.p_short_interval_other_benign])

    cols: dict[str, list[np.ndarray]] = {}

    def put(name: str, value: np.ndarray) -> None:
        cols.setdefault(name, []).append(value)

    for k, age in enumerate(ages):
        slot = int(round(age * 12))
        alive = (nh.death_age > age) & (nh.clinical_age > age) & (detected_age > age)
        post_all = menopause <= age
        dens_all = density_category(density_grid, age, post_all, c.density_u)
        cl_logit = np.where(post_all, cluster_post, cluster_pre)
        cl_logit += dense_lor[dens_all]
        cl_logit += math.log(cal.cluster_odds_ratio_per_decade) * (age - 50.0) / 10.0
        cluster |= alive & (cluster_lu < cl_logit)

        u = uniforms(seed, "programme.attendance", block, n, slot, out=buf)
        idx = np.flatnonzero(alive & (u < p_attend))
        if idx.size == 0:
            continue
        post, dens = post_all[idx], dens_all[idx]
        first = n_screens[idx] == 0
        rnd = (~first).astype(np.intp)
        preclin = nh.onset_age[idx] <= age
        mal_calc = preclin & has_calc_cancer[idx]
        benign_cluster = cluster[idx]
        nonsusp = nonsusp_lu[idx] < (
            ns_base + math.log(cal.nonsuspicious_odds_ratio_per_decade) * (age - 50.0) / 10.0)

        # calcification channel: the most suspicious calcification present
        calc_state = np.where(mal_calc, 3, np.where(benign_cluster, 2, nonsusp.view(np.int8)))
        morph = np.where(mal_calc, nh.malignant_morphology[idx],
                         np.where(benign_cluster, nh.benign_morphology[idx], -1)).astype(np.int8)
        dr = dens.astype(np.intp) * 2 + rnd  # (density, round) cell
        cell = (calc_state.astype(np.intp) * 5 + np.where(morph < 0, 4, morph)) * 8 + dr  # no int8 overflow
        p_calc = calc_p[cell]
        u = uniforms(seed, "programme.read_calc", block, n, slot, out=buf)
        recall_calc = u[idx] < p_calc

        # other-findings channel: a malignant mass/distortion, else the benign background
        other_state = np.where(preclin, other_cancer_state[idx], 0)
        p_other = other_p[other_state.astype(np.intp) * 8 + dr]
        u = uniforms(seed, "programme.read_other", block, n, slot, out=buf)
        recall_other = u[idx] < p_other
        recalled = recall_calc | recall_other
        malignant_recall = (recall_calc & mal_calc) | (recall_other & (other_state > 0))

        # work-up, evaluated for the recalled women only (draws are still per woman: CRN)
        r = np.flatnonzero(recalled)
        ri = idx[r]
        mal_r, calc_r = malignant_recall[r], recall_calc[r]
        kind = np.where(mal_r, 0, np.where(calc_r, 1, 2))  # malignant, benign calc, benign other
        p_b, p_si = p_biopsy[kind], p_short[kind]
        u = uniforms(seed, "programme.workup", block, n, slot, out=buf)[ri]
        workup_r = np.where(u < p_b, 3, np.where(u < p_b + (1.0 - p_b) * p_si, 2, 1)).astype(np.int8)
        u = uniforms(seed, "programme.short_interval", block, n, slot, out=buf)[ri]
        si_finds = mal_r & (workup_r == 2) & (u < wk.p_short_interval_finds_cancer)
        biopsy_r = (workup_r == 3) | si_finds
        u = uniforms(seed, "programme.core_inconclusive", block, n, slot, out=buf)[ri]
        method_r = np.where(biopsy_r, np.where(u < wk.p_core_inconclusive, 2, 1), 0).astype(np.int8)
        detected_r = mal_r & biopsy_r
        u = uniforms(seed, "programme.pathology", block, n, slot, out=buf)[ri]
        high_risk = u < np.where(calc_r, p_hr[0], p_hr[1])
        dcis_r = nh.cancer_type[ri] == DCIS
        pathology_r = np.where(detected_r, np.where(dcis_r, 3, 4),
                               np.where(biopsy_r, np.where(high_risk, 2, 1), 0)).astype(np.int8)
        detected_age[ri[detected_r]] = age

        m = idx.size
        workup = np.zeros(m, dtype=np.int8)
        workup[r] = workup_r
        biopsy = np.zeros(m, dtype=bool)
        biopsy[r] = biopsy_r
        detected = np.zeros(m, dtype=bool)
        detected[r] = detected_r
        pathology = np.zeros(m, dtype=np.int8)
        pathology[r] = pathology_r

        clinical = nh.clinical_age[idx]
        interval_ca = ~detected & (clinical > age) & (clinical <= age + pg.interval_years)
        fp = recalled & ~(detected | interval_ca)
        n_screens[idx] += 1
        any_fp[idx] |= fp
        cfp_eligible = n_screens[idx] == n_cumulative

        # columns needed by the measures and the strata
        put("woman", (first_woman + idx).astype(np.int64))
        put("age_years", np.full(m, age, dtype=np.float32))
        put("first_round", first)
        put("postmenopausal", post)
        put("density", dens)
        put("family_history", c.family_history[idx])
        put("brca", c.brca[idx])
        put("births", c.births[idx])
        put("breastfeeding_months", c.breastfeeding_months[idx].astype(np.float32))
        put("any_cluster", benign_cluster | mal_calc)
        put("presentation", np.where(preclin, nh.presentation[idx], -1).astype(np.int8))
        put("recalled", recalled)
        put("recall_calc", recall_calc)
        put("calc_only_recall", recall_calc & ~recall_other)
        put("biopsy", biopsy)
        put("pathology", pathology)
        put("screen_detected", detected)
        put("interval_cancer", interval_ca)
        put("cfp_eligible", cfp_eligible)
        put("cfp_event", cfp_eligible & any_fp[idx])
        if not detail:
            continue
        # descriptive columns of the screens table
        method = np.zeros(m, dtype=np.int8)
        method[r] = method_r
        ctype = nh.cancer_type[idx]
        put("round_index", np.full(idx.size, k, dtype=np.int16))
        put("nonsuspicious_calc", nonsusp)
        put("benign_cluster", benign_cluster)
        put("malignant_calc", mal_calc)
        put("cancer_present", preclin)
        put("cancer_type", np.where(preclin, ctype, 0).astype(np.int8))
        put("calc_morphology", morph)
        put("calc_distribution", np.where(mal_calc, nh.malignant_distribution[idx], np.where(
            benign_cluster, nh.benign_distribution[idx], -1)).astype(np.int8))
        put("calc_compact", np.where(mal_calc, nh.malignant_compact[idx],
                                     benign_cluster & nh.benign_compact[idx]))
        put("recall_other", recall_other)
        put("workup", workup)
        put("biopsy_method", method)
        put("false_positive", fp)

    if not cols:
        from analysis.model.results import empty_screens
        return empty_screens()
    out = {name: np.concatenate(parts) for name, parts in cols.items()}
    if detail:
        from analysis.model.results import SCREEN_COLUMNS
        out = {name: out[name] for name in SCREEN_COLUMNS}
    return out
