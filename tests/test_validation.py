"""Held-out validation against the BCSC performance table."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import cli
from analysis.calibration.validation import bcsc_validation
from analysis.errors import CalcsimInputError
from analysis.io.paths import parameters_dir
from analysis.model.simulation import simulate


def test_bcsc_validation_lines_up_model_and_observed_cells():
    r = simulate("us-annual", women=8_000, seed=3, by=["round", "age_group", "density"])
    v = bcsc_validation(r)
    perf = pd.read_csv(parameters_dir() / "bcsc_performance_by_age_density.csv")
    perf = perf[perf["density"] != "all"].set_index(["age_group", "density"])
    assert len(v) == 3 * len(perf) == 48
    rec = v[v["measure"] == "recall_rate"].set_index(["age_group", "density"])
    pd.testing.assert_series_equal(
        rec["observed"], perf["recall_rate"].rename("observed"), check_exact=False, rtol=1e-5
    )
    assert (rec["model_n"] > 0).all()
    assert ((v["observed_lower"] <= v["observed"]) & (v["observed"] <= v["observed_upper"])).all()
    # the model's subsequent-round screens, summed over cells, are all subsequent screens aged 40-74
    total = r.counts[(r.counts["stratum"] == "all") & (r.counts["measure"] == "subsequent_round_recall_rate")]
    assert rec["model_n"].sum() == int(total["n"].iloc[0])


def test_bcsc_validation_needs_the_strata():
    with pytest.raises(CalcsimInputError, match="by=\\['round', 'age_group', 'density'\\]"):
        bcsc_validation(simulate("us-annual", women=500, seed=1))


def test_cli_validate(capsys):
    assert cli.main(["validate", "--women", "3000"]) == 0
    out = capsys.readouterr().out
    assert "held out" in out and "40-49" in out


def test_bcsc_cells_are_labelled_fitted_not_held_out():
    v = bcsc_validation(simulate("us-annual", women=500, seed=1, by=["round", "age_group", "density"]))
    assert v.attrs["role"] == "fitted, not held out" and "fitted, not held out" in v.attrs["note"]


def test_held_out_checks_put_each_unfitted_figure_beside_the_model():
    import numpy as np

    from analysis.calibration.targets_fit import MODEL_DISCREPANCY_RELATIVE_SD
    from analysis.calibration.validation import HELD_OUT_RUNS, held_out_checks

    runs = {k: simulate(HELD_OUT_RUNS[k]["scenario"], women=4_000, seed=5, by=HELD_OUT_RUNS[k]["by"])
            for k in ("us-annual", "nl-biennial")}  # fmt: skip
    h = held_out_checks(runs).set_index("check")
    assert {"hubbard_cfp_annual", "hubbard_fp_first", "wanders_icr_d", "sankatsing_sensitivity"} <= set(h.index)
    # a run that was not given, and figures the model cannot compute, are said to be not computed
    assert h.loc["hubbard_cfp_biennial", "verdict"].startswith("not computed (needs a run 'us-biennial'")
    assert h.loc["bennett_icr_year2", "verdict"].startswith("not computed (needs interval cancers by year")
    assert h.loc["fracheboud_share_year1", "verdict"].startswith("not computed")
    done = h[h["verdict"].isin(["consistent", "outside"])]
    assert len(done) == 12 and (done["model_n"] > 0).all()
    # false-positive recall by round is 1 - specificity of the round's screens
    c = runs["us-annual"].counts.set_index(["measure", "stratum"])
    spec = c.loc[("specificity", "round=first")]
    assert h.loc["hubbard_fp_first", "model"] == pytest.approx(1 - spec["numerator"] / spec["n"], rel=1e-12)
    icr = c.loc[("interval_cancer_rate_per_1000", "all")]
    assert icr["n"] > 0  # the run counted screens; the Dutch density cells come from the Dutch run
    d = runs["nl-biennial"].counts.set_index(["measure", "stratum"]).loc[("interval_cancer_rate_per_1000", "density=d")]
    assert h.loc["wanders_icr_d", "model"] == pytest.approx(1000 * d["numerator"] / d["n"], rel=1e-12)
    # z follows the stated rule; the verdict follows z
    r = h.loc["hubbard_cfp_annual"]
    pub_sd = (0.631 - 0.594) / (2 * 1.959964)
    m_sd = np.sqrt(r["model"] * (1 - r["model"]) / r["model_n"])
    z = (r["model"] - 0.613) / np.sqrt(pub_sd**2 + m_sd**2 + (MODEL_DISCREPANCY_RELATIVE_SD * 0.613) ** 2)
    assert r["z"] == pytest.approx(z, rel=1e-10)
    assert ((done["z"].abs() <= 1.959964) == (done["verdict"] == "consistent")).all()
    # Wanders' derived counts reproduce the published figures up to rounding one count by <= 0.5
    for cat, rate, sens in zip("abcd", (0.7, 1.9, 2.9, 4.4), (0.857, 0.776, 0.695, 0.610), strict=True):
        for name, value, scale in ((f"wanders_icr_{cat}", rate, 1000.0), (f"wanders_sensitivity_{cat}", sens, 1.0)):
            num, den = h.loc[name, ["published_numerator", "published_denominator"]]
            assert abs(num / den * scale - value) <= 0.5 / den * scale + 1e-12, (name, num, den)
        assert "Volpara" in h.loc[f"wanders_icr_{cat}", "note"] and "DERIVED" in h.loc[f"wanders_icr_{cat}", "note"]
