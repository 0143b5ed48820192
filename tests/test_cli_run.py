"""``calcsim run``: JSON contract, atomic outputs, the exact regression baseline, BCSC cohorts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from _paths import SHARED_DATA

from analysis import cli, load_scenario
from analysis.model.results import MEASURE_NAMES
from analysis.model.simulation import simulate

BASELINE = Path(__file__).parent / "baselines" / "nl-biennial-women3000-seed7.csv"
RISK_ZIP = SHARED_DATA / "bcsc-risk-estimation" / "risk_dataset.zip"


def test_json_output_contract(capsys):
    assert cli.main(["run", "--women", "2000", "--seed", "5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"scenario", "scenario_hash", "version", "seed", "women", "calibration", "estimates"}
    assert doc["scenario"] == "nl-biennial" and doc["seed"] == 5 and doc["women"] == 2000
    assert doc["calibration"] == "data/calibration/nl-biennial.csv (draw " + doc["calibration"].split("draw ")[1]
    keys = {
        "measure",
        "stratum",
        "unit",
        "numerator_count",
        "denominator_count",
        "numerator_label",
        "denominator_label",
        "estimate",
        "lower",
        "upper",
    }
    assert all(set(e) >= keys for e in doc["estimates"])
    assert [e["measure"] for e in doc["estimates"] if e["measure"] in MEASURE_NAMES] == list(MEASURE_NAMES)


def test_out_writes_estimates_run_json_and_screens(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", "--women", "1500", "--seed", "2", "--out", str(out), "--screens", "--by", "round"]) == 0
    capsys.readouterr()
    est = pd.read_csv(out / "estimates.csv")
    assert {
        "scenario",
        "scenario_hash",
        "version",
        "seed",
        "calibration",
        "women",
        "measure",
        "stratum",
        "lower",
        "unit",
        "denominator_count",
        "denominator_label",
    } <= set(est.columns)
    assert set(est["stratum"]) == {"all", "round=first", "round=subsequent"}
    screens = pq.read_table(out / "screens.parquet").to_pandas()
    n_screens = est.loc[(est["measure"] == "recall_rate") & (est["stratum"] == "all"), "denominator_count"].item()
    assert len(screens) == n_screens > 0
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_failed_run_leaves_no_partial_output(tmp_path, monkeypatch, capsys):
    import analysis.model.simulation as sim

    def boom(*args, **kwargs):
        Path(kwargs["screens_path"]).write_bytes(b"partial")
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(sim, "simulate", boom)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        cli.main(["run", "--women", "100", "--out", str(out), "--screens"])
    assert list(out.iterdir()) == []


def test_bad_out_is_one_line_exit_2(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert cli.main(["run", "--women", "10", "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("calcsim: error: --out") and err.count("\n") == 1


def test_exact_regression_baseline():
    """Counts of a small fixed run. Regenerate deliberately with tests/baselines/make_baseline.py
    when the model changes on purpose (and say so in the CHANGELOG)."""
    expected = pd.read_csv(BASELINE)
    got = simulate(load_scenario("nl-biennial", calibration=None), women=3000, seed=7).counts
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


@pytest.mark.skipif(not RISK_ZIP.exists(), reason=f"BCSC Risk Estimation Dataset not found at {RISK_ZIP}")
def test_bcsc_resampled_cohort_reproduces_profile_shares():
    from analysis.io.bcsc import read_risk_estimation, risk_profiles

    profiles = risk_profiles(read_risk_estimation(RISK_ZIP), 50, 54)
    r = simulate("nl-biennial", women=20_000, seed=4, cohort_data=RISK_ZIP, keep_screens=True)
    first = r.screens[r.screens["round_index"] == 0]
    assert len(first) > 10_000
    w = profiles["weight"].to_numpy()
    for col, fn in (("family_history", lambda s: s["family_history"] != "0"),):
        expected = float(np.sum(w * (profiles["family_history"] >= 1)))
        p_hat = float(fn(first).mean())
        # women who attend are a random subset with respect to family history (CRN attendance)
        assert abs(p_hat - expected) <= 4 * np.sqrt(expected * (1 - expected) / len(first)), col
    # density at the first screen (age 50, reference age 52.5: same 50-54 group) follows the profiles
    dens = profiles.groupby("density")["weight"].sum()
    post = profiles.groupby("postmenopausal")["weight"].sum()
    assert post.get(True, 0) > 0.5
    for cat in "abcd":
        expected = float(dens.get(cat, 0.0))
        p_hat = float((first["density"] == cat).mean())
        # menopause can change between 50 and the profile's reference age: allow a wider band there
        assert abs(p_hat - expected) <= 0.03 + 4 * np.sqrt(expected * (1 - expected) / len(first)), cat
    assert r.meta["cohort"] == "bcsc"


def test_run_no_screening_reports_incidence_of_the_same_women(capsys):
    args = ["run", "--women", "3000", "--seed", "8", "--by", "age_group", "--json", "--calibration", "none"]
    assert cli.main([*args, "--no-screening"]) == 0
    unscreened = json.loads(capsys.readouterr().out)
    assert cli.main(args) == 0
    screened = json.loads(capsys.readouterr().out)
    assert unscreened["screening"] is False and screened["screening"] is True
    rows = {(e["measure"], e["stratum"]): e for e in unscreened["estimates"]}
    assert all(rows[(m, "all")]["denominator_count"] == 0 for m in MEASURE_NAMES)
    inv = rows[("invasive_incidence_per_100000", "all")]
    assert inv["unit"] == "per 100,000 woman-years" and inv["numerator_count"] > 20
    assert inv["lower"] < inv["estimate"] < inv["upper"]
    assert ("invasive_incidence_per_100000", "age_group=60-64") in rows
    # the same women: the same woman-time with and without the programme
    same = {(e["measure"], e["stratum"]): e["denominator_count"] for e in screened["estimates"]}
    assert same[("invasive_incidence_per_100000", "all")] == inv["denominator_count"]


def test_run_no_screening_summary_and_refused_combinations(capsys):
    assert cli.main(["run", "--women", "1500", "--seed", "8", "--no-screening", "--calibration", "none"]) == 0
    out = capsys.readouterr().out
    assert "no screening" in out.splitlines()[0]
    assert "invasive_incidence_per_100000" in out and "recall_rate" not in out
    for extra, flag in ((["--replicates", "2"], "--no-screening"), (["--screens", "--out", "x"], "--screens")):
        assert cli.main(["run", "--women", "10", "--no-screening", "--calibration", "none", *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"calcsim: error: {flag}") and err.count("\n") == 1
