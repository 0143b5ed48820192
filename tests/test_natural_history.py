"""Natural history: baseline rescaling (exact), carrier Bayes, and draws against their laws."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import load_scenario
from analysis.model.cohort import carrier_probabilities, cumulative_risk, draw_cohort
from analysis.model.natural_history import (
    DCIS,
    INVASIVE,
    _band_rate,
    draw_natural_history,
    relative_risk,
    rescaled_baseline,
)
from analysis.model.simulation import build_model
from analysis.scenario import PRESENTATIONS

Z = 4.0  # tolerance in standard errors for the statistical checks (two-sided p ~ 6e-5)


def within(observed: float, expected: float, n: int, z: float = Z) -> bool:
    """Binomial proportion check: |p_hat - p| <= z * sqrt(p (1 - p) / n)."""
    se = np.sqrt(expected * (1 - expected) / n)
    return abs(observed - expected) <= z * se


@pytest.fixture(scope="module")
def nl():
    return load_scenario("nl-biennial")


@pytest.mark.parametrize("name", ["nl-biennial", "us-annual"])
def test_baseline_rescaling_is_exact(name):
    """The reference population's average invasive hazard equals the input table at every age."""
    s = load_scenario(name)
    ref = draw_cohort(s, seed=0, block=0, n=50_000)
    ages = np.arange(35.25, 85, 0.5)
    baseline, expected_rr = rescaled_baseline(s, ref, ages)
    rr = relative_risk(s, ref)
    brca = s.tables["brca_incidence"]
    individual = np.where(
        ref.brca[:, None] == 1,
        _band_rate(brca, "brca1_annual_hazard", ages)[None, :],
        np.where(
            ref.brca[:, None] == 2,
            _band_rate(brca, "brca2_annual_hazard", ages)[None, :],
            baseline[None, :] * rr[:, None],
        ),
    )
    table = _band_rate(s.tables["incidence"], "annual_incidence_per_100000", ages) / 1e5
    np.testing.assert_allclose(individual.mean(axis=0), table, rtol=1e-12)
    # the rescaling did something: risk factors raise the average RR above 1 ... or lower it
    assert expected_rr != pytest.approx(1.0, abs=1e-3)
    assert (ref.brca > 0).any() and (ref.family_history == 2).any()


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


def test_onset_death_and_type_follow_their_laws(nl):
    model = build_model(nl)
    n = 200_000
    c = draw_cohort(nl, seed=5, block=3, n=n)
    nh = draw_natural_history(nl, model.hazards, c, seed=5, block=3)
    co = nl.cohort
    # Gompertz: P(death <= 70) from the closed form
    b, h = co.mortality_gompertz_slope, co.mortality_hazard_age50
    cum = h / b * (np.exp(b * 20) - np.exp(b * (co.model_start_age_years - 50)))
    assert within(np.mean(nh.death_age <= 70), 1 - np.exp(-cum), n)
    # onset before 60 among reference-risk non-carriers who are alive at 60
    ages = model.hazards.ages
    ref = (c.brca == 0) & (nh.death_age > 60)
    rr = relative_risk(nl, c, model.hazards.family_history_rr)
    expected = np.mean(1 - np.exp(-rr[ref] * np.interp(60.0, ages, model.hazards.baseline_cum)))
    assert within(np.mean(nh.onset_age[ref] <= 60), expected, int(ref.sum()))
    # DCIS share of onsets and the presentation table
    has = nh.cancer_type > 0
    assert has.sum() > 5000
    assert within(np.mean(nh.cancer_type[has] == DCIS), nl.cancer.dcis_share_of_onsets, int(has.sum()))
    table = nl.tables["presentation"].set_index("cancer_type")
    for ctype, row in ((DCIS, "dcis"), (INVASIVE, "invasive")):
        sel = nh.cancer_type == ctype
        for j, pres in enumerate(PRESENTATIONS):
            assert within(np.mean(nh.presentation[sel] == j), table.loc[row, pres], int(sel.sum()))
    # detection ages: clinical surfacing after onset, before death
    fin = np.isfinite(nh.clinical_age)
    assert np.all(nh.clinical_age[fin] > nh.onset_age[fin])
    assert np.all(nh.clinical_age[fin] < nh.death_age[fin])
    assert np.all(nh.onset_age[has] < nh.death_age[has])


@pytest.mark.parametrize("name", ["nl-biennial", "us-annual"])
def test_family_history_groups_have_the_published_relative_risks(name):
    """Carriers are concentrated among women with affected relatives; the non-carrier RRs are reduced so
    that whole groups (carriers included) keep the published RRs at screening ages (CGHFBC 2001)."""
    from analysis.model.natural_history import noncarrier_family_history_rr

    s = load_scenario(name, calibration=None)
    ref = draw_cohort(s, seed=0, block=0, n=131_072)
    rr_nc = noncarrier_family_history_rr(s, ref)
    ages = np.arange(40.5, 75.0, 1.0)
    baseline, _ = rescaled_baseline(s, ref, ages, rr_nc)
    brca = s.tables["brca_incidence"]
    rr = relative_risk(s, ref, rr_nc)
    hazard = np.where(
        ref.brca[:, None] == 1,
        _band_rate(brca, "brca1_annual_hazard", ages)[None, :],
        np.where(
            ref.brca[:, None] == 2,
            _band_rate(brca, "brca2_annual_hazard", ages)[None, :],
            baseline[None, :] * rr[:, None],
        ),
    )
    fh = np.minimum(ref.family_history, 2)
    h = np.array([hazard[fh == k].mean(axis=0) for k in (0, 1, 2)])
    for k, published in ((1, s.cancer.family_history_rr_1), (2, s.cancer.family_history_rr_2plus)):
        assert np.mean(h[k] / h[0]) == pytest.approx(published, rel=0.02)
        assert rr_nc[k - 1] < published  # without the correction family history would count twice
