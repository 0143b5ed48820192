"""The calibration layer as users meet it: labels that stay true, errors that name the right file, fit on a file."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from analysis import cli, load_scenario
from analysis.calibration.posterior import run_posterior
from analysis.errors import CalcsimInputError
from analysis.io.paths import data_dir
from analysis.model.simulation import simulate

SHIPPED_NL = data_dir() / "calibration" / "nl-biennial.csv"


@pytest.fixture()
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ (with the shipped calibrations) used through CALCSIM_DATA."""
    dst = tmp_path / "data"
    shutil.copytree(data_dir(), dst)
    monkeypatch.setenv("CALCSIM_DATA", str(dst))
    return dst


def _change_a_prior(toml) -> None:
    """Raise the uncalibrated prior ``workup.p_core_inconclusive`` by 0.01 (stales the calibration made from it)."""
    text = toml.read_text(encoding="utf-8")
    head, tail = text.split("p_core_inconclusive = { value = ", 1)
    value, rest = tail.split(",", 1)
    toml.write_text(f"{head}p_core_inconclusive = {{ value = {float(value) + 0.01!r},{rest}", encoding="utf-8")


def test_the_label_says_when_an_override_replaced_calibrated_values():
    s = load_scenario("nl-biennial")
    key = "reading.p_recall_mass_malignant"
    assert key in s.calibration[0].parameters  # the override below really hits a calibrated parameter
    over = load_scenario("nl-biennial", {key: 0.6})
    assert over.calibration_label.endswith(f"; overridden: {key})")
    assert simulate(over, women=300, seed=1).calibration == over.calibration_label
    assert s.replace({key: 0.7}).calibration_label.endswith(f"overridden: {key})")
    # an override of a parameter the calibration did not set leaves the label alone
    assert load_scenario("nl-biennial", {"programme.interval_years": 3}).calibration_label == s.calibration_label


def test_the_posterior_refuses_an_override_it_would_silently_drop():
    s = load_scenario("nl-biennial", {"reading.p_recall_mass_malignant": 0.6})
    with pytest.raises(CalcsimInputError, match="p_recall_mass_malignant was overridden") as info:
        run_posterior(s, women=200, seed=1)
    assert "\n" not in str(info.value) and not str(info.value).startswith("--")


def test_posterior_runs_record_their_own_draw(data_copy):
    post = run_posterior("nl-biennial", women=300, seed=2)
    draws = {r.calibration for r in post.runs}
    assert len(draws) == len(post.runs) >= 2 and not any("overridden" in d for d in draws)


def test_an_out_of_range_calibrated_value_is_blamed_on_the_calibration_file(data_copy):
    target = data_copy / "calibration" / "nl-biennial.csv"
    s = load_scenario("nl-biennial")
    draw, key = s.calibration[0].draw, "reading.p_recall_mass_malignant"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    cols = lines[header].rstrip("\n").split(",")
    row = next(i for i in range(header + 1, len(lines)) if lines[i].split(",")[0] == str(draw))
    cells = lines[row].rstrip("\n").split(",")
    cells[cols.index(key)] = "0.1"
    lines[row] = ",".join(cells) + "\n"
    target.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(CalcsimInputError) as info:
        load_scenario("nl-biennial")
    msg = str(info.value)
    assert msg.startswith(f"data/calibration/nl-biennial.csv (draw {draw}): {key} = 0.1: outside its stated range")
    assert "scenarios/nl-biennial.toml" not in msg


def test_a_user_file_named_like_a_shipped_scenario_gets_no_shipped_calibration(tmp_path):
    mine = tmp_path / "nl-biennial.toml"
    mine.write_text('extends = "nl-biennial"\nname = "nl-biennial"\n', encoding="utf-8")
    s = load_scenario(mine)
    # it inherits the shipped scenario's calibration through extends, but its own file is not calibrated twice
    assert [c.scenario for c in s.calibration] == ["nl-biennial"]
    assert s.hash == load_scenario("nl-biennial").hash


def test_fit_checks_a_new_calibration_file_although_the_shipped_one_is_stale(data_copy, tmp_path, capsys, monkeypatch):
    """The README's maintainer step: after a prior change, fit --calibration NEW works (the shipped file is stale)."""
    from analysis.calibration.abc import calibrate

    toml = data_copy / "scenarios" / "nl-biennial.toml"
    _change_a_prior(toml)
    with pytest.raises(CalcsimInputError, match="prior_hash"):
        load_scenario("nl-biennial")  # the shipped calibration is stale now
    monkeypatch.chdir(tmp_path)
    calibrate(
        "nl-biennial", draws=4, women=500, seed=3, rounds=1, min_accepted=2, params=["reading.threshold_logit_shift"]
    )
    new = tmp_path / "calibration" / "nl-biennial.csv"
    assert cli.main(["fit", "--scenario", "nl-biennial", "--women", "500", "--calibration", str(new)]) == 0
    assert "Calibration fit" in capsys.readouterr().out


def test_calibrating_never_rewrites_the_shipped_file(tmp_path, monkeypatch):
    from analysis.calibration.abc import calibrate

    before = hashlib.sha256(SHIPPED_NL.read_bytes()).hexdigest()
    monkeypatch.chdir(tmp_path)
    calibrate(
        "nl-biennial", draws=4, women=300, seed=4, rounds=1, min_accepted=2, params=["reading.threshold_logit_shift"]
    )
    assert (tmp_path / "calibration" / "nl-biennial.csv").is_file()
    assert hashlib.sha256(SHIPPED_NL.read_bytes()).hexdigest() == before


def test_the_command_line_accepts_only_shipped_none_or_a_path(capsys):
    assert cli.main(["run", "--women", "100", "--calibration", "parents"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("calcsim: error: --calibration: 'parents'") and err.count("\n") == 1


def test_scenarios_lists_every_scenario_even_with_a_stale_calibration(data_copy, capsys):
    toml = data_copy / "scenarios" / "nl-biennial.toml"
    _change_a_prior(toml)
    assert cli.main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert {"nl-biennial", "us-annual", "england-triennial"} <= {line.split()[0] for line in out.splitlines()}
    assert "calibration refused" in out


def test_compare_records_both_calibrations_and_refuses_a_one_scenario_file(capsys):
    import json

    assert cli.main(["compare", "us-annual", "nl-biennial", "--women", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["a_calibration"].startswith("data/calibration/nl-biennial.csv (draw ")
    assert "data/calibration/us-annual.csv" in doc["a_calibration"]
    assert doc["b_calibration"].startswith("data/calibration/nl-biennial.csv (draw ")
    assert cli.main(["compare", "us-annual", "nl-biennial", "--women", "300", "--calibration", str(SHIPPED_NL)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("calcsim: error: --calibration:") and err.count("\n") == 1


def test_several_groupings_through_compare_and_replicates_equal_separate_calls():
    import pandas as pd

    from analysis.stats.uncertainty import compare, run_replicates

    groups = [["density"], ["round"]]
    both = compare("us-annual", "nl-biennial", 1_500, 5, by=groups)
    for g in groups:
        alone = compare("us-annual", "nl-biennial", 1_500, 5, by=g)
        keep = both["stratum"].eq("all") | both["stratum"].str.startswith(f"{g[0]}=")
        pd.testing.assert_frame_equal(both[keep].reset_index(drop=True), alone.reset_index(drop=True))
    serial = run_replicates("nl-biennial", 1_000, 3, 2, by=groups).pooled.counts
    mapped = run_replicates("nl-biennial", 1_000, 3, 2, by=groups, map_fn=lambda fn, xs: [fn(x) for x in xs])
    pd.testing.assert_frame_equal(serial, mapped.pooled.counts)
    assert serial["stratum"].str.startswith("round=").any() and serial["stratum"].str.startswith("density=").any()
