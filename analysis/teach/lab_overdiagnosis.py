"""Teaching lab "Overdiagnosis": a screened and an unscreened cohort of the same women, with the truth known.

::

    lab = overdiagnosis_cohorts("nl-biennial", women=20_000, seed=2026)
    lab.screened, lab.unscreened   # register-like tables, one row per woman
    lab.truth                      # the true overdiagnosed DCIS and invasive cancers (never in the tables)
    write_overdiagnosis_cohorts("handout/", "nl-biennial", 20_000, 2026)  # two CSV files, no truth

The women are those of :func:`analysis.stats.harms_benefits.harms_benefits` for the same scenario, size and
seed: every woman alive and free of diagnosed breast cancer at the programme's start age (the entry age)
is followed to death or ``follow_up_to`` twice, invited to the programme (*screened* cohort, intention to
screen: non-attenders stay in it) and without screening (*unscreened* cohort), with common random numbers
(:mod:`analysis.model.benefits`: :func:`~analysis.model.benefits.comparator`,
:func:`~analysis.model.benefits.strategy_outcome`, :func:`~analysis.model.benefits.woman_variables`). The
truth is the package's own ``overdiagnosed_dcis`` and ``overdiagnosed_invasive``: a screen-detected cancer
that would not have been diagnosed before death or the lifetime horizon without screening.

**What holds exactly in this model.** A woman has at most one lesion and her other-cause death is the same
in both cohorts; breast-cancer death comes after diagnosis. So in the screened cohort she is diagnosed
whenever she is in the unscreened one, never later (screen detection precedes surfacing). With ``S(t)``
and ``U(t)`` the diagnoses up to age ``t`` in the two cohorts, the excess ``E(t) = S(t) - U(t)`` is the
number of women diagnosed by ``t`` in the screened cohort only: the overdiagnosed cancers found by ``t``
plus the *lead-time* cancers found by ``t`` that would surface later. Hence ``E(t) >= 0``; after the last
screen ``E(t)`` can only fall (each lead-time cancer surfacing in the unscreened cohort lowers it: the
compensatory drop) and ``E(horizon)`` equals the true overdiagnosed count exactly. Any shorter follow-up
overestimates overdiagnosis by the lead-time cancers still pending.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ArgumentError, check_seed, check_women
from analysis.io.atomic import atomic_write_text
from analysis.model.benefits import VARIABLES, comparator, screened_bc_death_age, strategy_outcome, woman_variables
from analysis.model.natural_history import draw_natural_history
from analysis.model.simulation import Model, block_sizes, build_model
from analysis.model.streams import BLOCK_SIZE
from analysis.model.survival import Survival
from analysis.scenario import Scenario, load_scenario
from analysis.stats.harms_benefits import programme_strategy

__all__ = [
    "COHORT_COLUMNS",
    "FILES",
    "OverdiagnosisCohorts",
    "OverdiagnosisTruth",
    "cumulative_diagnoses",
    "excess_by_follow_up",
    "incidence_by_age",
    "overdiagnosis_cohorts",
    "write_overdiagnosis_cohorts",
]

#: Columns of each cohort table (the CSV files hold exactly these; ``woman`` is ``woman_id`` there).
COHORT_COLUMNS = (
    "woman",  # identifier; the same woman has the same id in both in-memory tables
    "entry_age",  # the programme's start age: alive and free of diagnosed breast cancer then
    "exit_age",  # death or end of follow-up, whichever comes first
    "exit_reason",  # "death from breast cancer", "death from other causes", "end of follow-up"
    "screens",  # screens attended (0 in the unscreened cohort)
    "diagnosis_age",  # first breast-cancer diagnosis before exit (NaN: none)
    "diagnosis_type",  # "DCIS", "invasive" or "" (none)
    "diagnosis_mode",  # "screen-detected", "interval" (within the interval after a screen), "clinical" or ""
)
#: File names written by :func:`write_overdiagnosis_cohorts`.
FILES = {"screened": "screened_cohort.csv", "unscreened": "unscreened_cohort.csv"}


@dataclass(frozen=True)
class OverdiagnosisTruth:
    """The truth of the paired run (what no register shows): overdiagnosed cancers among the women entered."""

    women: int  # women entered (alive and free of diagnosed breast cancer at the entry age)
    overdiagnosed_dcis: int
    overdiagnosed_invasive: int
    screen_detected_dcis: int
    screen_detected_invasive: int
    woman_ids: np.ndarray = field(repr=False)  # the overdiagnosed women (instructor use)

    @property
    def overdiagnosed(self) -> int:
        """Overdiagnosed cancers, DCIS and invasive."""
        return self.overdiagnosed_dcis + self.overdiagnosed_invasive

    @property
    def screen_detected(self) -> int:
        """Screen-detected cancers, DCIS and invasive."""
        return self.screen_detected_dcis + self.screen_detected_invasive

    def table(self) -> pd.DataFrame:
        """Counts and per 1,000 women entered, by type."""
        rows = [("DCIS", self.overdiagnosed_dcis, self.screen_detected_dcis),
                ("invasive", self.overdiagnosed_invasive, self.screen_detected_invasive),
                ("all", self.overdiagnosed, self.screen_detected)]  # fmt: skip
        t = pd.DataFrame(rows, columns=["type", "overdiagnosed", "screen_detected"])
        t["per_1000_women"] = 1000.0 * t["overdiagnosed"] / max(self.women, 1)
        t["share_of_screen_detected_pct"] = 100.0 * t["overdiagnosed"] / t["screen_detected"].where(lambda v: v > 0)
        return t


@dataclass(frozen=True)
class OverdiagnosisCohorts:
    """The two cohorts (one row per woman, :data:`COHORT_COLUMNS`), the truth, and the settings."""

    screened: pd.DataFrame
    unscreened: pd.DataFrame
    truth: OverdiagnosisTruth
    meta: dict


def _scenario(scenario: Scenario | str, start: float | None, stop: float | None, interval: float | None) -> Scenario:
    """The scenario with the lab's programme ages (checked as :func:`harms_benefits` checks a strategy)."""
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    pg = s.programme
    over = {"programme.start_age_years": pg.start_age_years if start is None else float(start),
            "programme.stop_age_years": pg.stop_age_years if stop is None else float(stop),
            "programme.interval_years": pg.interval_years if interval is None else float(interval)}  # fmt: skip
    if over != {k: getattr(pg, k.split(".")[1]) for k in over}:
        s = s.replace(over, origin="lab overdiagnosis")
    pg, end = s.programme, s.cohort.model_end_age_years
    if not s.cohort.model_start_age_years <= pg.start_age_years <= pg.stop_age_years:
        raise ArgumentError("start_age", pg.start_age_years, "between the model start age and the stop age")
    if pg.stop_age_years + pg.interval_years > end:
        raise ArgumentError("stop_age", pg.stop_age_years, f"at most {end:g} - interval (the model end age)")
    return s


def _labels(codes: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Text labels of small integer codes (0: ``names[0]``)."""
    return np.asarray(names, dtype=object)[codes]


def _table(ids: np.ndarray, entry: float, exit_age: np.ndarray, reason: np.ndarray, screens: np.ndarray,
           dx_age: np.ndarray, dx_type: np.ndarray, dx_mode: np.ndarray) -> pd.DataFrame:  # fmt: skip
    """One cohort's rows; codes: reason 0 end / 1 other / 2 breast cancer; type 0/1 DCIS/2 inv; mode 0/1/2/3."""
    has = np.isfinite(dx_age)
    return pd.DataFrame({
        "woman": ids, "entry_age": np.full(ids.size, entry), "exit_age": exit_age,
        "exit_reason": _labels(reason, ("end of follow-up", "death from other causes", "death from breast cancer")),
        "screens": screens.astype(np.int64), "diagnosis_age": np.where(has, dx_age, np.nan),
        "diagnosis_type": _labels(np.where(has, dx_type, 0), ("", "DCIS", "invasive")),
        "diagnosis_mode": _labels(np.where(has, dx_mode, 0), ("", "screen-detected", "interval", "clinical")),
    })  # fmt: skip


def _block(s: Scenario, model: Model, seed: int, block: int, n: int, end: float) -> dict[str, object]:
    """One block: both cohorts' rows and the truth's per-woman variables (the women entered only)."""
    st, start = programme_strategy(s), s.programme.start_age_years
    c = model.cohort(seed, block, n)
    nh = draw_natural_history(s, model.hazards, c, seed, block)
    sv = Survival.from_scenario(s)
    cmp = comparator(s, nh, sv, seed, block, start)
    out = strategy_outcome(s, st, c, nh, seed, block, model.density_grid)
    first = block * BLOCK_SIZE
    x = woman_variables(s, st, cmp, nh, out, sv, first, start, s.survival.discount_rate)
    keep, oc = cmp.population, nh.death_age
    w = (out.screens["woman"] - first).astype(np.intp)
    screens = np.bincount(w, minlength=n)
    interval = np.bincount(w[out.screens["interval_cancer"]], minlength=n) > 0
    detected = np.isfinite(out.detected_age)
    bc_s = screened_bc_death_age(cmp, out, sv)  # the cure model of benefits.py
    rows = {}
    for arm, bc, dx_age, dx_type, dx_mode, scr in (
        ("unscreened", cmp.bc_death_age, np.where(cmp.diagnosed, nh.surfacing_age, np.inf), 2, 3, 0 * screens),
        (
            "screened",
            bc_s,
            np.where(detected, out.detected_age, np.where(cmp.diagnosed, nh.surfacing_age, np.inf)),
            np.where(detected, out.detected_type, 2),
            np.where(detected, 1, np.where(interval, 2, 3)),
            screens,
        ),
    ):
        death = np.minimum(oc, bc)
        exit_age = np.minimum(death, end)
        reason = np.where(death > end, 0, np.where(bc < oc, 2, 1))
        dx = np.where(dx_age <= exit_age, dx_age, np.inf)
        dx_type, dx_mode = np.broadcast_to(dx_type, n), np.broadcast_to(dx_mode, n)
        rows[arm] = _table((first + np.arange(n))[keep], start, exit_age[keep], reason[keep], scr[keep], dx[keep],
                           dx_type[keep], dx_mode[keep])  # fmt: skip
    rows["x"], rows["ids"] = x, (first + np.arange(n))[keep]
    return rows


def overdiagnosis_cohorts(
    scenario: Scenario | str = "nl-biennial",
    women: int = 20_000,
    seed: int = 2026,
    *,
    start_age: float | None = None,
    stop_age: float | None = None,
    interval: float | None = None,
    follow_up_to: float | None = None,
) -> OverdiagnosisCohorts:
    """The screened and the unscreened cohort of the same women, and the true overdiagnosed count.

    Parameters
    ----------
    scenario : Scenario or str
        The scenario (biology, reading, survival, and the programme unless the ages are given).
    women : int
        Women simulated from the model start age; those alive and free of diagnosed breast cancer at the
        start age enter the cohorts (the population of :func:`analysis.stats.harms_benefits.harms_benefits`).
    seed : int
        Seed (the same women and results as ``harms_benefits`` with this seed).
    start_age, stop_age, interval : float, optional
        The programme's first and last invitation age and interval (default: the scenario's).
    follow_up_to : float, optional
        Age at which follow-up ends (default and at most ``survival.horizon_age_years``, lifetime).

    Returns
    -------
    OverdiagnosisCohorts
        ``truth`` always counts over the lifetime horizon (the package's definition), whatever
        ``follow_up_to``.
    """
    women, seed = check_women(women), check_seed(seed)
    s = _scenario(scenario, start_age, stop_age, interval)
    horizon = s.survival.horizon_age_years
    end = horizon if follow_up_to is None else float(follow_up_to)
    if not s.programme.start_age_years < end <= horizon:
        raise ArgumentError("follow_up_to", follow_up_to, f"an age after the start age and at most {horizon:g}")
    model = build_model(s)
    parts = [_block(s, model, seed, b, n, end) for b, n in enumerate(block_sizes(women))]
    x = np.vstack([p["x"] for p in parts])
    ids = np.concatenate([p["ids"] for p in parts])
    col = {v: x[:, i] for i, v in enumerate(VARIABLES)}
    truth = OverdiagnosisTruth(
        women=int(col["women"].sum()),
        overdiagnosed_dcis=int(col["overdiagnosed_dcis"].sum()),
        overdiagnosed_invasive=int(col["overdiagnosed_invasive"].sum()),
        screen_detected_dcis=int(col["screen_detected_dcis"].sum()),
        screen_detected_invasive=int(col["screen_detected_invasive"].sum()),
        woman_ids=ids[(col["overdiagnosed_dcis"] + col["overdiagnosed_invasive"]) > 0],
    )
    pg = s.programme
    meta = {"scenario": s.name, "scenario_hash": s.hash, "women_simulated": women, "seed": seed,
            "start_age": pg.start_age_years, "stop_age": pg.stop_age_years, "interval": pg.interval_years,
            "attendance": pg.attendance, "follow_up_to": end, "horizon_age": horizon}  # fmt: skip
    frames = {a: pd.concat([p[a] for p in parts], ignore_index=True) for a in ("screened", "unscreened")}
    return OverdiagnosisCohorts(frames["screened"], frames["unscreened"], truth, meta)


def write_overdiagnosis_cohorts(
    folder: str | os.PathLike[str],
    scenario: Scenario | str = "nl-biennial",
    women: int = 20_000,
    seed: int = 2026,
    **options: float | None,
) -> dict[str, Path]:
    """Write the two cohorts as CSV files for students (:data:`FILES`), without the truth.

    The columns are :data:`COHORT_COLUMNS` (``woman`` as ``woman_id``; ages to 0.01 year). The unscreened
    cohort's women are renumbered in a shuffled order (seeded), so that the files, like two arms of a
    trial, do not pair the women: a pairing would reveal each woman's overdiagnosis. ``options`` are the
    keyword arguments of :func:`overdiagnosis_cohorts`. Returns the path of each file.
    """
    lab = overdiagnosis_cohorts(scenario, women, seed, **options)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 10])
    paths = {}
    for arm, t in (("screened", lab.screened), ("unscreened", lab.unscreened)):
        t = t.rename(columns={"woman": "woman_id"})
        order = np.arange(len(t)) if arm == "screened" else rng.permutation(len(t))
        t = t.iloc[order].reset_index(drop=True)
        t["woman_id"] = np.arange(1, len(t) + 1)
        paths[arm] = out / FILES[arm]
        atomic_write_text(paths[arm], t.to_csv(index=False, float_format="%.2f"))
    return paths


def cumulative_diagnoses(cohort: pd.DataFrame, ages: Sequence[float]) -> np.ndarray:
    """Women of ``cohort`` diagnosed (any type) at or before each age of ``ages``."""
    dx = np.sort(cohort["diagnosis_age"].dropna().to_numpy(float))
    return np.searchsorted(dx, np.asarray(ages, float), side="right")


def incidence_by_age(cohort: pd.DataFrame, width: float = 2.0, end: float | None = None) -> pd.DataFrame:
    """Diagnoses per 1,000 woman-years of living women, by age band of ``width`` years from the entry age."""
    entry = float(cohort["entry_age"].min()) if len(cohort) else 0.0
    stop = end if end is not None else float(cohort["exit_age"].max()) if len(cohort) else entry + width
    lower = entry + width * np.arange(max(int(np.ceil((stop - entry) / width)), 1))
    ex = cohort["exit_age"].to_numpy(float)
    years = np.clip(ex[None, :] - lower[:, None], 0.0, width).sum(axis=1)
    dx = cohort["diagnosis_age"].dropna().to_numpy(float)
    k = np.bincount(np.clip(((dx - entry) // width).astype(int), 0, lower.size - 1), minlength=lower.size)
    rate = np.where(years > 0, 1000.0 * k / np.where(years > 0, years, 1.0), np.nan)
    return pd.DataFrame({"age_lower": lower, "diagnoses": k, "woman_years": years, "per_1000_woman_years": rate})


def excess_by_follow_up(lab: OverdiagnosisCohorts, years_after_stop: Sequence[float]) -> pd.DataFrame:
    """The cumulative excess-incidence estimate at the end of each follow-up, with three denominators.

    At the age ``stop_age + y``: excess = diagnoses in the screened minus the unscreened cohort (count and
    per 1,000 women entered), as a % of the screen-detected cancers, of the cancers diagnosed in the
    screened cohort during the screening period (to the last invitation age + interval), and of all
    cancers diagnosed in the screened cohort by then; ``truth`` is the true overdiagnosed count.
    """
    m, sc, un = lab.meta, lab.screened, lab.unscreened
    ages = np.minimum(m["stop_age"] + np.asarray(years_after_stop, float), m["follow_up_to"])
    excess = cumulative_diagnoses(sc, ages) - cumulative_diagnoses(un, ages)
    detected = int((sc["diagnosis_mode"] == "screen-detected").sum())
    period = int(cumulative_diagnoses(sc, [m["stop_age"] + m["interval"]])[0])

    def pct(num: np.ndarray, den: object) -> np.ndarray:
        d = np.broadcast_to(np.asarray(den, float), np.shape(num))
        return np.where(d > 0, 100.0 * num / np.where(d > 0, d, 1.0), np.nan)

    return pd.DataFrame({
        "years_after_stop": ages - m["stop_age"], "follow_up_to_age": ages, "excess": excess,
        "excess_per_1000_women": 1000.0 * excess / max(len(sc), 1),
        "pct_of_screen_detected": pct(excess, detected), "pct_of_screening_period": pct(excess, period),
        "pct_of_all_diagnosed": pct(excess, cumulative_diagnoses(sc, ages)), "truth": lab.truth.overdiagnosed,
    })  # fmt: skip
