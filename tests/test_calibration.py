"""Calibration (ABC-SMC and rounds: recovery, resume), stratified targets, fit, identifiability, sensitivity."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import cli, load_scenario
from analysis.calibration.abc import calibrate
from analysis.calibration.identifiability import identifiability
from analysis.calibration.posterior import calibration_fit, run_posterior
from analysis.calibration.sensitivity import one_way, sobol
from analysis.calibration.smc import SMC, SMCSettings, ess, kernel_covariance, run_smc, smc_weights
from analysis.calibration.targets_fit import (
    MODEL_DISCREPANCY_RELATIVE_SD,
    evaluate,
    model_counts,
    scenario_targets,
    target_groupings,
)
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


def test_smc_recovers_known_parameters_from_synthetic_targets(tmp_path):
    targets = synthetic_targets(tmp_path / "targets.csv", women=20_000)
    df = calibrate(
        "nl-biennial",
        draws=100,
        population=12,
        women=6_000,
        seed=5,
        targets=targets,
        out_dir=tmp_path,
        params=list(TRUE),
    )
    acc = df[df["accepted"]]
    gens = df.attrs["generations"]
    assert len(acc) == 12 and len(gens) >= 3  # the population moved through several generations
    assert np.isclose(acc["weight"].sum(), 1.0) and (df.loc[~df["accepted"], "weight"] == 0).all()
    assert df.attrs["tolerance_reached"].startswith(("yes", "no"))
    final = gens[gens["complete"]].iloc[-1]
    assert (acc["distance"] <= final["tolerance"]).all() and (acc["generation"] == final["generation"]).all()
    assert (gens["tolerance"].diff().dropna() <= 0).all()  # tolerances never grow
    for key, value in TRUE.items():
        assert acc[key].min() <= value <= acc[key].max(), (key, acc[key].describe())
    ident = identifiability(tmp_path / "nl-biennial.csv").set_index("parameter")
    # the targets inform the threshold: its 95% interval is far narrower than the prior (0.95 = uninformed)
    assert ident.loc["reading.threshold_logit_shift", "width_ratio"] < 0.5
    cal = read_calibration(tmp_path / "nl-biennial.csv")  # the final population, readable by the scenario layer
    assert len(cal.draws) == 12 and cal.draws["accepted"].all()
    assert len(read_calibration(tmp_path / "nl-biennial.draws.csv").draws) == len(df)


def test_interrupted_rounds_calibration_resumes_and_equals_an_uninterrupted_one(tmp_path):
    targets = synthetic_targets(tmp_path / "targets.csv", women=5_000)
    kw = {"draws": 6, "women": 3_000, "seed": 9, "targets": targets, "params": list(TRUE), "method": "rounds"}
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


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy()
    out.attrs = {}
    return out


def test_interrupted_smc_resumes_equals_parallel_and_continues_with_a_larger_budget(tmp_path):
    targets = synthetic_targets(tmp_path / "targets.csv", women=5_000)
    kw = {"women": 2_000, "seed": 9, "targets": targets, "params": list(TRUE), "population": 4}
    part = calibrate("nl-biennial", draws=14, out_dir=tmp_path / "a", stop_after=6, **kw)
    assert len(part) == 6 and set(part["generation"]) == {0, 1}  # interrupted inside generation 1
    with (tmp_path / "a" / "nl-biennial.csv.partial").open("a", encoding="utf-8") as fh:
        fh.write("6,1,2,0.61")  # killed while writing a line: a torn last line
    resumed = calibrate("nl-biennial", draws=14, out_dir=tmp_path / "a", **kw)
    serial_map = lambda fn, items: [fn(i) for i in items]  # noqa: E731 - batches of 8, as with Dask
    parallel = calibrate("nl-biennial", draws=14, out_dir=tmp_path / "b", map_fn=serial_map, **kw)
    assert not (tmp_path / "a" / "nl-biennial.csv.partial").exists()
    pd.testing.assert_frame_equal(_plain(resumed), _plain(parallel), check_exact=True)
    assert len(resumed) == 14 and resumed["accepted"].sum() == 4
    # a finished run started again with a larger budget continues from its draws: same as one longer run
    longer = calibrate("nl-biennial", draws=22, out_dir=tmp_path / "a", **kw)
    fresh = calibrate("nl-biennial", draws=22, out_dir=tmp_path / "c", **kw)
    pd.testing.assert_frame_equal(_plain(longer), _plain(fresh), check_exact=True)
    pd.testing.assert_frame_equal(_plain(longer.iloc[:14, :4]), _plain(resumed.iloc[:, :4]), check_exact=True)
    # changed settings cannot silently resume
    calibrate("nl-biennial", draws=14, out_dir=tmp_path / "d", stop_after=2, **kw)
    with pytest.raises(CalcsimInputError, match="different women") as info:
        calibrate("nl-biennial", draws=14, out_dir=tmp_path / "d", **{**kw, "women": 2_001})
    assert "\n" not in str(info.value) and "--restart" in str(info.value)


def test_calibrated_set_is_the_default_and_posterior_runs_over_accepted_sets(data_copy, tmp_path):
    targets = synthetic_targets(tmp_path / "targets.csv", women=10_000)
    calibrate(
        "nl-biennial",
        draws=12,
        population=4,
        women=4_000,
        seed=2,
        targets=targets,
        params=list(TRUE),
        out_dir=data_copy / "calibration",
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
    assert len(post.runs) == int(cal["accepted"].sum()) == 4
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
    # common random numbers: when clusters do not raise cancer risk (cancer.cluster_rr = 1), benign clusters
    # cannot change which cancers are recalled for calcification alone
    no_rr = load_scenario("nl-biennial", {"cancer.cluster_rr": 1.0}, calibration=None)
    key = ("calc_only_share_of_screen_detected", "calcifications.cluster_prevalence_age50")
    assert (
        one_way(no_rr, women=4_000, seed=3, params=params[1:]).set_index(["output", "parameter"]).loc[key, "swing"] == 0
    )
    assert ow.loc[("recall_rate", "calcifications.cluster_prevalence_age50"), "swing"] > 0  # clusters were varied
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
        (["calibrate", "--population", "1"], "--population: 1"),
        (["calibrate", "--alpha", "1.5"], "--alpha: 1.5"),
        (["calibrate", "--method", "rounds", "--draws", "4", "--rounds", "3"], "--rounds: 3"),
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
        ({"draws": 4, "rounds": 3, "method": "rounds"}, "rounds=3: ", "--rounds: 3: "),
        ({"population": 1}, "population=1: ", "--population: 1: "),
        ({"method": "mcmc"}, "method='mcmc': ", "--method: 'mcmc': "),
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
    assert df.attrs["prior_hash"] == load_scenario("nl-biennial", calibration="parents").prior_hash
    s = load_scenario("nl-biennial", calibration=written)  # and a user's file is applied by path
    assert s.calibration[0].file == str(written) and s.calibration[0].draw in set(df.loc[df["accepted"], "draw"])


def test_importance_weights_and_weighted_quantiles():
    from analysis.calibration.posterior import weighted_quantiles
    from analysis.calibration.rounds import importance_weights

    free = [("a", 0.0, 1.0), ("b", 0.0, 2.0)]
    prior = np.array([[0.0, 1.0], [0.0, 2.0]])
    inner = np.array([[0.0, 0.5], [0.0, 1.0]])  # a quarter of the prior volume
    x = np.array([[0.2, 0.5], [0.9, 1.9]])  # inside both boxes; inside the prior only
    w = importance_weights(x, [prior, inner], [10, 10], free)
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


# ----------------------------------------------------------------------------- ABC-SMC on a toy model
TOY_TARGET, TOY_SD = np.array([0.4, 0.6]), 0.05


def _toy(props):
    """Distance of a toy model whose output is its parameters: sum of squared z against TOY_TARGET."""
    return [{"distance": float(np.sum(((p.values - TOY_TARGET) / TOY_SD) ** 2))} for p in props]


def _toy_smc(population: int, draws: int, seed: int) -> SMC:
    final = float(stats.chi2.ppf(0.95, 2))
    return SMC([("a", 0.0, 1.0), ("b", 0.0, 1.0)], SMCSettings(population, 0.5, draws, final, seed))


def test_smc_samples_the_abc_posterior_of_a_toy_model():
    """Uniform prior, distance <= chi-square point: the ABC posterior is uniform on a disc of radius r.

    Its mean is the target, and a quarter of its mass lies within r/2. Unweighted kernel proposals
    crowd the centre, so only correct importance weights give 1/4; both checks allow 4 standard
    errors of a weighted mean with the population's effective sample size.
    """
    smc = _toy_smc(population=1000, draws=60_000, seed=11)
    run_smc(smc, _toy, batch=16)
    assert smc.reached and len(smc.generations) >= 4
    g = smc.final()
    x, w = smc.values(np.array(g.unit)), g.weights
    r = TOY_SD * np.sqrt(smc.settings.final_tolerance)
    n_eff = ess(w)
    assert g.accepted == 1000 and n_eff > 500 and np.isclose(w.sum(), 1.0)
    assert np.all(np.sum((x - TOY_TARGET) ** 2, axis=1) <= r * r * (1 + 1e-12))
    np.testing.assert_array_less(np.abs(w @ x - TOY_TARGET), 4 * (r / 2) / np.sqrt(n_eff))
    inner = w[np.sqrt(np.sum((x - TOY_TARGET) ** 2, axis=1)) < r / 2].sum()
    assert abs(inner - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n_eff), inner


def test_smc_weights_and_kernel_by_hand():
    prev, prev_w = np.array([[0.2], [0.6]]), np.array([0.25, 0.75])
    cov = kernel_covariance(prev, prev_w)
    mean = 0.25 * 0.2 + 0.75 * 0.6
    assert cov[0, 0] == pytest.approx(2 * (0.25 * (0.2 - mean) ** 2 + 0.75 * (0.6 - mean) ** 2), rel=1e-8)
    new, sd = np.array([[0.3], [0.5]]), 0.1
    w = smc_weights(new, prev, prev_w, np.array([[sd * sd]]))
    den = [
        0.25 * np.exp(-0.5 * ((u - 0.2) / sd) ** 2) + 0.75 * np.exp(-0.5 * ((u - 0.6) / sd) ** 2) for u in (0.3, 0.5)
    ]
    expected = np.array([1 / den[0], 1 / den[1]])
    np.testing.assert_allclose(w, expected / expected.sum(), rtol=1e-12)


def test_smc_does_not_depend_on_batching_and_replays_its_saved_draws():
    rows = []

    def keep(used):
        rows.extend((p.generation, p.index, *p.values, r["distance"]) for p, r in used)

    a = _toy_smc(population=20, draws=400, seed=4)
    run_smc(a, _toy, batch=1, on_batch=keep)
    b = _toy_smc(population=20, draws=400, seed=4)
    run_smc(b, _toy, batch=7)
    assert a.recorded == b.recorded == len(rows) and len(a.generations) >= 3
    np.testing.assert_array_equal(a.final().weights, b.final().weights)
    np.testing.assert_array_equal(np.array(a.final().unit), np.array(b.final().unit))
    saved = pd.DataFrame(rows[:37], columns=["generation", "proposal", "a", "b", "distance"])
    saved.insert(0, "draw", np.arange(37))
    c = _toy_smc(population=20, draws=400, seed=4)
    c.replay(saved)
    assert c.recorded == 37
    run_smc(c, _toy, batch=3)
    np.testing.assert_array_equal(a.final().weights, c.final().weights)
    pd.testing.assert_frame_equal(a.summary(), c.summary())
    saved.loc[20, "a"] += 0.01  # an edited (or foreign) progress file is refused, not silently mixed in
    with pytest.raises(CalcsimInputError, match="saved draw 20 .*--restart"):
        _toy_smc(population=20, draws=400, seed=4).replay(saved)


def test_smc_says_when_the_budget_ends_before_the_tolerance():
    smc = _toy_smc(population=30, draws=150, seed=6)
    run_smc(smc, _toy, batch=4)
    assert smc.recorded == 150 and not smc.reached
    g = smc.final()
    assert g.complete and g.tolerance > smc.settings.final_tolerance
    assert not smc.current.complete  # the generation the budget ran out in


# ----------------------------------------------------------------------------- targets and stratified scoring
def test_shipped_targets_have_sources_strata_and_counts():
    import tomllib

    t = load_targets().set_index("target")
    refs = tomllib.loads((data_dir() / "references.toml").read_text(encoding="utf-8"))
    assert set(t["source"]) <= set(refs)
    bcsc = t[t["source"] == "bcsc2017perf"]
    assert len(bcsc) == 48 and (bcsc["scenario"] == "us-annual").all() and bcsc["denominator"].notna().all()
    assert bcsc["stratum"].str.startswith("round=subsequent; age_group=").all()
    assert t.loc["us_bcsc_recall_40_49_c", ["numerator", "denominator"]].tolist() == [35430, 278179]
    assert t.loc["england_dcis_share", "kind"] == "check" and t.loc["nl_icr", "interval_kind"] == "published"
    us, eng = load_scenario("us-annual", calibration=None), load_scenario("england-triennial", calibration=None)
    assert len(scenario_targets(us)) == 53 and target_groupings(scenario_targets(us)) == [
        ["round", "age_group", "density"]
    ]
    assert "england_dcis_share" not in set(scenario_targets(eng)["target"])
    assert "england_dcis_share" in set(scenario_targets(eng, checks=True)["target"])


@pytest.mark.parametrize(
    ("stratum", "fragment"),
    [
        ("round=subsequent; age_group=40-47", "age_group='40-47'"),
        ("dens=c", "did you mean 'density'"),
        ("density=e", "density='e': one of a, b, c, d"),
        ("round", "key=value"),
    ],
)
def test_a_bad_stratum_is_a_one_line_error(tmp_path, stratum, fragment):
    df = pd.read_csv(load_targets().attrs["path"], comment="#", dtype=str, keep_default_na=False)
    df.loc[df["target"] == "us_bcsc_recall_40_49_a", "stratum"] = stratum
    path = tmp_path / "targets.csv"
    df.to_csv(path, index=False)
    with pytest.raises(CalcsimInputError) as info:
        load_targets(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and "us_bcsc_recall_40_49_a" in msg and fragment in msg, msg


def test_stratified_targets_sum_the_models_five_year_groups():
    s = load_scenario("us-annual", calibration=None)
    t = scenario_targets(s)
    r = simulate(s, women=6_000, seed=3, by=target_groupings(t))
    m = model_counts(r, t).set_index("target")
    c = r.counts.set_index(["measure", "stratum"])
    for name, measure, ages, dens in [
        ("us_bcsc_recall_40_49_c", "recall_rate", ("40-44", "45-49"), "c"),
        ("us_bcsc_sensitivity_60_69_b", "sensitivity", ("60-64", "65-69"), "b"),
        ("us_bcsc_cdr_70_74_d", "cancer_detection_rate_per_1000", ("70-74",), "d"),
    ]:
        labels = [f"round=subsequent; age_group={a}; density={dens}" for a in ages]
        assert m.loc[name, "numerator"] == c.loc[[(measure, x) for x in labels], "numerator"].sum()
        assert m.loc[name, "n"] == c.loc[[(measure, x) for x in labels], "n"].sum()
    recall_cells = m.loc[[x for x in m.index if x.startswith("us_bcsc_recall_")]]
    total = c.loc[("subsequent_round_recall_rate", "all")]
    assert len(recall_cells) == 16 and recall_cells["n"].sum() == total["n"] > 0  # the cells tile ages 40-74
    assert recall_cells["numerator"].sum() == total["numerator"] > 0
    # the z of a stratified target: target SD, model discrepancy and model binomial SD in quadrature
    e = evaluate(s, {}, t, women=6_000, seed=3)
    row = t.set_index("target").loc["us_bcsc_recall_40_49_c"]
    p, n = (
        m.loc["us_bcsc_recall_40_49_c", "numerator"] / m.loc["us_bcsc_recall_40_49_c", "n"],
        m.loc["us_bcsc_recall_40_49_c", "n"],
    )
    sd = np.sqrt(row["target_sd"] ** 2 + (MODEL_DISCREPANCY_RELATIVE_SD * row["value"]) ** 2 + p * (1 - p) / n)
    assert e["us_bcsc_recall_40_49_c__model"] == pytest.approx(p, rel=1e-12)
    assert e["us_bcsc_recall_40_49_c__z"] == pytest.approx((p - row["value"]) / sd, rel=1e-10)
    assert e["distance"] == pytest.approx(sum(e[f"{x}__z"] ** 2 for x in t["target"]), rel=1e-12)


# ----------------------------------------------------------------------------- identifiability and calcsim fit
def test_identifiability_of_a_synthetic_calibration_file(tmp_path):
    path = tmp_path / "nl-biennial.csv"
    head = (
        "# scenario: nl-biennial\n# prior_hash: 0\n# parameters: a b c\n"
        '# prior_ranges: {"a":[0,1],"b":[0,10],"c":[0,2]}\n'
        "# tolerance_reached: yes (final tolerance 3, chi-square point 3)\n"
    )
    rows = pd.DataFrame(
        {
            "draw": [0, 1, 2, 3, 4],
            "a": [0.2, 0.4, 0.6, 0.8, 0.0],
            "b": [8.0, 6.0, 4.0, 2.0, 0.0],  # b = 10 - 10 a: correlation -1
            "c": [0.0, 1.0, 1.0, 0.0, 2.0],
            "distance": [2.0, 1.0, 1.5, 2.5, 9.0],
            "accepted": [True, True, True, True, False],  # the rejected draw must not count
            "weight": [0.1, 0.2, 0.3, 0.4, 0.0],
        }
    )
    path.write_text(head + rows.to_csv(index=False), encoding="utf-8")
    ident = identifiability(path).set_index("parameter")
    assert ident.loc["a", "posterior_mean"] == pytest.approx(0.6) and ident.loc["b", "posterior_mean"] == pytest.approx(
        4.0
    )
    # weighted 2.5% / 97.5% quantiles: the extreme accepted values; width over the prior width
    assert ident.loc["a", ["posterior_lower", "posterior_upper", "width_ratio"]].tolist() == pytest.approx(
        [0.2, 0.8, 0.6]
    )
    assert ident.loc["b", ["posterior_lower", "posterior_upper", "width_ratio"]].tolist() == pytest.approx(
        [2.0, 8.0, 0.6]
    )
    assert ident.loc["a", "posterior_sd"] == pytest.approx(0.2)  # weighted variance 0.04
    assert ident.loc["a", "best"] == 0.4  # the accepted draw with the smallest distance
    corr = ident.attrs["correlation"]
    assert corr.loc["a", "b"] == pytest.approx(-1.0) and corr.loc["a", "c"] == pytest.approx(-0.4)
    assert ident.attrs["effective_sample_size"] == pytest.approx(1 / 0.3)
    assert ident.attrs["tolerance_reached"].startswith("yes")


def test_calcsim_fit_shows_every_target_grouped_with_z_and_verdict(data_copy, tmp_path, capsys):
    calibrate(
        "us-annual",
        draws=6,
        population=3,
        women=1_500,
        seed=2,
        params=["reading.threshold_logit_shift"],
        out_dir=data_copy / "calibration",
    )
    code = cli.main(["fit", "--scenario", "us-annual", "--women", "1500", "--out", str(tmp_path / "fit")])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert any(line.startswith("tolerance reached: no (final tolerance") for line in lines)  # 6 draws cannot reach it
    assert any(line.startswith("53 targets fitted:") for line in lines)
    for name in ("us_recall", "us_cdr", "us_sensitivity", "us_specificity", "us_ppv1"):
        (row,) = [line for line in lines if line.startswith(name + " ")]
        assert row.rstrip().endswith(("within", "outside"))
    for measure in ("recall_rate", "cancer_detection_rate_per_1000", "sensitivity"):
        i = lines.index(f"{measure}, round=subsequent: target -> model at the best set (z; * = outside |z| > 1.96)")
        assert [line.split()[0] for line in lines[i + 2 : i + 6]] == ["40-49", "50-59", "60-69", "70-74"]
    assert "WARNING: us-annual: tolerance NOT reached" in out and "Identifiability" in out
    fit = pd.read_csv(tmp_path / "fit" / "calibration_fit.csv", keep_default_na=False)
    assert len(fit) == 53 and set(fit["verdict"]) <= {"within", "outside"}
    assert (fit["verdict"].eq("within") == (fit["z"].astype(float).abs() <= 1.959964)).all()
    assert (tmp_path / "fit" / "identifiability.csv").is_file()
