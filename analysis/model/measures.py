"""Measures: what is counted on the screens table, and the counting.

Every measure is a proportion ``numerator / n`` over a named denominator (docs/model.md
§1.2: always name the denominator), counted per block and summed (integers, so the
total does not depend on how blocks were grouped). Stratified counts use fixed category
lists, so strata line up across blocks, runs and scenarios. The estimates made from these
counts are in :mod:`analysis.model.results`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
#: columns inside the simulator; in :attr:`analysis.model.results.Results.screens` the columns of
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
    "known_benign_cluster": "bool",
    "malignant_calc": "bool",
    "any_cluster": "bool",
    "cancer_present": "bool",
    "cancer_type": "int8",
    "dcis_high_grade": "bool",
    "tumour_diameter_mm": "float32",
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


#: Diameter below which a screen-detected invasive cancer counts as small (NHS Breast Screening Programme: < 15 mm).
SMALL_INVASIVE_MM = 15.0
#: Largest invasive focus counted as micro-invasive (TNM pT1mi: <= 1 mm), reported with DCIS as "non-invasive or
#: micro-invasive" by the NHS Breast Screening Programme.
MICROINVASIVE_MM = 1.0


def _small_invasive(f: Frame) -> np.ndarray:
    return f["screen_detected"] & (f["pathology"] == 4) & (f["tumour_diameter_mm"] < SMALL_INVASIVE_MM)


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
    Measure(
        "dcis_detection_rate_per_1000",
        "screen-detected DCIS",
        "screens",
        lambda f: f["screen_detected"] & (f["pathology"] == 3),
        _all,
        per=1000.0,
    ),
    Measure(
        "dcis_or_microinvasive_detection_rate_per_1000",
        f"screen-detected DCIS or micro-invasive cancers (invasive <= {MICROINVASIVE_MM:g} mm)",
        "screens",
        lambda f: (
            f["screen_detected"]
            & ((f["pathology"] == 3) | ((f["pathology"] == 4) & (f["tumour_diameter_mm"] <= MICROINVASIVE_MM)))
        ),
        _all,
        per=1000.0,
    ),
    Measure(
        "invasive_detection_rate_per_1000",
        "screen-detected invasive cancers",
        "screens",
        lambda f: f["screen_detected"] & (f["pathology"] == 4),
        _all,
        per=1000.0,
    ),
    Measure(
        "small_invasive_detection_rate_per_1000",
        f"screen-detected invasive cancers < {SMALL_INVASIVE_MM:g} mm",
        "screens",
        lambda f: _small_invasive(f),
        _all,
        per=1000.0,
    ),
    Measure(
        "small_share_of_screen_detected_invasive",
        f"screen-detected invasive cancers < {SMALL_INVASIVE_MM:g} mm",
        "screen-detected invasive cancers",
        lambda f: _small_invasive(f),
        lambda f: f["screen_detected"] & (f["pathology"] == 4),
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
