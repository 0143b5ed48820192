"""The teaching labs with a known truth (analysis.teach.labs): denominators, 2 x 2 tables, Bayes' formula.

The simulations are small (a few thousand women) and run once per module; the seeds were fixed
before the results were looked at.
"""

from __future__ import annotations

from fractions import Fraction

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis import load_scenario, simulate
from analysis.teach import labs

WOMEN, SEED = 4000, 11


@pytest.fixture(scope="module")
def nl():
    return simulate("nl-biennial", women=WOMEN, seed=SEED, keep_screens=True)


@pytest.fixture(scope="module")
def cohorts(nl):
    """The lab's two cohorts: the scenario, and its incidence divided by its RR for >= 2 relatives (seed + 1)."""
    base = load_scenario("nl-biennial")
    low = base.replace({"cancer.incidence_scale": base.cancer.incidence_scale / base.cancer.family_history_rr_2plus})
    return {"higher": nl.screens, "lower": simulate(low, women=WOMEN, seed=SEED + 1, keep_screens=True).screens}


def test_literature_band_is_the_quoted_one():
    assert labs.literature_band() == pytest.approx((0.127, 0.412))


def test_the_three_denominators_are_consistent(nl):
    s = nl.screens
    d = labs.calc_only_denominators(s).set_index("denominator")
    assert list(d.index) == list(labs.DENOMINATORS)
    a, b, c = (d.loc[k] for k in labs.DENOMINATORS)
    assert min(a["numerator_count"], b["numerator_count"], c["numerator_count"]) > 0  # the events happened
    assert b["numerator_count"] <= a["numerator_count"]  # a calc-only recall that found cancer is a calc-only recall
    assert b["denominator_count"] <= a["denominator_count"]  # every screen-detected cancer was recalled
    assert c["numerator_count"] <= a["numerator_count"]
    assert a["denominator_count"] == int(s["recalled"].sum())
    assert c["denominator_count"] == int(s["any_cluster"].sum())
    for r in d.itertuples():
        assert r.lower <= r.estimate <= r.upper
        lo, hi = proportion_confint(r.numerator_count, r.denominator_count, method="wilson")
        assert (r.lower, r.upper) == pytest.approx((lo, hi))
        assert r.in_band == (0.127 <= r.estimate <= 0.412)
    # (a) and (b) are the package's own measures
    e = nl.estimates().set_index(["measure", "stratum"])
    for key, measure in (
        ("recalls", "calc_only_share_of_recalls"),
        ("screen_detected", "calc_only_share_of_screen_detected"),
    ):
        row = e.loc[(measure, "all")]
        assert (d.loc[key, "numerator_count"], d.loc[key, "denominator_count"]) == (
            row["numerator_count"],
            row["denominator_count"],
        )


def test_the_truth_partitions_the_calc_only_recalls(nl):
    s = nl.screens
    t = labs.calc_only_truth(s)
    n = int(s["calc_only_recall"].sum())
    assert n > 0
    assert t["numerator_count"].sum() == n and (t["denominator_count"] == n).all()
    found = t[t["truth"].str.startswith("cancer found")]["numerator_count"].sum()
    assert found == int((s["calc_only_recall"] & s["screen_detected"]).sum())
    assert t["estimate"].sum() == pytest.approx(1.0)


def test_empty_screens_give_no_estimate_and_no_error(nl):
    empty = nl.screens.iloc[:0]
    d = labs.calc_only_denominators(empty)
    assert (d["denominator_count"] == 0).all() and d["estimate"].isna().all() and not d["in_band"].any()
    a = labs.accuracy(labs.confusion_counts(empty))
    assert a["estimate"].isna().all()
    b = labs.bayes_check(labs.confusion_counts(empty))
    assert b["observed"] is None and b["bayes"] is None and not b["exact"]


@pytest.mark.parametrize("disease", list(labs.DISEASE))
def test_bayes_formula_is_an_identity_on_the_counts(cohorts, disease):
    for s in cohorts.values():
        c = labs.confusion_counts(s, disease)
        assert sum(c.values()) == len(s)
        assert c["tp"] > 0 and c["fn"] > 0 and c["fp"] > 0  # cancers, misses and false positives happened
        check = labs.bayes_check(c)
        assert check["exact"] and check["observed"] == Fraction(c["tp"], c["tp"] + c["fp"])
        a = labs.accuracy(c).set_index("measure")["estimate"]
        assert float(labs.bayes_ppv(a["sensitivity"], a["specificity"], a["prevalence"])) == pytest.approx(
            a["ppv"], rel=1e-12
        )


def test_sensitivity_and_specificity_agree_while_prevalence_and_ppv_move(cohorts):
    t = labs.accuracy_table(cohorts)
    diff = labs.compare_cohorts(t, "higher", "lower").set_index("measure")
    sens = t[t["measure"] == "sensitivity"]
    assert (sens["denominator_count"] > 50).all()  # enough cancers present in both cohorts
    for m in ("sensitivity", "specificity"):  # the same readers: no difference at alpha = 0.001
        assert diff.loc[m, "p_value"] > 0.001, diff.loc[m]
    assert diff.loc["prevalence", "difference"] > 0 and diff.loc["prevalence", "p_value"] < 0.001
    assert diff.loc["ppv", "difference"] > 0 and diff.loc["ppv", "p_value"] < 0.001


def test_two_sample_z_matches_statsmodels():
    z, p = labs.two_sample_z(30, 200, 45, 210)
    z_ref, p_ref = proportions_ztest([30, 45], [200, 210])
    assert (z, p) == pytest.approx((z_ref, p_ref))
    assert labs.two_sample_z(10, 100, 10, 100) == pytest.approx((0.0, 1.0))
    assert labs.two_sample_z(0, 100, 0, 50) == (0.0, 1.0)
    assert all(np.isnan(labs.two_sample_z(1, 0, 1, 10)))


def test_bayes_ppv_properties():
    prev = np.linspace(0, 1, 11)
    ppv = labs.bayes_ppv(0.8, 0.95, prev)
    assert ppv[0] == 0 and ppv[-1] == 1 and np.all(np.diff(ppv) > 0)
    assert float(labs.bayes_ppv(0.8, 0.95, 0.01)) == pytest.approx(0.008 / (0.008 + 0.05 * 0.99))
    assert np.isnan(labs.bayes_ppv(0.0, 1.0, 0.5))  # nobody tests positive


def test_register_definition_leaves_out_the_unseen_cancers(nl):
    s = nl.screens
    truth = labs.accuracy(labs.confusion_counts(s, "present")).set_index("measure")
    register = labs.accuracy(labs.confusion_counts(s, "followup")).set_index("measure")
    assert register.loc["sensitivity", "estimate"] > truth.loc["sensitivity", "estimate"]
    assert register.loc["ppv", "denominator_count"] == truth.loc["ppv", "denominator_count"] == s["recalled"].sum()
    with pytest.raises(ValueError, match="disease"):
        labs.disease_status(s, "unknown")


def test_figures_draw_without_pyplot(nl, cohorts):
    backend = matplotlib.get_backend()
    d = labs.calc_only_denominators(nl.screens)
    both = pd.concat([d.assign(scenario="a"), d.assign(scenario="b")], ignore_index=True)
    ax = Figure().add_subplot()
    labs.plot_denominators(ax, both)
    assert len(ax.get_yticklabels()) == len(labs.DENOMINATORS) and len(ax.get_legend().get_texts()) == 3
    ax = Figure().add_subplot()
    labs.plot_ppv_curve(ax, labs.accuracy_table(cohorts))
    assert len(ax.get_lines()) >= 2 and ax.get_xlim()[0] == 0
    assert matplotlib.get_backend() == backend
