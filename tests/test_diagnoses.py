"""Diagnoses and incidence: the unscreened counterfactual, woman-time, Poisson intervals, blocking."""

from __future__ import annotations

from dataclasses import fields
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import load_scenario
from analysis.errors import ArgumentError
from analysis.model.diagnoses import (
    CLINICAL,
    MONTHS_PER_YEAR,
    NOT_DIAGNOSED,
    RATE_MEASURES,
    SCREEN_DETECTED,
    Diagnoses,
    count_incidence,
    exit_months,
    first_diagnoses,
    woman_strata,
)
from analysis.model.measures import MEASURE_NAMES
from analysis.model.results import estimates_from_counts, garwood
from analysis.model.simulation import build_model, run_block, simulate
from analysis.model.streams import BLOCK_SIZE
from analysis.scaleout.tasks import simulate_chunk

INCIDENCE = tuple(RATE_MEASURES)
SCREENING_AGES = [f"age_group={a}-{a + 4}" for a in range(50, 75, 5)]


@pytest.fixture(scope="module")
def nl():
    """nl-biennial at its prior values (the properties tested here do not depend on the calibration)."""
    return load_scenario("nl-biennial", calibration=None)


@pytest.fixture(scope="module")
def nl_model(nl):
    return build_model(nl)


@pytest.fixture(scope="module")
def blocks(nl_model):
    """Block 1 of seed 2026 (20,000 women), with and without screening."""
    return (
        run_block(nl_model, 2026, 1, 20_000, screening=True),
        run_block(nl_model, 2026, 1, 20_000, screening=False),
    )


def _incidence(counts: pd.DataFrame) -> pd.DataFrame:
    return counts[counts["measure"].isin(INCIDENCE)].reset_index(drop=True)


# ----------------------------------------------------------------------------- common random numbers
def test_same_women_and_natural_history_with_and_without_screening(blocks):
    screened, unscreened = blocks
    for f in fields(screened.cohort):
        np.testing.assert_array_equal(getattr(screened.cohort, f.name), getattr(unscreened.cohort, f.name))
    for f in fields(screened.history):
        np.testing.assert_array_equal(getattr(screened.history, f.name), getattr(unscreened.history, f.name))
    assert len(unscreened.screens["recalled"]) == 0 and len(screened.screens["recalled"]) > 10_000


def test_unscreened_diagnoses_are_the_clinical_ones_and_screening_only_moves_the_detected(blocks):
    screened, unscreened = blocks
    u, s = unscreened.diagnoses, screened.diagnoses
    assert set(np.unique(u.mode)) <= {NOT_DIAGNOSED, CLINICAL}
    clinical = np.isfinite(unscreened.history.clinical_age)
    np.testing.assert_array_equal(np.isfinite(u.age), clinical)
    np.testing.assert_array_equal(u.age[clinical], unscreened.history.clinical_age[clinical])
    detected = s.mode == SCREEN_DETECTED
    assert detected.sum() > 50 and (s.mode == CLINICAL).sum() > 50
    # women not screen-detected are diagnosed as without screening; the detected, before they would surface
    np.testing.assert_array_equal(s.age[~detected], u.age[~detected])
    assert np.all(s.age[detected] < unscreened.history.clinical_age[detected])
    # a diameter for every invasive diagnosis; a screen-detected tumour that would have surfaced (before death
    # and the model end) is smaller than it would have surfaced at
    for d in (s, u):
        assert np.isfinite(d.diameter_mm[d.type == 2]).all() and np.isnan(d.diameter_mm[d.type != 2]).all()
    small = detected & (s.type == 2) & (u.type == 2)
    assert small.sum() > 50 and np.all(s.diameter_mm[small] < u.diameter_mm[small])


def test_unscreened_run_counts_no_screens(nl, nl_model):
    r = simulate(nl, women=5_000, seed=3, by=["age_group"], model=nl_model, screening=False)
    c = r.counts
    screens = c[c["measure"].isin(MEASURE_NAMES)]
    assert len(screens) > 0 and (screens["n"] == 0).all() and (screens["numerator"] == 0).all()
    e = r.estimates()
    assert e[e["measure"].isin(MEASURE_NAMES)]["estimate"].isna().all()
    inc = e[(e["measure"] == "invasive_incidence_per_100000") & (e["stratum"] == "all")].iloc[0]
    assert inc["numerator_count"] > 50 and np.isfinite(inc["estimate"])
    assert r.meta["screening"] is False
    assert simulate(nl, women=5_000, seed=3, model=nl_model).meta["screening"] is True


def test_screening_must_be_a_bool(nl, nl_model):
    with pytest.raises(ArgumentError, match="screening"):
        simulate(nl, women=100, seed=1, model=nl_model, screening="no")


# ----------------------------------------------------------------------------- woman-time and events
def test_woman_months_are_the_exact_follow_up_and_events_are_women(nl, blocks):
    screened, _ = blocks
    co = nl.cohort
    start_m = round(co.model_start_age_years * MONTHS_PER_YEAR)
    counts = _incidence(screened.counts(nl, (("age_group",),)))
    overall = counts[counts["stratum"] == "all"].set_index("measure")
    months = int(np.sum(exit_months(screened.history.death_age, co.model_end_age_years) - start_m))
    assert (overall["n"] == months).all()
    exact = float(np.sum(np.minimum(screened.history.death_age, co.model_end_age_years) - co.model_start_age_years))
    assert abs(months / MONTHS_PER_YEAR - exact) <= screened.cohort.n / (2 * MONTHS_PER_YEAR)  # half a month each
    bands = counts[counts["stratum"] != "all"].groupby("measure")[["numerator", "n"]].sum()
    pd.testing.assert_frame_equal(bands.loc[list(INCIDENCE)], overall.loc[list(INCIDENCE), ["numerator", "n"]])
    # each diagnosed woman is counted once, and the screen-detected are the women of the detecting screens
    d = screened.diagnoses
    assert int(overall["numerator"].sum()) == int(np.isfinite(d.age).sum()) == int((d.mode != NOT_DIAGNOSED).sum())
    f = screened.screens
    detecting = f["woman"][f["screen_detected"]] - BLOCK_SIZE
    assert len(detecting) == len(np.unique(detecting)) > 50
    np.testing.assert_array_equal(np.sort(detecting), np.flatnonzero(d.mode == SCREEN_DETECTED))


def test_count_incidence_on_three_known_women():
    start, end = 35.0, 85.0
    # A dies at 37 (24 months, invasive at 36.5); B outlives the model (600 months, DCIS at 60.2);
    # C dies at 52.51 (630.12 -> 630 months from birth: 60 + 60 + 60 + 30 in the first four bands)
    death = np.array([37.0, 90.0, 52.51])
    d = Diagnoses(
        age=np.array([36.5, 60.2, np.inf]),
        type=np.array([2, 1, 0], np.int8),
        diameter_mm=np.array([15.0, np.nan, np.nan]),
        mode=np.array([CLINICAL, SCREEN_DETECTED, NOT_DIAGNOSED], np.int8),
    )
    strata = {
        "family_history": np.zeros(3, np.int8),
        "brca": np.array([1, 0, 0], np.int8),
        "births": np.zeros(3, np.int8),
        "breastfeeding_months": np.zeros(3),
    }
    by = (("age_group",), ("brca",), ("brca", "age_group"), ("density",))
    c = count_incidence(d, strata, death, start, end, by).set_index(["measure", "stratum"])
    inv, dcis = "invasive_incidence_per_100000", "dcis_incidence_per_100000"
    assert c.loc[(inv, "all"), "n"] == c.loc[(dcis, "all"), "n"] == 24 + 600 + 210
    assert c.loc[(inv, "all"), "numerator"] == c.loc[(dcis, "all"), "numerator"] == 1
    months = [144, 120, 120, 90, 60, 60, 60, 60, 60, 60]
    assert c.loc[inv].loc[[f"age_group={a}-{a + 4}" for a in range(35, 85, 5)], "n"].tolist() == months
    assert c.loc[(inv, "age_group=35-39"), "numerator"] == 1 and c.loc[(dcis, "age_group=60-64"), "numerator"] == 1
    assert c.loc[(inv, "brca=BRCA1"), "n"] == 24 and c.loc[(inv, "brca=BRCA1"), "numerator"] == 1
    assert c.loc[(dcis, "brca=non-carrier"), "numerator"] == 1 and c.loc[(inv, "brca=non-carrier"), "n"] == 810
    assert c.loc[(inv, "brca=BRCA1; age_group=35-39"), "n"] == 24
    assert not c.index.get_level_values("stratum").str.contains("density").any()
    assert c["numerator"].dtype == np.int64 and c["n"].dtype == np.int64


def test_first_diagnosis_is_the_earlier_of_screen_and_clinic_before_death_and_end():
    nh = SimpleNamespace(
        death_age=np.array([80.0, 80.0, 70.0, 90.0, 90.0]),
        clinical_age=np.array([60.0, 60.0, np.inf, np.inf, np.inf]),
        clinical_diameter_mm=np.array([21.0, 25.0, np.nan, np.nan, np.nan]),
    )
    outcome = SimpleNamespace(
        detected_age=np.array([56.0, np.inf, 72.0, 86.0, 66.0]),  # the 3rd after her death, the 4th after the end
        detected_type=np.array([1, 0, 2, 2, 2], np.int8),
        detected_diameter_mm=np.array([np.nan, np.nan, 9.0, 9.0, 11.0]),
    )
    d = first_diagnoses(nh, 85.0, outcome)
    np.testing.assert_array_equal(d.age, [56.0, 60.0, np.inf, np.inf, 66.0])
    np.testing.assert_array_equal(d.type, [1, 2, 0, 0, 2])
    np.testing.assert_array_equal(d.mode, [SCREEN_DETECTED, CLINICAL, NOT_DIAGNOSED, NOT_DIAGNOSED, SCREEN_DETECTED])
    np.testing.assert_array_equal(d.diameter_mm, [np.nan, 25.0, np.nan, np.nan, 11.0])
    u = first_diagnoses(nh, 85.0)
    np.testing.assert_array_equal(u.age, [60.0, 60.0, np.inf, np.inf, np.inf])
    np.testing.assert_array_equal(u.diameter_mm, [21.0, 25.0, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(u.type, [2, 2, 0, 0, 0])
    assert woman_strata(None)["brca"].size == 0


# ----------------------------------------------------------------------------- blocking and workers
def test_incidence_counts_do_not_depend_on_blocks_or_groupings(nl, nl_model):
    women, seed = BLOCK_SIZE + 3_000, 17
    groups = [["age_group"], ["brca", "age_group"], ["density"]]
    whole = simulate(nl, women, seed, by=groups, model=nl_model).counts
    parts = [simulate(nl, women, seed, by=groups, blocks=[b], model=nl_model).counts for b in (0, 1)]
    summed = parts[0].copy()
    summed[["numerator", "n"]] = parts[0][["numerator", "n"]].to_numpy() + parts[1][["numerator", "n"]].to_numpy()
    pd.testing.assert_frame_equal(summed, whole)
    inc = _incidence(whole)
    assert not inc["stratum"].str.contains("density").any()
    plain = _incidence(simulate(nl, women, seed, model=nl_model).counts)
    pd.testing.assert_frame_equal(inc[inc["stratum"] == "all"].reset_index(drop=True), plain)
    for prefix in ("age_group=", "brca="):
        cross = inc[inc["stratum"].str.startswith(prefix)].groupby("measure")[["numerator", "n"]].sum()
        pd.testing.assert_frame_equal(cross.loc[list(INCIDENCE)], plain.set_index("measure")[["numerator", "n"]])
    assert plain["numerator"].sum() > 100


def test_worker_chunks_without_screening_add_up_to_the_serial_run(nl, nl_model):
    women, seed, by = BLOCK_SIZE + 3_000, 5, (("age_group",),)
    serial = simulate(nl, women, seed, by=by, model=nl_model, screening=False)
    chunks = [simulate_chunk("test-token", nl, women, seed, by, None, [b], False) for b in (0, 1)]
    total = chunks[0].copy()
    total[["numerator", "n"]] = chunks[0][["numerator", "n"]].to_numpy() + chunks[1][["numerator", "n"]].to_numpy()
    pd.testing.assert_frame_equal(total, serial.counts)


@pytest.mark.slow
def test_dask_run_without_screening_equals_serial(nl):
    from analysis.scaleout import dask_client, simulate_distributed

    women, seed = BLOCK_SIZE + 3_000, 5
    serial = simulate(nl, women, seed, by=["age_group"], screening=False)
    with dask_client(workers=2) as client:
        res = simulate_distributed(client, nl, women, seed, by=["age_group"], chunk_blocks=1, screening=False)
    pd.testing.assert_frame_equal(res.counts, serial.counts)
    assert res.meta == serial.meta and res.meta["screening"] is False


# ----------------------------------------------------------------------------- screening moves diagnoses
def test_screening_raises_incidence_at_screening_ages(nl, nl_model):
    """Over 50-74 the screened run diagnoses more (lead time, DCIS) than the same women unscreened.

    Conditional on the total ``S + U``, equal expected counts would make ``S`` Binomial(S + U, 1/2) for
    independent Poisson counts; the two runs share their women (positively correlated counts, a smaller
    variance of ``S - U``), so the test is conservative. Alpha 1e-6, one-sided.
    """
    women, seed = 2 * BLOCK_SIZE, 31
    runs = [simulate(nl, women, seed, by=["age_group"], model=nl_model, screening=s) for s in (True, False)]
    events = []
    for r in runs:
        c = _incidence(r.counts)
        window = c[c["stratum"].isin(SCREENING_AGES)]
        events.append(window.groupby("measure")["numerator"].sum())
    # the same woman-time in both runs (deaths do not depend on screening)
    pd.testing.assert_series_equal(_incidence(runs[0].counts)["n"], _incidence(runs[1].counts)["n"], check_names=False)
    screened, unscreened = (int(e.sum()) for e in events)
    assert unscreened > 1_000
    assert stats.binomtest(screened, screened + unscreened, 0.5, alternative="greater").pvalue < 1e-6
    assert events[1]["dcis_incidence_per_100000"] == 0  # DCIS never surfaces clinically
    assert events[0]["dcis_incidence_per_100000"] >= 30


# ----------------------------------------------------------------------------- the Poisson interval
def test_garwood_interval_known_values():
    est, lo, hi = garwood(np.array([0, 10, 10, 3]), np.array([1.0, 1.0, 1000.0, 0.0]))
    assert lo[0] == 0.0 and hi[0] == pytest.approx(-np.log(0.025), rel=1e-12)  # 3.689: P(0 events) = 2.5%
    assert (lo[1], hi[1]) == pytest.approx((stats.chi2.ppf(0.025, 20) / 2, stats.chi2.ppf(0.975, 22) / 2), rel=1e-12)
    assert (round(lo[1], 2), round(hi[1], 2)) == (4.80, 18.39)  # the published table (Garwood 1936)
    assert (est[2], lo[2], hi[2]) == pytest.approx((0.01, lo[1] / 1000, hi[1] / 1000), rel=1e-12)
    assert np.isnan([est[3], lo[3], hi[3]]).all()


def test_garwood_interval_covers_at_least_95_percent():
    mus = np.linspace(0.05, 40.0, 400)
    k = np.arange(200)
    _, lo, hi = garwood(k, np.ones_like(k, dtype=float))
    cover = np.array([stats.poisson.pmf(k, mu)[(lo <= mu) & (mu <= hi)].sum() for mu in mus])
    assert cover.min() >= 0.95 - 1e-9
    assert cover.mean() < 0.99  # exact, not absurdly wide


def test_rate_rows_of_an_estimates_table():
    counts = pd.DataFrame(
        {
            "stratum": ["all", "all", "all"],
            "measure": ["invasive_incidence_per_100000", "dcis_incidence_per_100000", "recall_rate"],
            "numerator": np.array([10, 0, 5], np.int64),
            "n": np.array([12_000, 12_000, 100], np.int64),
        }
    )
    e = estimates_from_counts(counts, woman_time_ages=(35.0, 85.0)).set_index("measure")
    inv = e.loc["invasive_incidence_per_100000"]
    assert inv["estimate"] == pytest.approx(1000.0) and inv["lower"] == pytest.approx(
        stats.chi2.ppf(0.025, 20) / 2 * 100
    )
    assert inv["unit"] == "per 100,000 woman-years" and inv["interval"] == "poisson95"
    assert inv["denominator_count"] == 12_000 and "ages 35-85" in inv["denominator_label"]
    assert e.loc["dcis_incidence_per_100000", "estimate"] == 0.0
    assert e.loc["recall_rate", "interval"] == "wilson95" and e.loc["recall_rate", "estimate"] == pytest.approx(0.05)


# ----------------------------------------------------------------------------- end to end: the input table
def test_unscreened_incidence_reproduces_the_input_table_in_every_age_band(nl, nl_model):
    """Without screening, invasive incidence per woman-year is the scenario's (clinical) incidence table.

    Under that hypothesis the band counts are Poisson with mean rate x woman-years (one diagnosis per woman
    makes them slightly under-dispersed: conservative); joint chi-square over the 10 bands at alpha 1e-3.
    """
    r = simulate(nl, 200_000, 404, by=["age_group"], model=nl_model, screening=False)
    c = _incidence(r.counts)
    c = c[(c["measure"] == "invasive_incidence_per_100000") & (c["stratum"] != "all")]
    table = nl.tables["incidence"]
    lower = np.array([int(s.split("=")[1].split("-")[0]) for s in c["stratum"]])
    rate = table["annual_incidence_per_100000"].to_numpy()[np.searchsorted(table["age_lower"], lower, side="right") - 1]
    expected = nl.cancer.incidence_scale * rate / 1e5 * c["n"].to_numpy() / MONTHS_PER_YEAR
    observed = c["numerator"].to_numpy()
    assert len(observed) == 10 and observed.min() > 300
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2 < stats.chi2.ppf(1 - 1e-3, len(observed)), (observed, expected.round(1))
