"""External validation against held-out data: BCSC screening performance by age and density.

The US calibration uses the national benchmarks of Lehman et al. 2017 (overall recall,
CDR, sensitivity, specificity, PPV1). The *pattern* of recall and detection by age
group and BI-RADS density in the BCSC Mammography Screening Performance Dataset
(2005–2017; ``data/parameters/bcsc_performance_by_age_density.csv``) is not a target:
it is held out, and :func:`bcsc_validation` reports how the calibrated model
reproduces it. The density odds ratios of reading *are* derived from the same
dataset (overall, not by age), which the table states.

The BCSC sample is of women with a prior mammogram within 30 months, so the model's
**subsequent-round** screens are compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    """Model vs BCSC by 10-year age group and density (subsequent-round screens).

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
            "note": "reading density odds ratios were derived from this dataset (all ages pooled)",
        }
    )
    return out
