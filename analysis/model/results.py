"""Results: counts of screens and diagnoses, and the estimates published from them.

Every screen measure (:mod:`analysis.model.measures`) is a proportion ``numerator / n`` over a named
denominator, counted per block and summed, then given a Wilson 95% interval (statsmodels). The rate
measures (:data:`analysis.model.diagnoses.RATE_MEASURES`: incidence per 100,000 woman-years) have
woman-time as ``n`` and an exact Poisson (Garwood) 95% interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2
from statsmodels.stats.proportion import proportion_confint

from analysis.model.diagnoses import RATE_MEASURES, RateMeasure

# Re-exported: the screens table, the measures, the strata and the counting live in analysis.model.measures.
from analysis.model.measures import MEASURE_NAMES as MEASURE_NAMES
from analysis.model.measures import MEASURES, Measure
from analysis.model.measures import SCREEN_COLUMNS as SCREEN_COLUMNS
from analysis.model.measures import STRATA as STRATA
from analysis.model.measures import Frame as Frame
from analysis.model.measures import Groupings as Groupings
from analysis.model.measures import add_counts as add_counts
from analysis.model.measures import check_strata as check_strata
from analysis.model.measures import count_screens as count_screens
from analysis.model.measures import empty_screens as empty_screens
from analysis.model.measures import stratum_codes as stratum_codes


def wilson(numerator: np.ndarray, n: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, ...]:
    """Estimate and Wilson interval; NaN where ``n == 0``."""
    numerator = np.asarray(numerator, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    lo, hi = proportion_confint(numerator, safe, alpha=alpha, method="wilson")
    est = numerator / safe
    nan = n == 0
    return (np.where(nan, np.nan, est), np.where(nan, np.nan, lo), np.where(nan, np.nan, hi))


def garwood(events: np.ndarray, exposure: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, ...]:
    """Rate ``events / exposure`` and its exact Poisson (Garwood) interval; NaN where ``exposure == 0``.

    ``lower = chi2.ppf(alpha / 2, 2 k) / 2`` (0 when ``k = 0``), ``upper = chi2.ppf(1 - alpha / 2, 2 (k + 1)) / 2``,
    both divided by the exposure.
    """
    k = np.asarray(events, dtype=float)
    t = np.asarray(exposure, dtype=float)
    safe = np.where(t > 0, t, 1.0)
    lo = np.where(k > 0, chi2.ppf(alpha / 2, 2 * np.maximum(k, 1)) / 2, 0.0)
    hi = chi2.ppf(1 - alpha / 2, 2 * (k + 1)) / 2
    nan = t <= 0
    return tuple(np.where(nan, np.nan, v / safe) for v in (k, lo, hi))


#: Columns of an estimates table, in order (see :func:`estimates_from_counts`).
ESTIMATE_COLUMNS = (
    "scenario",
    "scenario_hash",
    "seed",
    "version",
    "calibration",
    "measure",
    "stratum",
    "estimate",
    "lower",
    "upper",
    "unit",
    "interval",
    "numerator_count",
    "denominator_count",
    "numerator_label",
    "denominator_label",
)


def unit_of(measure: Measure | RateMeasure) -> str:
    """``"proportion"``, ``"per 1,000 screens"`` or (a rate measure) ``"per 100,000 woman-years"``."""
    if isinstance(measure, RateMeasure):
        return measure.unit
    return "proportion" if measure.per == 1.0 else f"per {measure.per:,.0f} screens"


def estimates_from_counts(
    counts: pd.DataFrame,
    alpha: float = 0.05,
    *,
    provenance: dict[str, Any] | None = None,
    woman_time_ages: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Tidy estimates with Wilson (proportions) or exact Poisson (rates) intervals from a count table.

    Parameters
    ----------
    counts : DataFrame
        ``stratum``, ``measure``, ``numerator``, ``n`` (from :func:`count_screens` and
        :func:`analysis.model.diagnoses.count_incidence`).
    alpha : float
        1 - confidence level of the intervals.
    provenance : dict, optional
        ``scenario``, ``scenario_hash``, ``seed``, ``version``, ``calibration`` values repeated on every row.
    woman_time_ages : (float, float), optional
        The ages the woman-time of the rate measures runs over (model start and end), for their denominator label.

    Returns
    -------
    pandas.DataFrame
        :data:`ESTIMATE_COLUMNS`: one row per measure and stratum; ``estimate``/``lower``/``upper`` in
        ``unit`` (a proportion, per 1,000 screens, or per 100,000 woman-years); the counts and labels of the
        numerator and the denominator (for a rate, the denominator count is woman-months).
    """
    names = counts["measure"].to_numpy()
    num, n = counts["numerator"].to_numpy(), counts["n"].to_numpy()
    by_name: dict[str, Measure | RateMeasure] = {m.name: m for m in MEASURES} | RATE_MEASURES
    measures = [by_name[m] for m in names]
    rate = np.array([isinstance(m, RateMeasure) for m in measures], dtype=bool)
    est, lo, hi = (np.full(len(counts), np.nan) for _ in range(3))
    if (~rate).any():
        est[~rate], lo[~rate], hi[~rate] = wilson(num[~rate], n[~rate], alpha)
    if rate.any():
        years = n[rate] / np.array([m.units_per_year for m in measures if isinstance(m, RateMeasure)], dtype=float)
        est[rate], lo[rate], hi[rate] = garwood(num[rate], years, alpha)
    per = np.array([m.per for m in measures], dtype=float)
    prov = {"scenario": "", "scenario_hash": "", "seed": -1, "version": "", "calibration": "", **(provenance or {})}
    out = pd.DataFrame(
        {
            **{k: [prov[k]] * len(counts) for k in ("scenario", "scenario_hash", "seed", "version", "calibration")},
            "measure": names,
            "stratum": counts["stratum"].to_numpy(),
            "estimate": est * per,
            "lower": lo * per,
            "upper": hi * per,
            "unit": [unit_of(m) for m in measures],
            "interval": np.where(rate, "poisson95", "wilson95"),
            "numerator_count": num,
            "denominator_count": n,
            "numerator_label": [m.numerator for m in measures],
            "denominator_label": [
                m.denominator(woman_time_ages) if isinstance(m, RateMeasure) else m.denominator for m in measures
            ],
        }
    )
    out["seed"] = out["seed"].astype(np.int64)
    return out


@dataclass
class Results:
    """What a run produced: counts, metadata and (optionally) the screens table."""

    scenario: str
    scenario_hash: str
    version: str
    seed: int
    women: int
    counts: pd.DataFrame
    screens: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    calibration: str = "none"

    @property
    def provenance(self) -> dict[str, Any]:
        """``scenario``, ``scenario_hash``, ``seed``, ``version``, ``calibration`` of this run."""
        return {
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "seed": self.seed,
            "version": self.version,
            "calibration": self.calibration,
        }

    def estimates(self, alpha: float = 0.05) -> pd.DataFrame:
        """Every measure with its Wilson interval, one row per measure and stratum (:data:`ESTIMATE_COLUMNS`)."""
        ages = self.meta.get("woman_time_ages")
        out = estimates_from_counts(
            self.counts, alpha, provenance=self.provenance, woman_time_ages=None if ages is None else tuple(ages)
        )
        out.attrs.update({**self.provenance, "women": self.women})
        return out

    def __repr__(self) -> str:
        rec = self.estimates().set_index(["measure", "stratum"])
        r = rec.loc[("recall_rate", "all")]
        c = rec.loc[("calc_only_share_of_recalls", "all")]
        return (
            f"<Results {self.scenario} ({self.scenario_hash}): {self.women:,} women, seed {self.seed},"
            f" calibration {self.calibration}; recall {_pct(r)}, calc-only share of recalls {_pct(c)}>"
        )

    def _repr_html_(self) -> str:
        """The headline measures with their intervals and the provenance line (for Jupyter)."""
        return headline_html(self.estimates(), self.women, self.provenance)

    def estimate(self, measure: str, stratum: str = "all") -> float:
        """One point estimate."""
        e = self.estimates()
        row = e[(e["measure"] == measure) & (e["stratum"] == stratum)]
        if row.empty:
            raise KeyError(f"{measure} / {stratum}")
        return float(row["estimate"].iloc[0])

    def to_json_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        e = self.estimates()
        records = []
        for r in e.itertuples(index=False):
            records.append(
                {
                    "measure": r.measure,
                    "stratum": r.stratum,
                    "unit": r.unit,
                    "numerator_count": int(r.numerator_count),
                    "denominator_count": int(r.denominator_count),
                    "numerator_label": r.numerator_label,
                    "denominator_label": r.denominator_label,
                    "estimate": None if np.isnan(r.estimate) else float(r.estimate),
                    "lower": None if np.isnan(r.lower) else float(r.lower),
                    "upper": None if np.isnan(r.upper) else float(r.upper),
                }
            )
        return {
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "version": self.version,
            "seed": self.seed,
            "women": self.women,
            "calibration": self.calibration,
            "interval": "Wilson 95% (binomial, within this run); incidence rates: exact Poisson 95% (Garwood)",
            "screening": bool(self.meta.get("screening", True)),
            "estimates": records,
        }


#: Measures shown by the compact (Jupyter) view of a run.
HEADLINE = (
    "recall_rate",
    "calc_only_share_of_recalls",
    "calc_only_share_of_screen_detected",
    "cancer_detection_rate_per_1000",
    "interval_cancer_rate_per_1000",
    "sensitivity",
)


def _pct(row: pd.Series) -> str:
    if not np.isfinite(row["estimate"]):
        return "—"
    if row["unit"] == "proportion":
        return f"{100 * row['estimate']:.1f}% ({100 * row['lower']:.1f}–{100 * row['upper']:.1f})"
    return f"{row['estimate']:.2f} ({row['lower']:.2f}–{row['upper']:.2f}) {row['unit']}"


def headline_html(estimates: pd.DataFrame, women: int, provenance: dict[str, Any]) -> str:
    """A compact HTML table of the headline measures (overall) with Wilson 95% intervals."""
    import html

    e = estimates[(estimates["stratum"] == "all") & estimates["measure"].isin(HEADLINE)].set_index("measure")
    rows = "".join(
        f"<tr><td style='text-align:left'>{html.escape(m)}</td><td>{html.escape(_pct(e.loc[m]))}</td>"
        f"<td style='text-align:left'>{html.escape(str(e.loc[m, 'denominator_label']))}</td></tr>"
        for m in HEADLINE
        if m in e.index
    )
    prov = (
        f"{provenance['scenario']} (scenario_hash {provenance['scenario_hash']}) · {women:,} women · seed"
        f" {provenance['seed']} · calcsim {provenance['version']} · calibration {provenance['calibration']}"
    )
    return (
        "<div><table><thead><tr><th style='text-align:left'>measure</th><th>estimate (Wilson 95%)</th>"
        f"<th style='text-align:left'>denominator</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<small>{html.escape(prov)}. All measures: <code>.estimates()</code></small></div>"
    )
