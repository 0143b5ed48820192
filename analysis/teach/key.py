"""The instructor's key: what a correct analysis of one student's dataset finds (see :mod:`analysis.teach`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError
from analysis.teach.export import (
    ADJUSTED_COVARIATES,
    CALC_ONLY,
    read_student_csv,
    screens_from_student_table,
    student_table,
)

__all__ = ["analyse_student_table", "demo_student_table"]


def _wilson(k: int, n: int) -> tuple[float, float, float]:
    from analysis.model.results import wilson

    est, lo, hi = wilson(np.array([k]), np.array([n]))
    return float(est[0]), float(lo[0]), float(hi[0])


def _first_higher(est: dict[str, Any]) -> bool:
    """First-screen recall above subsequent-screen recall: the 95% Wald interval of the difference above 0."""
    p1, n1 = est["recall_first"], est["recall_first_n"]
    p2, n2 = est["recall_subsequent"], est["recall_subsequent_n"]
    if not (n1 and n2):
        return False
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return bool(p1 - p2 - 1.959963984540054 * se > 0)


def _independence(post: pd.DataFrame) -> dict[str, float]:
    """The crude odds ratio of a logistic regression on all postmenopausal screens (= the independence GEE
    estimate): its cluster-robust 95% interval (groups = woman, no small-sample correction: the independence
    GEE's) and its model-based interval, which ignores the repeated screens."""
    import statsmodels.api as sm

    names = ("independence", "independence_lower", "independence_upper", "naive_lower", "naive_upper")
    out = {f"bf12_cluster_or_crude_{n}": math.nan for n in names}
    x = (post["breastfeeding_months"].to_numpy() > 12).astype(float)
    y = post["any_cluster"].to_numpy().astype(float)
    if len(y) == 0 or x.min() == x.max() or y.min() == y.max():
        return out
    exog = sm.add_constant(x)
    naive = sm.GLM(y, exog, family=sm.families.Binomial()).fit()
    groups = post["woman"].to_numpy()
    robust = sm.GLM(y, exog, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False}
    )
    (nlo, nhi), (rlo, rhi) = np.exp(naive.conf_int()[1]), np.exp(robust.conf_int()[1])
    values = (np.exp(naive.params[1]), rlo, rhi, nlo, nhi)
    return {f"bf12_cluster_or_crude_{n}": float(v) for n, v in zip(names, values, strict=True)}


def demo_student_table(scenario: str = "nl-biennial", *, women: int = 20_000, seed: int = 2026) -> pd.DataFrame:
    """A dataset as ``calcsim teach export`` writes one (scenario values, no hidden draws), read as a student would.

    Parameters
    ----------
    scenario : str
        Scenario name or TOML path.
    women : int
        Women simulated.
    seed : int
        Simulation seed.

    Returns
    -------
    pandas.DataFrame
        The student table (:data:`COLUMNS`) after a round trip through CSV.
    """
    import io

    from analysis.model.simulation import simulate

    res = simulate(scenario, women=women, seed=seed, keep_screens=True)
    return read_student_csv(io.StringIO(student_table(res.screens).to_csv(index=False, lineterminator="\n")))


def analyse_student_table(df: pd.DataFrame) -> dict[str, Any]:
    """The estimates a correct analysis of one student table finds (the key's columns)."""
    from analysis.stats.regression import fit_odds_ratios

    recalled = df["recalled"].to_numpy() == 1
    calc_only = (df["recall_reason"] == CALC_ONLY).to_numpy()
    detected = df["outcome"].isin(["DCIS", "invasive"]).to_numpy()
    out: dict[str, Any] = {"screens": len(df), "women_screened": int(df["woman_id"].nunique())}
    first = (df["round"] == "first").to_numpy()
    for name, k, n in (
        ("recall_rate", recalled.sum(), len(df)),
        ("recall_first", (recalled & first).sum(), first.sum()),
        ("recall_subsequent", (recalled & ~first).sum(), (~first).sum()),
        ("calc_only_share_of_recalls", (calc_only & recalled).sum(), recalled.sum()),
        ("calc_only_share_of_screen_detected", (calc_only & detected).sum(), detected.sum()),
    ):
        est, lo, hi = _wilson(int(k), int(n))
        out.update(
            {f"{name}_numerator": int(k), f"{name}_n": int(n), name: est, f"{name}_lower": lo, f"{name}_upper": hi}
        )
    out["first_higher"] = _first_higher(out)
    screens = screens_from_student_table(df)
    post = screens["postmenopausal"].to_numpy()
    out.update(_independence(screens[post]))
    for label, covs in (("crude", ("breastfeeding_over_12_months",)), ("adjusted", ADJUSTED_COVARIATES)):
        prefix = f"bf12_cluster_or_{label}"
        try:
            fit = fit_odds_ratios(
                screens, "any_cluster", method="gee", covariates=covs, subset=post, engine="vectorised"
            )
            row = fit.loc[fit["term"] == "breastfeeding_over_12_months"].iloc[0]
            out.update(
                {
                    prefix: float(row["odds_ratio"]),
                    f"{prefix}_lower": float(row["lower"]),
                    f"{prefix}_upper": float(row["upper"]),
                    f"{prefix}_screens": int(fit.attrs["n_obs"]),
                    f"{prefix}_women": int(fit.attrs["n_women"]),
                    f"{prefix}_note": "",
                }
            )
        except CalcsimInputError as exc:  # e.g. a tiny cohort: record why, keep the other estimates
            out.update(
                {
                    prefix: math.nan,
                    f"{prefix}_lower": math.nan,
                    f"{prefix}_upper": math.nan,
                    f"{prefix}_screens": int(post.sum()),
                    f"{prefix}_women": 0,
                    f"{prefix}_note": f"not estimable: {exc}",
                }
            )
    return out
