"""Statistics that must be right: interval coverage, replicates, paired differences, targets, the question."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import cli, load_scenario
from analysis.errors import CalcsimInputError
from analysis.model.simulation import build_model, simulate
from analysis.stats.question import calc_only_question
from analysis.stats.targets import load_targets
from analysis.stats.uncertainty import compare, replicate_seeds, run_replicates


@pytest.fixture(scope="module")
def one_round():
    """A single screening round: one screen per woman, so screens are independent (Wilson is valid)."""
    s = load_scenario("nl-biennial", {"programme.stop_age_years": 50, "programme.cumulative_rounds": 1})
    return s, build_model(s)


def test_wilson_and_replicate_intervals_cover_the_truth(one_round):
    """Coverage study: 1,000 small runs of R = 4 replicates; truth from a 2,000,000-woman run.

    Coverage of a nominal 95% interval over 1,000 independent runs has a binomial
    SE of 0.7 percentage points, so 93-97% is a +/- 2.9 SE acceptance band. The
    truth's own SE (~0.0002) is 4% of a small run's SE (~0.006): negligible.
    """
    s, model = one_round
    measure = "cluster_prevalence"
    truth = simulate(s, women=2_000_000, seed=999_999_999, model=model).estimates()
    p_true = float(truth.loc[truth["measure"] == measure, "estimate"].iloc[0])
    runs, reps, women = 1000, 4, 800
    wilson_hits = replicate_hits = 0
    for k in range(runs):
        rr = run_replicates(s, women, seed=k, replicates=reps, model=model)
        e = rr.estimates().set_index("measure").loc[measure]
        assert e["numerator"] > 0 and e["n"] > 1500  # the events the test relies on happened
        wilson_hits += e["lower"] <= p_true <= e["upper"]
        replicate_hits += e["replicate_ci_lower"] <= p_true <= e["replicate_ci_upper"]
    assert 0.93 <= wilson_hits / runs <= 0.97, wilson_hits
    assert 0.93 <= replicate_hits / runs <= 0.97, replicate_hits


def test_replicate_seeds_are_deterministic_distinct_and_validated():
    a, b = replicate_seeds(5, 10), replicate_seeds(5, 10)
    assert a == b and len(set(a)) == 10 and all(0 <= x < 2**63 for x in a)
    assert replicate_seeds(6, 3) != a[:3]
    with pytest.raises(CalcsimInputError, match="--replicates: 0"):
        replicate_seeds(5, 0)


def test_replicates_pool_their_counts(one_round):
    s, model = one_round
    rr = run_replicates(s, 500, seed=3, replicates=3, model=model)
    summed = sum(r.counts["numerator"].to_numpy() for r in rr.replicates)
    np.testing.assert_array_equal(rr.pooled.counts["numerator"].to_numpy(), summed)
    assert rr.pooled.women == 1500
    e = rr.estimates()
    ok = e.dropna(subset=["replicate_lower"])
    assert (ok["replicate_lower"] <= ok["replicate_upper"]).all()
    assert e.attrs["intervals"]  # every interval is labelled


def test_identical_scenarios_have_zero_paired_differences():
    d = compare("nl-biennial", "nl-biennial", women=6_000, seed=11, by=["round"])
    finite = d.dropna(subset=["difference"])
    assert len(finite) >= 20
    assert (finite["difference"] == 0).all()
    # the variance is a difference of large integer sums: zero up to floating-point cancellation
    assert (finite["se_unpaired"] > 0).all()
    assert (finite["se_paired"] <= 1e-6 * finite["se_unpaired"]).all()


def test_pairing_narrows_the_interval_and_agrees_with_separate_runs():
    nl = load_scenario("nl-biennial")
    strict = nl.replace({"reading.threshold_logit_shift": 0.5})
    d = compare(strict, nl, women=30_000, seed=5).set_index("measure")
    # the estimates are those of the separate runs on the same seed
    ea = simulate(strict, women=30_000, seed=5).estimates().set_index("measure")
    eb = simulate(nl, women=30_000, seed=5).estimates().set_index("measure")
    np.testing.assert_allclose(d["estimate_a"], ea.loc[d.index, "estimate"])
    np.testing.assert_allclose(d["estimate_b"], eb.loc[d.index, "estimate"])
    # a higher threshold recalls more: the paired interval excludes zero and is far narrower than unpaired
    assert d.loc["recall_rate", "lower"] > 0
    assert (d["se_paired"] < d["se_unpaired"]).loc[["recall_rate", "cluster_prevalence", "ppv1"]].all()


def test_targets_file_loads_with_count_based_intervals():
    t = load_targets().set_index("target")
    row = t.loc["nl_calc_only_detected"]
    assert row["interval_kind"] == "wilson95 (counts)"
    assert row["interval_lower"] < 732 / 3059 < row["interval_upper"]
    assert t.loc["literature_calc_only", "kind"] == "band"


@pytest.mark.parametrize(("edit", "fragment"), [
    (lambda df: df.assign(kind=df["kind"].replace("point", "pint")), "kind = 'pint'"),
    (lambda df: df.assign(measure=df["measure"].replace("recall_rate", "recal_rate")), "did you mean 'recall_rate'"),
    (lambda df: df.assign(numerator=df["numerator"].where(df["numerator"].isna(), 4000)), "numerator/denominator"),
    (lambda df: df.drop(columns=["source"]), "missing source"),
    (lambda df: df.assign(value=df["value"].where(df["target"] != "us_recall", 1.5)), "a number in [0, 1]"),
])
def test_malformed_targets_are_one_line_errors(tmp_path, edit, fragment):
    df = pd.read_csv(load_targets().attrs["path"], comment="#")
    path = tmp_path / "targets.csv"
    edit(df).to_csv(path, index=False)
    with pytest.raises(CalcsimInputError) as info:
        load_targets(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value) and fragment in str(info.value)


def test_question_puts_both_denominators_beside_band_and_target():
    r = simulate("nl-biennial", women=20_000, seed=2)
    q = calc_only_question(r).set_index("measure")
    e = r.estimates().set_index("measure")
    for m in ("calc_only_share_of_recalls", "calc_only_share_of_screen_detected"):
        assert q.loc[m, "numerator"] == e.loc[m, "numerator"] and q.loc[m, "n"] == e.loc[m, "n"] > 0
        assert q.loc[m, "literature_lower"] == 0.127 and q.loc[m, "literature_upper"] == 0.412
    assert q.loc["calc_only_presentation_share_of_screen_detected", "target"] == pytest.approx(732 / 3059, abs=1e-6)
    assert np.isnan(q.loc["calc_only_share_of_recalls", "target"])
    assert q.loc["calc_only_share_of_recalls", "n"] > q.loc["calc_only_share_of_screen_detected", "n"]


def test_cli_replicates_json_labels_every_interval(capsys):
    assert cli.main(["run", "--women", "1500", "--replicates", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["replicates"] == 3 and len(doc["replicate_seeds"]) == 3 and doc["women"] == 4500
    assert set(doc["intervals"]) == {"lower/upper", "replicate_lower/replicate_upper",
                                     "replicate_ci_lower/replicate_ci_upper"}
    assert all("replicate_ci_lower" in e for e in doc["estimates"])


def test_cli_calc_only_and_compare(capsys):
    assert cli.main(["calc-only", "--women", "3000", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["measure"] for r in doc["rows"]] == ["calc_only_share_of_recalls",
                                                   "calc_only_share_of_screen_detected",
                                                   "calc_only_presentation_share_of_screen_detected"]
    assert cli.main(["compare", "nl-biennial", "nl-biennial", "--women", "2000", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(d["difference"] in (0, None) for d in doc["differences"])
    assert cli.main(["compare", "nl-biennial", "nl-biennal", "--women", "10"]) == 2
    assert "did you mean 'nl-biennial'" in capsys.readouterr().err
