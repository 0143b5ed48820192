"""The screening funnel: screened → recalled → biopsied → cancer detected, by the finding that triggered the recall."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analysis.errors import CalcsimInputError
from analysis.figures.inputs import need, with_counts
from analysis.figures.style import FINDING_COLOURS, FINDINGS, calcsim_style, left_title, new_figure, percent_formatter

__all__ = ["STAGES", "funnel_counts", "screening_funnel"]

#: The stages of the funnel after the screen, in order.
STAGES = ("recalled", "biopsied", "cancer detected")
_STAGE_NAMES = {"recalled": "Recalled", "biopsied": "Biopsied", "cancer detected": "Cancer detected"}
_WHERE = "screening_funnel"


def _rows_from_screens(x: pd.DataFrame) -> list[tuple[str, str, int]]:
    """``(stage, finding, count)`` of a screens table (every stage split by finding)."""
    need(
        x,
        ("recalled", "recall_calc", "calc_only_recall", "biopsy", "screen_detected"),
        _WHERE,
        "pass the screens table of simulate(..., keep_screens=True)",
    )
    rec, calc, only = (x[c].to_numpy(bool) for c in ("recalled", "recall_calc", "calc_only_recall"))
    finding = {"calcification only": only, "calcification + other": calc & ~only, "other findings": rec & ~calc}
    stage = {
        "recalled": rec,
        "biopsied": x["biopsy"].to_numpy(bool),
        "cancer detected": x["screen_detected"].to_numpy(bool),
    }
    return [(s, f, int(np.count_nonzero(m & fm))) for s, m in stage.items() for f, fm in finding.items()]


def _rows_from_counts(x: pd.DataFrame) -> tuple[list[tuple[str, str, int]], int]:
    """``(stage, finding, count)`` rows of a count table (biopsies not split) and its number of screens."""
    c = x[x["stratum"] == "all"].set_index("measure")

    def num(m: str) -> int:
        if m not in c.index:
            raise CalcsimInputError(f"{_WHERE}: the counts have no measure {m!r}")
        return int(c.loc[m, "numerator"])

    recalls, calc, only = num("recall_rate"), num("calc_recall_rate"), num("calc_only_recall_rate")
    det, det_calc, det_only = (
        num("cancer_detection_rate_per_1000"),
        num("calc_share_of_screen_detected"),
        num("calc_only_share_of_screen_detected"),
    )
    rows = [
        ("recalled", "calcification only", only),
        ("recalled", "calcification + other", calc - only),
        ("recalled", "other findings", recalls - calc),
        ("biopsied", "not split", num("biopsy_rate")),
        ("cancer detected", "calcification only", det_only),
        ("cancer detected", "calcification + other", det_calc - det_only),
        ("cancer detected", "other findings", det - det_calc),
    ]
    return rows, int(c.loc["recall_rate", "n"])


def funnel_counts(results_or_screens: Any) -> pd.DataFrame:
    """Counts of the screening funnel by stage and by the finding that triggered the recall.

    Parameters
    ----------
    results_or_screens : Results, DataFrame
        A :class:`~analysis.model.results.Results` (its screens table when it was kept,
        else its counts), a screens table (``Results.screens``), or a count /
        estimates table (columns ``measure, stratum`` and ``numerator, n`` or
        ``numerator_count, denominator_count``).

    Returns
    -------
    pandas.DataFrame
        ``stage, finding, count``: stages "recalled", "biopsied", "cancer detected"
        (screen-detected); findings "calcification only", "calcification + other",
        "other findings" — or "not split" for biopsies when only counts are given
        (the counts do not split biopsies by finding). ``attrs``: ``screens``,
        ``women`` (screened women, from a screens table), ``cohort`` (women
        simulated, from Results), ``source``.
    """
    x = results_or_screens
    women = cohort = None
    if hasattr(x, "counts") and hasattr(x, "screens"):
        cohort = getattr(x, "women", None)
        x = x.screens if x.screens is not None else x.counts
    if not isinstance(x, pd.DataFrame):
        raise CalcsimInputError(f"{_WHERE}: expected Results or a DataFrame, not {type(x).__name__}")
    x = with_counts(x)
    if "recalled" in x.columns:
        rows, screens, source = _rows_from_screens(x), len(x), "screens table"
        if "woman" in x.columns:
            women = int(x["woman"].nunique())
    elif {"measure", "stratum", "numerator", "n"} <= set(x.columns):
        (rows, screens), source = _rows_from_counts(x), "counts"
    else:
        raise CalcsimInputError(
            f"{_WHERE}: pass Results, a screens table (keep_screens=True) or a "
            "count table (measure, stratum, numerator, n)"
        )
    out = pd.DataFrame(rows, columns=["stage", "finding", "count"])
    out.attrs.update({"screens": int(screens), "women": women, "cohort": cohort, "source": source})
    return out


def _stacked_bars(ax: Axes, bx: Axes, table: pd.DataFrame, screens: int) -> None:
    """Left: each stage per 1,000 screens stacked by finding; right: the composition of each stage (100%)."""
    totals = table.sum(axis=1).to_numpy(float)
    y = np.arange(len(table))[::-1]
    left = np.zeros(len(table))
    share_left = np.zeros(len(table))
    for finding in table.columns:
        v = table[finding].to_numpy(float)
        per = 1000.0 * v / screens
        ax.barh(y, per, left=left, height=0.62, color=FINDING_COLOURS[finding], label=finding)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(totals > 0, v / totals, 0.0)
        bx.barh(y, share, left=share_left, height=0.62, color=FINDING_COLOURS[finding])
        for yi, s0, s in zip(y, share_left, share, strict=True):
            if s >= 0.09:
                text = "not split by finding" if finding == "not split" else f"{100 * s:.0f}%"
                bx.text(
                    s0 + s / 2,
                    yi,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color="white" if finding != "calcification only" else "black",
                )
        left += per
        share_left += share
    for yi, tot, end in zip(y, totals, left, strict=True):
        ax.text(end, yi, f"  {1000 * tot / screens:.1f}", va="center", ha="left", fontsize=8.5)
    ax.set_xlim(0, max(left.max(), 1e-9) * 1.18)


def _stage_labels(totals: pd.Series) -> list[str]:
    """Tick labels of the stages: name, count and (after the recall) the share of recalls."""
    recalls = float(totals["recalled"])
    labels = []
    for stage, tot in totals.items():
        extra = "" if stage == "recalled" or recalls == 0 else f"\n{100 * tot / recalls:.0f}% of recalls"
        labels.append(f"{_STAGE_NAMES[stage]}\nn = {int(tot):,}{extra}")
    return labels


def _who(f: pd.DataFrame, screens: int) -> str:
    who = f"{screens:,} screens"
    if f.attrs.get("women"):
        who += f" of {int(f.attrs['women']):,} women"
    elif f.attrs.get("cohort"):
        who += f" (cohort of {int(f.attrs['cohort']):,} women)"
    return who


def screening_funnel(results_or_screens: Any, *, title: str | None = None) -> Figure:
    """Screened → recalled → biopsied → cancer detected, split by the finding that triggered the recall.

    Left: each stage per 1,000 screens, stacked by finding type (calcification
    only; calcification + another finding; other findings only). Right: the
    composition of each stage (100%), so the calcification-only share of recalls
    and of screen-detected cancers — the two denominators of the 12.7–41.2%
    question — can be read off directly.

    Parameters
    ----------
    results_or_screens : Results, DataFrame
        See :func:`funnel_counts`; a table already returned by :func:`funnel_counts`
        (columns ``stage, finding, count``) is used as it is.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: counts per 1,000 screens, and the share of each stage by finding.
    """
    x = results_or_screens
    f = x if isinstance(x, pd.DataFrame) and {"stage", "finding", "count"} <= set(x.columns) else funnel_counts(x)
    screens = int(f.attrs.get("screens") or 0)
    if screens <= 0:
        raise CalcsimInputError(f"{_WHERE}: no screens (attrs['screens'] missing or 0)")
    findings = [g for g in (*FINDINGS, "not split") if g in set(f["finding"])]
    table = f.pivot_table(index="stage", columns="finding", values="count", aggfunc="sum", fill_value=0)
    table = table.reindex(index=list(STAGES), columns=findings, fill_value=0)
    with calcsim_style():
        fig = new_figure((8.6, 3.9))
        ax, bx = fig.subplots(1, 2, sharey=True, width_ratios=[1.35, 1])
        _stacked_bars(ax, bx, table, screens)
        ax.set_yticks(np.arange(len(STAGES))[::-1], _stage_labels(table.sum(axis=1)))
        ax.set_xlabel("per 1,000 screens")
        ax.grid(axis="y", visible=False)
        bx.set_xlim(0, 1)
        bx.xaxis.set_major_formatter(percent_formatter())
        bx.set_xlabel("share of the stage")
        bx.grid(axis="y", visible=False)
        bx.tick_params(axis="y", left=False)
        left_title(fig, title or f"Screening funnel: {_who(f, screens)}")
        ax.set_title("How many, per 1,000 screens", loc="left", fontsize=9.5, fontweight="normal")
        bx.set_title("What triggered the recall", loc="left", fontsize=9.5, fontweight="normal")
        handles = [Patch(color=FINDING_COLOURS[g], label=g) for g in findings]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=len(handles),
            fontsize=8.5,
            title="finding that triggered the recall",
            title_fontsize=8.5,
        )
    return fig
