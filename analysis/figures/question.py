"""The 12.7–41.2% question: the calcification-only share of recalls and of screen-detected cancers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from analysis.errors import CalcsimInputError
from analysis.figures.cells import format_interval, unit_of
from analysis.figures.inputs import need, series
from analysis.figures.style import PALETTE, calcsim_style, colour, errorbar, format_value, new_axes, percent_formatter

__all__ = ["QUESTION_AXIS", "QUESTION_LABELS", "calc_only_shares"]

#: The rows of :func:`calc_only_shares`: each names its numerator and its own denominator.
QUESTION_LABELS = {
    "calc_only_share_of_recalls": "recalls for calcification only\n% of all recalls",
    "calc_only_share_of_screen_detected": "cancers recalled for calcification only\n% of all screen-detected cancers",
    "calc_only_presentation_share_of_screen_detected": "cancers presenting as calcification only\n% of all "
    "screen-detected cancers",
}
#: The value axis of :func:`calc_only_shares` (the denominators differ by row, so it names none).
QUESTION_AXIS = "% of the denominator named on each row"


def _has_target(q: pd.DataFrame, m: str) -> bool:
    return m in q.index and "target" in q.columns and bool(np.isfinite(q.loc[m, "target"]))


def _literature_band(ax: Axes, first: pd.DataFrame) -> tuple[float, list[Any]]:
    """The shaded quoted band (if the table has it); its upper end and its legend handle."""
    lit_lo = float(first["literature_lower"].iloc[0]) if "literature_lower" in first else np.nan
    lit_hi = float(first["literature_upper"].iloc[0]) if "literature_upper" in first else np.nan
    if not (np.isfinite(lit_lo) and np.isfinite(lit_hi)):
        return np.nan, []
    ax.axvspan(lit_lo, lit_hi, color=PALETTE["yellow"], alpha=0.35, lw=0, zorder=0)
    return lit_hi, [
        Patch(
            color=PALETTE["yellow"],
            alpha=0.5,
            label=f"quoted {100 * lit_lo:.1f}–{100 * lit_hi:.1f}% (denominator not stated)",
        )
    ]


def _target_row(ax: Axes, r: pd.Series, yy: float, m: str, label: str, col: str, several: bool) -> None:
    """A published programme figure: black diamond with its interval, annotated with its source."""
    errorbar(
        ax,
        r["target"],
        yy,
        r.get("target_lower", np.nan),
        r.get("target_upper", np.nan),
        horizontal=True,
        fmt="D",
        color=PALETTE["black"],
        mfc=col if several else PALETTE["black"],
        ms=5,
        capsize=2,
        lw=1,
    )
    src = str(r.get("target_source", "") or "")
    who = f"{label} " if several and label else ""
    ax.annotate(
        f"{who}target {format_value(m, r['target'])}" + (f" ({src})" if src else ""),
        xy=(r.get("target_upper", r["target"]), yy),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
        fontsize=7.5,
        color=PALETTE["black"],
    )


def _model_row(ax: Axes, r: pd.Series, yy: float, m: str, col: str, several: bool) -> bool:
    """A model estimate with its Wilson 95% interval (and replicate CI); whether the replicate CI was drawn."""
    replicate = {"replicate_ci_lower", "replicate_ci_upper"} <= set(r.index) and bool(
        np.isfinite(r["replicate_ci_lower"])
    )
    if replicate:
        ax.plot(
            [r["replicate_ci_lower"], r["replicate_ci_upper"]],
            [yy, yy],
            color=col,
            lw=6,
            alpha=0.35,
            solid_capstyle="butt",
        )
    errorbar(ax, r["estimate"], yy, r["lower"], r["upper"], horizontal=True, color=col)
    counts = f"; {int(r['numerator']):,} / {int(r['n']):,}" if {"numerator", "n"} <= set(r.index) else ""
    ax.annotate(
        format_interval(r["estimate"], r["lower"], r["upper"], unit=unit_of(m)) + counts,
        xy=(r["upper"], yy),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
        fontsize=8,
        color=col if several else PALETTE["black"],
    )
    return replicate


def _handles(tables: list[tuple[str, pd.DataFrame]], replicate: bool, target: bool) -> list[Any]:
    handles: list[Any] = [
        Line2D(
            [],
            [],
            color=colour(label, i),
            marker="o",
            lw=1.4,
            label=(f"{label}: " if label else "model: ") + "estimate, Wilson 95%",
        )
        for i, (label, _) in enumerate(tables)
    ]
    if replicate:
        handles.append(Line2D([], [], color=PALETTE["grey"], lw=6, alpha=0.35, label="replicate 95% CI"))
    if target:
        handles.append(
            Line2D(
                [],
                [],
                color=PALETTE["black"],
                marker="D",
                ms=5,
                lw=1,
                label="published programme figure (95% interval)",
            )
        )
    return handles


def calc_only_shares(question_df: Any, *, title: str | None = None) -> Figure:
    """Both calcification-only shares against the quoted 12.7–41.2% band (and the programme target).

    Parameters
    ----------
    question_df : DataFrame or mapping
        :func:`analysis.stats.question.calc_only_question` (several scenarios: a
        ``{label: table}`` mapping or a table with a ``scenario`` column).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One row per denominator: the model estimate with its Wilson 95% interval
        (and the replicate 95% CI as a thick bar when the table has one), the
        shaded literature band, and the programme's published target with its
        interval where the scenario has one.
    """
    scen = series(question_df)
    for _, q in scen:
        need(
            q,
            ("measure", "estimate", "lower", "upper"),
            "calc_only_shares",
            "pass the table of analysis.stats.question.calc_only_question(results)",
        )
    measures = [m for m in QUESTION_LABELS if any(m in set(q["measure"]) for _, q in scen)]
    if not measures:
        raise CalcsimInputError(
            f"calc_only_shares: no row of {', '.join(QUESTION_LABELS)} in the table; "
            "pass the table of analysis.stats.question.calc_only_question(results)"
        )
    tables = [(label, q.set_index("measure")) for label, q in scen]
    several = len(tables) > 1
    # rows within each denominator: one per scenario, then one per published target
    layout = {
        m: [("model", i) for i, (_, q) in enumerate(tables) if m in q.index]
        + [("target", i) for i, (_, q) in enumerate(tables) if _has_target(q, m)]
        for m in measures
    }
    most = max(len(v) for v in layout.values())
    step = min(0.8 / max(most, 1), 0.3)
    with calcsim_style():
        fig, ax = new_axes((7.6, 2.1 + 0.42 * len(measures) * max(1, most) ** 0.8))
        lit_hi, handles = _literature_band(ax, scen[0][1])
        y = np.arange(len(measures))[::-1].astype(float)
        xmax = lit_hi if np.isfinite(lit_hi) else 0.5
        drawn = {"target": False, "replicate": False}
        for yi, m in zip(y, measures, strict=True):
            items = layout[m]
            pos = yi + ((len(items) - 1) / 2 - np.arange(len(items))) * step
            for (kind, i), yy in zip(items, pos, strict=True):
                label, q = tables[i]
                if kind == "target":
                    _target_row(ax, q.loc[m], yy, m, label, colour(label, i), several)
                    drawn["target"] = True
                    continue
                drawn["replicate"] |= _model_row(ax, q.loc[m], yy, m, colour(label, i), several)
                upper = float(q.loc[m, "upper"])
                xmax = max(xmax, upper if np.isfinite(upper) else 0.0)
        handles += _handles(tables, drawn["replicate"], drawn["target"])
        ax.set_yticks(y, [QUESTION_LABELS[m] for m in measures])
        ax.set_ylim(y.min() - 0.6, y.max() + 0.6)
        ax.set_xlim(0, min(1.0, xmax * 1.45 + 0.03))
        ax.xaxis.set_major_formatter(percent_formatter())
        ax.set_xlabel(QUESTION_AXIS)
        ax.grid(axis="y", visible=False)
        ax.set_title(title or "Calcification as the only sign: which denominator?", loc="left")
        fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8)
    return fig
