"""The simulator: invariants, reproducibility, common random numbers, configured truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from analysis import load_scenario
from analysis.model.cohort import draw_cohort
from analysis.model.natural_history import draw_natural_history
from analysis.model.programme import reading_logits, reading_table, run_programme, schedule
from analysis.model.results import MEASURE_NAMES, SCREEN_COLUMNS
from analysis.model.simulation import build_model, screens_frame, simulate
from analysis.model.streams import BLOCK_SIZE
from analysis.scenario.codings import CODINGS, DENSITY

WOMEN = BLOCK_SIZE + 7_000  # two blocks, the second partial


@pytest.fixture(scope="module")
def nl():
    return load_scenario("nl-biennial")


@pytest.fixture(scope="module")
def nl_model(nl):
    return build_model(nl)


@pytest.fixture(scope="module")
def run(nl, nl_model):
    return simulate(nl, women=WOMEN, seed=42, keep_screens=True, model=nl_model)


@pytest.fixture(scope="module")
def block(nl, nl_model):
    """One block with its cohort and natural history, for checks that need hidden truth."""
    seed, b, n = 9, 1, 20_000
    c = draw_cohort(nl, seed, b, n)
    nh = draw_natural_history(nl, nl_model.hazards, c, seed, b)
    f = run_programme(nl, c, nh, seed, b, nl_model.density_grid, first_woman=b * BLOCK_SIZE).screens
    return c, nh, pd.DataFrame(f)


# ----------------------------------------------------------------------------- invariants
def test_screens_table_has_documented_columns(run):
    assert list(run.screens.columns) == list(SCREEN_COLUMNS)
    assert len(run.screens) > 0


def test_events_the_invariants_rely_on_happened(run):
    s = run.screens
    for col in (
        "recalled",
        "recall_calc",
        "calc_only_recall",
        "biopsy",
        "screen_detected",
        "interval_cancer",
        "false_positive",
        "benign_cluster",
        "malignant_calc",
        "cfp_eligible",
    ):
        assert s[col].sum() > 0, col
    assert (s["pathology"] == "dcis").sum() > 0 and (s["pathology"] == "invasive").sum() > 0
    assert (s["pathology"] == "high_risk").sum() > 0 and (s["biopsy_method"] == "surgical").sum() > 0


def test_cascade_nesting(run):
    s = run.screens
    assert not (s["biopsy"] & ~s["recalled"]).any()  # biopsied ⊆ recalled
    assert not (s["screen_detected"] & ~s["biopsy"]).any()  # detected ⊆ biopsied
    assert not (s["screen_detected"] & ~s["cancer_present"]).any()
    assert not (s["calc_only_recall"] & ~s["recall_calc"]).any()
    assert (s["recalled"] == (s["recall_calc"] | s["recall_other"])).all()
    assert not (s["screen_detected"] & s["interval_cancer"]).any()
    assert (s["pathology"].isin(["dcis", "invasive"]) == s["screen_detected"]).all()
    assert ((s["biopsy_method"] != "none") == s["biopsy"]).all()
    assert not (s["false_positive"] & (s["screen_detected"] | s["interval_cancer"])).any()
    assert not (s["malignant_calc"] & ~s["cancer_present"]).any()


def test_each_woman_screened_in_order_and_not_after_detection(run):
    s = run.screens.sort_values(["woman", "round_index"], kind="stable")
    g = s.groupby("woman", sort=False)
    assert (g["round_index"].diff().dropna() > 0).all()
    assert (g["first_round"].sum() == 1).all()
    assert s.loc[g["round_index"].idxmin(), "first_round"].all()
    last = g["round_index"].transform("max")
    assert (s.loc[s["screen_detected"], "round_index"] == last[s["screen_detected"]]).all()
    assert (g["screen_detected"].sum() <= 1).all()
    assert set(s["age_years"].unique()) <= set(schedule(load_scenario("nl-biennial")).astype(np.float32))


def test_no_screens_after_death_or_clinical_diagnosis_and_detection_after_onset(block):
    c, nh, f = block
    i = f["woman"].to_numpy() - BLOCK_SIZE
    age = f["age_years"].to_numpy().astype(float)
    assert np.all(age < nh.death_age[i])
    assert np.all(age < nh.clinical_age[i])
    det = f["screen_detected"].to_numpy()
    assert det.sum() > 0
    assert np.all(np.minimum(nh.dcis_onset_age, nh.invasive_onset_age)[i[det]] <= age[det])
    ic = f["interval_cancer"].to_numpy()
    assert ic.sum() > 0
    assert np.all((nh.clinical_age[i[ic]] > age[ic]) & (nh.clinical_age[i[ic]] <= age[ic] + 2))


def test_reading_table_rows_sum_to_one_and_behave(nl):
    t = reading_table(nl)
    assert len(t) == 7 * 4 * 2
    np.testing.assert_allclose(t["p_recall_programme"] + t["p_no_recall"], 1.0)
    assert t["p_recall_programme"].between(0, 1).all()
    piv = t.set_index(["state", "density", "round"])["p_recall_single_reader"]
    # prior images lower benign recall, not malignant recall
    assert piv["other_benign", "b", "subsequent"] < piv["other_benign", "b", "first"]
    assert piv["mass_malignant", "b", "subsequent"] == piv["mass_malignant", "b", "first"]
    # sensitivity falls with density
    assert piv["mass_malignant", "d", "first"] < piv["mass_malignant", "a", "first"]
    # double reading recalls more than one reader
    assert (t["p_recall_programme"] >= t["p_recall_single_reader"] - 1e-15).all()


# ----------------------------------------------------------------------------- reproducibility
def test_same_seed_is_bit_identical(nl, nl_model, run):
    again = simulate(nl, women=WOMEN, seed=42, keep_screens=True, model=nl_model)
    pd.testing.assert_frame_equal(run.counts, again.counts)
    pd.testing.assert_frame_equal(run.screens, again.screens)
    other = simulate(nl, women=WOMEN, seed=43, model=nl_model)
    assert not run.counts["numerator"].equals(other.counts["numerator"])


def test_block_grouping_does_not_change_results(nl, nl_model, run):
    parts = [simulate(nl, women=WOMEN, seed=42, blocks=[b], model=nl_model, keep_screens=True) for b in (1, 0)]
    total = parts[0].counts.copy()
    total["numerator"] = parts[0].counts["numerator"] + parts[1].counts["numerator"]
    total["n"] = parts[0].counts["n"] + parts[1].counts["n"]
    pd.testing.assert_frame_equal(total, run.counts)
    screens = pd.concat([parts[1].screens, parts[0].screens], ignore_index=True)
    pd.testing.assert_frame_equal(screens, run.screens)


def test_adding_women_does_not_change_existing_women(nl, nl_model):
    small = simulate(nl, women=1_000, seed=3, keep_screens=True, model=nl_model).screens
    big = simulate(nl, women=3_000, seed=3, keep_screens=True, model=nl_model).screens
    pd.testing.assert_frame_equal(small, big[big["woman"] < 1_000].reset_index(drop=True))


def test_common_random_numbers_between_scenarios(nl, nl_model):
    """Same seed => same women; a higher recall threshold recalls a superset at the first round."""
    strict = nl.replace({"reading.threshold_logit_shift": 1.0})
    a = simulate(nl, women=20_000, seed=8, keep_screens=True, model=nl_model).screens
    b = simulate(strict, women=20_000, seed=8, keep_screens=True).screens
    a0, b0 = a[a["round_index"] == 0], b[b["round_index"] == 0]
    pd.testing.assert_series_equal(a0["woman"], b0["woman"])  # same attenders
    for col in ("density", "family_history", "brca", "births", "benign_cluster", "cancer_present"):
        pd.testing.assert_series_equal(a0[col], b0[col])
    ra, rb = a0["recalled"].to_numpy(), b0["recalled"].to_numpy()
    assert ra.sum() > 50 and rb.sum() > ra.sum()
    assert not (ra & ~rb).any()  # every recall at the lower threshold is a recall at the higher one


# ----------------------------------------------------------------------------- configured truth
def test_attendance_matches_configured_mixture(block, nl):
    c, nh, f = block
    first_age = nl.programme.start_age_years
    eligible = (nh.death_age > first_age) & (nh.clinical_age > first_age)
    attended = np.zeros(c.n, dtype=bool)
    attended[f.loc[f["round_index"] == 0, "woman"].to_numpy() - BLOCK_SIZE] = True
    # E[expit(logit(p) + sd Z)] by Gauss-Hermite quadrature
    x, w = np.polynomial.hermite_e.hermegauss(80)
    pg = nl.programme
    expected = float(np.sum(w * expit(logit(pg.attendance) + pg.attendance_logit_sd * x)) / np.sqrt(2 * np.pi))
    n = int(eligible.sum())
    p_hat = attended[eligible].mean()
    assert abs(p_hat - expected) <= 4 * np.sqrt(expected * (1 - expected) / n)
    assert not attended[~eligible].any()


def test_benign_recall_matches_the_reading_table(nl):
    """Screens with no calcification and no cancer are recalled at the table's other_benign rate,
    shifted by the age term and averaged over the woman-level propensity (Gauss-Hermite quadrature)."""
    s = simulate(nl, women=WOMEN, seed=42, keep_screens=True).screens
    sel = ~s["cancer_present"] & ~s["benign_cluster"] & ~s["nonsuspicious_calc"] & s["first_round"]
    lg = reading_logits(nl)[4]  # other_benign: (density, round)
    rd = nl.reading
    age = s.loc[sel, "age_years"].to_numpy()
    base = lg[DENSITY.codes(s.loc[sel, "density"]), 0] + np.log(rd.benign_recall_or_per_decade) * (age - 50) / 10
    x, w = np.polynomial.hermite_e.hermegauss(60)
    p1 = expit(base[:, None] + rd.benign_propensity_logit_sd * x[None, :])
    p = ((1 - (1 - p1) ** rd.readers) * w).sum(axis=1) / np.sqrt(2 * np.pi)
    observed = int(s.loc[sel, "recalled"].sum())  # first screens: one per woman, so independent
    expected, var = p.sum(), (p * (1 - p)).sum()
    assert observed > 100
    assert abs(observed - expected) <= 4 * np.sqrt(var)


def test_workup_of_malignant_recalls_matches_configuration(run, nl):
    s = run.screens
    w = nl.workup
    not_biopsied = 1 - w.p_biopsy_malignant
    expected = w.p_biopsy_malignant + not_biopsied * w.p_short_interval_malignant * w.p_short_interval_finds_cancer
    # recalls whose recalled finding was malignant (these presentations have a non-calcification sign)
    truly = (s["recall_calc"] & s["malignant_calc"]) | (
        s["recall_other"] & s["cancer_present"] & s["presentation"].isin(["calc_mass", "mass", "other"])
    )
    m = s[truly]
    n = len(m)
    assert n > 200
    assert abs(m["screen_detected"].mean() - expected) <= 4 * np.sqrt(expected * (1 - expected) / n)


def test_all_measures_reported_with_intervals(run):
    e = run.estimates()
    overall = e[(e["stratum"] == "all") & e["measure"].isin(MEASURE_NAMES)]
    assert list(overall["measure"]) == list(MEASURE_NAMES)
    assert (overall["denominator_count"] > 0).all()
    assert set(overall["unit"]) == {"proportion", "per 1,000 screens"}
    finite = overall.dropna(subset=["estimate"])
    assert ((finite["lower"] <= finite["estimate"]) & (finite["estimate"] <= finite["upper"])).all()


def test_stratified_counts_add_up_to_the_total(nl, nl_model):
    r = simulate(nl, women=5_000, seed=1, by=["density", "round"], model=nl_model)
    c = r.counts
    c = c[c["measure"].isin(MEASURE_NAMES)]  # screen measures (incidence is not stratified by density x round)
    total = c[c["stratum"] == "all"].set_index("measure")[["numerator", "n"]]
    strata = c[c["stratum"] != "all"].groupby("measure")[["numerator", "n"]].sum()
    pd.testing.assert_frame_equal(strata.loc[total.index], total)
    assert c["stratum"].str.contains("density=d; round=subsequent").any()


def test_screens_frame_dtypes(block):
    _, _, f = block
    df = screens_frame({k: f[k].to_numpy() for k in f})
    expected = {k: "category" if k in CODINGS else v for k, v in SCREEN_COLUMNS.items()}
    assert {k: str(v) for k, v in df.dtypes.items()} == expected
    for name, coding in CODINGS.items():  # readable labels in code order, and the codes survive the round trip
        assert list(df[name].cat.categories) == list(coding.labels)
        np.testing.assert_array_equal(coding.codes(df[name]), f[name].to_numpy())


def test_counts_only_fast_path_leaves_counts_unchanged(nl, nl_model, run):
    """The speed path (no descriptive columns) must give exactly the same counts."""
    fast = simulate(nl, women=WOMEN, seed=42, model=nl_model, by=["density", "age_group"])
    full = simulate(nl, women=WOMEN, seed=42, model=nl_model, by=["density", "age_group"], keep_screens=True)
    pd.testing.assert_frame_equal(fast.counts, full.counts)
    pd.testing.assert_frame_equal(fast.counts[fast.counts["stratum"] == "all"].reset_index(drop=True), run.counts)


def test_several_groupings_in_one_run_equal_separate_runs(nl, nl_model):
    """``by=[[...], [...]]`` counts several groupings at once, each exactly as its own run would."""
    groups = [["age_group"], ["density"], ["round", "density"]]
    both = simulate(nl, women=3_000, seed=3, by=groups, model=nl_model).counts
    for g in groups:
        alone = simulate(nl, women=3_000, seed=3, by=g, model=nl_model).counts
        prefix = "; ".join(f"{b}=" for b in g)
        keep = both["stratum"].eq("all") | both["stratum"].str.replace(r"=[^;]*", "=", regex=True).eq(prefix)
        pd.testing.assert_frame_equal(both[keep].reset_index(drop=True), alone.reset_index(drop=True))
    assert both["stratum"].str.startswith("round=").sum() > 0


def test_results_and_scenario_show_short_reprs_and_html(run, nl):
    assert len(repr(nl)) < 300 and nl.name in repr(nl) and nl.hash in repr(nl)
    assert "<table>" in nl._repr_html_() and nl.calibration_label in nl._repr_html_()
    text = repr(run)
    assert len(text) < 300 and "recall" in text and run.scenario_hash in text
    page = run._repr_html_()
    assert "calc_only_share_of_screen_detected" in page and "Wilson 95%" in page and str(run.seed) in page


def test_python_errors_name_the_argument(nl, nl_model):
    from analysis.errors import CalcsimInputError

    with pytest.raises(CalcsimInputError, match=r"^women=0: a whole number >= 1$"):
        simulate(nl, women=0, model=nl_model)
    with pytest.raises(CalcsimInputError, match=r"^seed=-1: "):
        simulate(nl, women=10, seed=-1, model=nl_model)
    with pytest.raises(CalcsimInputError, match=r"^by='dens': unknown column \(did you mean 'density'\?\)"):
        simulate(nl, women=10, by=["dens"], model=nl_model)
