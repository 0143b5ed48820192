"""Reading for the right reasons: benign findings with a history, false positives by age and woman,
size-based sensitivity, and DCIS found before it becomes invasive (docs/model.md §5, §4).

Each test checks a property of the mechanism against the expectation computed from the scenario's
parameters, with a tolerance of four standard errors (or a stated binomial bound), on a fixed seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from analysis.model.natural_history import DCIS, INVASIVE, draw_natural_history
from analysis.model.reading import REFERENCE_DIAMETER_MM, reading_logits
from analysis.model.simulation import build_model, simulate
from analysis.scenario import load_scenario
from analysis.scenario.codings import CALC_MORPHOLOGY, DENSITY

WOMEN = 60_000
SEED = 11


@pytest.fixture(scope="module")
def nl():
    return load_scenario("nl-biennial", calibration=None)


@pytest.fixture(scope="module")
def flat(nl):
    """No woman-level benign propensity: every benign recall probability is known exactly per screen."""
    return nl.replace({"reading.benign_propensity_logit_sd": 0.0})


@pytest.fixture(scope="module")
def flat_screens(flat):
    return simulate(flat, women=WOMEN, seed=SEED, keep_screens=True).screens


def _programme_p(logits: np.ndarray, readers: int) -> np.ndarray:
    return 1 - (1 - expit(logits)) ** readers


def _check(observed: int, p: np.ndarray, label: str, minimum: int = 30) -> None:
    expected, var = float(p.sum()), float((p * (1 - p)).sum())
    assert observed >= minimum, (label, observed)
    assert abs(observed - expected) <= 4 * np.sqrt(var), (label, observed, expected)


def _cells(sub):
    return DENSITY.codes(sub["density"]), (~sub["first_round"]).to_numpy().astype(int)


def test_known_benign_clusters_are_read_with_their_own_lower_odds(flat, flat_screens):
    """A cluster seen on a prior screen is recalled at the known-cluster rate, a new one at the new rate."""
    s = flat_screens
    lg = reading_logits(flat)
    states = {"calc_benign_cluster": 1, "calc_known_benign_cluster": 2}
    morph_lor = np.log(np.asarray(flat.reading.morphology_odds_ratio))
    age_lor = np.log(flat.reading.benign_recall_or_per_decade)
    benign = s["benign_cluster"] & ~s["malignant_calc"]
    rates = {}
    for name, known in (("calc_benign_cluster", False), ("calc_known_benign_cluster", True)):
        sub = s[benign & (s["known_benign_cluster"] == known)]
        d, r = _cells(sub)
        logits = (
            lg[states[name], d, r]
            + morph_lor[CALC_MORPHOLOGY.codes(sub["calc_morphology"])]
            + age_lor * (sub["age_years"].to_numpy() - 50.0) / 10.0
        )
        _check(int(sub["recall_calc"].sum()), _programme_p(logits, flat.reading.readers), name)
        rates[name] = sub["recall_calc"].mean()
    assert rates["calc_known_benign_cluster"] < rates["calc_benign_cluster"]
    # a known cluster is only ever known at a subsequent screen
    assert not (s["known_benign_cluster"] & s["first_round"]).any()


def test_benign_recall_falls_with_age_as_configured(flat, flat_screens):
    """Women with no calcification and no lesion: recall follows the table plus the age term, at every age."""
    s = flat_screens
    sel = ~s["cancer_present"] & ~s["benign_cluster"] & ~s["nonsuspicious_calc"]
    lg = reading_logits(flat)[4]  # other_benign: (density, round)
    age_lor = np.log(flat.reading.benign_recall_or_per_decade)
    for lo, hi in ((50, 56), (56, 64), (64, 75)):
        sub = s[sel & s["age_years"].between(lo, hi - 1e-9)]
        d, r = _cells(sub)
        p = _programme_p(lg[d, r] + age_lor * (sub["age_years"].to_numpy() - 50.0) / 10.0, flat.reading.readers)
        _check(int(sub["recalled"].sum()), p, f"ages {lo}-{hi}", minimum=100)


def test_woman_level_propensity_makes_false_positives_cluster_in_women(nl, flat):
    """With a benign propensity a woman recalled falsely once is more likely to be recalled falsely again."""

    def repeat_ratio(scenario) -> tuple[float, float, int, int]:
        # power: the difference of differences (~0.02) has an SE of ~0.006 at 60,000 women; 180,000 give ~0.0034
        s = simulate(scenario, women=3 * WOMEN, seed=SEED, keep_screens=True).screens
        s = s[~s["cancer_present"]]
        first_two = s[s.groupby("woman").cumcount() < 2]
        k = first_two.groupby("woman")["false_positive"].agg(["size", "first", "last"])
        k = k[k["size"] == 2]
        after_fp = k.loc[k["first"], "last"]
        after_no = k.loc[~k["first"], "last"]
        return after_fp.mean(), after_no.mean(), len(after_fp), len(after_no)

    p1, p0, n1, n0 = repeat_ratio(nl)
    assert n1 > 200
    se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    assert p1 - p0 > 4 * se, (p1, p0)
    q1, q0, m1, m0 = repeat_ratio(flat)
    se = np.sqrt(q1 * (1 - q1) / m1 + q0 * (1 - q0) / m0)
    # without the propensity the dependence left is the persistence of clusters: far weaker
    assert (p1 - p0) - (q1 - q0) > 4 * np.sqrt(se**2 + (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0))


def test_invasive_recall_rises_with_tumour_size(flat, flat_screens):
    """Invasive masses are recalled with the size term: the programme logit plus the slope per mm from 10 mm."""
    s = flat_screens
    lg = reading_logits(flat)
    mass = s["cancer_present"] & (s["cancer_type"] == "invasive") & s["presentation"].isin(["mass", "other"])
    sub = s[mass]
    d, r = _cells(sub)
    state = np.where(sub["presentation"].to_numpy() == "mass", 5, 6)
    size = flat.reading.size_logit_slope_per_mm * (sub["tumour_diameter_mm"].to_numpy() - REFERENCE_DIAMETER_MM)
    # the size term shifts the programme-level logit (after the readers are combined)
    p = expit(logit(_programme_p(lg[state, d, r], flat.reading.readers)) + size)
    _check(int(sub["recall_other"].sum()), p, "invasive masses")
    small = sub["tumour_diameter_mm"] < 5
    large = sub["tumour_diameter_mm"] >= 10
    assert small.sum() > 30 and large.sum() > 30
    assert sub.loc[small, "recall_other"].mean() < sub.loc[large, "recall_other"].mean()


def test_screen_detected_dcis_is_the_diagnosis_and_prevents_the_invasive_cancer(nl):
    """A DCIS found by screening is the woman's diagnosis: she is not screened again, and a precursor DCIS
    found in time never becomes the invasive cancer it would have surfaced as."""
    from analysis.model.diagnoses import CLINICAL, SCREEN_DETECTED, first_diagnoses
    from analysis.model.programme import run_programme

    model = build_model(nl)
    c = model.cohort(SEED, 0, 32_768)
    nh = draw_natural_history(nl, model.hazards, c, SEED, 0)
    out = run_programme(nl, c, nh, SEED, 0, model.density_grid)
    d = first_diagnoses(nh, nl.cohort.model_end_age_years, out)
    dcis = (d.mode == SCREEN_DETECTED) & (d.type == DCIS)
    precursor = dcis & np.isfinite(nh.invasive_onset_age) & np.isfinite(nh.clinical_age)
    assert dcis.sum() > 20 and precursor.sum() > 5
    # their invasive cancers would have surfaced later: found as DCIS, they are not clinical diagnoses
    assert np.all(nh.clinical_age[precursor] > out.detected_age[precursor])
    assert not np.any(d.mode[precursor] == CLINICAL)
    s = out.screens
    women = np.flatnonzero(dcis)
    later = np.isin(s["woman"], women) & (s["age_years"] > out.detected_age[s["woman"]])
    assert not later.any()
    inv = (d.mode == SCREEN_DETECTED) & (d.type == INVASIVE)
    assert inv.sum() > 20 and np.all(d.diameter_mm[inv] > 0)


def test_first_screen_term_applies_to_first_screens_only(flat):
    """With first_screen_benign_or = 2 benign recall rises at first screens and is unchanged at later ones."""
    base = simulate(flat, women=WOMEN, seed=SEED, keep_screens=True).screens
    more = simulate(
        flat.replace({"reading.first_screen_benign_or": 2.0}), women=WOMEN, seed=SEED, keep_screens=True
    ).screens
    benign = lambda s: ~s["cancer_present"] & ~s["benign_cluster"] & ~s["nonsuspicious_calc"]  # noqa: E731
    a, b = base[benign(base) & base["first_round"]], more[benign(more) & more["first_round"]]
    assert len(a) == len(b) and len(a) > 10_000  # same women, same first screens (common random numbers)
    assert b["recalled"].sum() > a["recalled"].sum()
    assert not (a["recalled"].to_numpy() & ~b["recalled"].to_numpy()).any()  # a superset: same draws, higher p
    # a benign recall removes nobody, so every later screen is the same screen, read with the same draws
    x, y = base[~base["first_round"]], more[~more["first_round"]]
    assert len(x) > 10_000
    np.testing.assert_array_equal(x["woman"].to_numpy(), y["woman"].to_numpy())
    np.testing.assert_array_equal(x["recalled"].to_numpy(), y["recalled"].to_numpy())


def test_cancer_type_at_the_screen_is_the_lesion_phase(flat, flat_screens):
    s = flat_screens
    present = s[s["cancer_present"]]
    assert set(present["cancer_type"].astype(str)) <= {"DCIS", "invasive"}
    assert present["tumour_diameter_mm"].isna().eq(present["cancer_type"] == "DCIS").all()
    assert DCIS == 1 and INVASIVE == 2
