"""The screened women and their risk factors (the cohort figure).

The coded columns of the screens table (``density``, ``family_history``, ``brca``) are read
through :mod:`analysis.scenario.codings`, so they may hold pandas Categoricals, labels or
integer codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis.errors import CalcsimInputError
from analysis.figures.inputs import column_codes, need
from analysis.figures.style import PALETTE, calcsim_style, left_title, new_figure, percent_formatter, pretty
from analysis.scenario.codings import AGE_GROUP, BRCA, DENSITY, FAMILY_HISTORY, MENOPAUSE, age_group

__all__ = ["DENSITY_COLOURS", "cohort_distributions"]

#: Colours of the BI-RADS density categories a–d (light to dark).
DENSITY_COLOURS = ("#deebf7", "#9ecae1", "#4292c6", "#08519c")
#: What each family-history label means, for the bar labels.
_FAMILY_TEXT = {"0": "no affected relative", "1": "1 relative", ">=2": "≥2 relatives"}
_WHERE = "cohort_distributions"


def _panel_ages(ax: Axes, ages: np.ndarray, post: np.ndarray) -> None:
    """(a) Screens by age at the screen (one bar per screening age), stacked by menopausal status."""
    grid = np.unique(np.round(ages, 1))
    idx = np.searchsorted(grid, np.round(ages, 1))
    pre_n = np.bincount(idx[~post], minlength=len(grid))
    post_n = np.bincount(idx[post], minlength=len(grid))
    width = 0.8 * (np.min(np.diff(grid)) if len(grid) > 1 else 1.0)
    pre_label, post_label = MENOPAUSE.labels
    ax.bar(grid, pre_n, width=width, color=PALETTE["sky"], label=pre_label)
    ax.bar(grid, post_n, width=width, bottom=pre_n, color=PALETTE["purple"], label=post_label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("age at the screen (years)")
    ax.set_ylabel("screens")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("(a) Screens by age and menopausal status", loc="left", fontsize=10)
    ax.grid(axis="x", visible=False)


def _panel_density(ax: Axes, age_code: np.ndarray, post: np.ndarray, dens: np.ndarray, min_screens: int) -> None:
    """(b) Shares of the density categories by age group × menopausal status (groups of ≥ ``min_screens``)."""
    k = len(DENSITY.labels)
    bars, ticks = [], []
    for g in np.unique(age_code):
        for is_post, tag in zip((False, True), MENOPAUSE.labels, strict=True):
            m = (age_code == g) & (post == is_post)
            if np.count_nonzero(m) >= min_screens:
                bars.append(np.bincount(dens[m], minlength=k)[:k] / np.count_nonzero(m))
                ticks.append(f"{AGE_GROUP.labels[g]}, {tag}")
    yd = np.arange(len(bars))[::-1]
    if bars:
        shares = np.array(bars)
        left = np.zeros(len(bars))
        for j, level in enumerate(DENSITY.labels):
            ax.barh(yd, shares[:, j], left=left, color=DENSITY_COLOURS[j], label=f"BI-RADS {level}", height=0.8)
            left += shares[:, j]
    ax.set_yticks(yd, ticks, fontsize=7.5 if len(bars) > 8 else 8.5)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.set_xlabel("share of screens")
    ax.legend(
        fontsize=8,
        ncol=4,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        handlelength=1.2,
        columnspacing=0.8,
        borderaxespad=0.2,
    )
    ax.set_title("(b) Breast density by age and menopause", loc="left", fontsize=10, pad=20)
    ax.grid(axis="y", visible=False)


def _panel_family(ax: Axes, first: pd.DataFrame) -> None:
    """(c) Family history and BRCA carriers among the women at their first screen (log scale)."""
    n = len(first)
    fh = (
        np.bincount(column_codes(first, "family_history", FAMILY_HISTORY, _WHERE), minlength=len(FAMILY_HISTORY.labels))
        / n
    )
    brca = np.bincount(column_codes(first, "brca", BRCA, _WHERE), minlength=len(BRCA.labels)) / n
    carriers = [i for i, label in enumerate(BRCA.labels) if label != "non-carrier"]
    labels = [_FAMILY_TEXT.get(lab, pretty(lab)) for lab in FAMILY_HISTORY.labels]
    labels += [f"{BRCA.labels[i]} carrier" for i in carriers]
    values = [*fh, *brca[carriers]]
    colours = [PALETTE["grey"], PALETTE["orange"], PALETTE["red"], *[PALETTE["green"]] * len(carriers)]
    yc = np.arange(len(labels))[::-1]
    ax.barh(yc, values, color=colours, height=0.65)
    for yi, v in zip(yc, values, strict=True):
        ax.text(v, yi, f"  {100 * v:.2f}%" if v < 0.01 else f"  {100 * v:.1f}%", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(min([v for v in values if v > 0] + [1e-3]) / 3, 3.0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g}%"))
    ax.set_yticks(yc, labels, fontsize=8.5)
    ax.set_xlabel(f"share of the {n:,} women at their first screen (log scale)")
    ax.set_title("(c) Family history and BRCA carriers", loc="left", fontsize=10)
    ax.grid(axis="y", visible=False)


def _panel_breastfeeding(ax: Axes, first: pd.DataFrame) -> None:
    """(d) Lifetime breastfeeding of the parous women at their first screen."""
    parous = first["births"].to_numpy() > 0
    months = first["breastfeeding_months"].to_numpy(float)[parous]
    ax.hist(np.clip(months, 0, 60), bins=np.arange(0, 63, 3), color=PALETTE["blue"], alpha=0.85)
    ax.set_xlabel("lifetime breastfeeding, months (parous women)")
    ax.set_ylabel("women")
    if months.size:
        ever = np.mean(months > 0)
        note = (
            f"nulliparous: {100 * np.mean(~parous):.1f}% of women\n"
            f"ever breastfed: {100 * ever:.0f}% of parous\n"
            f"mean {months.mean():.1f}, median {np.median(months):.1f} months\n"
            "(60 or more shown at 60)"
        )
        ax.text(0.97, 0.95, note, transform=ax.transAxes, ha="right", va="top", fontsize=8)
    ax.set_title("(d) Lifetime breastfeeding", loc="left", fontsize=10)
    ax.grid(axis="x", visible=False)


def cohort_distributions(screens: pd.DataFrame, *, min_screens: int = 50, title: str | None = None) -> Figure:
    """The screened women and their risk factors, in four panels.

    (a) screens by age and menopausal status; (b) BI-RADS density by age
    group and menopausal status (all screens: density falls with age and at
    menopause); (c) first-degree family history and BRCA carriers, women at their
    first screen; (d) lifetime breastfeeding of parous women at their first screen.

    Parameters
    ----------
    screens : pandas.DataFrame
        Screens table (``simulate(..., keep_screens=True).screens``); ``density``,
        ``family_history`` and ``brca`` may be Categorical (labels of
        :mod:`analysis.scenario.codings`) or integer codes.
    min_screens : int
        Density bars with fewer screens are left out (too noisy to read).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Four axes, in the order (a)–(d).
    """
    need(
        screens,
        ("woman", "age_years", "postmenopausal", "density", "family_history", "brca", "births", "breastfeeding_months"),
        _WHERE,
        "pass the screens table of simulate(..., keep_screens=True)",
    )
    if screens.empty:
        raise CalcsimInputError(f"{_WHERE}: the screens table is empty; simulate more women")
    if not isinstance(min_screens, int | np.integer) or isinstance(min_screens, bool) or min_screens < 1:
        raise CalcsimInputError(f"{_WHERE}: min_screens = {min_screens!r}: a whole number >= 1")
    order = ["woman", *[c for c in ("round_index", "age_years") if c in screens.columns][:1]]
    first = screens.sort_values(order, kind="stable").drop_duplicates("woman")
    ages = screens["age_years"].to_numpy(float)
    post = screens["postmenopausal"].to_numpy(bool)
    dens = column_codes(screens, "density", DENSITY, _WHERE)
    with calcsim_style():
        fig = new_figure((10.0, 7.2))
        (ax_age, ax_den), (ax_fh, ax_bf) = fig.subplots(2, 2)
        _panel_ages(ax_age, ages, post)
        _panel_density(ax_den, age_group(ages), post, dens, min_screens)
        _panel_family(ax_fh, first)
        _panel_breastfeeding(ax_bf, first)
        left_title(fig, title or f"The screened women ({len(first):,} women, {len(screens):,} screens)")
    return fig
