"""Comparisons with published figures: the BCSC cells (fitted) and the figures the model is not fitted to.

:func:`bcsc_validation` lines up the model with the BCSC Mammography Screening Performance Dataset
(2005-2017; ``data/parameters/bcsc_performance_by_age_density.csv``) by 10-year age group and
BI-RADS density. These cells are **fitted, not held out**: recall, cancer detection and
sensitivity of the 16 age x density cells are calibration targets of ``us-annual``
(``us_bcsc_*`` rows of ``data/targets/targets.csv``), and the reading density odds ratios were
derived from the same dataset; the table shows the fit cell by cell. The BCSC sample is of women
with a prior mammogram within 30 months, so the model's **subsequent-round** screens are compared.

:func:`held_out_checks` lists published figures the model is **not** fitted to (Hubbard 2011,
Wanders 2017, Sankatsing 2018 sensitivity, Bennett 2011, Fracheboud 1999) beside the model, with a
verdict, or says which of them cannot be computed from the runs given and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calibration.targets_fit import DEFAULT_RELATIVE_SD, MODEL_DISCREPANCY_RELATIVE_SD
from analysis.errors import CalcsimInputError
from analysis.io.paths import parameters_dir
from analysis.model.results import Results, wilson

BCSC_AGE_GROUPS = {"40-49": (40, 49), "50-59": (50, 59), "60-69": (60, 69), "70-74": (70, 74)}
VALIDATION_MEASURES = {
    # measure: (BCSC numerator column, BCSC denominator column, model measure, scale)
    "recall_rate": ("recalls", "exams", "recall_rate", 1.0),
    "cancer_detection_rate_per_1000": ("screen_detected", "exams", "cancer_detection_rate_per_1000", 1000.0),
    "sensitivity": ("screen_detected", "cancers", "sensitivity", 1.0),
}


def _parse(stratum: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in stratum.split("; ")) if stratum != "all" else {}


def bcsc_validation(results: Results) -> pd.DataFrame:
    """Model vs BCSC by 10-year age group and density (subsequent-round screens; fitted, not held out).

    Parameters
    ----------
    results : Results
        A run of ``us-annual`` stratified ``by=["round", "age_group", "density"]``.

    Returns
    -------
    pandas.DataFrame
        ``age_group, density, measure, observed, observed_lower, observed_upper,
        observed_n, model, model_lower, model_upper, model_n, ratio`` (Wilson 95% for both).
    """
    c = results.counts
    if not c["stratum"].str.contains("round=").any() or not c["stratum"].str.contains("density=").any():
        raise CalcsimInputError("bcsc_validation: run with by=['round', 'age_group', 'density']")
    perf = pd.read_csv(parameters_dir() / "bcsc_performance_by_age_density.csv")
    perf = perf[perf["density"] != "all"]
    parts = c["stratum"].map(_parse)
    c = c.assign(
        round=parts.map(lambda d: d.get("round")),
        density=parts.map(lambda d: d.get("density")),
        age=parts.map(lambda d: d.get("age_group")),
    )
    c = c[(c["round"] == "subsequent") & c["age"].notna() & c["density"].notna()]
    lower_age = c["age"].str.split("-").str[0].astype(int)
    c = c.assign(bcsc_age=pd.cut(lower_age, [39, 49, 59, 69, 74], labels=list(BCSC_AGE_GROUPS)).astype(str))
    c = c[c["bcsc_age"] != "nan"]
    model = c.groupby(["bcsc_age", "density", "measure"], observed=True)[["numerator", "n"]].sum()
    rows = []
    for r in perf.itertuples(index=False):
        for name, (num_col, den_col, model_measure, scale) in VALIDATION_MEASURES.items():
            obs_num, obs_den = getattr(r, num_col), getattr(r, den_col)
            key = (r.age_group, r.density, model_measure)
            m_num, m_den = model.loc[key].to_numpy() if key in model.index else (0, 0)
            o_est, o_lo, o_hi = wilson(np.array([obs_num]), np.array([obs_den]))
            m_est, m_lo, m_hi = wilson(np.array([m_num]), np.array([m_den]))
            rows.append(
                {
                    "age_group": r.age_group,
                    "density": r.density,
                    "measure": name,
                    "observed": o_est[0] * scale,
                    "observed_lower": o_lo[0] * scale,
                    "observed_upper": o_hi[0] * scale,
                    "observed_n": int(obs_den),
                    "model": m_est[0] * scale,
                    "model_lower": m_lo[0] * scale,
                    "model_upper": m_hi[0] * scale,
                    "model_n": int(m_den),
                    "ratio": (m_est[0] / o_est[0]) if o_est[0] > 0 else np.nan,
                }
            )
    out = pd.DataFrame(rows)
    out.attrs.update(
        {
            "scenario": results.scenario,
            "comparison": "subsequent-round screens vs BCSC 2005-2017",
            "note": "fitted, not held out: these cells are calibration targets of us-annual (us_bcsc_* targets),"
            " and the reading density odds ratios were derived from this dataset (all ages pooled)",
            "role": "fitted, not held out",
        }
    )
    return out


# ----------------------------------------------------------------------------- held-out checks
#: The runs :func:`held_out_checks` reads, by key: scenario, overrides and the strata it needs.
HELD_OUT_RUNS: dict[str, dict] = {
    "us-annual": {"scenario": "us-annual", "overrides": {}, "by": [["round"]]},
    "us-biennial": {
        "scenario": "us-annual",
        "overrides": {"programme.interval_years": 2, "programme.cumulative_rounds": 5},
        "by": [],
    },
    "nl-biennial": {"scenario": "nl-biennial", "overrides": {}, "by": [["density"]]},
    "england-triennial": {"scenario": "england-triennial", "overrides": {}, "by": []},
}
WANDERS_EXAMS, WANDERS_SHARES = 111_898, (0.216, 0.415, 0.289, 0.080)
WANDERS_ICR, WANDERS_SENSITIVITY = (0.7, 1.9, 2.9, 4.4), (0.857, 0.776, 0.695, 0.610)


@dataclass(frozen=True)
class HeldOut:
    """One published figure the model is not fitted to (``measure`` empty: it cannot be computed)."""

    check: str
    run: str
    measure: str
    stratum: str
    published: float
    source: str
    note: str
    lower: float = np.nan
    upper: float = np.nan
    counts: tuple[int, int] | None = None  # derived numerator, denominator
    false_positive: bool = False  # model value = 1 - specificity (recalled among screens without cancer)


def _wanders() -> list[HeldOut]:
    """Wanders 2017 by Volpara density category 1-4 (~ BI-RADS a-d), with counts derived from the abstract."""
    out = []
    for d, share, icr, sens in zip("abcd", WANDERS_SHARES, WANDERS_ICR, WANDERS_SENSITIVITY, strict=True):
        exams = round(WANDERS_EXAMS * share)
        interval = round(icr * exams / 1000)
        detected = round(interval * sens / (1 - sens))
        note = (
            "Volpara density category (~ BI-RADS a-d, 'comparable to the ACR categories'), one Dutch unit 2003-2011,"
            f" ages 50-75; DERIVED counts: exams = 111,898 x {share:.1%}, interval cancers = rate x exams"
        )
        out.append(
            HeldOut(
                f"wanders_icr_{d}",
                "nl-biennial",
                "interval_cancer_rate_per_1000",
                f"density={d}",
                icr,
                "wanders2017",
                note,
                counts=(interval, exams),
            )
        )
        out.append(
            HeldOut(
                f"wanders_sensitivity_{d}",
                "nl-biennial",
                "sensitivity",
                f"density={d}",
                sens,
                "wanders2017",
                note + "; screen-detected = interval x s / (1 - s)",
                counts=(detected, detected + interval),
            )
        )
    return out


def _hubbard() -> list[HeldOut]:
    """Hubbard 2011: cumulative false-positive recall after 10 years, and per screen by round."""
    hub = "BCSC 1994-2006, first screen at 40-59"
    return [
        HeldOut("hubbard_cfp_annual", "us-annual", "cumulative_false_positive_recall", "", 0.613, "hubbard2011",
                f"{hub}; >=1 false-positive recall in 10 years of annual screening from 40 (model: first 10 screens)",
                0.594, 0.631),
        HeldOut("hubbard_cfp_biennial", "us-biennial", "cumulative_false_positive_recall", "", 0.416, "hubbard2011",
                f"{hub}; biennial from 40 (model: us-annual with interval 2 years, first 5 screens)", 0.406, 0.425),
        HeldOut("hubbard_fp_first", "us-annual", "specificity", "round=first", 0.163, "hubbard2011",
                f"{hub}; false-positive recall at the first mammogram; model: 1 - specificity", false_positive=True),
        HeldOut("hubbard_fp_subsequent", "us-annual", "specificity", "round=subsequent", 0.096, "hubbard2011",
                f"{hub}; at subsequent mammograms; model: 1 - specificity", false_positive=True),
    ]  # fmt: skip


def _not_computable() -> list[HeldOut]:
    """Bennett 2011 and Fracheboud 1999: interval cancers by year since the screen (no such measure yet)."""
    bennett = [(0.55, 0.43, 0.76), (1.13, 0.92, 1.47), (1.22, 0.93, 1.57)]
    return [
        *[HeldOut(f"bennett_icr_year{k + 1}", "england-triennial", "", "", v, "bennett2011",
                  f"interval cancers {12 * k}-{12 * (k + 1)} months after a negative screen per 1000 women screened,"
                  f" ages 50-64, 1997-2003 (regional range {lo}-{hi}, not a CI); not computed (needs interval cancers"
                  " by year since the screen: the time from screen to diagnosis in the screens table)")
          for k, (v, lo, hi) in enumerate(bennett)],
        *[HeldOut(f"fracheboud_share_year{k + 1}", "nl-biennial", "", "", v, "fracheboud1999",
                  f"interval cancers in year {k + 1} after a screen as a share of the underlying incidence, 1990-1993;"
                  " not computed (needs interval cancers by year since the screen and the incidence of the same"
                  " women without screening)")
          for k, v in enumerate([0.27, 0.52])],
    ]  # fmt: skip


def held_out_specs() -> list[HeldOut]:
    """Every held-out figure (docs/sources-natural-history.md §2, §5, §7)."""
    sankatsing = HeldOut(
        "sankatsing_sensitivity",
        "nl-biennial",
        "sensitivity",
        "",
        0.736,
        "sankatsing2018",
        "programme sensitivity, digital mammography 2004-2011; nearly implied by the targets nl_cdr and nl_icr"
        " (6.34 / (6.34 + 2.13) = 74.9%), so not an independent check",
    )
    return [*_hubbard(), *_wanders(), sankatsing, *_not_computable()]


def _published_sd(h: HeldOut) -> tuple[float, float, float, str]:
    """Published interval and SD: from the counts, the published interval, or an assumed relative SD."""
    if h.counts is not None:
        _, lo, hi = wilson(np.array([h.counts[0]]), np.array([h.counts[1]]))
        scale = 1000.0 if h.measure.endswith("per_1000") else 1.0
        p = h.counts[0] / h.counts[1]
        return lo[0] * scale, hi[0] * scale, np.sqrt(p * (1 - p) / h.counts[1]) * scale, "wilson95 (derived counts)"
    if np.isfinite(h.lower):
        return h.lower, h.upper, (h.upper - h.lower) / (2 * 1.959964), "published"
    sd = DEFAULT_RELATIVE_SD * h.published
    return (
        h.published - 1.959964 * sd,
        h.published + 1.959964 * sd,
        sd,
        f"assumed {DEFAULT_RELATIVE_SD:.0%} relative SD",
    )


def _model_value(h: HeldOut, results: Results) -> tuple[int, int] | str:
    """The model's numerator and denominator for a check, or why it is not computed."""
    c = results.counts
    row = c[(c["measure"] == h.measure) & (c["stratum"] == (h.stratum or "all"))]
    if row.empty:
        by = HELD_OUT_RUNS[h.run]["by"]
        return f"not computed (run {h.run} with by={by!r})"
    num, n = int(row["numerator"].iloc[0]), int(row["n"].iloc[0])
    return (n - num, n) if h.false_positive else (num, n)


def _check_row(h: HeldOut, results_by_scenario: Mapping[str, Results]) -> dict:
    """One row of :func:`held_out_checks`."""
    lo, hi, sd, basis = _published_sd(h)
    scale = 1000.0 if h.measure.endswith("per_1000") else 1.0
    row = {
        "check": h.check,
        "run": h.run,
        "measure": h.measure or "-",
        "stratum": h.stratum or "all",
        "published": h.published,
        "published_lower": lo,
        "published_upper": hi,
        "published_basis": basis,
        "published_numerator": h.counts[0] if h.counts else np.nan,
        "published_denominator": h.counts[1] if h.counts else np.nan,
        "model": np.nan,
        "model_lower": np.nan,
        "model_upper": np.nan,
        "model_n": 0,
        "z": np.nan,
        "verdict": "",
        "source": h.source,
        "note": h.note,
    }
    if not h.measure:
        row["verdict"] = "not computed (" + h.note.split("not computed (", 1)[-1]
        return row
    if h.run not in results_by_scenario:
        row["verdict"] = f"not computed (needs a run {h.run!r}: {HELD_OUT_RUNS[h.run]})"
        return row
    got = _model_value(h, results_by_scenario[h.run])
    if isinstance(got, str):
        row["verdict"] = got
        return row
    est, m_lo, m_hi = wilson(np.array([got[0]]), np.array([got[1]]))
    m_sd = np.sqrt(est[0] * (1 - est[0]) / max(got[1], 1)) * scale
    z = (est[0] * scale - h.published) / np.sqrt(sd**2 + m_sd**2 + (MODEL_DISCREPANCY_RELATIVE_SD * h.published) ** 2)
    row.update(
        {
            "model": est[0] * scale,
            "model_lower": m_lo[0] * scale,
            "model_upper": m_hi[0] * scale,
            "model_n": got[1],
            "z": z,
            "verdict": "consistent" if abs(z) <= 1.959964 else "outside",
        }
    )
    return row


def held_out_checks(results_by_scenario: Mapping[str, Results]) -> pd.DataFrame:
    """Published figures the model is **not** fitted to, beside the model, with a verdict.

    Parameters
    ----------
    results_by_scenario : mapping of str to Results
        Runs by the keys of :data:`HELD_OUT_RUNS` (``us-annual`` stratified by round,
        ``us-biennial`` = us-annual with ``programme.interval_years=2`` and
        ``programme.cumulative_rounds=5``, ``nl-biennial`` stratified by density,
        ``england-triennial``); a check whose run is missing is listed as not computed.

    Returns
    -------
    pandas.DataFrame
        ``check, run, measure, stratum, published, published_lower, published_upper, published_basis,
        published_numerator, published_denominator (derived counts, where used), model, model_lower,
        model_upper (Wilson 95%), model_n, z, verdict, source, note``.
        ``z = (model - published) / sqrt(published sd^2 + model sd^2 + (discrepancy x published)^2)``
        (the calibration's rule, :data:`MODEL_DISCREPANCY_RELATIVE_SD`); ``verdict`` is ``consistent``
        (``|z| <= 1.96``), ``outside`` or ``not computed (...)``.
    """
    out = pd.DataFrame([_check_row(h, results_by_scenario) for h in held_out_specs()])
    out.attrs.update(
        {
            "role": "held out: the model is not fitted to these figures",
            "z": "model - published over sqrt(published sd^2 + model sd^2 + (discrepancy x published)^2)",
            "model_discrepancy_relative_sd": MODEL_DISCREPANCY_RELATIVE_SD,
            "runs": {k: getattr(v, "scenario_hash", "") for k, v in results_by_scenario.items()},
        }
    )
    return out
