"""Results: counts of screens and the estimates published from them.

Every measure is a proportion ``numerator / n`` over a named denominator (docs/model.md
§1.2: always name the denominator), counted per block and summed (integers, so the
total does not depend on how blocks were grouped), then given a Wilson 95%
interval (statsmodels). Stratified counts use fixed category lists, so strata
line up across blocks, runs and scenarios.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import ArgumentError, did_you_mean
from analysis.scenario.codings import (
    AGE_GROUP,
    BRCA,
    BREASTFEEDING,
    DENSITY,
    FAMILY_HISTORY,
    MENOPAUSE,
    PARITY,
    ROUND,
    age_group,
    breastfeeding_band,
    parity_band,
)

Frame = dict[str, np.ndarray]

#: Columns of the screens table, with their dtypes (one row per attended screen). Integer-coded
#: columns inside the simulator; in :attr:`Results.screens` the columns of
#: :data:`analysis.scenario.codings.CODINGS` are pandas Categoricals with readable labels.
SCREEN_COLUMNS: dict[str, str] = {
    "woman": "int64",
    "round_index": "int16",
    "age_years": "float32",
    "first_round": "bool",
    "postmenopausal": "bool",
    "density": "int8",
    "family_history": "int8",
    "brca": "int8",
    "births": "int8",
    "breastfeeding_months": "float32",
    "nonsuspicious_calc": "bool",
    "benign_cluster": "bool",
    "malignant_calc": "bool",
    "any_cluster": "bool",
    "cancer_present": "bool",
    "cancer_type": "int8",
    "presentation": "int8",
    "calc_morphology": "int8",
    "calc_distribution": "int8",
    "calc_compact": "bool",
    "recalled": "bool",
    "recall_calc": "bool",
    "recall_other": "bool",
    "calc_only_recall": "bool",
    "workup": "int8",
    "biopsy": "bool",
    "biopsy_method": "int8",
    "pathology": "int8",
    "screen_detected": "bool",
    "interval_cancer": "bool",
    "false_positive": "bool",
    "cfp_eligible": "bool",
    "cfp_event": "bool",
}


def empty_screens() -> Frame:
    """A screens frame with no rows."""
    return {k: np.zeros(0, dtype=v) for k, v in SCREEN_COLUMNS.items()}


@dataclass(frozen=True)
class Measure:
    """A proportion with a named numerator and denominator."""

    name: str
    numerator: str
    denominator: str
    num: Callable[[Frame], np.ndarray]
    den: Callable[[Frame], np.ndarray]
    per: float = 1.0  # 1000 for rates per 1,000 screens


def _all(f: Frame) -> np.ndarray:
    return np.ones(len(f["recalled"]), dtype=bool)


def _cancer(f: Frame) -> np.ndarray:
    return f["pathology"] >= 3


MEASURES: tuple[Measure, ...] = (
    Measure("recall_rate", "recalled screens", "screens", lambda f: f["recalled"], _all),
    Measure(
        "first_round_recall_rate",
        "recalled first-round screens",
        "first-round screens",
        lambda f: f["recalled"] & f["first_round"],
        lambda f: f["first_round"],
    ),
    Measure(
        "subsequent_round_recall_rate",
        "recalled subsequent-round screens",
        "subsequent-round screens",
        lambda f: f["recalled"] & ~f["first_round"],
        lambda f: ~f["first_round"],
    ),
    Measure(
        "calc_recall_rate",
        "screens recalled for calcifications (alone or with another finding)",
        "screens",
        lambda f: f["recall_calc"],
        _all,
    ),
    Measure(
        "calc_only_recall_rate",
        "screens recalled for calcifications as the only finding",
        "screens",
        lambda f: f["calc_only_recall"],
        _all,
    ),
    Measure(
        "calc_share_of_recalls",
        "recalls with calcifications among the findings",
        "recalls",
        lambda f: f["recall_calc"],
        lambda f: f["recalled"],
    ),
    Measure(
        "calc_only_share_of_recalls",
        "recalls with calcifications as the only finding",
        "recalls",
        lambda f: f["calc_only_recall"],
        lambda f: f["recalled"],
    ),
    Measure(
        "calc_only_share_of_screen_detected",
        "screen-detected cancers recalled for calcifications only",
        "screen-detected cancers",
        lambda f: f["screen_detected"] & f["calc_only_recall"],
        lambda f: f["screen_detected"],
    ),
    Measure(
        "calc_only_presentation_share_of_screen_detected",
        "screen-detected cancers presenting as calcifications only (mammographic presentation)",
        "screen-detected cancers",
        lambda f: f["screen_detected"] & (f["presentation"] == 0),
        lambda f: f["screen_detected"],
    ),
    Measure(
        "calc_share_of_screen_detected",
        "screen-detected cancers recalled with calcifications among the findings",
        "screen-detected cancers",
        lambda f: f["screen_detected"] & f["recall_calc"],
        lambda f: f["screen_detected"],
    ),
    Measure(
        "dcis_share_of_screen_detected",
        "screen-detected DCIS",
        "screen-detected cancers",
        lambda f: f["screen_detected"] & (f["pathology"] == 3),
        lambda f: f["screen_detected"],
    ),
    Measure(
        "cancer_detection_rate_per_1000",
        "screen-detected cancers",
        "screens",
        lambda f: f["screen_detected"],
        _all,
        per=1000.0,
    ),
    Measure("ppv1", "screen-detected cancers", "recalls", lambda f: f["screen_detected"], lambda f: f["recalled"]),
    Measure(
        "ppv_calc_recall",
        "screen-detected cancers among calcification recalls",
        "calcification recalls",
        lambda f: f["screen_detected"] & f["recall_calc"],
        lambda f: f["recall_calc"],
    ),
    Measure(
        "ppv3",
        "biopsies showing DCIS or invasive cancer",
        "biopsies",
        lambda f: f["biopsy"] & _cancer(f),
        lambda f: f["biopsy"],
    ),
    Measure("biopsy_rate", "screens leading to biopsy", "screens", lambda f: f["biopsy"], _all),
    Measure(
        "interval_cancer_rate_per_1000",
        "cancers surfacing clinically within one interval after a screen that did not detect them",
        "screens",
        lambda f: f["interval_cancer"],
        _all,
        per=1000.0,
    ),
    Measure(
        "sensitivity",
        "screen-detected cancers",
        "screen-detected + interval cancers (follow-up: one programme interval)",
        lambda f: f["screen_detected"],
        lambda f: f["screen_detected"] | f["interval_cancer"],
    ),
    Measure(
        "specificity",
        "screens without recall among screens without cancer in follow-up",
        "screens without cancer within one programme interval",
        lambda f: ~f["recalled"] & ~(f["screen_detected"] | f["interval_cancer"]),
        lambda f: ~(f["screen_detected"] | f["interval_cancer"]),
    ),
    Measure(
        "cumulative_false_positive_recall",
        "women with >=1 false-positive recall in their first N screens",
        "women screened N times without a cancer diagnosis (N = programme.cumulative_rounds)",
        lambda f: f["cfp_event"],
        lambda f: f["cfp_eligible"],
    ),
    Measure(
        "cluster_prevalence",
        "screens showing a microcalcification cluster (benign or malignant)",
        "screens",
        lambda f: f["any_cluster"],
        _all,
    ),
)
MEASURE_NAMES = tuple(m.name for m in MEASURES)


# ----------------------------------------------------------------------------- strata
STRATA: dict[str, tuple[Callable[[Frame], np.ndarray], tuple[str, ...]]] = {
    "round": (lambda f: (~f["first_round"]).astype(np.intp), ROUND.labels),
    "age_group": (lambda f: age_group(f["age_years"]), AGE_GROUP.labels),
    "menopause": (lambda f: f["postmenopausal"].astype(np.intp), MENOPAUSE.labels),
    "family_history": (lambda f: f["family_history"].astype(np.intp), FAMILY_HISTORY.labels),
    "brca": (lambda f: f["brca"].astype(np.intp), BRCA.labels),
    "breastfeeding": (lambda f: breastfeeding_band(f["breastfeeding_months"]), BREASTFEEDING.labels),
    "density": (lambda f: f["density"].astype(np.intp), DENSITY.labels),
    "parity": (lambda f: parity_band(f["births"]), PARITY.labels),
}

Groupings = tuple[tuple[str, ...], ...]


def check_strata(by: Sequence[str] | Sequence[Sequence[str]], argument: str = "by") -> Groupings:
    """Validate stratification: one grouping (``["density", "round"]``: their cross-classification) or
    several (``[["age_group"], ["density"], ["round", "density"]]``), counted in one run.

    Returns
    -------
    tuple of tuple of str
        The groupings, each a tuple of :data:`STRATA` keys (duplicates removed, order kept).
    """
    if isinstance(by, str):
        by = [by]
    items = list(by)
    nested = any(not isinstance(b, str) for b in items)
    groups = [tuple([g] if isinstance(g, str) else g) for g in items] if nested else ([tuple(items)] if items else [])
    for group in groups:
        for b in group:
            if not isinstance(b, str) or b not in STRATA:
                raise ArgumentError(
                    argument, b, f"unknown column{did_you_mean(str(b), STRATA)}; allowed: {', '.join(STRATA)}"
                )
    return tuple(dict.fromkeys(tuple(dict.fromkeys(g)) for g in groups if g))


def stratum_codes(f: Frame, group: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Stratum code of every screen for one grouping, and the stratum labels (``density=a; round=first``)."""
    n = len(f["recalled"])
    codes = np.zeros(n, dtype=np.intp)
    labels = [""]
    for b in group:
        fn, cats = STRATA[b]
        codes = codes * len(cats) + fn(f)
        labels = [f"{lab}; {b}={c}" if lab else f"{b}={c}" for lab in labels for c in cats]
    return codes, labels if group else ["all"]


def count_screens(f: Frame, by: Groupings = ()) -> pd.DataFrame:
    """Numerator and denominator counts of every measure, overall and by stratum.

    Parameters
    ----------
    f : dict of arrays
        Screens of one or more blocks (:data:`SCREEN_COLUMNS`).
    by : tuple of tuple of str
        Groupings from :func:`check_strata`; empty for overall only.

    Returns
    -------
    pandas.DataFrame
        Columns ``stratum``, ``measure``, ``numerator``, ``n`` (int64).
    """
    rows_stratum: list[np.ndarray] = []
    rows_measure: list[np.ndarray] = []
    rows_num: list[np.ndarray] = []
    rows_n: list[np.ndarray] = []
    dens = {m.name: m.den(f) for m in MEASURES}
    nums = {m.name: m.num(f) & dens[m.name] for m in MEASURES}
    for group in ((), *by):
        if group:
            codes, labels = stratum_codes(f, group)
        else:
            codes, labels = None, ["all"]
        k = len(labels)
        for m in MEASURES:
            if codes is None:
                num = np.array([np.count_nonzero(nums[m.name])], dtype=np.int64)
                n = np.array([np.count_nonzero(dens[m.name])], dtype=np.int64)
            else:
                num = np.bincount(codes[nums[m.name]], minlength=k).astype(np.int64)
                n = np.bincount(codes[dens[m.name]], minlength=k).astype(np.int64)
            rows_stratum.append(np.asarray(labels, dtype=object))
            rows_measure.append(np.full(k, m.name, dtype=object))
            rows_num.append(num)
            rows_n.append(n)
    return pd.DataFrame(
        {
            "stratum": np.concatenate(rows_stratum),
            "measure": np.concatenate(rows_measure),
            "numerator": np.concatenate(rows_num),
            "n": np.concatenate(rows_n),
        }
    )


def add_counts(a: pd.DataFrame | None, b: pd.DataFrame) -> pd.DataFrame:
    """Sum two count tables with the same rows (exact integer addition)."""
    if a is None:
        return b.copy()
    out = a.copy()
    out["numerator"] = a["numerator"].to_numpy() + b["numerator"].to_numpy()
    out["n"] = a["n"].to_numpy() + b["n"].to_numpy()
    return out


def wilson(numerator: np.ndarray, n: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, ...]:
    """Estimate and Wilson interval; NaN where ``n == 0``."""
    numerator = np.asarray(numerator, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    lo, hi = proportion_confint(numerator, safe, alpha=alpha, method="wilson")
    est = numerator / safe
    nan = n == 0
    return (np.where(nan, np.nan, est), np.where(nan, np.nan, lo), np.where(nan, np.nan, hi))


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


def unit_of(measure: Measure) -> str:
    """``"proportion"`` or ``"per 1,000 screens"``."""
    return "proportion" if measure.per == 1.0 else f"per {measure.per:,.0f} screens"


def estimates_from_counts(
    counts: pd.DataFrame,
    alpha: float = 0.05,
    *,
    provenance: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Tidy estimates with Wilson intervals from a count table.

    Parameters
    ----------
    counts : DataFrame
        ``stratum``, ``measure``, ``numerator``, ``n`` (from :func:`count_screens`).
    alpha : float
        1 - confidence level of the Wilson intervals.
    provenance : dict, optional
        ``scenario``, ``scenario_hash``, ``seed``, ``version``, ``calibration`` values repeated on every row.

    Returns
    -------
    pandas.DataFrame
        :data:`ESTIMATE_COLUMNS`: one row per measure and stratum; ``estimate``/``lower``/``upper`` in
        ``unit`` (a proportion, or per 1,000 screens); the counts and labels of the numerator and the
        denominator.
    """
    est, lo, hi = wilson(counts["numerator"].to_numpy(), counts["n"].to_numpy(), alpha)
    by_name = {m.name: m for m in MEASURES}
    measures = [by_name[m] for m in counts["measure"]]
    per = np.array([m.per for m in measures])
    prov = {"scenario": "", "scenario_hash": "", "seed": -1, "version": "", "calibration": "", **(provenance or {})}
    out = pd.DataFrame(
        {
            **{k: [prov[k]] * len(counts) for k in ("scenario", "scenario_hash", "seed", "version", "calibration")},
            "measure": counts["measure"].to_numpy(),
            "stratum": counts["stratum"].to_numpy(),
            "estimate": est * per,
            "lower": lo * per,
            "upper": hi * per,
            "unit": [unit_of(m) for m in measures],
            "interval": "wilson95",
            "numerator_count": counts["numerator"].to_numpy(),
            "denominator_count": counts["n"].to_numpy(),
            "numerator_label": [m.numerator for m in measures],
            "denominator_label": [m.denominator for m in measures],
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
        out = estimates_from_counts(self.counts, alpha, provenance=self.provenance)
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
            "interval": "Wilson 95% (binomial, within this run)",
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
