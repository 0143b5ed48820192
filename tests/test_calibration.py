"""Calibration (recovery, resume), calibrated defaults, posterior runs, sensitivity analysis."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import cli, load_scenario
from analysis.calibration.abc import calibrate, calibrated_parameters
from analysis.calibration.posterior import calibration_fit, run_posterior
from analysis.calibration.sensitivity import one_way, sobol
from analysis.errors import ArgumentError, CalcsimInputError
from analysis.io.paths import data_dir
from analysis.model.simulation import simulate
from analysis.scenario import read_calibration
from analysis.stats.targets import load_targets

TRUE = {"reading.threshold_logit_shift": 0.8, "calcifications.cluster_prevalence_age50": 0.06}
TARGET_MEASURES = ("recall_rate", "calc_recall_rate", "cluster_prevalence")


@pytest.fixture()
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ (without calibration files) used through CALCSIM_DATA."""
    dst = tmp_path / "data"
    shutil.copytree(data_dir(), dst, ignore=shutil.ignore_patterns("calibration"))
    monkeypatch.setenv("CALCSIM_DATA", str(dst))
    return dst


def synthetic_targets(path: Path, women: int = 40_000, seed: int = 101) -> pd.DataFrame:
    """Targets with counts, generated from known parameter values (not the calibration's seed)."""
    s = load_scenario("nl-biennial", TRUE, calibration=None)
    e = simulate(s, women=women, seed=seed).estimates().set_index("measure")
    rows = [
        {
            "target": f"synthetic_{m}",
            "setting": "synthetic",
            "scenario": "nl-biennial",
            "measure": m,
            "kind": "point",
            "value": e.loc[m, "numerator_count"] / e.loc[m, "denominator_count"],
            "numerator": e.loc[m, "numerator_count"],
            "denominator": e.loc[m, "denominator_count"],
            "lower": "",
            "upper": "",
            "source": "synthetic",
            "note": "",
        }
        for m in TARGET_MEASURES
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return load_targets(path)


def test_recovery_known_parameters_lie_within_the_accepted_set(tmp_path):
    targets = synthetic_targets(tmp_path / "targets.csv")
    df = calibrate("nl-biennial", draws=64, women=20_000, seed=5, targets=targets, out_dir=tmp_path, params=list(TRUE))
    acc = df[df["accepted"]]
    assert 1 <= len(acc) < len(df)  # the targets are informative: not everything is accepted
    assert df.attrs["acceptance"].startswith(("chi-square", "nearest"))
    for key, value in TRUE.items():
        assert acc[key].min() <= value <= acc[key].max(), (key, acc[key].describe())
    # and the accepted set is much narrower than the prior range
    lo, hi = next(
        (lo, hi)
        for k, lo, hi in calibrated_parameters(load_scenario(calibration=None))
        if k == "reading.threshold_logit_shift"
    )
    assert acc["reading.threshold_logit_shift"].max() - acc["reading.threshold_logit_shift"].min() < 0.5 * (hi - lo)


def test_interrupted_calibration_resumes_and_equals_an_uninterrupted_one(tmp_path):
    targets = synthetic_targets(tmp_path / "targets.csv", women=5_000)
    kw = {"draws": 6, "women": 3_000, "seed": 9, "targets": targets, "params": list(TRUE)}
    part = calibrate("nl-biennial", out_dir=tmp_path / "a", stop_after=4, **kw)
    assert len(part) == 4 and (tmp_path / "a" / "nl-biennial.csv.partial").exists()
    assert not (tmp_path / "a" / "nl-biennial.csv").exists()
    with (tmp_path / "a" / "nl-biennial.csv.partial").open("a", encoding="utf-8") as fh:
        fh.write("4,0,0.61")  # killed while writing a line: a torn last line
    resumed = calibrate("nl-biennial", out_dir=tmp_path / "a", **kw)
    whole = calibrate("nl-biennial", out_dir=tmp_path / "b", **kw)
    assert not (tmp_path / "a" / "nl-biennial.csv.partial").exists()
    pd.testing.assert_frame_equal(resumed.reset_index(drop=True), whole.reset_index(drop=True))
    # changed settings cannot silently resume
    calibrate("nl-biennial", out_dir=tmp_path / "c", stop_after=2, **kw)
    with pytest.raises(CalcsimInputError, match="different women") as info:
        calibrate("nl-biennial", out_dir=tmp_path / "c", **{**kw, "women": 3_001})
    assert "\n" not in str(info.value) and "--restart" in str(info.value)


def test_calibrated_set_is_the_default_and_posterior_runs_over_accepted_sets(data_copy, tmp_path):
    targets = synthetic_targets(tmp_path / "targets.csv", women=10_000)
    calibrate(
        "nl-biennial",
        draws=12,
        women=4_000,
        seed=2,
        targets=targets,
        params=list(TRUE),
        out_dir=data_copy / "calibration",
        min_accepted=3,
    )
    cal = read_calibration(data_copy / "calibration" / "nl-biennial.csv").draws
    best = cal[cal["accepted"]].sort_values("distance").iloc[0]
    s, prior = load_scenario("nl-biennial"), load_scenario("nl-biennial", calibration=None)
    for key in TRUE:
        section, name = key.split(".")
        assert getattr(getattr(s, section), name) == pytest.approx(best[key])
        assert s.provenance[key].status == "calibrated" and "nl-biennial.csv" in s.provenance[key].note
    assert s.hash != prior.hash
    # children of nl-biennial inherit its calibrated values unless they set their own
    eng = load_scenario("england-triennial")
    assert eng.calcifications.cluster_prevalence_age50 == pytest.approx(best["calcifications.cluster_prevalence_age50"])
    # a scenario being calibrated starts from its parents' calibrated values, not its own
    us = load_scenario("us-annual", calibration="parents")
    assert us.calcifications.cluster_prevalence_age50 == pytest.approx(best["calcifications.cluster_prevalence_age50"])
    assert load_scenario("nl-biennial", calibration="parents").hash == prior.hash

    post = run_posterior("nl-biennial", women=3_000, seed=4)
    assert len(post.runs) == int(cal["accepted"].sum()) >= 3
    e = post.estimates()
    ok = e.dropna(subset=["posterior_lower"])
    assert ((ok["posterior_lower"] <= ok["posterior_median"]) & (ok["posterior_median"] <= ok["posterior_upper"])).all()
    fit = calibration_fit(post, targets=load_targets())
    assert set(fit["measure"]) <= set(e["measure"]) and len(fit) >= 3


def test_one_way_and_sobol_sensitivity():
    s = load_scenario("nl-biennial", calibration=None)
    params = ["reading.threshold_logit_shift", "calcifications.cluster_prevalence_age50"]
    ow = one_way(s, women=4_000, seed=3, params=params).set_index(["output", "parameter"])
    thr = ow.loc[("recall_rate", "reading.threshold_logit_shift")]
    assert thr["at_low"] < thr["base"] < thr["at_high"]  # a higher threshold shift recalls more
    # common random numbers: benign clusters cannot change which cancers are recalled for calcification alone
    assert ow.loc[("calc_only_share_of_screen_detected", "calcifications.cluster_prevalence_age50"), "swing"] == 0
    so = sobol(s, women=2_000, seed=3, samples=8, params=params).set_index(["output", "parameter"])
    assert so.attrs["runs"] == 8 * (len(params) + 2)
    assert (
        so.loc[("recall_rate", "reading.threshold_logit_shift"), "ST"]
        > so.loc[("recall_rate", "calcifications.cluster_prevalence_age50"), "ST"]
    )


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["calibrate", "--draws", "1"], "--draws: 1"),
        (["calibrate", "--params", "reading.nope"], "--params: 'reading.nope'"),
        (["sensitivity", "--method", "sobol", "--samples", "3"], "--samples: 3"),
        (["run", "--workers", "0", "--women", "10"], "--workers: 0"),
        (["run", "--posterior", "--replicates", "2"], "--posterior"),
    ],
)
def test_cli_errors_are_one_line(capsys, argv, fragment):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("calcsim: error:") and fragment in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("kw", "python", "flag"),
    [
        ({"draws": 1}, "draws=1: ", "--draws: 1: "),
        ({"women": 0}, "women=0: ", "--women: 0: "),
        ({"draws": 4, "rounds": 3}, "rounds=3: ", "--rounds: 3: "),
        ({"params": ["reading.nope"]}, "params='reading.nope': ", "--params: 'reading.nope': "),
        ({"targets": "none"}, "scenario='nl-biennial': ", "--scenario: 'nl-biennial': "),
    ],
)
def test_bad_calibrate_arguments_name_the_python_argument(tmp_path, kw, python, flag):
    """From Python the error names the argument (``draws=1``); on the command line, the flag (``--draws``)."""
    if kw.get("targets") == "none":
        kw = {"targets": load_targets().iloc[:0]}  # no target for the scenario
    with pytest.raises(ArgumentError) as info:
        calibrate("nl-biennial", out_dir=tmp_path, **kw)
    assert str(info.value).startswith(python) and info.value.cli_message().startswith(flag)
    assert "\n" not in str(info.value)


def test_fit_without_calibration_is_a_clear_error(data_copy, capsys):
    assert cli.main(["fit", "--scenario", "nl-biennial", "--women", "100"]) == 2
    assert "calcsim calibrate --scenario nl-biennial" in capsys.readouterr().err


SHIPPED_NL = data_dir() / "calibration" / "nl-biennial.csv"


def _defect(text: str, kind: str) -> str | bytes:
    """A shipped calibration file with one kind of defect."""
    lines = text.splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if not line.startswith("#")]
    if kind == "truncated":  # a torn last line
        return "".join(lines[: body[5]]) + lines[body[5]][: len(lines[body[5]]) // 3]
    if kind == "renamed header":
        lines[body[0]] = lines[body[0]].replace("distance", "dist")
        return "".join(lines)
    if kind == "bad value":
        cells = lines[body[3]].split(",")
        cells[2] = "abc"
        lines[body[3]] = ",".join(cells)
        return "".join(lines)
    if kind == "random bytes":
        return bytes(range(256)) * 8
    if kind == "none accepted":
        return "".join(line.replace(",True", ",False") for line in lines)
    raise ValueError(kind)


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("truncated", "line "),
        ("renamed header", "column 'distance' missing"),
        ("bad value", "= 'abc'"),
        ("random bytes", "not UTF-8"),
        ("none accepted", "no accepted draw"),
    ],
)
def test_every_defect_of_a_calibration_file_is_one_line_naming_the_file(data_copy, kind, fragment):
    (data_copy / "calibration").mkdir(exist_ok=True)
    bad = _defect(SHIPPED_NL.read_text(encoding="utf-8"), kind)
    target = data_copy / "calibration" / "nl-biennial.csv"
    target.write_bytes(bad if isinstance(bad, bytes) else bad.encode("utf-8"))
    with pytest.raises(CalcsimInputError) as info:
        load_scenario("nl-biennial")  # never a silent fall-back to the prior values
    msg = str(info.value)
    assert "nl-biennial.csv" in msg and fragment in msg and "\n" not in msg, msg
    if kind in ("truncated", "bad value"):
        assert "column" in msg
    assert np.isfinite(load_scenario("nl-biennial", calibration=None).reading.threshold_logit_shift)


def test_calibration_is_an_explicit_layer():
    shipped, none = load_scenario("nl-biennial"), load_scenario("nl-biennial", calibration=None)
    assert shipped.calibration_label.startswith("data/calibration/nl-biennial.csv (draw ")
    assert none.calibration == () and none.calibration_label == "none"
    assert shipped.hash != none.hash
    assert load_scenario("nl-biennial", calibration="none").hash == none.hash
    # the scenario's own file applied explicitly by path is the same as the shipped default
    by_path = load_scenario("nl-biennial", calibration=SHIPPED_NL)
    assert by_path.hash == shipped.hash and by_path.calibration[0].draw == shipped.calibration[0].draw
    # a calibration of another scenario is refused
    with pytest.raises(CalcsimInputError, match="calibration of another scenario"):
        load_scenario("us-annual", calibration=SHIPPED_NL)
    with pytest.raises(CalcsimInputError, match=r"^calibration='nope.csv'"):
        load_scenario("nl-biennial", calibration="nope.csv")
    # estimates and the JSON document record which calibration was used
    r = simulate(none, women=500, seed=1)
    assert set(r.estimates()["calibration"]) == {"none"} and r.to_json_dict()["calibration"] == "none"


def test_a_calibration_whose_prior_changed_is_refused(data_copy):
    toml = data_copy / "scenarios" / "nl-biennial.toml"
    text = toml.read_text(encoding="utf-8")
    assert "p_core_inconclusive = { value = " in text
    head, tail = text.split("p_core_inconclusive = { value = ", 1)
    value, rest = tail.split(",", 1)
    toml.write_text(f"{head}p_core_inconclusive = {{ value = {float(value) + 0.01!r},{rest}", encoding="utf-8")
    shutil.copytree(SHIPPED_NL.parent, data_copy / "calibration")
    with pytest.raises(CalcsimInputError) as info:
        load_scenario("nl-biennial")
    msg = str(info.value)
    assert "nl-biennial.csv" in msg and "prior_hash" in msg and "workup.p_core_inconclusive" in msg
    assert "\n" not in msg
    # and so is the calibration of a scenario whose parent calibration changed (us-annual extends nl-biennial)
    with pytest.raises(CalcsimInputError, match="prior_hash"):
        load_scenario("us-annual")
    load_scenario("nl-biennial", calibration=None)  # the file values still load


def test_calibrate_writes_where_the_user_says_never_into_the_package(tmp_path, monkeypatch):
    targets = synthetic_targets(tmp_path / "targets.csv", women=3_000)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in (data_dir() / "calibration").iterdir())
    df = calibrate(
        "nl-biennial", draws=4, women=1_000, seed=3, targets=targets, params=list(TRUE), rounds=1, min_accepted=2
    )
    written = tmp_path / "calibration" / "nl-biennial.csv"
    assert written.is_file() and sorted(p.name for p in (data_dir() / "calibration").iterdir()) == before
    assert df.attrs["prior_hash"] == load_scenario("nl-biennial", calibration="parents").hash
    s = load_scenario("nl-biennial", calibration=written)  # and a user's file is applied by path
    assert s.calibration[0].file == str(written) and s.calibration[0].draw in set(df.loc[df["accepted"], "draw"])


def test_importance_weights_and_weighted_quantiles():
    from analysis.calibration.abc import _importance_weights
    from analysis.calibration.posterior import weighted_quantiles

    free = [("a", 0.0, 1.0), ("b", 0.0, 2.0)]
    prior = np.array([[0.0, 1.0], [0.0, 2.0]])
    inner = np.array([[0.0, 0.5], [0.0, 1.0]])  # a quarter of the prior volume
    x = np.array([[0.2, 0.5], [0.9, 1.9]])  # inside both boxes; inside the prior only
    w = _importance_weights(x, [prior, inner], [10, 10], free)
    # proposal density: 0.5 * 1 + 0.5 * 4 = 2.5 inside the inner box, 0.5 outside it
    np.testing.assert_allclose(w, [1 / 2.5, 1 / 0.5])
    assert weighted_quantiles(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), [0.5])[0] == 2.0
    assert weighted_quantiles(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.0]), [0.025])[0] == 3.0


def test_posterior_keeps_user_overrides(data_copy, tmp_path):
    targets = synthetic_targets(tmp_path / "targets.csv", women=5_000)
    calibrate(
        "nl-biennial",
        draws=8,
        women=2_000,
        seed=2,
        targets=targets,
        params=list(TRUE),
        out_dir=data_copy / "calibration",
        min_accepted=2,
        rounds=2,
    )
    s = load_scenario("nl-biennial", {"programme.interval_years": 3})
    post = run_posterior(s, women=2_000, seed=1)
    assert post.best.scenario_hash == s.hash
    assert all(
        r.counts.equals(simulate(s.replace(v), women=2_000, seed=1).counts)
        for r, v in zip(post.runs, post.sets, strict=True)
    )


def test_a_full_disk_during_calibration_is_one_line_naming_out(tmp_path, monkeypatch, capsys):
    """ENOSPC while saving a draw ends as one line naming --out (exit 2); rerunning resumes."""
    import errno

    import analysis.calibration.abc as abc

    targets = synthetic_targets(tmp_path / "targets.csv", women=2_000)
    real_fsync, calls = abc.os.fsync, {"n": 0}

    def full_disk(fd):
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(abc.os, "fsync", full_disk)
    with pytest.raises(CalcsimInputError) as info:
        calibrate(
            "nl-biennial",
            draws=4,
            women=500,
            seed=3,
            targets=targets,
            params=list(TRUE),
            rounds=1,
            min_accepted=2,
            out_dir=tmp_path / "cal",
        )
    assert calls["n"] >= 2  # the fault was reached
    msg = str(info.value)
    assert msg.startswith("out=") and "No space left on device" in msg and "\n" not in msg
    assert info.value.cli_message().startswith("--out: ")
