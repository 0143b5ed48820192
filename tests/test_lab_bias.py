"""The cancer register of the lead-time and length-bias lab (analysis.teach.lab_bias): its truth is the model's.

One small cohort (6,000 women, seed 11, chosen before any result was seen) for every test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis import load_scenario
from analysis.errors import ArgumentError
from analysis.model.benefits import VARIABLES, comparator, strategy_outcome, woman_variables
from analysis.model.natural_history import draw_natural_history
from analysis.model.simulation import build_model
from analysis.model.survival import Survival
from analysis.stats.harms_benefits import programme_strategy
from analysis.teach.lab_bias import (
    MODES,
    REGISTER_COLUMNS,
    cancer_register,
    km_curve,
    km_survival,
    survival_by_group,
    survival_times,
)

WOMEN, SEED = 6_000, 11


@pytest.fixture(scope="module")
def model():
    return build_model(load_scenario("nl-biennial"))


@pytest.fixture(scope="module")
def reg(model):
    return cancer_register(model.scenario, WOMEN, SEED, model=model)


@pytest.fixture(scope="module")
def reg_nb(model):
    return cancer_register(model.scenario, WOMEN, SEED, no_benefit=True, model=model)


def _mode(reg: pd.DataFrame, mode: str) -> pd.DataFrame:
    return reg[reg["mode_screened"] == mode]


def test_columns_are_documented_and_the_events_happened(reg):
    assert list(reg.columns) == list(REGISTER_COLUMNS)
    assert list(reg["mode_screened"].cat.categories) == list(MODES)
    counts = reg["mode_screened"].value_counts()
    assert counts["screen-detected"] >= 20 and counts["interval"] >= 20 and counts["clinical"] >= 20
    assert reg["overdiagnosed"].sum() >= 5
    assert reg["bc_death_age_screened"].notna().sum() >= 20
    assert (reg["lesion"] == "non-progressive DCIS").sum() >= 5
    assert reg.attrs["women"] == WOMEN and reg.attrs["seed"] == SEED and 0 < reg.attrs["population"] <= WOMEN


def test_screen_detection_comes_after_onset_and_before_surfacing(reg):
    sd = _mode(reg, "screen-detected")
    prog = sd[sd["lesion"] == "progressive"]
    assert len(prog) >= 20
    assert (prog["diagnosis_age_screened"] < prog["surfacing_age"]).all()  # exactly: detection before surfacing
    assert (prog["lead_time_years"] > 0).all()
    assert np.array_equal(prog["lead_time_years"], prog["surfacing_age"] - prog["diagnosis_age_screened"])
    assert (sd["onset_age"] <= sd["diagnosis_age_screened"]).all()
    assert (sd["diagnosis_age_screened"] == sd["last_screen_age"]).all()  # found at her last screen
    nonprog = sd[sd["lesion"] == "non-progressive DCIS"]
    assert nonprog["surfacing_age"].isna().all() and nonprog["lead_time_years"].isna().all()
    assert (nonprog["type_screened"] == "DCIS").all() and nonprog["overdiagnosed"].all()
    assert (sd.loc[sd["type_screened"] == "DCIS", "diameter_mm_screened"]).isna().all()


def test_an_interval_cancer_is_diagnosed_when_it_surfaces_within_one_interval(reg):
    iv = _mode(reg, "interval")
    assert len(iv) >= 20
    assert np.array_equal(iv["diagnosis_age_screened"], iv["surfacing_age"])
    assert np.array_equal(iv["diagnosis_age_screened"], iv["diagnosis_age_unscreened"])
    since = iv["diagnosis_age_screened"] - iv["last_screen_age"]
    assert ((since > 0) & (since <= reg.attrs["interval_years"])).all()
    assert (iv["lead_time_years"] == 0).all() and not iv["overdiagnosed"].any()


def test_clinical_cancers_surface_outside_the_programme(reg):
    cl = _mode(reg, "clinical")
    assert np.array_equal(cl["diagnosis_age_screened"], cl["surfacing_age"])
    since = cl["diagnosis_age_screened"] - cl["last_screen_age"]
    assert (since.isna() | (since > reg.attrs["interval_years"])).all()
    unscreened = reg[reg["diagnosis_age_unscreened"].notna()]
    assert np.array_equal(unscreened["diagnosis_age_unscreened"], unscreened["surfacing_age"])
    assert (unscreened["surfacing_age"] < unscreened["followup_end_age"]).all()
    assert reg["overdiagnosed"].equals(reg["diagnosis_age_unscreened"].isna())  # every row is a screened diagnosis


def test_with_no_benefit_the_breast_cancer_deaths_are_the_same_in_both_worlds(reg_nb):
    s, u = reg_nb["bc_death_age_screened"], reg_nb["bc_death_age_unscreened"]
    assert s.notna().sum() >= 20
    assert s.notna().equals(u.notna())  # the same women ...
    assert np.array_equal(s[s.notna()], u[u.notna()])  # ... at the same ages
    assert reg_nb["death_age_screened"].equals(reg_nb["death_age_unscreened"])


def test_the_cure_model_never_adds_or_moves_a_death(reg, reg_nb):
    s, u = reg["bc_death_age_screened"], reg["bc_death_age_unscreened"]
    assert not (s.notna() & u.isna()).any()
    both = s.notna()
    assert np.array_equal(s[both], u[both])
    assert s.notna().sum() < u.notna().sum()  # screening averts deaths in the scenario's own world
    same = [c for c in REGISTER_COLUMNS if not c.startswith(("bc_death", "death"))]
    pd.testing.assert_frame_equal(reg[same], reg_nb[same])  # the same women and cancers in both runs


def test_screen_detected_tumours_have_longer_sojourns_than_interval_cancers(reg):
    """Length bias, one-sided z-test at alpha = 0.001 on the means (seed fixed before the result was seen)."""
    a = _mode(reg, "screen-detected")["sojourn_years"].dropna()
    b = _mode(reg, "interval")["sojourn_years"].dropna()
    assert len(a) >= 20 and len(b) >= 20
    z = (a.mean() - b.mean()) / np.sqrt(a.var() / len(a) + b.var() / len(b))
    assert z > norm.ppf(1 - 0.001), z


def test_the_register_counts_what_the_benefits_machinery_counts(model):
    """Deaths, detections and overdiagnoses of the population agree with woman_variables on the same block."""
    s, sv, st = model.scenario, Survival.from_scenario(model.scenario), programme_strategy(model.scenario)
    c = model.cohort(SEED, 0, WOMEN)
    nh = draw_natural_history(s, model.hazards, c, SEED, 0)
    cmp = comparator(s, nh, sv, SEED, 0, st.start_age_years)
    out = strategy_outcome(s, st, c, nh, SEED, 0, model.density_grid)
    x = woman_variables(s, st, cmp, nh, out, sv, 0, st.start_age_years, 0.0).sum(axis=0)
    v = dict(zip(VARIABLES, x, strict=True))
    reg = cancer_register(s, WOMEN, SEED, model=model)
    pop = reg[reg["in_population"]]
    sd = pop["mode_screened"] == "screen-detected"
    assert reg.attrs["population"] == v["women"]
    assert pop["bc_death_age_screened"].notna().sum() == v["bc_death_screened"]
    assert pop["bc_death_age_unscreened"].notna().sum() == v["bc_death_unscreened"]
    assert (sd & (pop["type_screened"] == "DCIS")).sum() == v["screen_detected_dcis"]
    assert (sd & (pop["type_screened"] == "invasive")).sum() == v["screen_detected_invasive"]
    assert pop["overdiagnosed"].sum() == v["overdiagnosed_dcis"] + v["overdiagnosed_invasive"]


def test_survival_times_and_kaplan_meier(reg):
    d = survival_times(reg, origin="diagnosis")
    f = survival_times(reg, origin="surfacing")
    assert f["years"].isna().equals(reg["overdiagnosed"])  # an overdiagnosed cancer has no would-be diagnosis
    both = f["years"].notna()
    assert np.allclose((d["years"] - f["years"])[both], reg.loc[both, "lead_time_years"])
    assert (d["years"] >= 0).all() and (f["years"][both] >= 0).all()
    km = km_survival([1.0, 2.0, 2.0, 3.0], [True, False, True, False], [0.5, 1.5, 2.5, 9.0])
    assert np.allclose(km["survival"][:3], [1.0, 0.75, 0.5]) and np.isnan(km["survival"][3])
    t, surv = km_curve([1.0, 2.0, 2.0, 3.0], [True, False, True, False])
    assert np.allclose(t, [0, 1, 2]) and np.allclose(surv, [1, 0.75, 0.5])
    table = survival_by_group(reg, (5.0, 10.0))
    assert list(table["mode_screened"]) == [*MODES, "all"]
    assert table["cancers"].iloc[-1] == len(reg)
    assert (table[["lower_10y", "upper_10y"]].stack().between(0, 1)).all()
    with pytest.raises(ArgumentError):
        survival_times(reg, world="both")


def test_a_model_of_another_scenario_is_refused(model):
    with pytest.raises(ArgumentError, match="model"):
        cancer_register("us-annual", 100, SEED, model=model)
