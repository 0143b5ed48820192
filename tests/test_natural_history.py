"""Natural history: exact baseline rescaling, relative risks, growth, DCIS, and draws against their laws."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from analysis import load_scenario
from analysis.model.calcifications import CALC_MASS, CALC_ONLY
from analysis.model.cohort import Cohort, carrier_probabilities, cumulative_risk, draw_cohort
from analysis.model.growth import diameter_mm, doubling_time_factor, median_doublings
from analysis.model.natural_history import (
    DCIS_HIGH_GRADE_SHARE,
    INVASIVE,
    LESION_INVASIVE,
    LESION_NONPROGRESSIVE_DCIS,
    NONE,
    REFERENCE_SEED,
    draw_natural_history,
    hazard_model,
    woman_hazards,
)
from analysis.model.risk import band_rate, noncarrier_family_history_rr, risk_codes
from analysis.model.streams import BLOCK_SIZE, uniforms
from analysis.scenario import PRESENTATIONS

Z = 4.0  # tolerance in standard errors for the statistical checks (two-sided p ~ 6e-5)
ALPHA = 0.001  # level of the joint chi-square tests
REFERENCE_WOMEN = 2**17  # as analysis.model.simulation
FRESH_SEED, FRESH_BLOCKS = 7, 6  # 196,608 fresh women (not the reference population)


def within(observed: float, expected: float, n: int, z: float = Z) -> bool:
    """Binomial proportion check: |p_hat - p| <= z * sqrt(p (1 - p) / n)."""
    se = np.sqrt(expected * (1 - expected) / n)
    return abs(observed - expected) <= z * se


@pytest.fixture(scope="module")
def nl():
    return load_scenario("nl-biennial", calibration=None)


@pytest.fixture(scope="module")
def reference(nl):
    return draw_cohort(nl, seed=REFERENCE_SEED, block=0, n=REFERENCE_WOMEN)


@pytest.fixture(scope="module")
def hm(nl, reference):
    return hazard_model(nl, reference)


@pytest.fixture(scope="module")
def fresh(nl, hm):
    """Fresh women's cohorts and natural histories, concatenated over blocks."""
    parts = []
    for b in range(FRESH_BLOCKS):
        c = draw_cohort(nl, FRESH_SEED, b, BLOCK_SIZE)
        parts.append((c, draw_natural_history(nl, hm, c, FRESH_SEED, b)))
    cat = lambda objs, cls: cls(  # noqa: E731
        **{
            f.name: (
                np.concatenate([getattr(o, f.name) for o in objs])
                if f.name != "onset_diameter_mm"
                else objs[0].onset_diameter_mm
            )
            for f in fields(cls)
        }
    )
    return cat([p[0] for p in parts], Cohort), cat([p[1] for p in parts], type(parts[0][1]))


def latent_clinical_age(nh) -> np.ndarray:
    """Age the invasive tumour would surface absent screening, death and model end (inf: none)."""
    return nh.invasive_onset_age + nh.sojourn_years


@pytest.mark.parametrize("name, scale", [("nl-biennial", None), ("us-annual", None), ("nl-biennial", 2.93)])
def test_baseline_rescaling_is_exact_with_depletion(name, scale):
    """In the reference population, first clinical cancers per living woman equal the table in every interval.

    ``scale`` 2.93 (a high-risk cohort) takes the solver beyond its power series (exact Newton instead)."""
    s = load_scenario(name, {} if scale is None else {"cancer.incidence_scale": scale}, calibration=None)
    ref = draw_cohort(s, seed=0, block=0, n=50_000)
    model = hazard_model(s, ref)
    wh = woman_hazards(s, model, ref, uniforms(REFERENCE_SEED, "history.cluster", 0, ref.n))
    d = np.diff(model.ages)
    events = np.mean(np.exp(-wh.cumulative[:-1]) * -np.expm1(-wh.hazard * d[:, None]), axis=1)
    table = (
        band_rate(s.tables["incidence"], "annual_incidence_per_100000", model.ages[:-1])
        / 1e5
        * s.cancer.incidence_scale
    )
    np.testing.assert_allclose(events, table * d, rtol=1e-9)
    assert model.ages[-1] == 100.0 and np.all(model.baseline > 0)
    # depletion matters: without it (mean hazard = table) the baseline would be too low at old ages
    no_depletion = np.mean(wh.hazard, axis=1)
    assert np.all(no_depletion[model.ages[:-1] >= 70] > 1.02 * table[model.ages[:-1] >= 70])
    assert (ref.brca > 0).any() and (ref.family_history == 2).any()


def test_unscreened_incidence_matches_the_table_in_fresh_women(nl, fresh):
    """Clinical invasive incidence per living woman-year, 5-year bands 35-84: joint Poisson chi-square."""
    _, nh = fresh
    end = np.minimum(nh.death_age, nl.cohort.model_end_age_years)
    lowers = np.arange(35.0, 85.0, 5.0)
    woman_years = np.array([np.clip(np.minimum(end, lo + 5) - lo, 0, None).sum() for lo in lowers])
    observed = np.array([np.sum((nh.clinical_age >= lo) & (nh.clinical_age < lo + 5)) for lo in lowers])
    expected = (
        band_rate(nl.tables["incidence"], "annual_incidence_per_100000", lowers)
        / 1e5
        * nl.cancer.incidence_scale
        * woman_years
    )
    assert np.all(observed > 0)
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    print("observed / expected by band:", np.round(observed / expected, 3), "chi2", round(chi2, 2))
    assert chi2 < stats.chi2.ppf(1 - ALPHA, df=len(lowers))


def _identical_women(n: int, density_u: float) -> Cohort:
    """Non-carriers without family history, births or breastfeeding, natural menopause at 50."""
    return Cohort(
        family_history=np.zeros(n, dtype=np.int8),
        brca=np.zeros(n, dtype=np.int8),
        births=np.zeros(n, dtype=np.int8),
        breastfeeding_months=np.zeros(n),
        natural_menopause_age=np.full(n, 50.0),
        surgical_menopause_age=np.full(n, np.inf),
        density_u=np.full(n, density_u),
    )


def _exposure(hm, nh, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Each woman's integrated baseline hazard over [start, stop) (her expected events at RR 1)."""
    lo, hi = hm.ages[:-1], hm.ages[1:]
    overlap = np.clip(np.minimum(stop[:, None], hi) - np.maximum(start[:, None], lo), 0, None)
    return overlap @ hm.baseline


def test_density_and_cluster_relative_risks(nl, hm):
    """Among otherwise identical women the hazard ratio of density d vs b is density_rr[d] and a cluster
    multiplies the hazard by cluster_rr (rates per baseline exposure, Poisson standard errors)."""
    end = nl.cohort.model_end_age_years
    rates = {}
    for label, u, block in (("b", 0.25, 0), ("d", 0.99, 1)):  # b and d at every age (density table)
        n = 2 * BLOCK_SIZE
        c = _identical_women(n, u)
        nh = draw_natural_history(nl, hm, c, seed=3, block=block)
        stop = np.minimum.reduce([nh.clinical_age, nh.death_age, np.full(n, end)])
        clust = np.minimum(nh.cluster_onset_age, stop)
        start = np.full(n, nl.cohort.model_start_age_years)
        event = np.isfinite(nh.clinical_age)
        for state, o, expo in (
            ("free", event & (nh.clinical_age < nh.cluster_onset_age), _exposure(hm, nh, start, clust)),
            ("cluster", event & (nh.clinical_age >= nh.cluster_onset_age), _exposure(hm, nh, clust, stop)),
        ):
            rates[label, state] = (int(o.sum()), float(expo.sum()))
    for (num, den), expected in (
        ((("d", "free"), ("b", "free")), nl.cancer.density_rr[3] / nl.cancer.density_rr[1]),
        ((("b", "cluster"), ("b", "free")), nl.cancer.cluster_rr),
        ((("d", "cluster"), ("d", "free")), nl.cancer.cluster_rr),
    ):
        (o1, e1), (o0, e0) = rates[num], rates[den]
        assert min(o1, o0) > 100
        log_ratio = np.log((o1 / e1) / (o0 / e0))
        print(num, den, "ratio", round(float(np.exp(log_ratio)), 3), "expected", expected)
        assert abs(log_ratio - np.log(expected)) < Z * np.sqrt(1 / o1 + 1 / o0)


def test_cluster_state_follows_the_calcification_propensity(nl, hm, fresh):
    """The cluster that raises the risk is the propensity's: present at a grid age => onset by then."""
    from analysis.model.calcifications import CalcificationPropensity
    from analysis.model.cohort import density_category

    c, nh = fresh
    props = CalcificationPropensity.of(nl, c, nh)
    ages = np.array([45.0, 52.5, 60.0, 70.0])
    codes, onset = risk_codes(nl, c, nh.cluster_u, hm.density_grid, ages)
    for j, age in enumerate(ages):
        post = c.menopause_age <= age
        density = density_category(hm.density_grid, age, post, c.density_u)
        np.testing.assert_array_equal(codes[j] % 4, density)
        present = props.cluster_present(age, post, density)
        assert present.sum() > 100
        assert np.all(nh.cluster_onset_age[present] <= age) and np.all(codes[j][present] >= 4)


def test_growth_sojourn_and_doubling_times(nl, fresh):
    """Sojourn = T log2(Dc / d0); its median (normalised to age 60) and the doubling-time percentiles."""
    _, nh = fresh
    ca = nl.cancer
    latent = latent_clinical_age(nh)
    sel = (nh.lesion == LESION_INVASIVE) & (latent < nh.death_age)  # selection on the clinical age only
    n = int(sel.sum())
    assert n > 10_000
    factor = doubling_time_factor(nl, latent[sel])
    s_norm = nh.sojourn_years[sel] / factor
    t_norm = nh.doubling_time_years[sel] / factor
    # exact median of log S = log T + log D (T log-normal, D = doublings normal), by quadrature over D
    mu_t, sd_t = np.log(ca.growth_doubling_time_median_years), ca.growth_doubling_time_log_sd
    mu_d, sd_d = median_doublings(nl), ca.clinical_diameter_log2_sd

    def cdf(x: float) -> float:
        f = lambda k: stats.norm.pdf(k, mu_d, sd_d) * stats.norm.cdf((x - mu_t - np.log(k)) / sd_t)  # noqa: E731
        return integrate.quad(f, mu_d - 10 * sd_d, mu_d + 10 * sd_d)[0]

    exact = optimize.brentq(lambda x: cdf(x) - 0.5, mu_t, mu_t + 5)
    analytic = ca.growth_doubling_time_median_years * median_doublings(nl)
    # the analytic value is the median up to the shift of E[log D] below log(median D), -sd_d^2 / (2 mu_d^2)
    assert abs(exact - np.log(analytic) + sd_d**2 / (2 * mu_d**2)) < 1e-4
    density = (cdf(exact + 1e-4) - cdf(exact - 1e-4)) / 2e-4
    se = 1 / (2 * density * np.sqrt(n))  # SE of the sample median of log S
    print("median sojourn at 60:", round(float(np.median(s_norm)), 3), "analytic", round(analytic, 3))
    print("mean sojourn of tumours surfacing before death:", round(float(nh.sojourn_years[sel].mean()), 2))
    assert abs(np.log(np.median(s_norm)) - exact) < Z * se
    for p in (0.05, 0.95):
        q = ca.growth_doubling_time_median_years * np.exp(sd_t * stats.norm.ppf(p))
        assert within(float(np.mean(t_norm < q)), p, n)
    # the configured median and spread reproduce the published percentiles (1.2 months, 6.3 years)
    assert ca.growth_doubling_time_median_years * np.exp(-sd_t * 1.6449) * 12 == pytest.approx(1.2, abs=0.05)
    assert ca.growth_doubling_time_median_years * np.exp(sd_t * 1.6449) == pytest.approx(6.3, abs=0.05)
    # the tumour has the clinical diameter at its clinical age, and grows from the onset diameter
    idx = np.flatnonzero(np.isfinite(nh.clinical_age))
    d = diameter_mm(nh.onset_diameter_mm, nh.invasive_onset_age[idx], nh.doubling_time_years[idx], nh.clinical_age[idx])
    np.testing.assert_allclose(d, nh.clinical_diameter_mm[idx], rtol=1e-9)
    onset = nh.invasive_onset_age[idx]
    assert np.all(diameter_mm(nh.onset_diameter_mm, onset, nh.doubling_time_years[idx], onset - 0.01) == 0.0)
    assert np.all(nh.clinical_diameter_mm[idx] > nh.onset_diameter_mm)
    print("clinical tumours with their onset before the model start:", round(float(np.mean(onset < 35.0)), 4))


def test_dcis_precursor_and_nonprogressive_dcis(nl, hm, fresh):
    c, nh = fresh
    ca = nl.cancer
    latent = latent_clinical_age(nh)
    sel = (nh.lesion == LESION_INVASIVE) & (latent < nh.death_age)
    has_dcis = np.isfinite(nh.dcis_onset_age[sel])
    assert within(float(has_dcis.mean()), ca.dcis_precursor_share, int(sel.sum()))
    dur = nh.invasive_onset_age[sel][has_dcis] - nh.dcis_onset_age[sel][has_dcis]
    assert np.all(dur > 0)
    assert abs(dur.mean() - ca.dcis_precursor_mean_years) < Z * ca.dcis_precursor_mean_years / np.sqrt(dur.size)
    # non-progressive DCIS: never invasive, never clinical, onset before death
    npd = nh.lesion == LESION_NONPROGRESSIVE_DCIS
    assert npd.sum() > 500
    assert np.all(np.isinf(nh.clinical_age[npd]) & np.isinf(nh.invasive_onset_age[npd]))
    assert np.all(nh.dcis_onset_age[npd] < nh.death_age[npd])
    # its onset hazard is ratio x her invasive hazard: P(onset <= 60) = 1 - exp(-ratio Lambda_i(60))
    at_risk = (nh.lesion != LESION_INVASIVE) & (nh.death_age > 60)
    cum60 = woman_hazards(nl, hm, c, nh.cluster_u).cumulative_at(60.0)[at_risk]
    p = -np.expm1(-ca.dcis_nonprogressive_ratio * cum60)
    observed = np.sum(npd[at_risk] & (nh.dcis_onset_age[at_risk] <= 60))
    assert observed > 100 and abs(observed - p.sum()) < Z * np.sqrt(np.sum(p * (1 - p)))
    # no lesion, no phase; a lesion's phase follows its onsets
    idx = np.arange(nh.lesion.size)
    ph = nh.phase(idx, 60.0)
    assert np.all(ph[nh.lesion == 0] == NONE)
    assert np.all((ph == INVASIVE) == (nh.invasive_onset_age <= 60.0))


def test_presentations_and_grade_follow_their_tables(nl, fresh):
    _, nh = fresh
    table = nl.tables["presentation"].set_index("cancer_type")
    has_dcis, has_inv = nh.dcis_presentation >= 0, nh.invasive_presentation >= 0
    assert np.array_equal(has_dcis, np.isfinite(nh.dcis_onset_age))
    assert np.array_equal(has_inv, np.isfinite(nh.invasive_onset_age))
    for pres, sel, row in ((nh.dcis_presentation, has_dcis, "dcis"), (nh.invasive_presentation, has_inv, "invasive")):
        for j, name in enumerate(PRESENTATIONS):
            assert within(float(np.mean(pres[sel] == j)), table.loc[row, name], int(sel.sum()))
    both = has_dcis & has_inv  # the two phases are drawn independently
    joint = np.mean((nh.dcis_presentation[both] == CALC_ONLY) & (nh.invasive_presentation[both] == CALC_ONLY))
    assert within(float(joint), table.loc["dcis", "calc_only"] * table.loc["invasive", "calc_only"], int(both.sum()))
    calc = (nh.dcis_presentation == CALC_ONLY) | (nh.dcis_presentation == CALC_MASS)
    assert np.array_equal(nh.dcis_morphology >= 0, calc)
    for m, p in enumerate(nl.cancer.dcis_high_grade_by_morphology):
        sel = nh.dcis_morphology == m
        assert sel.sum() > 500 and within(float(nh.dcis_high_grade[sel].mean()), p, int(sel.sum()))
    plain = has_dcis & ~calc
    assert plain.sum() > 200 and within(
        float(nh.dcis_high_grade[plain].mean()), DCIS_HIGH_GRADE_SHARE, int(plain.sum())
    )
    assert not nh.dcis_high_grade[~has_dcis].any()


def test_same_seed_and_block_reproduce_the_history(nl, hm, fresh):
    c = draw_cohort(nl, FRESH_SEED, 1, BLOCK_SIZE)
    a = draw_natural_history(nl, hm, c, FRESH_SEED, 1)
    b = draw_natural_history(nl, hm, c, FRESH_SEED, 1)
    other = draw_natural_history(nl, hm, c, FRESH_SEED, 2)
    for f in fields(a):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))
    assert not np.array_equal(a.invasive_onset_age, other.invasive_onset_age)
    # preclinical prevalence at 50: a lesion present, not yet surfaced, among women alive at 50
    _, nh = fresh
    alive = nh.death_age > 50
    pre = (nh.phase(np.arange(nh.lesion.size), 50.0) != NONE) & (nh.clinical_age > 50) & alive
    print("preclinical prevalence at 50:", round(float(pre.sum() / alive.sum()), 4))
    assert pre.sum() > 0


@pytest.mark.parametrize("name", ["nl-biennial", "us-annual"])
def test_family_history_groups_have_the_published_relative_risks(name):
    """Carriers are concentrated among women with affected relatives; the non-carrier RRs are reduced so
    that whole groups (carriers, density and clusters included) keep the published RRs at screening ages."""
    s = load_scenario(name, calibration=None)
    ref = draw_cohort(s, seed=0, block=0, n=REFERENCE_WOMEN)
    model = hazard_model(s, ref)
    wh = woman_hazards(s, model, ref, uniforms(REFERENCE_SEED, "history.cluster", 0, ref.n))
    ages = (model.ages[:-1] >= 40) & (model.ages[:-1] < 75)
    fh = np.minimum(ref.family_history, 2)
    h = np.array([wh.hazard[ages][:, fh == k].mean(axis=1) for k in (0, 1, 2)])
    for k, published in ((1, s.cancer.family_history_rr_1), (2, s.cancer.family_history_rr_2plus)):
        assert np.mean(h[k] / h[0]) == pytest.approx(published, rel=0.02)
        assert model.family_history_rr[k - 1] < published  # without the correction family history would count twice
    assert noncarrier_family_history_rr(s, ref) != model.family_history_rr  # density and clusters enter it


def test_carrier_table_reproduces_published_cumulative_risks(nl):
    brca = nl.tables["brca_incidence"]
    lo, hi = brca["age_lower"].to_numpy(), brca["age_upper"].to_numpy()
    r1 = cumulative_risk(brca["brca1_annual_hazard"].to_numpy(), lo, hi, 80.0)
    r2 = cumulative_risk(brca["brca2_annual_hazard"].to_numpy(), lo, hi, 80.0)
    # Kuchenbaecker 2017: 72% (BRCA1) and 69% (BRCA2) by age 80
    assert r1 == pytest.approx(0.72, abs=0.01)
    assert r2 == pytest.approx(0.69, abs=0.01)


def test_carrier_probabilities_preserve_prevalence_and_rise_with_family_history(nl):
    probs = carrier_probabilities(nl.cohort, nl.tables["brca_incidence"], nl.tables["incidence"])
    p = nl.cohort
    p_k = np.array(
        [
            1 - p.family_history_any_share,
            p.family_history_any_share * (1 - p.family_history_two_plus_share_of_any),
            p.family_history_any_share * p.family_history_two_plus_share_of_any,
        ]
    )
    np.testing.assert_allclose(p_k @ probs, [p.brca1_share, p.brca2_share], rtol=1e-12)
    assert np.all(np.diff(probs, axis=0) > 0)


def test_cohort_draws_match_their_parameters(nl):
    c = draw_cohort(nl, seed=11, block=0, n=200_000)
    p = nl.cohort
    assert within(np.mean(c.family_history >= 1), p.family_history_any_share, c.n)
    assert within(np.mean(c.births == 0), p.nulliparous_share, c.n)
    parous = c.births > 0
    assert within(np.mean(c.breastfeeding_months[parous] > 0), p.ever_breastfed_share_parous, int(parous.sum()))
    # mean months among parous women: gamma mean / SE from the sample
    m = c.breastfeeding_months[parous]
    assert abs(m.mean() - p.breastfeeding_mean_months_parous) < Z * m.std() / np.sqrt(m.size)
    assert abs(c.births[parous].mean() - p.mean_births_parous) < Z * c.births[parous].std() / np.sqrt(parous.sum())
    carriers = np.mean(c.brca > 0)
    assert within(carriers, p.brca1_share + p.brca2_share, c.n)


def test_death_follows_the_life_table(nl, fresh):
    """Survival from the model start to 50, 70 and 85 is the product of the table's (1 - q): binomial, 4 SE."""
    _, nh = fresh
    table = nl.tables["life_table"]
    q = table.set_index("age_lower")["probability_of_death"]
    start = int(nl.cohort.model_start_age_years)
    for age in (50, 70, 85):
        expected = float(np.prod(1 - q.loc[start : age - 1].to_numpy()))
        assert within(float(np.mean(nh.death_age > age)), expected, nh.death_age.size)
    has = nh.lesion > 0  # a lesion starts before death
    assert has.sum() > 1000
    assert np.all(np.minimum(nh.dcis_onset_age, nh.invasive_onset_age)[has] < nh.death_age[has])
