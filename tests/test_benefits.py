"""Benefits and harms: properties of the paired lifetime runs, an analytic recovery, scale-out and the CLI."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import cli, load_scenario
from analysis.model.benefits import VARIABLES, comparator, woman_variables
from analysis.model.natural_history import INVASIVE
from analysis.model.programme import ProgrammeOutcome, woman_schedule
from analysis.model.streams import BLOCK_SIZE
from analysis.scenario.strategies import Strategy
from analysis.stats.benefits import measures_frame
from analysis.stats.harms_benefits import harms_benefits

WOMEN, SEED = 30_000, 5
Z = 4.0  # tolerance in standard errors (two-sided p ~ 6e-5), fixed before the results were seen


@pytest.fixture(scope="module")
def nl():
    return load_scenario("nl-biennial", calibration=None)


@pytest.fixture(scope="module")
def default_run(nl):
    risk = Strategy(
        "50-74_risk", 50, 74, 2, high_risk="brca_or_density_d", high_risk_interval_years=1, low_risk_interval_years=3
    )
    return harms_benefits(nl, WOMEN, SEED, [Strategy("same", 50, 74, 2), risk])


def _est(result, measure, strategy="programme"):
    return result.estimate(measure, strategy)


def test_the_events_the_tests_rely_on_happen(default_run):
    t = default_run.table.set_index(["strategy", "measure"])
    assert t.loc[("programme", "bc_deaths_without_screening_per_1000_invited"), "estimate"] > 10
    assert t.loc[("programme", "bc_deaths_averted_per_1000_invited"), "estimate"] > 1
    assert t.loc[("programme", "overdiagnosed_dcis_per_1000_invited"), "estimate"] > 1
    assert t.loc[("programme", "overdiagnosed_invasive_per_1000_invited"), "estimate"] > 0.5


def test_a_strategy_with_the_programmes_ages_gives_identical_results(default_run):
    t = default_run.table
    a = t[t["strategy"] == "programme"].drop(columns="strategy").reset_index(drop=True)
    b = t[t["strategy"] == "same"].drop(columns="strategy").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_paired_intervals_are_narrower_than_unpaired(default_run):
    t = default_run.table.set_index(["strategy", "measure"])
    for m in ("bc_deaths_averted_per_1000_invited", "life_years_gained_per_1000_invited"):
        row = t.loc[("programme", m)]
        assert 0 < row["se"] < row["se_unpaired"]


def test_risk_based_strategy_screens_high_risk_women_yearly(nl, default_run):
    ages = [a for a, _ in woman_schedule(nl, np.array([1.0, 2.0, 3.0]))]
    assert ages[:4] == [50.0, 51.0, 52.0, 53.0] and ages[-1] == 74.0
    masks = dict(woman_schedule(nl, np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(masks[51.0], [True, False, False])
    np.testing.assert_array_equal(masks[56.0], [True, True, True])
    risk = _est(default_run, "screens_per_1000_invited", "50-74_risk")
    assert risk != _est(default_run, "screens_per_1000_invited")


def test_no_attendance_is_identical_to_no_screening(nl):
    s = nl.replace({"programme.attendance": 0.0})
    r = harms_benefits(s, 20_000, SEED)
    t = r.table.set_index("measure")["estimate"]
    for m in ("bc_deaths_averted_per_1000_invited", "life_years_gained_per_1000_invited", "screens_per_1000_invited",
              "overdiagnosed_per_1000_invited", "false_positive_recalls_per_1000_invited"):  # fmt: skip
        assert t[m] == 0.0


def test_a_test_that_finds_nothing_averts_no_death(nl):
    s = nl.replace({f"reading.p_recall_{k}_malignant": 0.0 for k in ("calc", "mass", "other")})
    r = harms_benefits(s, 20_000, SEED)
    t = r.table.set_index("measure")["estimate"]
    assert t["false_positive_recalls_per_1000_invited"] > 10  # the programme ran
    assert t["bc_deaths_averted_per_1000_invited"] == 0.0 and t["life_years_gained_per_1000_invited"] == 0.0
    assert t["overdiagnosed_per_1000_invited"] == 0.0


def test_no_overdiagnosis_without_competing_death_and_with_all_dcis_progressive(nl, tmp_path):
    ages = np.arange(35, 110)
    pd.DataFrame({"age_lower": ages, "age_upper": ages + 1, "probability_of_death": 1e-12, "source": "test"}).to_csv(
        tmp_path / "immortal.csv", index=False
    )
    s = nl.replace({"cohort.life_table": str(tmp_path / "immortal.csv"), "cancer.dcis_nonprogressive_ratio": 0.0})
    r = harms_benefits(s, 20_000, SEED)
    t = r.table.set_index("measure")["estimate"]
    assert t["bc_deaths_averted_per_1000_invited"] > 0  # screening found cancers early
    assert t["overdiagnosed_per_1000_invited"] == 0.0


def test_life_years_are_never_lost_and_every_screened_death_is_an_unscreened_one(nl):
    from analysis.model.benefits import strategy_outcome
    from analysis.model.natural_history import draw_natural_history
    from analysis.model.simulation import build_model
    from analysis.model.survival import Survival

    model = build_model(nl)
    c = model.cohort(SEED, 0, 20_000)
    nh = draw_natural_history(nl, model.hazards, c, SEED, 0)
    sv = Survival.from_scenario(nl)
    cmp = comparator(nl, nh, sv, SEED, 0, 50.0)
    st = Strategy("programme", 50, 74, 2)
    out = strategy_outcome(nl, st, c, nh, SEED, 0, model.density_grid)
    x = woman_variables(nl, st, cmp, nh, out, sv, 0, 50.0, 0.03)
    col = {v: x[:, i] for i, v in enumerate(VARIABLES)}
    assert np.all(col["life_days_screened"] >= col["life_days_unscreened"])
    assert np.all(col["bc_death_screened"] <= col["bc_death_unscreened"])
    assert col["bc_death_unscreened"].sum() > col["bc_death_screened"].sum() > 0


def test_analytic_recovery_one_perfect_screen_exponential_sojourn():
    """One perfect screen at 60; cancers surface at 60 + U(0, w) after an exponential sojourn of mean m.

    Detected iff the sojourn exceeds the time to surfacing: P = (m / w)(1 - exp(-w / m)). Lethality is fixed by
    size band: L1 at clinical size, L0 at screen size; nobody dies of other causes. Deaths averted per woman:
    P (L1 - L0).
    """
    n, w, m, l1, l0 = 400_000, 4.0, 2.0, 0.3, 0.1
    rng = np.random.default_rng(20261202)
    surf = 60.0 + w * rng.random(n)
    detected = rng.exponential(m, n) > surf - 60.0
    nh = SimpleNamespace(death_age=np.full(n, np.inf), surfacing_age=surf, clinical_diameter_mm=np.full(n, 20.0))
    s = SimpleNamespace(survival=SimpleNamespace(horizon_age_years=100.0, discount_age_years=50.0))
    sv = SimpleNamespace(
        invasive_lethality=lambda d: np.where(np.asarray(d) >= 15, l1, l0),
        dcis_lethality=0.0,
        years_to_death=lambda u: np.full(np.shape(u), 2.0),
    )
    cmp = comparator(s, nh, sv, 3, 0, 50.0)
    screens = {k: np.zeros(0, dtype=bool) for k in ("false_positive", "biopsy", "screen_detected")}
    screens |= {"woman": np.zeros(0, np.int64), "pathology": np.zeros(0, np.int8), "workup": np.zeros(0, np.int8),
                "presentation": np.zeros(0, np.int8)}  # fmt: skip
    out = ProgrammeOutcome(
        screens,
        np.where(detected, 60.0, np.inf),
        np.where(detected, INVASIVE, 0).astype(np.int8),
        np.where(detected, 5.0, np.nan),
    )
    st = Strategy("one", 60, 60, 1)
    x = woman_variables(s, st, cmp, nh, out, sv, 0, 50.0, 0.0)
    f = measures_frame(x.sum(axis=0), x.T @ x).set_index("measure")
    truth = 1000 * (m / w) * (1 - np.exp(-w / m)) * (l1 - l0)
    row = f.loc["bc_deaths_averted_per_1000_invited"]
    assert abs(row["estimate"] - truth) < Z * row["se"]
    assert row["se"] < 0.02 * truth  # precise enough that the check means something
    lyg = f.loc["life_years_gained_per_1000_invited", "estimate"]
    assert lyg > 0 and f.loc["overdiagnosed_per_1000_invited", "estimate"] == 0


def test_tasks_give_results_identical_to_serial(nl):
    strategies = [Strategy("45-69_3y", 45, 69, 3)]
    women = 2 * BLOCK_SIZE + 3_000
    serial = harms_benefits(nl, women, SEED, strategies)
    tasks = harms_benefits(nl, women, SEED, strategies, map_fn=lambda fn, items: [fn(i) for i in reversed(items)][::-1])
    pd.testing.assert_frame_equal(serial.table, tasks.table)


def test_frontier_flags_and_balance_sheet(default_run):
    wide = default_run.wide()
    assert list(wide["strategy"]) == ["programme", "same", "50-74_risk"]
    assert wide["efficient_screens"].any()
    b = default_run.balance()
    assert list(b["side"].unique()) == ["benefit", "harm"]
    assert (b["unit"] == "per 1,000 women screened").all()


def test_cli_writes_the_table_and_refuses_bad_options(tmp_path, capsys):
    grid = tmp_path / "grid.csv"
    grid.write_text(
        "name,start_age_years,stop_age_years,interval_years,high_risk,high_risk_interval_years,"
        "low_risk_interval_years,note\n50-69_3y,50,69,3,,,,\n"
    )
    out = tmp_path / "out"
    args = ["harms-benefits", "--calibration", "none", "--women", "3000", "--seed", "3"]
    assert cli.main([*args, "--strategies", str(grid), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Breast-cancer deaths averted" in printed and "50-69_3y" in printed
    table = pd.read_csv(out / "harms_benefits.csv")
    assert set(table["strategy"]) == {"programme", "50-69_3y"}
    assert (out / "frontier.png").stat().st_size > 0 and (out / "balance_sheet.png").stat().st_size > 0
    assert cli.main([*args, "--discount", "-0.1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--discount" in err
    assert cli.main([*args, "--strategies", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_risk_based_with_equal_intervals_is_the_uniform_strategy(nl):
    """A risk rule whose three intervals are equal screens everyone alike: the same table as the uniform one."""
    for iv in (2.0, 0.7):
        uniform = Strategy("u", 50, 74, iv)
        risk = Strategy("r", 50, 74, iv, high_risk="brca", high_risk_interval_years=iv, low_risk_interval_years=iv)
        r = harms_benefits(nl, 8_000, SEED, [uniform, risk])
        t = r.table.set_index(["strategy", "measure"])["estimate"]
        pd.testing.assert_series_equal(t.loc["u"], t.loc["r"])


def test_a_strategys_figures_do_not_depend_on_the_others_run(nl):
    alone = harms_benefits(nl, 8_000, SEED)
    with_40 = harms_benefits(nl, 8_000, SEED, [Strategy("40-74_2y", 40, 74, 2)])
    for m in ("discounted_life_years_gained_per_1000_invited", "life_years_gained_per_1000_invited",
              "bc_deaths_averted_per_1000_screened", "overdiagnosed_per_1000_invited"):  # fmt: skip
        assert alone.estimate(m) == with_40.estimate(m)


def test_replicates_are_pooled_and_their_interval_covers_the_pooled_estimate(nl):
    r = harms_benefits(nl, 6_000, SEED, replicates=3)
    t = r.table.set_index("measure")
    assert r.meta["women"] == 18_000 and r.meta["replicates"] == 3
    row = t.loc["bc_deaths_averted_per_1000_invited"]
    assert row["replicate_lower"] < row["replicate_mean"] < row["replicate_upper"]
    assert row["replicate_lower"] <= row["estimate"] <= row["replicate_upper"]  # the mean of equal-sized parts


def test_bad_options_are_refused_before_anything_runs(nl, monkeypatch):
    import analysis.stats.harms_benefits as hb
    from analysis.errors import CalcsimInputError

    monkeypatch.setattr(hb, "_sums", lambda *a, **k: pytest.fail("ran before checking its arguments"))
    with pytest.raises(CalcsimInputError, match="replicates"):
        harms_benefits(nl, 1_000, SEED, replicates=0)
    with pytest.raises(CalcsimInputError, match="without a calibration"):
        harms_benefits(nl, 1_000, SEED, posterior=True)
    with pytest.raises(CalcsimInputError, match="model_end_age_years"):
        harms_benefits(nl, 1_000, SEED, [Strategy("late", 50, 84, 2)])
