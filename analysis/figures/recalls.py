"""Rates by stratum and by screening round, with their Wilson 95% intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from analysis.errors import CalcsimInputError
from analysis.figures.inputs import check_by, series, stratified, stratum_levels
from analysis.figures.style import (
    PALETTE,
    STRATUM_LABELS,
    calcsim_style,
    colour,
    cycle_colour,
    errorbar,
    format_value,
    left_title,
    measure_label,
    new_axes,
    new_figure,
    offsets,
    pretty,
    subtitle,
    unit,
    value_axis,
    wrap,
)
from analysis.scenario.codings import ROUND

__all__ = ["ROUND_MEASURES", "recall_by", "rounds_compared"]

#: Measures :func:`rounds_compared` shows by default.
ROUND_MEASURES = (
    "recall_rate",
    "cancer_detection_rate_per_1000",
    "ppv1",
    "calc_only_share_of_recalls",
    "calc_only_share_of_screen_detected",
    "interval_cancer_rate_per_1000",
)
_FIRST, _SUBSEQUENT = ROUND.labels
#: Guideline maxima (targets table) drawn on the recall-rate panel: target measure → (measure, round).
_ROUND_TARGETS = {
    "first_round_recall_rate": ("recall_rate", _FIRST),
    "subsequent_round_recall_rate": ("recall_rate", _SUBSEQUENT),
}


# ----------------------------------------------------------------------------- by stratum
def _by_data(
    scen: list[tuple[str, pd.DataFrame]], cols: list[str], measure: str
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Stratified rows of every scenario with a ``hue`` column, the x categories and the hues, in order."""
    parts = []
    for label, e in scen:
        d = stratified(e, measure, cols, "recall_by")
        d["hue"] = d[cols[1]] if len(cols) > 1 else label
        parts.append(d)
    d = pd.concat(parts, ignore_index=True)
    d = d[d["n"] > 0]
    xcats = [c for c in stratum_levels(cols[0]) if c in set(d[cols[0]])]
    hues = (
        list(dict.fromkeys(d["hue"])) if len(cols) == 1 else [c for c in stratum_levels(cols[1]) if c in set(d["hue"])]
    )
    return d, xcats, hues


def _overall_line(ax: Axes, e: pd.DataFrame, measure: str) -> None:
    """The overall value of ``measure`` as a dashed reference line (if the table has it)."""
    overall = e[(e["measure"] == measure) & (e["stratum"] == "all")]
    if len(overall):
        v = float(overall["estimate"].iloc[0])
        ax.axhline(v, color=PALETTE["grey"], ls="--", lw=1, zorder=0, label=f"overall: {format_value(measure, v)}")


def recall_by(
    estimates: Any, by: str | Sequence[str], measure: str = "recall_rate", *, title: str | None = None
) -> Figure:
    """A rate by stratum (age group, density, family history, BRCA …) with Wilson 95% intervals.

    Parameters
    ----------
    estimates : DataFrame, Results or mapping
        An estimates table from a run stratified with ``by=[...]``
        (``simulate(..., by=["density"]).estimates()``); several scenarios as a
        ``{label: table}`` mapping or a table with a ``scenario`` column.
    by : str or sequence of str
        The stratification column on the x axis; a second column (one scenario
        only) is shown as coloured series. The table must be stratified by
        exactly these columns.
    measure : str
        Any measure (default the recall rate per screen).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Points with Wilson 95% error bars; the dashed line is the overall value
        (one scenario only). Strata with no denominator are left out.
    """
    cols = check_by(by, "recall_by", 2)
    scen = series(estimates)
    if len(scen) > 1 and len(cols) > 1:
        raise CalcsimInputError("recall_by: several scenarios and two stratification columns: give one of them")
    d, xcats, hues = _by_data(scen, cols, measure)
    with calcsim_style():
        fig, ax = new_axes((max(5.2, 0.85 * len(xcats) * max(1, len(hues)) ** 0.5 + 2.2), 4.3))
        for h, (hue, off) in enumerate(zip(hues, offsets(len(hues)), strict=True)):
            g = d[d["hue"] == hue].set_index(cols[0]).reindex(xcats)
            xs = np.arange(len(xcats)) + off
            ok = g["estimate"].notna().to_numpy()
            label = (
                f"{STRATUM_LABELS[cols[1]]}: {pretty(hue)}" if len(cols) > 1 else pretty(hue) if len(scen) > 1 else ""
            ) or None  # one scenario: named in the title
            errorbar(
                ax,
                xs[ok],
                g["estimate"][ok],
                g["lower"][ok],
                g["upper"][ok],
                color=colour(str(hue), h) if len(cols) == 1 else cycle_colour(h),
                label=label,
            )
        if len(scen) == 1:
            _overall_line(ax, scen[0][1], measure)
        ticks = [pretty(c) for c in xcats]
        if len(hues) == 1:
            n = d.set_index(cols[0]).reindex(xcats)["n"]
            ticks = [f"{t}\nn = {int(k):,}" for t, k in zip(ticks, n, strict=True)]
        ax.set_xticks(np.arange(len(xcats)), ticks, fontsize=8.5 if len(xcats) > 6 else 9)
        ax.set_xlim(-0.6, len(xcats) - 0.4)
        ax.set_xlabel(STRATUM_LABELS[cols[0]])
        ax.set_ylabel(f"{measure_label(measure).lower()} ({unit(measure)})")
        value_axis(ax, measure)
        ax.set_ylim(bottom=0)
        ax.grid(axis="x", visible=False)
        name = scen[0][0] if len(scen) == 1 and scen[0][0] else ""
        ax.set_title(
            title or f"{measure_label(measure)} by {STRATUM_LABELS[cols[0]]}" + (f" — {name}" if name else ""),
            loc="left",
        )
        ax.legend(loc="best", fontsize=8, ncol=2 if len(hues) > 3 else 1)
        subtitle(fig, "Error bars: Wilson 95% (binomial, within one run; screens treated as independent)")
    return fig


# ----------------------------------------------------------------------------- first vs subsequent
def _guidelines(ax: Axes, measure: str, targets: pd.DataFrame, scen: list[tuple[str, pd.DataFrame]]) -> None:
    """Guideline maxima of the first- and subsequent-round recall rates, as dashed red lines."""
    cats = list(ROUND.labels)
    for r in targets[targets["kind"] == "upper_bound"].itertuples(index=False):
        where = _ROUND_TARGETS.get(r.measure)
        scen_ok = not r.scenario or any(r.scenario == lab for lab, _ in scen) or not scen[0][0]
        if where and where[0] == measure and scen_ok:
            x0 = cats.index(where[1])
            ax.plot([x0 - 0.3, x0 + 0.3], [r.value] * 2, color=PALETTE["red"], ls="--", lw=1.2)
            ax.annotate(
                f"guideline < {format_value(measure, r.value, 0)}",
                xy=(x0, r.value),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                color=PALETTE["red"],
            )


def _round_panel(ax: Axes, measure: str, rows: list[tuple[str, pd.DataFrame]], offs: np.ndarray) -> None:
    """One measure, first vs subsequent round, one series per scenario (``rows``: label, stratified rows)."""
    cats = list(ROUND.labels)
    for i, ((label, rounds), off) in enumerate(zip(rows, offs, strict=True)):
        d = rounds.set_index("round").reindex(cats)
        xs = np.arange(len(cats)) + off
        errorbar(ax, xs, d["estimate"], d["lower"], d["upper"], color=colour(label, i), label=label or None)
        ax.plot(xs, d["estimate"], color=colour(label, i), lw=0.8, alpha=0.5)
    if len(rows) == 1:
        n = rows[0][1].set_index("round").reindex(cats)["n"]
        ax.set_xticks(
            [0, 1], [f"{c}\nn = {int(k):,}" if np.isfinite(k) else c for c, k in zip(cats, n, strict=True)], fontsize=8
        )
    else:
        ax.set_xticks([0, 1], cats)


def _round_axes(ax: Axes, measure: str) -> None:
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.12)
    value_axis(ax, measure)
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.set_title(wrap(measure_label(measure), 30), fontsize=9.5, loc="left")
    ax.set_ylabel(wrap(unit(measure), 26), fontsize=8.5)
    ax.grid(axis="x", visible=False)


def rounds_compared(
    estimates: Any,
    measures: Sequence[str] = ROUND_MEASURES,
    *,
    targets: pd.DataFrame | None = None,
    title: str | None = None,
) -> Figure:
    """First-round vs subsequent-round screens, one panel per measure, with Wilson 95% intervals.

    Parameters
    ----------
    estimates : DataFrame, Results or mapping
        Estimates of a run stratified by round only (``simulate(..., by=["round"])``);
        several scenarios as a mapping or a table with a ``scenario`` column.
    measures : sequence of str
        Measures to show (default :data:`ROUND_MEASURES`).
    targets : DataFrame, optional
        :func:`analysis.stats.targets.load_targets`: guideline maxima for the first- and
        subsequent-round recall rates are drawn on the recall-rate panel.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per measure (axes in ``fig.axes``, in the order of ``measures``).
    """
    scen = series(estimates)
    measures = list(measures)
    if not measures:
        raise CalcsimInputError("rounds_compared: measures = []: give at least one measure")
    data = {m: [(label, stratified(e, m, ["round"], "rounds_compared")) for label, e in scen] for m in measures}
    ncols = min(3, len(measures))
    nrows = math.ceil(len(measures) / ncols)
    offs = offsets(len(scen), 0.4)
    with calcsim_style():
        fig = new_figure((3.0 * ncols + 0.6, 2.9 * nrows + 0.7))
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax in axes[len(measures) :]:
            fig.delaxes(ax)
        for ax, m in zip(axes, measures, strict=False):
            _round_panel(ax, m, data[m], offs)
            if targets is not None:
                _guidelines(ax, m, targets, scen)
            _round_axes(ax, m)
        if len(scen) > 1:
            handles = [Line2D([], [], color=colour(lab, i), marker="o", label=lab) for i, (lab, _) in enumerate(scen)]
            fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8.5)
        name = scen[0][0] if len(scen) == 1 and scen[0][0] else ""
        left_title(fig, title or "First-round vs subsequent-round screens" + (f" — {name}" if name else ""))
        if len(scen) == 1:
            subtitle(
                fig,
                "Error bars: Wilson 95% (within one run). First round: a woman's first screen "
                "in the programme (no prior images).",
            )
    return fig
