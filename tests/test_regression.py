"""Odds-ratio regression: recovery of configured odds ratios, agreement with statsmodels, error paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import CalcsimInputError, load_scenario
from analysis.model.simulation import simulate
from analysis.stats.regression import (
    COVARIATES,
    DEFAULT_COVARIATES,
    OUTCOMES,
    covariates,
    fit_odds_ratios,
    gee_exchangeable_logit,
    logistic_mle,
    wald_test,
)

# every statsmodels / numpy / pandas warning is a test failure: none may reach a user
pytestmark = pytest.mark.filterwarnings("error")

#: Recovery scenario: breastfeeding > 12 months doubles the odds of a cluster after menopause;
#: no density or menopause effect, so among postmenopausal screens the log odds of a cluster is
#: exactly linear in age per decade, family history >= 1, births and breastfeeding > 12 months.
RECOVERY_OVERRIDES = {
    "calcifications.cluster_or_breastfeeding_over_12_months_postmenopausal": 2.0,
    "calcifications.cluster_or_dense": 1.0,
    "calcifications.cluster_or_postmenopausal": 1.0,
}
RECOVERY_TERMS = ["age_per_decade", "family_history_any", "births", "breastfeeding_over_12_months"]
RECOVERY_WOMEN = 60_000
RECOVERY_SEED = 7


@pytest.fixture(scope="module")
def recovery_scenario():
    return load_scenario("nl-biennial", RECOVERY_OVERRIDES, calibrated=False)


@pytest.fixture(scope="module")
def recovery_screens(recovery_scenario):
    return simulate(recovery_scenario, RECOVERY_WOMEN, seed=RECOVERY_SEED, keep_screens=True).screens


def _configured(s) -> dict[str, float]:
    cal = s.calcifications
    return {"age_per_decade": cal.cluster_odds_ratio_per_decade,
            "family_history_any": cal.cluster_or_family_history,
            "births": cal.cluster_or_per_birth,
            "breastfeeding_over_12_months": cal.cluster_or_breastfeeding_over_12_months_postmenopausal}


def _row(fit: pd.DataFrame, term: str) -> pd.Series:
    return fit.set_index("term").loc[term]


# ----------------------------------------------------------------------------- recovery
def test_recovery_events_happened(recovery_screens):
    post = recovery_screens[recovery_screens["postmenopausal"]]
    assert len(post) > 200_000
    assert post["benign_cluster"].sum() > 10_000
    bf12 = post["breastfeeding_months"] > 12
    assert post.loc[bf12, "woman"].nunique() > 10_000
    assert post.loc[bf12, "benign_cluster"].sum() > 3_000
    assert post.loc[post["family_history"] >= 1, "benign_cluster"].sum() > 1_000


def test_gee_recovers_configured_odds_ratios(recovery_screens, recovery_scenario):
    fit = fit_odds_ratios(recovery_screens, "benign_cluster", method="gee", covariates=RECOVERY_TERMS,
                          subset=recovery_screens["postmenopausal"])
    assert fit["term"].tolist() == RECOVERY_TERMS
    truth = _configured(recovery_scenario)
    assert truth["breastfeeding_over_12_months"] == 2.0
    bf = _row(fit, "breastfeeding_over_12_months")
    assert bf["lower"] <= 2.0 <= bf["upper"], bf
    assert bf["lower"] > 1.0  # the effect is found, not just "not excluded"
    for term, value in truth.items():  # the model is correctly specified: every interval covers the truth
        r = _row(fit, term)
        assert r["lower"] <= value <= r["upper"], (term, value, r.to_dict())
    a = fit.attrs
    assert a["method"] == "gee" and a["covariance"] == "exchangeable" and a["outcome"] == "benign_cluster"
    assert a["n_obs"] == int(recovery_screens["postmenopausal"].sum())
    assert a["n_events"] == int(recovery_screens.loc[recovery_screens["postmenopausal"], "benign_cluster"].sum())
    assert a["n_women"] < a["n_obs"]
    # a cluster persists once present: screens of one woman are strongly correlated
    assert 0.5 < a["working_correlation"] < 1.0
    assert a["formula"] == "benign_cluster ~ " + " + ".join(RECOVERY_TERMS)


def test_glm_first_screens_recovers_breastfeeding_or(recovery_screens, recovery_scenario):
    post = recovery_screens["postmenopausal"].to_numpy()
    gee = fit_odds_ratios(recovery_screens, "benign_cluster", covariates=RECOVERY_TERMS, subset=post)
    glm = fit_odds_ratios(recovery_screens, "benign_cluster", method="glm", covariates=RECOVERY_TERMS, subset=post)
    assert glm.attrs["covariance"] == "none" and glm.attrs["first_screen_only"]
    assert glm.attrs["n_obs"] == glm.attrs["n_women"] == gee.attrs["n_women"]
    for term, value in _configured(recovery_scenario).items():
        r = _row(glm, term)
        assert r["lower"] <= value <= r["upper"], (term, value, r.to_dict())
    assert _row(glm, "breastfeeding_over_12_months")["lower"] > 1.0


def test_no_breastfeeding_effect_before_menopause(recovery_screens):
    """The configured OR applies to postmenopausal women only: premenopausal screens show none."""
    pre = ~recovery_screens["postmenopausal"].to_numpy()
    assert recovery_screens.loc[pre, "benign_cluster"].sum() > 1_000
    fit = fit_odds_ratios(recovery_screens, "benign_cluster", covariates=RECOVERY_TERMS, subset=pre)
    bf = _row(fit, "breastfeeding_over_12_months")
    assert bf["lower"] <= 1.0 <= bf["upper"]
    assert bf["upper"] < 2.0


# ----------------------------------------------------------------------------- the GEE engine
@pytest.fixture(scope="module")
def small_screens():
    return simulate(load_scenario("nl-biennial", calibrated=False), 3_000, seed=5, keep_screens=True).screens


@pytest.mark.parametrize(("outcome", "names"), [
    ("benign_cluster", ["age_per_decade", "family_history_any", "births", "breastfeeding_over_12_months",
                        "density"]),
    ("recalled", ["age_per_decade", "postmenopausal", "first_round", "dense"]),
])
def test_vectorised_gee_equals_statsmodels(small_screens, outcome, names):
    fast = fit_odds_ratios(small_screens, outcome, covariates=names)
    ref = fit_odds_ratios(small_screens, outcome, covariates=names, engine="statsmodels")
    assert fast.attrs["engine"] == "vectorised" and ref.attrs["engine"] == "statsmodels"
    for col in ("odds_ratio", "lower", "upper"):
        np.testing.assert_allclose(fast[col], ref[col], rtol=1e-8)
    np.testing.assert_allclose(fast["p_value"], ref["p_value"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(fast.attrs["working_correlation"], ref.attrs["working_correlation"], rtol=1e-8)
    np.testing.assert_allclose(fast.attrs["cov_params"]["matrix"], ref.attrs["cov_params"]["matrix"],
                               rtol=1e-7, atol=1e-12)


def test_independence_gee_on_first_screens_is_the_glm(small_screens):
    names = ["age_per_decade", "postmenopausal", "dense"]
    gee = fit_odds_ratios(small_screens, "recalled", covariates=names, first_screen_only=True)
    glm = fit_odds_ratios(small_screens, "recalled", method="glm", covariates=names)
    assert gee.attrs["covariance"] == "independence" and gee.attrs["working_correlation"] == 0.0
    np.testing.assert_allclose(gee["odds_ratio"], glm["odds_ratio"], rtol=1e-7)


def test_glm_on_all_screens_uses_cluster_robust_errors(small_screens):
    fit = fit_odds_ratios(small_screens, "recalled", method="glm", covariates=["age_per_decade"],
                          first_screen_only=False)
    assert fit.attrs["covariance"] == "cluster-robust"
    assert fit.attrs["n_obs"] == len(small_screens)


def test_logistic_mle_and_gee_helpers_on_known_data():
    rng = np.random.default_rng(3)
    n = 4_000
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.7 * x[:, 1])))).astype(float)
    beta = logistic_mle(y, x)
    assert abs(beta[1] - 0.7) < 4 * 0.04
    groups = np.repeat(np.arange(n // 4), 4)
    fit = gee_exchangeable_logit(y, x, groups, beta)
    assert fit.converged and abs(fit.dep_param) < 0.1  # independent data
    with pytest.raises(ValueError, match="contiguous"):
        gee_exchangeable_logit(y, x, np.tile(np.arange(4), n // 4), beta)


# ----------------------------------------------------------------------------- recall and density
DENSITY_TERMS = ["density=a", "density=c", "density=d"]


def test_density_null_recall_odds_ratios_cover_one():
    """No density effect on reading, on clusters, or (in this model) on cancer risk => recall ORs of 1.

    Given age and menopause, a woman's density category depends only on her own density
    percentile, which nothing else in the model uses once these three effects are switched off.
    """
    s = load_scenario("nl-biennial", {"reading.density_odds_ratio_benign": [1.0, 1.0, 1.0, 1.0],
                                      "reading.density_odds_ratio_malignant": [1.0, 1.0, 1.0, 1.0],
                                      "calcifications.cluster_or_dense": 1.0}, calibrated=False)
    screens = simulate(s, 40_000, seed=12, keep_screens=True).screens
    fit = fit_odds_ratios(screens, "recalled")
    assert fit.attrs["n_events"] > 5_000
    assert fit.attrs["references"]["density"] == "b"
    for term in DENSITY_TERMS:
        r = _row(fit, term)
        assert r["lower"] <= 1.0 <= r["upper"], (term, r.to_dict())
    chi2, df, p = wald_test(fit, DENSITY_TERMS)
    assert df == 3 and p > 0.01


def test_density_positive_control_recall():
    """Benign findings in BI-RADS d read with doubled odds of recall: the fit finds d > b, a and c = b."""
    s = load_scenario("nl-biennial", {"reading.density_odds_ratio_benign": [1.0, 1.0, 1.0, 2.0],
                                      "reading.density_odds_ratio_malignant": [1.0, 1.0, 1.0, 1.0],
                                      "calcifications.cluster_or_dense": 1.0}, calibrated=False)
    screens = simulate(s, 40_000, seed=12, keep_screens=True).screens
    fit = fit_odds_ratios(screens, "recalled")
    d = _row(fit, "density=d")
    assert 1.0 < d["lower"] and d["odds_ratio"] < 2.2  # diluted by malignant recalls (OR 1)
    for term in ("density=a", "density=c"):
        r = _row(fit, term)
        assert r["lower"] <= 1.0 <= r["upper"], (term, r.to_dict())
    assert wald_test(fit, ["density=d"])[2] < 1e-6


# ----------------------------------------------------------------------------- covariates()
def _frame(n: int = 200, seed: int = 0, **overrides) -> pd.DataFrame:
    """A hand-made screens table: one screen per woman unless ``woman`` is overridden."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "woman": np.arange(n),
        "round_index": np.zeros(n, dtype=np.int16),
        "age_years": rng.choice([50.0, 52.0, 54.0, 60.0, 66.0, 72.0], n),
        "first_round": np.ones(n, dtype=bool),
        "postmenopausal": rng.random(n) < 0.5,
        "density": rng.choice([0, 1, 1, 2, 2, 3], n).astype(np.int8),
        "family_history": rng.choice([0, 0, 0, 1, 2], n).astype(np.int8),
        "brca": rng.choice([0, 0, 0, 1, 2], n).astype(np.int8),
        "births": rng.choice([0, 1, 2, 3, 4], n).astype(np.int8),
        "breastfeeding_months": rng.choice([0.0, 3.0, 9.0, 20.0], n).astype(np.float32),
    })
    for outcome in OUTCOMES:
        df[outcome] = rng.random(n) < 0.3
    for k, v in overrides.items():
        df[k] = v
    return df


def test_covariates_codes_and_references():
    df = _frame(8, age_years=[60.0, 70.0, 50.0, 55.0, 60, 60, 60, 60],
                breastfeeding_months=[0.0, 5.9, 6.0, 12.0, 12.5, 40.0, 0.0, 1.0],
                births=[0, 1, 2, 3, 5, 0, 0, 0], family_history=[0, 1, 2, 0, 0, 0, 0, 0],
                density=[0, 1, 2, 3, 0, 0, 0, 0], brca=[0, 1, 2, 0, 0, 0, 0, 0])
    c = covariates(df)
    np.testing.assert_allclose(c["age_per_decade"][:4], [0.0, 1.0, -1.0, -0.5])
    assert c["breastfeeding"].astype(str).tolist()[:6] == ["none", "<6 months", "6-12 months", "6-12 months",
                                                          ">12 months", ">12 months"]
    assert c["breastfeeding_over_12_months"].tolist()[:6] == [0, 0, 0, 0, 1, 1]
    assert c["parity"].astype(str).tolist()[:5] == ["0", "1", "2", ">=3", ">=3"]
    assert c["family_history"].astype(str).tolist()[:3] == ["0", "1", ">=2"]
    assert c["family_history_any"].tolist()[:3] == [0, 1, 1]
    assert c["brca"].astype(str).tolist()[:3] == ["non-carrier", "BRCA1", "BRCA2"]
    assert c["density"].astype(str).tolist()[:4] == ["a", "b", "c", "d"]
    assert c["dense"].tolist()[:4] == [0, 0, 1, 1]
    assert set(c["postmenopausal"].unique()) <= {0, 1}
    assert {"woman", "recalled", "benign_cluster"} <= set(c.columns)
    assert COVARIATES["density"].reference == "b" and COVARIATES["family_history"].reference == "0"
    assert set(DEFAULT_COVARIATES) <= set(COVARIATES)


def test_term_names_are_readable(small_screens):
    fit = fit_odds_ratios(small_screens, "any_cluster", covariates=["age_per_decade", "family_history",
                                                                     "density", "parity"])
    assert fit["term"].tolist() == ["age_per_decade", "family_history=1", "family_history=>=2", "density=a",
                                    "density=c", "density=d", "parity=1", "parity=2", "parity=>=3"]
    assert list(fit.columns) == ["term", "odds_ratio", "lower", "upper", "p_value"]
    assert (fit["lower"] < fit["odds_ratio"]).all() and (fit["odds_ratio"] < fit["upper"]).all()
    assert fit["p_value"].between(0, 1).all()


# ----------------------------------------------------------------------------- error paths
def _error(match: str, *args, **kwargs) -> str:
    with pytest.raises(CalcsimInputError, match=match) as info:
        fit_odds_ratios(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("fit_odds_ratios")
    assert "Traceback" not in msg and "statsmodels" not in msg
    return msg


def test_error_unknown_outcome_lists_allowed():
    msg = _error("unknown outcome", _frame(), "recall")
    for o in OUTCOMES:
        assert o in msg
    assert "did you mean 'recalled'" in msg


def test_error_unknown_covariate_and_method():
    _error("unknown covariate.*did you mean 'density'", _frame(), covariates=["densty"])
    _error("method", _frame(), method="ols")
    with pytest.raises(CalcsimInputError, match="engine = 'R': allowed: vectorised, statsmodels"):
        fit_odds_ratios(_frame(), engine="R")


def test_error_no_events_and_all_events():
    msg = _error("no events", _frame(recalled=False), "recalled", method="glm", covariates=["age_per_decade"])
    assert "200 screens" in msg
    _error("only events", _frame(recalled=True), "recalled", covariates=["age_per_decade"])


def test_error_too_few_observations():
    _error("too few observations", _frame(6, recalled=[True, False] * 3), covariates=["age_per_decade"])
    # 200 screens but only 5 events for the 16 parameters (intercept + 15 terms) of the default model
    y = np.zeros(200, dtype=bool)
    y[:5] = True
    _error("too few observations for 16 parameters", _frame(recalled=y), method="glm")


def test_error_too_few_women_for_gee():
    df = _frame(40, woman=np.repeat([0, 1, 2], [14, 13, 13]))
    _error("too few women", df, covariates=["age_per_decade", "dense", "postmenopausal"])


def test_empty_level_is_dropped_and_recorded():
    df = _frame(400, seed=1, brca=np.where(np.arange(400) % 7 == 0, 1, 0).astype(np.int8))  # no BRCA2
    fit = fit_odds_ratios(df, "recalled", method="glm", covariates=["age_per_decade", "brca"])
    assert fit["term"].tolist() == ["age_per_decade", "brca=BRCA1"]
    assert fit.attrs["dropped_levels"] == ["brca=BRCA2"]


def test_empty_stratum_after_subsetting_never_a_singular_matrix():
    df = _frame(600, seed=2)
    post = df["postmenopausal"].to_numpy()
    # only b and c after menopause
    df.loc[post, "density"] = np.where(np.arange(post.sum()) % 2 == 0, 1, 2).astype(np.int8)
    fit = fit_odds_ratios(df, "recalled", covariates=["age_per_decade", "density"], subset=post)
    assert fit["term"].tolist() == ["age_per_decade", "density=c"]
    assert fit.attrs["dropped_levels"] == ["density=a", "density=d"]


def test_error_empty_reference_level():
    df = _frame(density=np.where(np.arange(200) % 2 == 0, 0, 2).astype(np.int8))  # no 'b'
    msg = _error("reference level 'b'", df, method="glm", covariates=["age_per_decade", "density"])
    assert "density" in msg and "drop" in msg


def test_error_level_with_only_events_or_only_non_events():
    df = _frame(400, seed=3)
    df.loc[df["brca"] == 1, "recalled"] = False
    msg = _error(r"brca = 'BRCA1'.*non-events", df, method="glm", covariates=["age_per_decade", "brca"])
    assert "separation" in msg and "merge" in msg
    df = _frame(400, seed=3)
    df.loc[df["breastfeeding_months"] > 12, "recalled"] = True
    _error(r"breastfeeding_over_12_months = '1'.*are events", df, covariates=["breastfeeding_over_12_months"])
    _error(r"breastfeeding = '>12 months'", df, covariates=["breastfeeding"])


def test_error_continuous_covariate_separates():
    df = _frame(300, seed=4)
    df["recalled"] = df["age_years"] >= 60
    _error("age_per_decade separates the outcome", df, covariates=["age_per_decade", "dense"])


def test_error_separation_by_a_combination_of_covariates():
    """No single covariate separates, a linear combination does: the fit's runaway is caught."""
    df = _frame(400, seed=5)
    score = (df["age_years"] - 60) / 10 + df["births"].astype(float)
    df["recalled"] = score > 2.0
    for c in ("age_years", "births"):  # neither variable alone separates
        ev, ne = df.loc[df["recalled"], c], df.loc[~df["recalled"], c]
        assert ev.min() < ne.max() and ne.min() < ev.max()
    for method in ("glm", "gee"):
        msg = _error("separation", df, method=method, covariates=["age_per_decade", "births"])
        assert "drop or merge covariates" in msg


def test_error_constant_covariate():
    df = _frame(postmenopausal=True)
    _error("covariate 'postmenopausal' is constant", df, covariates=["age_per_decade", "postmenopausal"])
    df = _frame()
    _error("covariate 'postmenopausal' is constant", df, covariates=["postmenopausal"],
           subset=df["postmenopausal"])
    _error("covariate 'family_history' is constant", _frame(family_history=np.int8(1)),
           covariates=["age_per_decade", "family_history"])


def test_error_collinear_covariates():
    _error("collinear", _frame(), covariates=["family_history", "family_history_any"])


def test_error_bad_subset_and_bad_table():
    df = _frame()
    _error("subset: length", df, subset=np.ones(5, dtype=bool))
    _error("subset: dtype", df, subset=np.ones(len(df)))
    _error("no screens to fit", df, subset=np.zeros(len(df), dtype=bool))
    _error("no column 'woman'", df.drop(columns="woman"))
    with pytest.raises(CalcsimInputError, match="density = 7"):
        fit_odds_ratios(_frame(density=np.int8(7)), covariates=["density"])
    with pytest.raises(CalcsimInputError, match="needs column"):
        fit_odds_ratios(df.drop(columns="brca"), covariates=["brca"])


def test_wald_test_rejects_unknown_terms(small_screens):
    fit = fit_odds_ratios(small_screens, "recalled", method="glm", covariates=["age_per_decade", "dense"])
    with pytest.raises(CalcsimInputError, match="density=c"):
        wald_test(fit, ["density=c"])
