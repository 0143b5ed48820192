"""The overdiagnosis lab: two register-like cohorts of the same women and the truth of the paired run.

What holds exactly (derived in the module docstring of :mod:`analysis.teach.lab_overdiagnosis`): one lesion
per woman and the same other-cause death in both cohorts, so a woman diagnosed without screening is
diagnosed with screening at the same age or earlier. With ``S(t)``, ``U(t)`` the women diagnosed by age
``t``, the excess ``E(t) = S(t) - U(t)`` is the overdiagnosed cancers found by ``t`` plus the lead-time
cancers found by ``t`` that surface later: ``E(t) >= 0``, ``E(t) >= truth`` from the last screen on, ``E``
non-increasing after it, and ``E(horizon) = truth`` exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ArgumentError
from analysis.scenario import load_scenario
from analysis.stats.harms_benefits import harms_benefits
from analysis.teach.lab_overdiagnosis import (
    COHORT_COLUMNS,
    FILES,
    cumulative_diagnoses,
    excess_by_follow_up,
    incidence_by_age,
    overdiagnosis_cohorts,
    write_overdiagnosis_cohorts,
)

WOMEN, SEED = 5_000, 11  # seed fixed before any result was seen


@pytest.fixture(scope="module")
def lab():
    return overdiagnosis_cohorts("nl-biennial", WOMEN, SEED)


def _per_woman_counts(t: pd.DataFrame, result, what: str) -> float:
    """A per-1,000-women estimate of harms_benefits as a count of the lab's women."""
    return result.estimate(f"{what}_per_1000_women") * len(t) / 1000


def test_truth_is_the_packages_overdiagnosis(lab):
    """Same women, same seed: the truth is what harms_benefits reports, by type, and events happened."""
    t = lab.truth
    assert t.overdiagnosed_dcis > 0 and t.overdiagnosed_invasive > 0
    r = harms_benefits("nl-biennial", WOMEN, SEED)
    assert t.women == len(lab.screened) == len(lab.unscreened)
    for what, count in (("overdiagnosed_dcis", t.overdiagnosed_dcis), ("overdiagnosed_invasive",
                        t.overdiagnosed_invasive), ("overdiagnosed", t.overdiagnosed)):  # fmt: skip
        assert _per_woman_counts(lab.screened, r, what) == pytest.approx(count, abs=1e-9)
    assert r.estimate("overdiagnosed_share_of_screen_detected_pct") == pytest.approx(
        100 * t.overdiagnosed / t.screen_detected, abs=1e-12
    )
    assert (lab.screened["diagnosis_mode"] == "screen-detected").sum() == t.screen_detected
    # breast-cancer deaths in the tables are the benefits run's too
    bc = {
        a: int((getattr(lab, a)["exit_reason"] == "death from breast cancer").sum()) for a in ("screened", "unscreened")
    }
    averted = _per_woman_counts(lab.screened, r, "bc_deaths_averted")
    assert bc["unscreened"] - bc["screened"] == pytest.approx(averted, abs=1e-9)


def test_truth_with_other_programme_ages():
    """Custom ages: the truth equals harms_benefits on the scenario with those ages."""
    lab = overdiagnosis_cohorts("nl-biennial", 3_000, 5, start_age=45, stop_age=69, interval=3)
    s = load_scenario("nl-biennial").replace(
        {"programme.start_age_years": 45, "programme.stop_age_years": 69, "programme.interval_years": 3}
    )
    r = harms_benefits(s, 3_000, 5)
    assert lab.truth.overdiagnosed > 0
    assert (lab.screened["entry_age"] == 45).all()
    assert _per_woman_counts(lab.screened, r, "overdiagnosed") == pytest.approx(lab.truth.overdiagnosed, abs=1e-9)


def test_lifetime_excess_is_the_truth_exactly(lab):
    """Followed to the horizon, screened minus unscreened diagnoses = overdiagnosed, by type and woman by woman."""
    sc, un, t = lab.screened, lab.unscreened, lab.truth
    assert (sc["woman"].to_numpy() == un["woman"].to_numpy()).all()  # the same women, in the same order
    assert excess_by_follow_up(lab, [100])["excess"].iloc[-1] == t.overdiagnosed
    # by type it is not: a progressive DCIS found by screening would have surfaced as an invasive cancer
    excess = {k: (sc["diagnosis_type"] == k).sum() - (un["diagnosis_type"] == k).sum() for k in ("DCIS", "invasive")}
    prevented = t.screen_detected_dcis - t.overdiagnosed_dcis  # DCIS found that would have become invasive
    assert excess["DCIS"] == t.screen_detected_dcis > t.overdiagnosed_dcis
    assert excess["invasive"] == t.overdiagnosed_invasive - prevented
    ds, du = sc["diagnosis_age"].to_numpy(), un["diagnosis_age"].to_numpy()
    both = np.isfinite(du)
    assert np.isfinite(ds[both]).all() and (ds[both] <= du[both]).all()  # never diagnosed only without screening
    only_screened = sc["woman"].to_numpy()[np.isfinite(ds) & ~both]
    assert np.array_equal(np.sort(only_screened), np.sort(t.woman_ids))
    assert (un["diagnosis_mode"][both] == "clinical").all() and (un["screens"] == 0).all()


def test_excess_bounds_the_truth_and_falls_after_the_last_screen(lab):
    """E(t) >= 0 from entry; from the last invitation age on E(t) >= truth and never rises."""
    m = lab.meta
    ages = np.arange(m["start_age"], m["horizon_age"] + 0.25, 0.25)
    e = cumulative_diagnoses(lab.screened, ages) - cumulative_diagnoses(lab.unscreened, ages)
    assert (e >= 0).all()
    after = ages >= m["stop_age"]
    assert (e[after] >= lab.truth.overdiagnosed).all()
    assert (np.diff(e[after]) <= 0).all()
    assert e[after][0] > e[after][-1] == lab.truth.overdiagnosed  # the compensatory drop happened


def test_short_follow_up_overestimates_beyond_monte_carlo_error(lab):
    """Counted to the last invitation age, the excess exceeds the truth by more than 3 paired standard errors.

    Per woman, d = S_i(stop) - U_i(stop) - overdiagnosed_i is 0 or 1 (a lead-time cancer pending at ``stop``);
    the Monte Carlo SE of sum(d) is sqrt(N var(d)).
    """
    stop = lab.meta["stop_age"]
    s = (lab.screened["diagnosis_age"] <= stop).to_numpy(int)
    u = (lab.unscreened["diagnosis_age"] <= stop).to_numpy(int)
    over = lab.screened["woman"].isin(lab.truth.woman_ids).to_numpy(int)
    d = s - u - over
    assert set(np.unique(d)) <= {0, 1}
    short = excess_by_follow_up(lab, [0])["excess"].iloc[0]
    assert short == s.sum() - u.sum()
    se = np.sqrt(d.size * d.var(ddof=1))
    assert short - lab.truth.overdiagnosed > 3 * se > 0


def test_follow_up_to_censors_the_registers_not_the_truth(lab):
    """A shorter follow-up cuts the tables at that age; the truth stays the lifetime one."""
    short = overdiagnosis_cohorts("nl-biennial", WOMEN, SEED, follow_up_to=80)
    assert short.truth.overdiagnosed == lab.truth.overdiagnosed
    for t in (short.screened, short.unscreened):
        assert (t["exit_age"] <= 80).all() and (t["diagnosis_age"].dropna() <= 80).all()
        assert (t["diagnosis_age"].dropna() <= t["exit_age"][t["diagnosis_age"].notna()]).all()
    e = excess_by_follow_up(short, [6])["excess"].iloc[0]
    assert e >= short.truth.overdiagnosed
    with pytest.raises(ArgumentError):
        overdiagnosis_cohorts("nl-biennial", 100, 1, follow_up_to=101)


def test_exported_files_hold_no_truth(tmp_path, lab):
    """Two CSV files with the register columns only, the women not paired across the files."""
    paths = write_overdiagnosis_cohorts(tmp_path, "nl-biennial", WOMEN, SEED)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES.values())
    expected = ["woman_id", *COHORT_COLUMNS[1:]]
    sc, un = (pd.read_csv(paths[a], keep_default_na=False, na_values=[""]) for a in ("screened", "unscreened"))
    for t in (sc, un):
        assert list(t.columns) == expected
        assert not any(k in c for c in t.columns for k in ("overdiag", "truth", "surfac", "lethal", "lesion"))
    assert len(sc) == len(un) == lab.truth.women
    assert sc["diagnosis_age"].notna().sum() - un["diagnosis_age"].notna().sum() == lab.truth.overdiagnosed
    # shuffled: the unscreened file's row k is not the screened file's woman k
    assert not np.allclose(sc["exit_age"].to_numpy(), un["exit_age"].to_numpy())
    assert sorted(un["exit_age"].round(2)) == sorted(lab.unscreened["exit_age"].round(2))


def test_incidence_by_age_adds_up(lab):
    """Woman-years and diagnoses by band sum to the cohort's follow-up and diagnoses; the first round peaks."""
    inc = incidence_by_age(lab.screened, 2.0, lab.meta["follow_up_to"])
    sc = lab.screened
    assert inc["woman_years"].sum() == pytest.approx((sc["exit_age"] - sc["entry_age"]).sum())
    assert inc["diagnoses"].sum() == sc["diagnosis_age"].notna().sum()
    unscreened = incidence_by_age(lab.unscreened, 2.0, lab.meta["follow_up_to"])
    assert inc["per_1000_woman_years"].iloc[0] > unscreened["per_1000_woman_years"].iloc[0]
