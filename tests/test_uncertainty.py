"""Statistics that must be right: interval coverage, replicates, paired differences, targets, the question."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import cli, load_scenario
from analysis.errors import CalcsimInputError
from analysis.model.results import Results
from analysis.model.simulation import build_model, simulate
from analysis.stats.question import calc_only_question
from analysis.stats.targets import load_targets
from analysis.stats.uncertainty import ReplicateResults, compare, replicate_seeds, run_replicates


@pytest.fixture(scope="module")
def one_round():
    """A single screening round: one screen per woman, so screens are independent (Wilson is valid)."""
    s = load_scenario("nl-biennial", {"programme.stop_age_years": 50, "programme.cumulative_rounds": 1})
    return s, build_model(s)


#: Coverage study. The original study (1,000 pipeline runs, 53 s) accepted an observed coverage of
#: 930..970 hits: under a true coverage of 95% its false-alarm rate is P(Bin(1000, 0.95) < 930) =
#: 0.0023 (low side) plus P(> 970) = 0.0007 (high side). The property now has two parts, each
#: checked at least as strongly:
#:
#: 1. the interval formulas (Wilson on pooled counts; mean +/- t(3) SD / 2 over R = 4 replicates):
#:    1,000 runs drawn directly from the binomial model of the pipeline's counts (woman attends
#:    with probability q, shows a cluster with probability p: n_r ~ Bin(800, q), x_r ~ Bin(n_r, p)),
#:    the intervals computed by the package's own code, the same 930..970 band: the same test as
#:    before, at no simulation cost;
#: 2. the pipeline (``run_replicates``: independent replicates, counts binomial around the truth):
#:    K = 200 runs, seeds 10,000..10,199 (fixed before the first run), with
#:    a. the coverage band recomputed for K = 200 runs at the same two tail probabilities;
#:    b. a dispersion test of the 800 replicate counts (Pearson chi-square, two-sided, 1e-3). This
#:       has the original's power: overdispersion phi lowers Wilson's coverage to
#:       2 Phi(1.96 / sqrt(phi)) - 1, i.e. 93% (the original's band edge, detected half the time)
#:       at phi = 1.17; the dispersion test rejects when D / (N - 1) > 1 + 3.29 sqrt(2 / 799) =
#:       1.165, so it detects phi = 1.17 about half the time too;
#:    c. a bias test: the pooled proportion of all K x 4 replicates against the truth (z test,
#:       two-sided, 1e-3, with the variance of both).
#: The truth comes from a 2,000,000-woman run (SE ~0.00017, 4% of a small run's SE; included in c).
COVERAGE_BAND_TAILS = (float(stats.binom.cdf(929, 1000, 0.95)), float(stats.binom.sf(970, 1000, 0.95)))
PIPELINE_RUNS, PIPELINE_SEED0, FORMULA_RUNS, FORMULA_SEED = 200, 10_000, 1_000, 20_000
REPS, WOMEN = 4, 800
MEASURE = "cluster_prevalence"


def _band(runs: int) -> tuple[int, int]:
    """Accepted numbers of hits out of ``runs`` nominal-95% intervals: the original's tail probabilities."""
    low, high = COVERAGE_BAND_TAILS
    k = np.arange(runs + 1)
    below, above = stats.binom.cdf(k - 1, runs, 0.95), stats.binom.sf(k, runs, 0.95)  # P(X < k), P(X > k)
    rounding = 1 + 1e-9  # so that the original's own band reproduces despite floating point
    return int(k[below <= low * rounding].max()), int(k[above <= high * rounding].min())


@pytest.fixture(scope="module")
def truth(one_round):
    s, model = one_round
    e = simulate(s, women=2_000_000, seed=999_999_999, model=model).estimates().set_index("measure").loc[MEASURE]
    assert e["numerator_count"] > 10_000  # the events the truth relies on happened
    return float(e["numerator_count"]), float(e["denominator_count"])


def _counts(numerator: np.ndarray, n: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stratum": [f"run{k}" for k in range(len(n))],
            "measure": MEASURE,
            "numerator": numerator.astype(np.int64),
            "n": n.astype(np.int64),
        }
    )


def _results(counts: pd.DataFrame, women: int) -> Results:
    return Results(scenario="binomial", scenario_hash="", version="", seed=0, women=women, counts=counts)


def test_interval_formulas_cover_on_binomial_draws(truth):
    """Part 1: the Wilson and replicate intervals of the package, on directly drawn binomial counts."""
    k_true, n_true = truth
    p, q = k_true / n_true, n_true / 2_000_000  # cluster prevalence per screen, attendance per woman
    rng = np.random.default_rng(FORMULA_SEED)
    n = rng.binomial(WOMEN, q, size=(REPS, FORMULA_RUNS))
    x = rng.binomial(n, p)
    reps = [_results(_counts(x[r], n[r]), WOMEN) for r in range(REPS)]
    pooled = _results(_counts(x.sum(axis=0), n.sum(axis=0)), WOMEN * REPS)
    e = ReplicateResults(replicates=reps, pooled=pooled).estimates()
    assert len(e) == FORMULA_RUNS and (e["numerator_count"] > 0).all()  # every run has events
    lo, hi = _band(FORMULA_RUNS)
    assert (lo, hi) == (930, 970)  # the original band
    wilson_hits = int(((e["lower"] <= p) & (p <= e["upper"])).sum())
    replicate_hits = int(((e["replicate_ci_lower"] <= p) & (p <= e["replicate_ci_upper"])).sum())
    assert lo <= wilson_hits <= hi, wilson_hits
    assert lo <= replicate_hits <= hi, replicate_hits


def test_pipeline_replicates_are_binomial_around_the_truth_and_cover_it(one_round, truth):
    """Part 2: ``run_replicates`` on the single-round scenario (one screen per woman: independent)."""
    s, model = one_round
    k_true, n_true = truth
    p_true = k_true / n_true
    wilson_hits = replicate_hits = 0
    x, n = [], []
    for k in range(PIPELINE_RUNS):
        rr = run_replicates(s, WOMEN, seed=PIPELINE_SEED0 + k, replicates=REPS, model=model)
        e = rr.estimates().set_index("measure").loc[MEASURE]
        assert e["numerator_count"] > 0 and e["denominator_count"] > 1500  # the events the test relies on happened
        wilson_hits += e["lower"] <= p_true <= e["upper"]
        replicate_hits += e["replicate_ci_lower"] <= p_true <= e["replicate_ci_upper"]
        for r in rr.replicates:
            c = r.counts.set_index("measure").loc[MEASURE]
            x.append(float(c["numerator"]))
            n.append(float(c["n"]))
    # a. coverage, band recomputed for PIPELINE_RUNS at the original's tail probabilities
    lo, hi = _band(PIPELINE_RUNS)
    assert lo <= wilson_hits <= hi, (wilson_hits, lo, hi)
    assert lo <= replicate_hits <= hi, (replicate_hits, lo, hi)
    xs, ns = np.array(x), np.array(n)
    p_bar = xs.sum() / ns.sum()
    # b. dispersion: Pearson D ~ chi2(N - 1); a binomial term's variance is 2 + (1 - 6pq) / (n pq), so D is
    # rescaled to chi-square's variance 2 (N - 1) before comparing with its two-sided 1e-3 quantiles
    pq = p_bar * (1 - p_bar)
    d = float(np.sum((xs - ns * p_bar) ** 2 / (ns * pq)))
    dof = xs.size - 1
    var = 2 * dof + float(np.sum((1 - 6 * pq) / (ns * pq)))
    d_scaled = dof + (d - dof) * np.sqrt(2 * dof / var)
    assert stats.chi2.ppf(5e-4, dof) < d_scaled < stats.chi2.isf(5e-4, dof), (d, dof)
    # c. bias: pooled proportion against the truth, with the sampling variance of both
    z = (p_bar - p_true) / np.sqrt(pq * (1 / ns.sum() + 1 / n_true))
    assert abs(z) < stats.norm.isf(5e-4), z


def test_replicate_seeds_are_deterministic_distinct_and_validated():
    a, b = replicate_seeds(5, 10), replicate_seeds(5, 10)
    assert a == b and len(set(a)) == 10 and all(0 <= x < 2**63 for x in a)
    assert replicate_seeds(6, 3) != a[:3]
    with pytest.raises(CalcsimInputError, match="^replicates=0: "):
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


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda df: df.assign(kind=df["kind"].replace("point", "pint")), "kind = 'pint'"),
        (
            lambda df: df.assign(measure=df["measure"].replace("recall_rate", "recal_rate")),
            "did you mean 'recall_rate'",
        ),
        (lambda df: df.assign(numerator=df["numerator"].where(df["numerator"].isna(), 4000)), "numerator/denominator"),
        (lambda df: df.drop(columns=["source"]), "missing source"),
        (lambda df: df.assign(value=df["value"].where(df["target"] != "us_recall", 1.5)), "a number in [0, 1]"),
    ],
)
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
        assert q.loc[m, "numerator_count"] == e.loc[m, "numerator_count"]
        assert q.loc[m, "denominator_count"] == e.loc[m, "denominator_count"] > 0
        assert q.loc[m, "literature_lower"] == 0.127 and q.loc[m, "literature_upper"] == 0.412
    assert q.loc["calc_only_presentation_share_of_screen_detected", "target"] == pytest.approx(732 / 3059, abs=1e-6)
    assert np.isnan(q.loc["calc_only_share_of_recalls", "target"])
    assert (
        q.loc["calc_only_share_of_recalls", "denominator_count"]
        > q.loc["calc_only_share_of_screen_detected", "denominator_count"]
    )


def test_cli_replicates_json_labels_every_interval(capsys):
    assert cli.main(["run", "--women", "1500", "--replicates", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["replicates"] == 3 and len(doc["replicate_seeds"]) == 3 and doc["women"] == 4500
    assert set(doc["intervals"]) == {
        "lower/upper",
        "replicate_lower/replicate_upper",
        "replicate_ci_lower/replicate_ci_upper",
    }
    assert all("replicate_ci_lower" in e for e in doc["estimates"])


def test_cli_calc_only_and_compare(capsys):
    assert cli.main(["calc-only", "--women", "3000", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["measure"] for r in doc["rows"]] == [
        "calc_only_share_of_recalls",
        "calc_only_share_of_screen_detected",
        "calc_only_presentation_share_of_screen_detected",
    ]
    assert cli.main(["compare", "nl-biennial", "nl-biennial", "--women", "2000", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(d["difference"] in (0, None) for d in doc["differences"])
    assert cli.main(["compare", "nl-biennial", "nl-biennal", "--women", "10"]) == 2
    assert "did you mean 'nl-biennial'" in capsys.readouterr().err


def test_question_text_counts_its_denominators_and_computes_what_it_claims():
    """The terminal text says how many denominators it lists and computes the benign share it states."""
    from analysis.stats.question import format_question

    q = calc_only_question(simulate("nl-biennial", women=3_000, seed=11))
    text = format_question(q)
    rows = q.set_index("measure")
    recalls = int(rows.loc["calc_only_share_of_recalls", "numerator_count"])
    cancers = int(rows.loc["calc_only_share_of_screen_detected", "numerator_count"])
    assert recalls > cancers > 0  # the events the claim is about happened
    assert f"{len(q)} denominators fit the words" in text
    assert f"{1 - cancers / recalls:.0%} of them led to no screen-detected cancer" in text
    assert "mostly benign" not in text
