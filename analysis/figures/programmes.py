"""Programmes compared: cumulative false-positive recall over screens, paired differences between scenarios."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis.errors import CalcsimInputError
from analysis.figures.inputs import need, series
from analysis.figures.style import (
    PALETTE,
    calcsim_style,
    colour,
    errorbar,
    format_value,
    is_proportion,
    left_title,
    measure_label,
    new_axes,
    new_figure,
    percent_formatter,
    subtitle,
    unit,
)

__all__ = ["COMPARE_MEASURES", "cumulative_false_positive", "scenario_comparison"]

#: Measures :func:`scenario_comparison` shows by default.
COMPARE_MEASURES = (
    "recall_rate",
    "calc_only_share_of_recalls",
    "calc_only_share_of_screen_detected",
    "cancer_detection_rate_per_1000",
    "ppv1",
    "interval_cancer_rate_per_1000",
    "cumulative_false_positive_recall",
)


# ----------------------------------------------------------------------------- cumulative false positives
def _years(years_per_screen: float | Mapping[str, float] | None, label: str) -> float | None:
    """The screening interval of scenario ``label`` (None: the x axis is the screen number)."""
    if years_per_screen is None:
        return None
    if isinstance(years_per_screen, Mapping):
        if label not in years_per_screen:
            raise CalcsimInputError(f"cumulative_false_positive: years_per_screen has no entry for {label!r}")
        return float(years_per_screen[label])
    return float(years_per_screen)


def _km_line(ax: Axes, c: pd.DataFrame, label: str, col: str, iv: float | None) -> tuple[float, float]:
    """One step line with its Greenwood band; the largest x and upper band value drawn."""
    k = c["screen_number"].to_numpy(float)
    # value after the k-th screen holds until the next screen
    values = [c[name].to_numpy(float) for name in ("cumulative_probability", "lower", "upper")]
    if iv is None:  # from 0 before the first screen
        x = np.concatenate([[0.0], k, [k[-1] + 1]])
        est, lo, hi = (np.concatenate([[0.0], v, v[-1:]]) for v in values)
    else:  # the k-th screen at (k - 1) years x interval
        x = np.concatenate([(k - 1) * iv, [k[-1] * iv]])
        est, lo, hi = (np.concatenate([v, v[-1:]]) for v in values)
    last = c.iloc[-1]
    when = f"after {int(last['screen_number'])} screens"
    if iv is not None:
        when += f" ({(last['screen_number'] - 1) * iv:g} years)"
    text = f"{100 * last['cumulative_probability']:.1f}% {when}"
    ax.fill_between(x, lo, hi, step="post", color=col, alpha=0.2, lw=0)
    ax.step(x, est, where="post", color=col, lw=1.8, label=f"{label}: {text}" if label else text)
    return float(x[-1]), float(np.nanmax(hi))


def cumulative_false_positive(
    curve: Any,
    *,
    min_at_risk: int = 25,
    years_per_screen: float | Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Cumulative probability of ≥1 false-positive recall over screens (Kaplan–Meier), one line per scenario.

    Parameters
    ----------
    curve : DataFrame or mapping
        :func:`analysis.stats.cumulative.cumulative_false_positive_curve`; several
        scenarios as ``{label: curve}`` or a table with a ``scenario`` column.
    min_at_risk : int
        Stop each line at the last screen number with at least this many women
        at risk (the tail with few women is noise).
    years_per_screen : float or mapping, optional
        The screening interval (per scenario label, or one for all): the x axis
        then shows years since the first screen, ``(k − 1) × interval``, so that
        programmes with different intervals are compared over the same time.
        Default: the screen number ``k``.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Step lines (product-limit estimate after k screens) with shaded Greenwood
        95% bands; the legend gives each line's last value.
    """
    scen = series(curve)
    for _, c in scen:
        need(
            c,
            ("screen_number", "at_risk", "cumulative_probability", "lower", "upper"),
            "cumulative_false_positive",
            "pass analysis.stats.cumulative.cumulative_false_positive_curve(screens)",
        )
    with calcsim_style():
        fig, ax = new_axes((7.0, 4.5))
        xmax, ymax = 1.0, 0.05
        for i, (label, c) in enumerate(scen):
            c = c.sort_values("screen_number")
            c = c[c["at_risk"] >= min_at_risk]
            if c.empty:
                continue
            x_end, y_top = _km_line(ax, c, label, colour(label, i), _years(years_per_screen, label))
            xmax, ymax = max(xmax, x_end), max(ymax, y_top)
        ax.set_xlim(0, xmax)
        ax.set_ylim(0, ymax * 1.1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(percent_formatter())
        if years_per_screen is None:
            ax.set_xlabel("screens attended (k)")
            ax.set_ylabel("P(≥1 false-positive recall\nin the first k screens)")
        else:
            ax.set_xlabel("years since the first screen")
            ax.set_ylabel("P(≥1 false-positive recall\nby this time)")
        ax.set_title(title or "Cumulative probability of a false-positive recall", loc="left")
        ax.legend(loc="best", fontsize=8.5)
        subtitle(
            fig,
            "Kaplan–Meier over screen number (censored at the last screen or at a cancer diagnosis); "
            f"bands: Greenwood 95%.\nLines stop at the last screen with ≥ {min_at_risk} women at risk.",
        )
    return fig


# ----------------------------------------------------------------------------- scenario comparison
def _comparisons(compare_df: Any) -> list[tuple[str, pd.DataFrame]]:
    """``[(label, table), ...]`` of one comparison table, a sequence, a mapping or a ``comparison`` column."""

    def label(df: pd.DataFrame, fallback: str) -> str:
        a, b = df.attrs.get("a"), df.attrs.get("b")
        return f"{a} − {b}" if a and b else fallback

    if isinstance(compare_df, Mapping):
        return [(str(k), v) for k, v in compare_df.items()]
    if isinstance(compare_df, list | tuple):
        return [(label(d, f"#{i + 1}"), d) for i, d in enumerate(compare_df)]
    if not isinstance(compare_df, pd.DataFrame):
        raise CalcsimInputError(
            f"scenario_comparison: compare_df is a {type(compare_df).__name__}; pass the "
            "table of analysis.stats.uncertainty.compare(a, b, ...), a list or a mapping of them"
        )
    if "comparison" in compare_df.columns:
        return [(str(k), g) for k, g in compare_df.groupby("comparison", sort=False)]
    return [(label(compare_df, "a − b"), compare_df)]


def _difference_panel(ax: Axes, m: str, rows: list[tuple[str, str, str, pd.DataFrame]]) -> None:
    """One measure: each comparison's difference with its interval, both estimates written beside it."""
    k = len(rows)
    scale = 100.0 if is_proportion(m) else 1.0
    y = np.arange(k)[::-1].astype(float)
    span = 0.0
    for yi, (i, (_label, a, b, d)) in zip(y, enumerate(rows), strict=True):
        if m not in d.index:
            continue
        r = d.loc[m]
        col = colour(str(a), i) if k > 1 else PALETTE["black"]
        errorbar(
            ax, scale * r["difference"], yi, scale * r["lower"], scale * r["upper"], horizontal=True, color=col, ms=4.5
        )
        span = max([span, *(abs(scale * r[c]) for c in ("lower", "upper", "difference") if np.isfinite(r[c]))])
        ax.annotate(
            f"{a} {format_value(m, r['estimate_a'])} vs {b} {format_value(m, r['estimate_b'])}",
            xy=(1.0, yi),
            xycoords=("axes fraction", "data"),
            xytext=(8, 0),
            textcoords="offset points",
            va="center",
            fontsize=7.5,
            color=col,
        )
    span = span or 1.0
    ax.set_xlim(-1.15 * span, 1.15 * span)
    ax.axvline(0, color=PALETTE["grey"], lw=0.9)
    ax.set_ylim(-0.6, k - 0.4)
    ax.set_yticks(y, [lab for lab, *_ in rows] if k > 1 else [""])
    ax.tick_params(axis="y", labelsize=8, left=False)
    ax.grid(axis="y", visible=False)
    what = "percentage points" if is_proportion(m) else unit(m)
    ax.set_title(f"{measure_label(m)} ({what})", loc="left", fontsize=9, fontweight="normal")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))
    ax.tick_params(axis="x", labelsize=8)


def scenario_comparison(
    compare_df: Any, measures: Sequence[str] = COMPARE_MEASURES, *, stratum: str = "all", title: str | None = None
) -> Figure:
    """Paired differences between scenarios on the same women, with their 95% intervals.

    Parameters
    ----------
    compare_df : DataFrame, sequence or mapping
        :func:`analysis.stats.uncertainty.compare` (difference ``a − b``); several
        comparisons as a list of such tables, a ``{label: table}`` mapping or a
        table with a ``comparison`` column.
    measures : sequence of str
        One panel per measure (default :data:`COMPARE_MEASURES`); proportions are
        shown in percentage points, rates per 1,000 screens as they are.
    stratum : str
        Which stratum to show (default overall).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per measure (``fig.axes`` in the order of ``measures``): the
        difference with its paired 95% interval, a line at zero, and both
        scenarios' estimates written beside it.
    """
    measures = list(measures)
    if not measures:
        raise CalcsimInputError("scenario_comparison: measures = []: give at least one measure")
    comps = _comparisons(compare_df)
    rows = []
    for label, c in comps:
        need(
            c,
            ("measure", "stratum", "estimate_a", "estimate_b", "difference", "lower", "upper"),
            "scenario_comparison",
            "pass the table of analysis.stats.uncertainty.compare(a, b, ...)",
        )
        sub = c[(c["stratum"] == stratum) & c["measure"].isin(measures)]
        if sub.empty:
            raise CalcsimInputError(f"scenario_comparison: no rows for stratum {stratum!r} and these measures")
        rows.append((label, c.attrs.get("a", "a"), c.attrs.get("b", "b"), sub.set_index("measure")))
    heights = [0.55 + 0.32 * len(comps) for _ in measures]
    with calcsim_style():
        fig = new_figure((7.6, sum(heights) + 0.9))
        axes = np.atleast_1d(fig.subplots(len(measures), 1, height_ratios=heights, squeeze=False)).ravel()
        for ax, m in zip(axes, measures, strict=True):
            _difference_panel(ax, m, rows)
        what = rows[0][0] if len(comps) == 1 else "scenarios"
        left_title(fig, title or f"Paired differences: {what}")
        interval = comps[0][1].attrs.get("interval", "paired 95%")
        subtitle(fig, f"Difference a − b with its {interval}; same women and draws in both scenarios.")
    return fig
