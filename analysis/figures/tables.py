"""Tables of the report and the notebooks: one formatter for every table a page shows.

Every table is turned into text cells here and handed to a pandas :class:`~pandas.io.formats.style.Styler`
(no new dependency: it comes with pandas), so that all pages read alike:

* proportions in % with the same number of decimals throughout a table (one, or two when a value
  is under 1%), intervals as ``"24.0% (22.5–25.5)"``, rates as ``"6.21 (5.80–6.65) per 1,000 screens"``,
  odds ratios as ``"1.13 (0.94–1.35)"``, p-values as ``"<0.001"`` or ``"0.042"``;
* readable labels: strata ``"parity ≥3"``, ``"density d"``; regression terms ``"parity ≥3 (vs 0)"``;
  measures by their names in :data:`~analysis.figures.style.MEASURE_LABELS`;
* an em dash (``—``) for a missing value, never ``NaN``; no text is cut short;
* no row index unless it means something (a named index becomes the first columns); a wide table
  scrolls sideways inside the page instead of running off its right edge.

:func:`format_table` formats any table column by column (the kinds are :data:`KINDS`; it and
:func:`style_table` live in :mod:`analysis.figures.table_format` and are imported from here),
:func:`format_estimates` an estimates table, :func:`format_odds_ratios` a fit of
:func:`analysis.stats.regression.fit_odds_ratios`. The cell formatters of :mod:`analysis.figures.cells`
(:func:`format_interval`, :func:`format_percent`, :func:`format_p_value`, :func:`stratum_label` …) are
available from here too, so that a sentence printed beside a table states its numbers exactly as the
table does (:func:`extremes_sentence`).
"""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.figures.cells import (
    DASH,
    extremes_sentence,
    format_count,
    format_interval,
    format_measure,
    format_number,
    format_p_value,
    format_percent,
    format_range,
    is_missing,
    percent_digits,
    pretty_text,
    stratum_label,
    unit_of,
)
from analysis.figures.regression import term_label
from analysis.figures.style import measure_label
from analysis.figures.table_format import KINDS, fixed_decimals, format_table, style_table

__all__ = [
    "DASH",
    "KINDS",
    "extremes_sentence",
    "fixed_decimals",
    "format_count",
    "format_estimates",
    "format_interval",
    "format_measure",
    "format_number",
    "format_odds_ratios",
    "format_p_value",
    "format_percent",
    "format_range",
    "format_table",
    "is_missing",
    "percent_digits",
    "pretty_text",
    "stratum_label",
    "style_table",
    "unit_of",
]

_INTERVAL_NAMES = {"wilson95": "Wilson 95% interval"}
_EXTRA_RANGES = {
    ("posterior_lower", "posterior_upper"): "Across accepted parameter sets (95% range)",
    ("replicate_ci_lower", "replicate_ci_upper"): "Replicate 95% CI",
    ("replicate_lower", "replicate_upper"): "Replicate range",
}


def _estimate_header(e: pd.DataFrame, units: list[str]) -> str:
    kinds = e["interval"].dropna().unique() if "interval" in e.columns else []
    name = _INTERVAL_NAMES.get(str(kinds[0]), "95% interval") if len(kinds) == 1 else "95% interval"
    dens = e["denominator_label"].dropna().unique() if "denominator_label" in e.columns else []
    if set(units) == {"proportion"} and len(dens) == 1:
        return f"Estimate, % of {str(dens[0]).split(' (')[0]} ({name})"
    return f"Estimate ({name})"


def format_estimates(
    e: pd.DataFrame, *, by: str | None = None, caption: str | None = None, digits: int | None = None
) -> Styler:
    """An estimates table (or any table with ``measure, estimate, lower, upper``) as people read it.

    Parameters
    ----------
    e : DataFrame
        Rows of ``Results.estimates()`` (or of ``calc_only_question``, ``run_posterior(...).estimates()``).
        Optional columns used: ``stratum``, ``scenario``, ``unit``, ``interval``, ``numerator_count``,
        ``denominator_count``, ``denominator_label`` and the extra interval pairs ``posterior_*``,
        ``replicate_ci_*``, ``replicate_*``.
    by : str, optional
        A column (e.g. ``"scenario"``) whose values become columns: one estimate cell per value.
    caption : str, optional
        Shown above the table (default: the measure, when there is only one).
    digits : int, optional
        Decimals of the percentages (default 1, or 2 when an estimate is under 1%).

    Returns
    -------
    pandas.io.formats.style.Styler
        Measure, stratum (when not all ``"all"``), scenario, the estimate with its interval
        (``"24.0% (22.5–25.5)"``, ``"6.21 (5.80–6.65) per 1,000 screens"``), the counts
        (``"67 / 274"``) and the denominator.
    """
    e = e.reset_index(drop=e.index.names == [None])
    units = [
        str(u) if "unit" in e.columns and not is_missing(u) else unit_of(str(m))
        for u, m in zip(e["unit"] if "unit" in e.columns else e["measure"], e["measure"], strict=True)
    ]
    d = (
        digits
        if digits is not None
        else percent_digits([x for x, u in zip(e["estimate"], units, strict=True) if u == "proportion"])
    )
    shown = pd.DataFrame(index=range(len(e)))
    several = e["measure"].nunique() > 1
    if several or by:
        shown["Measure"] = [measure_label(str(m)) for m in e["measure"]]
    if "stratum" in e.columns and (e["stratum"] != "all").any():
        shown["Stratum"] = [stratum_label(s) for s in e["stratum"]]
    if "scenario" in e.columns and by != "scenario" and e["scenario"].nunique() > 1:
        shown["Scenario"] = e["scenario"].astype(str).to_numpy()
    head = _estimate_header(e, units)
    shown[head] = [
        format_interval(x, lo, hi, unit=u, digits=d if u == "proportion" else None)
        for x, lo, hi, u in zip(e["estimate"], e["lower"], e["upper"], units, strict=True)
    ]
    right = [head]
    for (lo, hi), name in _EXTRA_RANGES.items():
        if {lo, hi} <= set(e.columns):
            shown[name] = [
                format_range(a, b, unit=u, digits=d if u == "proportion" else None)
                for a, b, u in zip(e[lo], e[hi], units, strict=True)
            ]
            right.append(name)
    if {"numerator_count", "denominator_count"} <= set(e.columns) and not by:
        shown["Count (numerator / denominator)"] = [
            f"{format_count(a)} / {format_count(b)}"
            for a, b in zip(e["numerator_count"], e["denominator_count"], strict=True)
        ]
        right.append("Count (numerator / denominator)")
    if "denominator_label" in e.columns and (several or by):
        shown["Denominator"] = [pretty_text(x) for x in e["denominator_label"]]
    if by:
        keys = [c for c in shown.columns if c not in right]
        shown[by] = e[by].astype(str).to_numpy()
        order = list(dict.fromkeys(shown[by]))
        shown = shown.pivot_table(index=keys, columns=by, values=head, aggfunc="first", sort=False)[order]
        shown = shown.reset_index().rename_axis(columns=None)
        right = order
    if caption is None and not several:
        caption = measure_label(str(e["measure"].iloc[0])) if len(e) else None
    return style_table(shown.astype(object), right=right, caption=caption)


def format_odds_ratios(fit: pd.DataFrame, *, caption: str | None = None) -> Styler:
    """A fit of :func:`analysis.stats.regression.fit_odds_ratios`: term, odds ratio (95% CI), p-value.

    Terms read ``"parity ≥3 (vs 0)"`` (the reference level from ``fit.attrs["references"]``);
    p-values below 0.001 read ``"<0.001"``. The default caption names the outcome, the method and
    the numbers of screens and women.
    """
    refs = fit.attrs.get("references", {}) or {}
    shown = pd.DataFrame(
        {
            "Term": [term_label(str(t), refs) for t in fit["term"]],
            "Odds ratio (95% CI)": [
                format_interval(o, lo, hi, unit="ratio")
                for o, lo, hi in zip(fit["odds_ratio"], fit["lower"], fit["upper"], strict=True)
            ],
        }
    )
    right = ["Odds ratio (95% CI)"]
    if "p_value" in fit.columns:
        shown["p-value"] = [format_p_value(p) for p in fit["p_value"]]
        right.append("p-value")
    a = fit.attrs
    if caption is None and a.get("outcome"):
        n = f", {a['n_obs']:,} screens of {a['n_women']:,} women" if a.get("n_obs") and a.get("n_women") else ""
        caption = f"Odds ratios, outcome {a['outcome']} ({str(a.get('method', '')).upper()}{n})"
    return style_table(shown, right=right, caption=caption)
