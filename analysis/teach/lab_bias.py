"""Teaching lab "Lead-time and length bias": a register of every cancer with the simulated truth.

Survival measured from diagnosis looks better for screen-detected cancers even when screening changes
nothing. The simulator knows, for each tumour, when its preclinical phase began, when it would have surfaced
clinically without screening and what would then have happened to the woman, so both biases can be measured
against the truth (notebook ``09_lab_lead_length_bias``).

:func:`cancer_register` follows the same women over their lifetime, with and without the scenario's own
screening programme, as :mod:`analysis.model.benefits` does (common random numbers: the same onsets,
growth, other-cause deaths and the same draws of breast-cancer lethality and time to death), and returns
one row per woman with a cancer diagnosed in either world (:data:`REGISTER_COLUMNS`). Every cancer
diagnosed without screening is also diagnosed with it (earlier, or at the same age), so the rows are the
women diagnosed in the screened world.

**The no-benefit world** (``no_benefit=True``, a teaching device, not a scenario parameter): the screened
world's breast-cancer deaths are those of the unscreened world, woman by woman (her fate is fixed at her
would-be clinical diagnosis, whatever screening does). Screening then still finds cancers earlier, and
overdiagnoses, but it cannot cure: breast-cancer mortality is identical in both worlds.

:func:`km_survival` and :func:`survival_by_group` give Kaplan-Meier breast-cancer-specific survival
(statsmodels' ``SurvfuncRight``), censored at other-cause death and at the end of follow-up, from diagnosis
or from the would-be clinical diagnosis (:func:`survival_times`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.duration.survfunc import SurvfuncRight

from analysis.errors import ArgumentError, check_seed, check_women
from analysis.model.benefits import comparator, screened_bc_death_age, strategy_outcome
from analysis.model.natural_history import DCIS, LESION_NONPROGRESSIVE_DCIS, draw_natural_history
from analysis.model.simulation import Model, build_model
from analysis.model.streams import BLOCK_SIZE
from analysis.model.survival import Survival
from analysis.scenario import Scenario, load_scenario
from analysis.stats.harms_benefits import programme_strategy

__all__ = [
    "MODES",
    "ORIGINS",
    "REGISTER_COLUMNS",
    "WORLDS",
    "cancer_register",
    "km_curve",
    "km_survival",
    "survival_by_group",
    "survival_times",
]

#: Modes of diagnosis in the screened world (categories of ``mode_screened``, in this order).
MODES = ("screen-detected", "interval", "clinical")
#: The two lifetimes of the same women.
WORLDS = ("screened", "unscreened")
#: Origins of survival time: the diagnosis in the world concerned, or the would-be clinical diagnosis.
ORIGINS = ("diagnosis", "surfacing")

#: The columns of :func:`cancer_register`. Ages and durations in years; NaN: the event does not happen.
REGISTER_COLUMNS: dict[str, str] = {
    "woman": "woman identifier (block x 32,768 + position in the block)",
    "in_population": "alive and free of diagnosed breast cancer at the programme's start age (the population "
    "of the benefits measures)",
    "lesion": "'progressive' (an invasive tumour, possibly preceded by DCIS) or 'non-progressive DCIS' "
    "(never surfaces)",
    "dcis_onset_age": "onset of the DCIS phase (NaN: the lesion has none)",
    "invasive_onset_age": "onset of the invasive tumour (NaN: non-progressive DCIS)",
    "onset_age": "onset of the preclinical, screen-detectable phase: the earlier of the two onsets",
    "surfacing_age": "age at which the tumour would surface clinically without screening if she lived on "
    "(NaN: never, non-progressive DCIS); may lie after her death",
    "sojourn_years": "preclinical sojourn: surfacing_age - onset_age (DCIS phase included; NaN: never surfaces)",
    "invasive_sojourn_years": "surfacing_age - invasive_onset_age (the invasive part of the sojourn)",
    "doubling_time_years": "diameter doubling time of the invasive tumour (NaN: none)",
    "clinical_diameter_mm": "diameter at which the tumour surfaces (mm; NaN: never surfaces)",
    "other_death_age": "age at death from other causes (the same in both worlds; may exceed the horizon)",
    "followup_end_age": "end of follow-up without breast-cancer death: min(other_death_age, horizon)",
    "screens": "attended screens (all before her diagnosis in the screened world)",
    "last_screen_age": "age at her last attended screen (NaN: never screened)",
    "mode_screened": "how the cancer was diagnosed with screening: screen-detected, interval (surfaced "
    "within one programme interval after an attended screen) or clinical (surfaced outside the programme: "
    "before it, never screened, after missed rounds or after the last interval)",
    "type_screened": "'DCIS' or 'invasive' at the diagnosis with screening",
    "diagnosis_age_screened": "age at diagnosis with screening",
    "diameter_mm_screened": "invasive diameter at the diagnosis with screening (mm; NaN for DCIS)",
    "lead_time_years": "surfacing_age - diagnosis_age_screened: 0 for interval and clinical cancers, NaN for "
    "non-progressive DCIS (never surfaces)",
    "overdiagnosed": "screen-detected, and not diagnosed in her lifetime (before the horizon) without screening",
    "diagnosis_age_unscreened": "age at diagnosis without screening (= surfacing_age; NaN: not in her lifetime)",
    "bc_death_age_screened": "age at breast-cancer death with screening (NaN: none before other-cause death "
    "and the horizon)",
    "bc_death_age_unscreened": "age at breast-cancer death without screening (NaN: none)",
    "death_age_screened": "age at death from any cause with screening (NaN: alive at the horizon)",
    "death_age_unscreened": "age at death from any cause without screening (NaN: alive at the horizon)",
}


def _nan(x: np.ndarray) -> np.ndarray:
    """``x`` as float with every infinite value NaN (an event that does not happen)."""
    x = np.asarray(x, dtype=float)
    return np.where(np.isfinite(x), x, np.nan)


def _screen_history(screens: dict[str, np.ndarray], first: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per woman: attended screens, the age at the last one (-inf: none) and whether one flagged an interval cancer."""
    w = (screens["woman"] - first).astype(np.intp)
    count = np.bincount(w, minlength=n)
    last = np.full(n, -np.inf)
    np.maximum.at(last, w, screens["age_years"].astype(float))
    interval = np.bincount(w[screens["interval_cancer"]], minlength=n) > 0
    return count, last, interval


def _block_register(model: Model, seed: int, block: int, n: int, no_benefit: bool) -> tuple[pd.DataFrame, int]:
    """The register of one block of ``n`` women (see :func:`cancer_register`) and its population's size."""
    s = model.scenario
    st, sv = programme_strategy(s), Survival.from_scenario(s)
    c = model.cohort(seed, block, n)
    nh = draw_natural_history(s, model.hazards, c, seed, block)
    cmp = comparator(s, nh, sv, seed, block, st.start_age_years)
    out = strategy_outcome(s, st, c, nh, seed, block, model.density_grid)
    horizon = s.survival.horizon_age_years
    detected = np.isfinite(out.detected_age)
    if no_benefit:
        bc_s = cmp.bc_death_age
    else:  # the cure model of analysis.model.benefits.woman_variables
        bc_s = screened_bc_death_age(cmp, out, sv)
    count, last, interval = _screen_history(out.screens, block * BLOCK_SIZE, n)
    surf = nh.surfacing_age
    diag_s = np.where(detected, out.detected_age, np.where(cmp.diagnosed, surf, np.inf))
    mode = np.where(detected, MODES[0], np.where(interval, MODES[1], MODES[2]))
    onset = np.minimum(nh.dcis_onset_age, nh.invasive_onset_age)
    nonprog = nh.lesion == LESION_NONPROGRESSIVE_DCIS
    death_s, death_u = np.minimum(nh.death_age, bc_s), cmp.death_age
    rows = np.flatnonzero(np.isfinite(diag_s))
    with np.errstate(invalid="ignore"):  # inf - inf: an event that never happens, NaN in the register
        sojourn, lead = surf - onset, np.where(detected, surf - out.detected_age, 0.0)
    cols = {
        "woman": block * BLOCK_SIZE + np.arange(n),
        "in_population": cmp.population,
        "lesion": np.where(nonprog, "non-progressive DCIS", "progressive"),
        "dcis_onset_age": _nan(nh.dcis_onset_age),
        "invasive_onset_age": _nan(nh.invasive_onset_age),
        "onset_age": _nan(onset),
        "surfacing_age": _nan(surf),
        "sojourn_years": _nan(sojourn),
        "invasive_sojourn_years": _nan(nh.sojourn_years),
        "doubling_time_years": _nan(nh.doubling_time_years),
        "clinical_diameter_mm": _nan(nh.clinical_diameter_mm),
        "other_death_age": nh.death_age,
        "followup_end_age": np.minimum(nh.death_age, horizon),
        "screens": count,
        "last_screen_age": _nan(last),
        "mode_screened": mode,
        "type_screened": np.where(detected & (out.detected_type == DCIS), "DCIS", "invasive"),
        "diagnosis_age_screened": diag_s,
        "diameter_mm_screened": np.where(detected, out.detected_diameter_mm, nh.clinical_diameter_mm),
        "lead_time_years": _nan(lead),
        "overdiagnosed": detected & ~cmp.diagnosed,
        "diagnosis_age_unscreened": _nan(np.where(cmp.diagnosed, surf, np.inf)),
        "bc_death_age_screened": _nan(bc_s),
        "bc_death_age_unscreened": _nan(cmp.bc_death_age),
        "death_age_screened": _nan(np.where(death_s < horizon, death_s, np.inf)),
        "death_age_unscreened": _nan(np.where(death_u < horizon, death_u, np.inf)),
    }
    return pd.DataFrame({k: np.asarray(v)[rows] for k, v in cols.items()}), int(cmp.population.sum())


def cancer_register(
    scenario: Scenario | str,
    women: int,
    seed: int,
    *,
    no_benefit: bool = False,
    model: Model | None = None,
) -> pd.DataFrame:
    """Every woman with a cancer diagnosed, with and without the scenario's screening, and the truth.

    Parameters
    ----------
    scenario : Scenario or str
        A scenario or its name; its own programme (start, stop, interval) is the screened world.
    women : int
        Women simulated (blocks of 32,768, as every calcsim run).
    seed : int
        Run seed: the same women, cancers and draws as any calcsim run on this seed.
    no_benefit : bool
        ``True``: the screened world's breast-cancer deaths are the unscreened world's (screening finds
        cancers earlier but cures none; a teaching device). ``False``: the scenario's cure model
        (docs/model.md section 11.2).
    model : Model, optional
        A prepared :func:`analysis.model.simulation.build_model` of ``scenario`` (skips building it).

    Returns
    -------
    pandas.DataFrame
        One row per woman diagnosed in the screened world (which includes every woman diagnosed without
        screening), the columns of :data:`REGISTER_COLUMNS` in that order; ``attrs`` holds ``scenario``,
        ``women``, ``seed``, ``no_benefit``, ``horizon_age_years``, ``start_age_years``, ``stop_age_years``,
        ``interval_years`` and ``population`` (women alive and undiagnosed at the start age).
    """
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    if model is not None and model.scenario.hash != s.hash:
        raise ArgumentError("model", model.scenario.name, f"a model built from scenario {s.name!r} itself")
    model = model if model is not None else build_model(s)
    women, seed = check_women(women), check_seed(seed)
    sizes = [min(BLOCK_SIZE, women - b * BLOCK_SIZE) for b in range(-(-women // BLOCK_SIZE))]
    parts = [_block_register(model, seed, b, n, bool(no_benefit)) for b, n in enumerate(sizes)]
    reg = pd.concat([p for p, _ in parts], ignore_index=True)
    reg["mode_screened"] = pd.Categorical(reg["mode_screened"], categories=MODES)
    pg = s.programme
    reg.attrs = {
        "scenario": s.name,
        "women": women,
        "seed": seed,
        "no_benefit": bool(no_benefit),
        "horizon_age_years": float(s.survival.horizon_age_years),
        "start_age_years": float(pg.start_age_years),
        "stop_age_years": float(pg.stop_age_years),
        "interval_years": float(pg.interval_years),
        "population": sum(k for _, k in parts),
    }
    return reg


def survival_times(register: pd.DataFrame, *, world: str = "screened", origin: str = "diagnosis") -> pd.DataFrame:
    """Breast-cancer-specific survival time of each cancer of the register, in one world, from one origin.

    Parameters
    ----------
    register : DataFrame
        A :func:`cancer_register`.
    world : {"screened", "unscreened"}
        Whose breast-cancer deaths count.
    origin : {"diagnosis", "surfacing"}
        Time zero: the diagnosis in ``world``, or the would-be clinical diagnosis without screening
        (``diagnosis_age_unscreened``; an overdiagnosed cancer has none). Without screening they coincide.

    Returns
    -------
    pandas.DataFrame
        ``years`` from the origin to breast-cancer death or, censored, to other-cause death or the
        horizon (NaN when the cancer has no such origin) and ``died`` (a breast-cancer death), on the
        register's index.
    """
    if world not in WORLDS:
        raise ArgumentError("world", world, " or ".join(WORLDS))
    if origin not in ORIGINS:
        raise ArgumentError("origin", origin, " or ".join(ORIGINS))
    column = f"diagnosis_age_{world}" if origin == "diagnosis" else "diagnosis_age_unscreened"
    bc = register[f"bc_death_age_{world}"]
    years = bc.fillna(register["followup_end_age"]) - register[column]
    return pd.DataFrame({"years": years, "died": bc.notna() & years.notna()}, index=register.index)


def _fit(years: np.ndarray, died: np.ndarray) -> SurvfuncRight | None:
    keep = np.isfinite(years)
    return SurvfuncRight(years[keep], died[keep].astype(int)) if keep.any() else None


def km_curve(years: Sequence[float], died: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan-Meier curve as steps (draw with ``where="post"``).

    Parameters
    ----------
    years : sequence of float
        Time from the origin to the event or censoring (NaN: no origin, dropped).
    died : sequence of bool
        Whether the time ends in the event (a breast-cancer death) rather than censoring.

    Returns
    -------
    tuple of numpy.ndarray
        The event times with 0 first, and the survival from each time on (1 first).
    """
    sf = _fit(np.asarray(years, dtype=float), np.asarray(died, dtype=bool))
    if sf is None:
        return np.zeros(1), np.ones(1)
    return np.append(0.0, sf.surv_times), np.append(1.0, sf.surv_prob)


def km_survival(years: Sequence[float], died: Sequence[bool], at: Sequence[float]) -> pd.DataFrame:
    """Kaplan-Meier survival at given times, with a Greenwood 95% interval (normal, cut to [0, 1]).

    Parameters
    ----------
    years, died : sequence
        As for :func:`km_curve`.
    at : sequence of float
        Times (years from the origin).

    Returns
    -------
    pandas.DataFrame
        ``years`` (= ``at``), ``survival``, ``lower``, ``upper`` (proportions); NaN beyond the last observed
        time (nobody followed that long) and when there is nobody.
    """
    y, d = np.asarray(years, dtype=float), np.asarray(died, dtype=bool)
    at = np.asarray(at, dtype=float)
    sf = _fit(y, d)
    last = np.nanmax(y) if sf is not None else -np.inf
    surv, se = np.ones(at.size), np.zeros(at.size)
    if sf is not None and sf.surv_times.size:
        j = np.searchsorted(sf.surv_times, at, side="right") - 1
        surv = np.where(j >= 0, sf.surv_prob[np.maximum(j, 0)], 1.0)
        se = np.where(j >= 0, sf.surv_prob_se[np.maximum(j, 0)], 0.0)
    ok = at <= last
    out = pd.DataFrame({"years": at, "survival": surv, "lower": surv - 1.96 * se, "upper": surv + 1.96 * se})
    out[["lower", "upper"]] = out[["lower", "upper"]].clip(0.0, 1.0)
    out.loc[~ok, ["survival", "lower", "upper"]] = np.nan
    return out


def survival_by_group(
    register: pd.DataFrame,
    at: Sequence[float] = (5.0, 10.0),
    *,
    by: str = "mode_screened",
    world: str = "screened",
    origin: str = "diagnosis",
) -> pd.DataFrame:
    """Kaplan-Meier breast-cancer-specific survival by group (:func:`survival_times`, :func:`km_survival`).

    Parameters
    ----------
    register : DataFrame
        A :func:`cancer_register`.
    at : sequence of float
        Years from the origin at which survival is given.
    by : str
        The grouping column (default: the mode of diagnosis with screening).
    world, origin : str
        As for :func:`survival_times`.

    Returns
    -------
    pandas.DataFrame
        One row per group of ``by`` (every category, empty ones too) and a last row ``"all"``:
        ``cancers`` (with an origin), ``deaths`` (breast-cancer deaths in follow-up) and, for each ``t`` in
        ``at``, ``survival_<t>y``, ``lower_<t>y``, ``upper_<t>y`` (proportions).
    """
    times = survival_times(register, world=world, origin=origin)
    col = register[by]
    groups = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.unique())
    rows = []
    for g in [*groups, "all"]:
        t = times[(col == g) & times["years"].notna()] if g != "all" else times[times["years"].notna()]
        row: dict[str, object] = {by: g, "cancers": len(t), "deaths": int(t["died"].sum())}
        km = km_survival(t["years"], t["died"], at)
        for k, r in km.iterrows():
            tag = f"{at[k]:g}y"
            row |= {f"survival_{tag}": r["survival"], f"lower_{tag}": r["lower"], f"upper_{tag}": r["upper"]}
        rows.append(row)
    return pd.DataFrame(rows)
