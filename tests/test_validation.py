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
