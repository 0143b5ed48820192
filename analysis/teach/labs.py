"""Teaching labs with a known truth: the calcification-only denominators, and PPV against prevalence.

A simulated screens table (``simulate(..., keep_screens=True).screens``) holds what no register has:
which screens had a cancer present, which calcifications were benign. The two labs of
``notebooks/08_lab_denominators.py`` and ``notebooks/11_lab_ppv_prevalence.py`` use it:

* :func:`calc_only_denominators` — "calcification only" three ways, each with its numerator, its
  denominator and a Wilson 95% interval, beside the literature band (:func:`literature_band`);
  :func:`calc_only_truth` — what the calcification-only recalls really were;
* :func:`confusion_counts`, :func:`accuracy`, :func:`accuracy_table` — the 2 × 2 table of recall
  against cancer (at the screen, or within follow-up) and sensitivity, specificity, prevalence and
  PPV from it; :func:`bayes_ppv` and :func:`bayes_check` — Bayes' formula, exact on the counts;
  :func:`two_sample_z` and :func:`compare_cohorts` — do two cohorts differ?
* :func:`plot_denominators`, :func:`plot_ppv_curve` — the labs' figures, drawn on an axes the
  caller makes (this module never touches pyplot).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.model.results import wilson
from analysis.stats.targets import load_targets

#: The three readings of "calcification only", as ``key: (numerator label, denominator label)``.
DENOMINATORS: dict[str, tuple[str, str]] = {
    "recalls": ("recalls for calcifications only", "recalls"),
    "screen_detected": ("screen-detected cancers recalled for calcifications only", "screen-detected cancers"),
    "cluster_screens": (
        "screens with a cluster recalled for calcifications only",
        "screens showing a microcalcification cluster",
    ),
}

#: Definitions of "a cancer" for the 2 × 2 table: ``key: description``.
DISEASE: dict[str, str] = {
    "present": "a cancer (DCIS or invasive) present in the breast at the screen (the simulator's truth)",
    "followup": "a cancer detected at the screen or surfacing before the next one (what a register can count)",
}

#: Measures of :func:`accuracy`, in order: ``key: (numerator, denominator)``.
ACCURACY: dict[str, tuple[str, str]] = {
    "sensitivity": ("recalled screens with cancer", "screens with cancer"),
    "specificity": ("screens without recall among screens without cancer", "screens without cancer"),
    "prevalence": ("screens with cancer", "screens"),
    "ppv": ("recalled screens with cancer", "recalled screens"),
}


def literature_band() -> tuple[float, float]:
    """The quoted 12.7–41.2% band (``kind == "band"`` row of :func:`analysis.stats.targets.load_targets`)."""
    band = load_targets()
    band = band[band["kind"] == "band"].iloc[0]
    return float(band["lower"]), float(band["upper"])


def proportion_row(numerator: int, denominator: int) -> dict[str, Any]:
    """Counts, estimate and Wilson 95% interval of one proportion (NaN estimate when the denominator is 0).

    Parameters
    ----------
    numerator, denominator : int
        The counts.

    Returns
    -------
    dict
        ``numerator_count, denominator_count, estimate, lower, upper``.
    """
    est, lo, hi = wilson(np.array([numerator]), np.array([denominator]))
    return {
        "numerator_count": int(numerator),
        "denominator_count": int(denominator),
        "estimate": float(est[0]),
        "lower": float(lo[0]),
        "upper": float(hi[0]),
    }


def _col(screens: pd.DataFrame, name: str) -> np.ndarray:
    return screens[name].to_numpy(dtype=bool)


def calc_only_denominators(screens: pd.DataFrame, band: tuple[float, float] | None = None) -> pd.DataFrame:
    """The calcification-only figure three ways: of recalls, of screen-detected cancers, of cluster screens.

    Parameters
    ----------
    screens : DataFrame
        A screens table (columns ``recalled``, ``calc_only_recall``, ``screen_detected``, ``any_cluster``).
    band : (float, float), optional
        The literature band (default :func:`literature_band`).

    Returns
    -------
    pandas.DataFrame
        One row per :data:`DENOMINATORS` key: ``denominator`` (the key), ``numerator_label``,
        ``denominator_label``, the counts, ``estimate, lower, upper`` (Wilson 95%) and ``in_band``
        (the estimate inside the band; False when there is no estimate).
    """
    lo, hi = literature_band() if band is None else band
    calc_only, recalled = _col(screens, "calc_only_recall"), _col(screens, "recalled")
    detected, cluster = _col(screens, "screen_detected"), _col(screens, "any_cluster")
    counts = {
        "recalls": (calc_only & recalled, recalled),
        "screen_detected": (calc_only & detected, detected),
        "cluster_screens": (calc_only & cluster, cluster),
    }
    rows = []
    for key, (num, den) in counts.items():
        row = {"denominator": key, "numerator_label": DENOMINATORS[key][0], "denominator_label": DENOMINATORS[key][1]}
        row |= proportion_row(int(num.sum()), int(den.sum()))
        row["in_band"] = bool(np.isfinite(row["estimate"]) and lo <= row["estimate"] <= hi)
        rows.append(row)
    return pd.DataFrame(rows)


def calc_only_truth(screens: pd.DataFrame) -> pd.DataFrame:
    """What the calcification-only recalls really were (the simulator's truth), with Wilson intervals.

    The rows partition the calcification-only recalls: a cancer found (DCIS, invasive), a cancer
    present but not found by this work-up, no cancer with a microcalcification cluster (benign), no
    cancer and no cluster (non-suspicious calcifications only).

    Returns
    -------
    pandas.DataFrame
        ``truth``, ``numerator_count`` (recalls in the row), ``denominator_count`` (all
        calcification-only recalls), ``estimate, lower, upper``.
    """
    calc_only = _col(screens, "calc_only_recall")
    x = screens[calc_only]
    found, present = _col(x, "screen_detected"), _col(x, "cancer_present")
    cluster = _col(x, "any_cluster")
    pathology = x["pathology"].astype(str).to_numpy()
    groups = {
        "cancer found: DCIS": found & (pathology == "dcis"),
        "cancer found: invasive": found & (pathology == "invasive"),
        "cancer present, not found at this work-up": present & ~found,
        "no cancer: benign microcalcification cluster": ~present & cluster,
        "no cancer, no cluster (other calcifications)": ~present & ~cluster,
    }
    n = len(x)
    return pd.DataFrame([{"truth": k} | proportion_row(int(v.sum()), n) for k, v in groups.items()])


def disease_status(screens: pd.DataFrame, disease: str = "present") -> np.ndarray:
    """Which screens count as "with cancer" under a :data:`DISEASE` definition."""
    if disease == "present":
        return _col(screens, "cancer_present")
    if disease == "followup":
        return _col(screens, "screen_detected") | _col(screens, "interval_cancer")
    raise ValueError(f"disease={disease!r}: one of {', '.join(DISEASE)}")


def confusion_counts(screens: pd.DataFrame, disease: str = "present") -> dict[str, int]:
    """The 2 × 2 table of recall (the test) against cancer (a :data:`DISEASE` definition).

    Returns
    -------
    dict
        ``tp`` (recalled, with cancer), ``fp`` (recalled, without), ``fn`` (not recalled, with),
        ``tn`` (not recalled, without); they add up to the number of screens.
    """
    d, t = disease_status(screens, disease), _col(screens, "recalled")
    return {
        "tp": int(np.sum(d & t)),
        "fp": int(np.sum(~d & t)),
        "fn": int(np.sum(d & ~t)),
        "tn": int(np.sum(~d & ~t)),
    }


def accuracy(counts: Mapping[str, int]) -> pd.DataFrame:
    """Sensitivity, specificity, prevalence and PPV of a 2 × 2 table, each with its Wilson 95% interval.

    Parameters
    ----------
    counts : mapping
        ``tp, fp, fn, tn`` (:func:`confusion_counts`).

    Returns
    -------
    pandas.DataFrame
        One row per :data:`ACCURACY` measure: ``measure``, ``numerator_label``, ``denominator_label``,
        the counts, ``estimate, lower, upper``.
    """
    tp, fp, fn, tn = (int(counts[k]) for k in ("tp", "fp", "fn", "tn"))
    pairs = {
        "sensitivity": (tp, tp + fn),
        "specificity": (tn, tn + fp),
        "prevalence": (tp + fn, tp + fp + fn + tn),
        "ppv": (tp, tp + fp),
    }
    return pd.DataFrame(
        [
            {"measure": m, "numerator_label": ACCURACY[m][0], "denominator_label": ACCURACY[m][1]}
            | proportion_row(*pairs[m])
            for m in ACCURACY
        ]
    )


def accuracy_table(cohorts: Mapping[str, pd.DataFrame], disease: str = "present") -> pd.DataFrame:
    """:func:`accuracy` of several screens tables, stacked, with a ``cohort`` column first.

    Parameters
    ----------
    cohorts : mapping
        ``{label: screens table}``.
    disease : str
        A :data:`DISEASE` key.
    """
    parts = [accuracy(confusion_counts(s, disease)).assign(cohort=label) for label, s in cohorts.items()]
    out = pd.concat(parts, ignore_index=True)
    return out[["cohort", *[c for c in out.columns if c != "cohort"]]]


def bayes_ppv(sensitivity: Any, specificity: Any, prevalence: Any) -> np.ndarray:
    """Bayes' formula: PPV = sens · prev / (sens · prev + (1 − spec) (1 − prev)); NaN where nobody tests positive."""
    se, sp, p = (np.asarray(v, dtype=float) for v in (sensitivity, specificity, prevalence))
    positive = se * p + (1 - sp) * (1 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(positive > 0, se * p / np.where(positive > 0, positive, 1.0), np.nan)


def bayes_check(counts: Mapping[str, int]) -> dict[str, Any]:
    """Bayes' formula on the counts of a 2 × 2 table, in exact fractions and in floating point.

    With sens = tp/(tp+fn), spec = tn/(tn+fp), prev = (tp+fn)/n, Bayes' formula gives tp/(tp+fp)
    exactly: sens · prev = tp/n and (1 − spec)(1 − prev) = fp/n.

    Returns
    -------
    dict
        ``observed`` and ``bayes`` (:class:`fractions.Fraction`, or None when a denominator is 0),
        ``exact`` (the two fractions equal), ``observed_float``, ``bayes_float`` (NaN when undefined)
        and ``difference`` (their floating-point difference).
    """
    tp, fp, fn, tn = (int(counts[k]) for k in ("tp", "fp", "fn", "tn"))
    ill, well = tp + fn, tn + fp
    observed = Fraction(tp, tp + fp) if tp + fp else None
    bayes = None
    if ill and well and tp + fp:
        se, sp, prev = Fraction(tp, ill), Fraction(tn, well), Fraction(ill, ill + well)
        bayes = se * prev / (se * prev + (1 - sp) * (1 - prev))
    obs_f = float(observed) if observed is not None else np.nan
    n = ill + well
    bayes_f = float(bayes_ppv(tp / ill, tn / well, ill / n)) if ill and well else np.nan
    return {
        "observed": observed,
        "bayes": bayes,
        "exact": observed is not None and observed == bayes,
        "observed_float": obs_f,
        "bayes_float": bayes_f,
        "difference": bayes_f - obs_f,
    }


def two_sample_z(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Two-sample z-test of equal proportions (pooled standard error), two-sided.

    Returns
    -------
    (float, float)
        ``z`` (of ``k1/n1 - k2/n2``) and the p-value; NaN when a sample is empty or the pooled
        proportion is 0 or 1 (then the samples cannot differ: p-value 1, z 0).
    """
    if n1 == 0 or n2 == 0:
        return np.nan, np.nan
    pooled = (k1 + k2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (k1 / n1 - k2 / n2) / se
    return float(z), float(2 * stats.norm.sf(abs(z)))


def compare_cohorts(table: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Each measure of :func:`accuracy_table` in two cohorts: the difference and its z-test.

    Returns
    -------
    pandas.DataFrame
        ``measure``, ``first`` and ``second`` (the estimates), ``difference`` (first − second), ``z``, ``p_value``.
    """
    a, b = (table[table["cohort"] == c].set_index("measure") for c in (first, second))
    rows = []
    for m in a.index:
        z, p = two_sample_z(
            int(a.loc[m, "numerator_count"]),
            int(a.loc[m, "denominator_count"]),
            int(b.loc[m, "numerator_count"]),
            int(b.loc[m, "denominator_count"]),
        )
        ea, eb = float(a.loc[m, "estimate"]), float(b.loc[m, "estimate"])
        rows.append({"measure": m, "first": ea, "second": eb, "difference": ea - eb, "z": z, "p_value": p})
    return pd.DataFrame(rows)


def plot_denominators(ax: Any, table: pd.DataFrame, band: tuple[float, float] | None = None, **kw: Any) -> None:
    """The estimates of :func:`calc_only_denominators` with their Wilson intervals, against the band.

    Parameters
    ----------
    ax : matplotlib Axes
        Where to draw (one row per denominator, the first at the top).
    table : DataFrame
        :func:`calc_only_denominators` (a ``scenario`` column, if present, draws one series per scenario).
    band : (float, float), optional
        The literature band (default :func:`literature_band`).
    kw
        Passed to :meth:`~matplotlib.axes.Axes.errorbar` (e.g. ``color``).
    """
    lo, hi = literature_band() if band is None else band
    label = f"literature {100 * lo:.1f}–{100 * hi:.1f}%"
    ax.axvspan(100 * lo, 100 * hi, color="#E69F00", alpha=0.18, lw=0, label=label)
    groups = list(table.groupby("scenario", sort=False)) if "scenario" in table.columns else [("", table)]
    keys = list(DENOMINATORS)
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    for i, (name, t) in enumerate(groups):
        y = np.array([keys.index(k) for k in t["denominator"]], dtype=float) + (i - (len(groups) - 1) / 2) * 0.2
        est, low, high = (100 * t[c].to_numpy(dtype=float) for c in ("estimate", "lower", "upper"))
        err = np.where(np.isfinite(est), np.vstack([est - low, high - est]), 0.0)
        style = {"fmt": "o", "capsize": 3, "color": colours[i % len(colours)], "label": name or "estimate"} | kw
        ax.errorbar(est, y, xerr=np.clip(err, 0, None), **style)
    ax.set_yticks(range(len(keys)), [textwrap.fill(f"of {DENOMINATORS[k][1]}", 24) for k in keys])
    ax.invert_yaxis()
    ax.set_xlabel("recalled for calcifications only, % of the denominator (Wilson 95% interval)")
    ax.set_xlim(left=0)
    ax.legend(loc="lower right", fontsize=8)


def plot_ppv_curve(ax: Any, table: pd.DataFrame, colours: Mapping[str, str] | None = None) -> None:
    """PPV against prevalence: Bayes' curve of each cohort's sensitivity and specificity, and its observed point.

    Parameters
    ----------
    ax : matplotlib Axes
        Where to draw (prevalence and PPV in %).
    table : DataFrame
        :func:`accuracy_table` (one ``cohort`` per series).
    colours : mapping, optional
        ``{cohort: colour}``.
    """
    palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    cohorts = list(dict.fromkeys(table["cohort"]))
    prev = table[table["measure"] == "prevalence"]
    top = float(np.nanmax(prev["upper"].to_numpy(dtype=float), initial=0.01))
    grid = np.linspace(0.0, max(3.5 * top, 0.01), 200)
    for i, c in enumerate(cohorts):
        t = table[table["cohort"] == c].set_index("measure")
        colour = (colours or {}).get(c, palette[i % len(palette)])
        se, sp = float(t.loc["sensitivity", "estimate"]), float(t.loc["specificity", "estimate"])
        line = {"color": colour, "lw": 1.2, "alpha": 0.7, "label": f"Bayes: sensitivity and specificity of {c}"}
        ax.plot(100 * grid, 100 * bayes_ppv(se, sp, grid), **line)
        p, q = t.loc["prevalence"], t.loc["ppv"]
        if np.isfinite(p["estimate"]) and np.isfinite(q["estimate"]):
            xerr = [[100 * (p["estimate"] - p["lower"])], [100 * (p["upper"] - p["estimate"])]]
            yerr = [[100 * (q["estimate"] - q["lower"])], [100 * (q["upper"] - q["estimate"])]]
            mark = {"fmt": "o", "ms": 6, "capsize": 3, "color": colour, "label": f"{c}: observed (Wilson 95%)"}
            ax.errorbar([100 * p["estimate"]], [100 * q["estimate"]], xerr=xerr, yerr=yerr, **mark)
    ax.set_xlabel("prevalence of cancer at the screen, % of screens")
    ax.set_ylabel("PPV of recall, % of recalls")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="lower right")


__all__ = [
    "ACCURACY",
    "DENOMINATORS",
    "DISEASE",
    "accuracy",
    "accuracy_table",
    "bayes_check",
    "bayes_ppv",
    "calc_only_denominators",
    "calc_only_truth",
    "compare_cohorts",
    "confusion_counts",
    "disease_status",
    "literature_band",
    "plot_denominators",
    "plot_ppv_curve",
    "proportion_row",
    "two_sample_z",
]
