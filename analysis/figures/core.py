"""Figures: each a function that returns a matplotlib Figure, in one consistent style.

Notebooks, reports and users share these functions; nothing here runs a
simulation — every function takes the tables the analysis functions return
(estimates, the screens table, :func:`analysis.stats.question.calc_only_question`,
:func:`analysis.stats.uncertainty.compare`, :func:`analysis.stats.cumulative.cumulative_false_positive_curve`,
:func:`analysis.calibration.posterior.calibration_fit`, :func:`analysis.calibration.sensitivity.one_way`).

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot
state), so they can be made in a loop, in a server or in a test without leaking
windows; in a notebook the returned figure displays itself, and
``fig.savefig("x.png")`` writes it. Every interval drawn is labelled with what it
is (Wilson 95% within one run, paired 95%, Greenwood 95% …).

Functions that accept several scenarios take either one table, a table with a
``scenario`` column, or a ``{label: table}`` mapping; a scenario keeps its colour
(:data:`SCENARIO_COLOURS`) in every figure.
"""

from __future__ import annotations

import math
import os
import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

if "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
    # headless by default; in a notebook (or with MPLBACKEND) keep the chosen backend, so that a
    # returned Figure displays itself inline
    matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402

if "ipykernel" in sys.modules and "inline" in str(matplotlib.rcParams["backend"]):
    # load the inline backend now: it registers the display of Figure objects, so that a Figure
    # returned by a function below shows as an image at the end of a notebook cell
    plt.switch_backend(matplotlib.rcParams["backend"])
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from analysis.errors import CalcsimInputError, did_you_mean  # noqa: E402
from analysis.model.results import MEASURES, STRATA  # noqa: E402

#: Colour-blind-safe palette (Okabe & Ito) used by every figure.
PALETTE = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "red": "#D55E00",
           "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "grey": "#7f7f7f", "black": "#000000"}
STYLE = {
    "figure.dpi": 110, "savefig.dpi": 150, "figure.figsize": (7.0, 4.2), "font.size": 10,
    "axes.titlesize": 11, "axes.titleweight": "bold", "axes.labelsize": 10, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25, "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE.values())),
    "figure.facecolor": "white", "savefig.facecolor": "white",
}
#: The shipped scenarios keep their colour in every figure.
SCENARIO_COLOURS = {"nl-biennial": PALETTE["orange"], "us-annual": PALETTE["blue"],
                    "england-triennial": PALETTE["green"]}
_CYCLE = ("blue", "orange", "green", "red", "purple", "sky", "grey")
#: Colours of the finding types (what triggered the recall).
FINDING_COLOURS = {"calcification only": PALETTE["orange"], "calcification + other": PALETTE["purple"],
                   "other findings": PALETTE["blue"], "not split": PALETTE["grey"]}
FINDINGS = ("calcification only", "calcification + other", "other findings")

#: Short labels of the measures (the denominator is added where a figure needs it).
MEASURE_LABELS = {
    "recall_rate": "Recall rate",
    "first_round_recall_rate": "First-round recall rate",
    "subsequent_round_recall_rate": "Subsequent-round recall rate",
    "calc_recall_rate": "Recall rate for calcifications",
    "calc_only_recall_rate": "Calcification-only recall rate",
    "calc_share_of_recalls": "Calcification share of recalls",
    "calc_only_share_of_recalls": "Calcification-only share of recalls",
    "calc_only_share_of_screen_detected": "Calcification-only share of screen-detected cancers",
    "calc_share_of_screen_detected": "Calcification share of screen-detected cancers",
    "dcis_share_of_screen_detected": "DCIS share of screen-detected cancers",
    "cancer_detection_rate_per_1000": "Cancer detection rate",
    "ppv1": "PPV1 (cancers per recall)",
    "ppv_calc_recall": "PPV of a calcification recall",
    "ppv3": "PPV3 (cancers per biopsy)",
    "biopsy_rate": "Biopsy rate",
    "interval_cancer_rate_per_1000": "Interval-cancer rate",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "cumulative_false_positive_recall": "Cumulative false-positive recall",
    "cluster_prevalence": "Microcalcification cluster prevalence",
}
#: Readable names of the stratification columns (:data:`analysis.model.results.STRATA`).
STRATUM_LABELS = {"round": "screening round", "age_group": "age group (years)", "menopause": "menopausal status",
                  "family_history": "first-degree relatives with breast cancer", "brca": "BRCA carrier status",
                  "breastfeeding": "lifetime breastfeeding", "density": "BI-RADS density", "parity": "births"}
_PER = {m.name: m.per for m in MEASURES}
_DENOMINATOR = {m.name: m.denominator for m in MEASURES}
_PRETTY_LEVEL = {">=2": "≥2", ">=3": "≥3", "6-12 months": "6–12 months"}


@contextmanager
def calcsim_style() -> Iterator[None]:
    """Context manager applying the calcsim figure style."""
    with plt.rc_context(STYLE):
        yield


def _new(figsize: tuple[float, float] | None = None) -> tuple[Figure, Axes]:
    fig = Figure(figsize=figsize or STYLE["figure.figsize"], layout="constrained")
    return fig, fig.add_subplot()


# ----------------------------------------------------------------------------- helpers
def measure_label(measure: str) -> str:
    """Short readable label of a measure."""
    return MEASURE_LABELS.get(measure, measure.replace("_", " ").capitalize())


def _percent(v: float, _pos: Any = None) -> str:
    """A proportion as a percentage without trailing zeros: 0.02 -> "2%", 0.025 -> "2.5%"."""
    text = f"{100 * v:.3f}".rstrip("0").rstrip(".")
    return f"{'0' if text in ('-0', '') else text}%"


def _pct() -> FuncFormatter:
    """A new tick formatter for proportions shown as percentages (one per axis: formatters are not shared)."""
    return FuncFormatter(_percent)


def _is_proportion(measure: str) -> bool:
    return _PER.get(measure, 1.0) == 1.0


def _unit(measure: str) -> str:
    """Axis unit naming the denominator, e.g. "% of screens" or "per 1,000 screens"."""
    den = _DENOMINATOR.get(measure, "")
    den = den.split(" (")[0]
    if _is_proportion(measure):
        return f"% of {den}" if den else "%"
    return f"per {_PER[measure]:,.0f} {den}".strip()


def _fmt(measure: str, v: float, digits: int = 1) -> str:
    if not np.isfinite(v):
        return "–"
    return f"{100 * v:.{digits}f}%" if _is_proportion(measure) else f"{v:.{digits + 1}f}"


def _value_axis(ax: Axes, measure: str, axis: str = "y") -> None:
    fmt = _pct() if _is_proportion(measure) else FuncFormatter(lambda v, _: f"{v:g}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _colour(label: str, i: int) -> str:
    return SCENARIO_COLOURS.get(label, PALETTE[_CYCLE[i % len(_CYCLE)]])


def _table(x: Any) -> pd.DataFrame:
    """An estimates table from a table or from anything with ``.estimates()``."""
    if isinstance(x, pd.DataFrame):
        return x
    if hasattr(x, "estimates"):
        e = x.estimates()
        pooled = getattr(x, "pooled", x)
        e.attrs.setdefault("scenario", getattr(pooled, "scenario", ""))
        return e
    raise CalcsimInputError(f"expected a DataFrame (or Results), not {type(x).__name__}")


def _series(data: Any) -> list[tuple[str, pd.DataFrame]]:
    """``[(label, table), ...]`` from one table, a table with a ``scenario`` column, or a mapping."""
    if isinstance(data, Mapping):
        return [(str(k), _table(v)) for k, v in data.items()]
    if isinstance(data, list | tuple):
        return [(str(_table(v).attrs.get("scenario", "") or f"#{i + 1}"), _table(v)) for i, v in enumerate(data)]
    t = _table(data)
    if "scenario" in t.columns and t["scenario"].nunique() > 1:
        return [(str(k), g) for k, g in t.groupby("scenario", sort=False)]
    label = t.attrs.get("scenario", "")
    if not label and "scenario" in t.columns and len(t):
        label = str(t["scenario"].iloc[0])
    return [(str(label), t)]


def _offsets(k: int, width: float = 0.5) -> np.ndarray:
    step = min(width / max(k, 1), 0.22)
    return (np.arange(k) - (k - 1) / 2) * step


def parse_stratum(label: str) -> dict[str, str]:
    """``"density=c; round=first"`` → ``{"density": "c", "round": "first"}`` (``"all"`` → ``{}``)."""
    if label == "all" or not label:
        return {}
    return dict(part.split("=", 1) for part in str(label).split("; "))


def _need(df: pd.DataFrame, cols: Sequence[str], where: str, hint: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CalcsimInputError(f"{where}: no column {missing[0]!r}; {hint}")


def _errorbar(ax: Axes, x: Any, y: Any, lo: Any, hi: Any, horizontal: bool = False, **kw: Any) -> Any:
    x, y, lo, hi = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, y, lo, hi))
    centre = x if horizontal else y
    err = np.vstack([np.clip(centre - lo, 0, None), np.clip(hi - centre, 0, None)])
    err = np.where(np.isfinite(err), err, 0.0)
    kw = {"fmt": "o", "ms": 5, "capsize": 3, "lw": 1.4} | kw
    return ax.errorbar(x, y, xerr=err, **kw) if horizontal else ax.errorbar(x, y, yerr=err, **kw)


def _subtitle(fig: Figure, text: str) -> None:
    """A small grey note under the figure (what the intervals are); the layout leaves room for it."""
    lines = text.count("\n") + 1
    h = (0.06 + 0.14 * lines) / fig.get_figheight()
    fig.get_layout_engine().set(rect=(0, h, 1, 1 - h))
    fig.text(0.01, 0.01, text, fontsize=7.5, color=PALETTE["grey"], ha="left", va="bottom")


def calibration_fit(fit: pd.DataFrame) -> Figure:
    """Each calibration target (interval) against the model (Wilson and posterior ranges).

    Parameters
    ----------
    fit : DataFrame
        :func:`analysis.calibration.posterior.calibration_fit`.
    """
    with calcsim_style():
        fig, ax = _new((7.0, 0.55 * len(fit) + 1.6))
        y = np.arange(len(fit))[::-1]
        rel = lambda v, r: v / r["target_value"]  # noqa: E731 - plot relative to the target
        for yi, (_, r) in zip(y, fit.iterrows(), strict=True):
            if r["kind"] == "upper_bound":
                ax.plot([0, 1], [yi + 0.15] * 2, color=PALETTE["grey"], lw=4, alpha=0.5, solid_capstyle="butt")
            else:
                ax.plot([rel(r["target_lower"], r), rel(r["target_upper"], r)], [yi + 0.15] * 2,
                        color=PALETTE["grey"], lw=4, alpha=0.6, solid_capstyle="butt")
            ax.plot(1, yi + 0.15, "D", color=PALETTE["black"], ms=5)
            ax.plot([rel(r["posterior_lower"], r), rel(r["posterior_upper"], r)], [yi - 0.15] * 2,
                    color=PALETTE["sky"], lw=4, solid_capstyle="butt")
            ax.errorbar(rel(r["model"], r), yi - 0.15, xerr=[[rel(r["model"] - r["model_lower"], r)],
                                                              [rel(r["model_upper"] - r["model"], r)]],
                        fmt="o", color=PALETTE["blue"], ms=5, capsize=2)
        ax.axvline(1, color=PALETTE["black"], lw=0.8, ls=":")
        ax.set_yticks(y, [f"{t}\n({m})" for t, m in zip(fit["target"], fit["measure"], strict=True)], fontsize=8)
        ax.set_xlabel("value relative to the target (1 = target)")
        ax.set_title(f"Calibration fit — {fit.attrs.get('scenario', '')}", loc="left")
        handles = [Line2D([], [], color=PALETTE["grey"], lw=4, alpha=0.6, label="target interval"),
                   Line2D([], [], color=PALETTE["black"], marker="D", ls="", ms=5, label="target"),
                   Line2D([], [], color=PALETTE["blue"], marker="o", ls="", label="model (Wilson 95%)"),
                   Line2D([], [], color=PALETTE["sky"], lw=4, label="model across accepted parameter sets (95%)")]
        fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8)
    return fig


def tornado(one_way: pd.DataFrame, output: str = "recall_rate", top: int = 12) -> Figure:
    """Tornado chart of one-way sensitivity for one output.

    Parameters
    ----------
    one_way : DataFrame
        :func:`analysis.calibration.sensitivity.one_way`.
    output : str
        Which output to show.
    top : int
        Number of parameters (largest swings first).
    """
    d = one_way[one_way["output"] == output].sort_values("swing", ascending=False).head(top)
    with calcsim_style():
        fig, ax = _new((7.0, 0.38 * len(d) + 1.4))
        base = float(d["base"].iloc[0]) if len(d) else 0.0
        y = np.arange(len(d))[::-1]
        for yi, (_, r) in zip(y, d.iterrows(), strict=True):
            bars = [(r["at_low"] - base, PALETTE["sky"]), (r["at_high"] - base, PALETTE["orange"])]
            # the longer bar first, so that a shorter one on the same side stays visible
            for width, colour in sorted(bars, key=lambda b: -abs(b[0]) if np.isfinite(b[0]) else 0.0):
                ax.barh(yi, width, left=base, color=colour, height=0.7)
        ax.axvline(base, color=PALETTE["black"], lw=0.8)
        ax.set_yticks(y, [f"{p}  [{lo:g}–{hi:g}]" for p, lo, hi in
                          zip(d["parameter"], d["low_value"], d["high_value"], strict=True)], fontsize=8)
        _value_axis(ax, output, "x")
        ax.set_xlabel(f"{_wrap(measure_label(output).lower(), 45)}\n({_unit(output)}; base {_fmt(output, base)})")
        ax.set_title(_wrap(f"One-way sensitivity: {measure_label(output).lower()}", 42), loc="left",
                     fontsize=10)
        ax.grid(axis="y", visible=False)
        fig.legend(handles=[Patch(color=PALETTE["sky"], label="parameter at low end of its range"),
                            Patch(color=PALETTE["orange"], label="parameter at high end of its range"),
                            Line2D([], [], color=PALETTE["black"], lw=0.8, label="base value")],
                   loc="outside lower center", ncol=3, fontsize=8)
    return fig


# ----------------------------------------------------------------------------- the cohort
_DENSITY_COLOURS = ("#deebf7", "#9ecae1", "#4292c6", "#08519c")


def cohort_distributions(screens: pd.DataFrame, *, min_screens: int = 50, title: str | None = None) -> Figure:
    """The screened women and their risk factors, in four panels.

    (a) screens by age and menopausal status; (b) BI-RADS density by age
    group and menopausal status (all screens: density falls with age and at
    menopause); (c) first-degree family history and BRCA carriers, women at their
    first screen; (d) lifetime breastfeeding of parous women at their first screen.

    Parameters
    ----------
    screens : pandas.DataFrame
        Screens table (``simulate(..., keep_screens=True).screens``).
    min_screens : int
        Density bars with fewer screens are left out (too noisy to read).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Four axes, in the order (a)–(d).
    """
    _need(screens, ("woman", "age_years", "postmenopausal", "density", "family_history", "brca", "births",
                    "breastfeeding_months"), "cohort_distributions",
          "pass the screens table of simulate(..., keep_screens=True)")
    if screens.empty:
        raise CalcsimInputError("cohort_distributions: the screens table is empty; simulate more women")
    order = ["woman", *[c for c in ("round_index", "age_years") if c in screens.columns][:1]]
    first = screens.sort_values(order, kind="stable").drop_duplicates("woman")
    age_labels = STRATA["age_group"][1]
    age_code = np.clip((screens["age_years"].to_numpy().astype(int) - 35) // 5, 0, len(age_labels) - 1)
    post = screens["postmenopausal"].to_numpy(bool)
    groups = [g for g in range(len(age_labels)) if np.any(age_code == g)]
    with calcsim_style():
        fig = Figure(figsize=(10.0, 7.2), layout="constrained")
        (ax_age, ax_den), (ax_fh, ax_bf) = fig.subplots(2, 2)
        # (a) screens by age and menopause (one bar per screening age)
        ages = screens["age_years"].to_numpy(float)
        grid = np.unique(np.round(ages, 1))
        idx = np.searchsorted(grid, np.round(ages, 1))
        pre_n = np.bincount(idx[~post], minlength=len(grid))
        post_n = np.bincount(idx[post], minlength=len(grid))
        width = 0.8 * (np.min(np.diff(grid)) if len(grid) > 1 else 1.0)
        ax_age.bar(grid, pre_n, width=width, color=PALETTE["sky"], label="premenopausal")
        ax_age.bar(grid, post_n, width=width, bottom=pre_n, color=PALETTE["purple"], label="postmenopausal")
        ax_age.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_age.set_xlabel("age at the screen (years)")
        ax_age.set_ylabel("screens")
        ax_age.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax_age.legend(fontsize=8, loc="upper right")
        ax_age.set_title("(a) Screens by age and menopausal status", loc="left", fontsize=10)
        ax_age.grid(axis="x", visible=False)
        # (b) density by age group x menopause
        dens = screens["density"].to_numpy().astype(int)
        bars, ticks = [], []
        for g in groups:
            for is_post, tag in ((False, "premenopausal"), (True, "postmenopausal")):
                m = (age_code == g) & (post == is_post)
                if np.count_nonzero(m) >= min_screens:
                    bars.append(np.bincount(dens[m], minlength=4)[:4] / np.count_nonzero(m))
                    ticks.append(f"{age_labels[g]}, {tag}")
        yd = np.arange(len(bars))[::-1]
        if bars:
            shares = np.array(bars)
            left = np.zeros(len(bars))
            for j, level in enumerate("abcd"):
                ax_den.barh(yd, shares[:, j], left=left, color=_DENSITY_COLOURS[j], label=f"BI-RADS {level}",
                            height=0.8)
                left += shares[:, j]
        ax_den.set_yticks(yd, ticks, fontsize=7.5 if len(bars) > 8 else 8.5)
        ax_den.set_xlim(0, 1)
        ax_den.xaxis.set_major_formatter(_pct())
        ax_den.set_xlabel("share of screens")
        ax_den.legend(fontsize=8, ncol=4, loc="lower left", bbox_to_anchor=(0.0, 1.0), handlelength=1.2,
                      columnspacing=0.8, borderaxespad=0.2)
        ax_den.set_title("(b) Breast density by age and menopause", loc="left", fontsize=10, pad=20)
        ax_den.grid(axis="y", visible=False)
        # (c) family history and BRCA at the first screen
        n = len(first)
        fh = np.bincount(first["family_history"].to_numpy().astype(int), minlength=3)[:3] / n
        brca = np.bincount(first["brca"].to_numpy().astype(int), minlength=3)[:3] / n
        labels = ["no affected relative", "1 relative", "≥2 relatives", "BRCA1 carrier", "BRCA2 carrier"]
        values = [*fh, brca[1], brca[2]]
        colours = [PALETTE["grey"], PALETTE["orange"], PALETTE["red"], PALETTE["green"], PALETTE["green"]]
        yc = np.arange(len(labels))[::-1]
        ax_fh.barh(yc, values, color=colours, height=0.65)
        for yi, v in zip(yc, values, strict=True):
            ax_fh.text(v, yi, f"  {100 * v:.2f}%" if v < 0.01 else f"  {100 * v:.1f}%", va="center", fontsize=8)
        ax_fh.set_xscale("log")
        ax_fh.set_xlim(min([v for v in values if v > 0] + [1e-3]) / 3, 3.0)
        ax_fh.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g}%"))
        ax_fh.set_yticks(yc, labels, fontsize=8.5)
        ax_fh.set_xlabel(f"share of the {n:,} women at their first screen (log scale)")
        ax_fh.set_title("(c) Family history and BRCA carriers", loc="left", fontsize=10)
        ax_fh.grid(axis="y", visible=False)
        # (d) breastfeeding among parous women
        parous = first["births"].to_numpy() > 0
        months = first["breastfeeding_months"].to_numpy(float)[parous]
        ax_bf.hist(np.clip(months, 0, 60), bins=np.arange(0, 63, 3), color=PALETTE["blue"], alpha=0.85)
        ax_bf.set_xlabel("lifetime breastfeeding, months (parous women)")
        ax_bf.set_ylabel("women")
        if months.size:
            ever = np.mean(months > 0)
            note = (f"nulliparous: {100 * np.mean(~parous):.1f}% of women\n"
                    f"ever breastfed: {100 * ever:.0f}% of parous\n"
                    f"mean {months.mean():.1f}, median {np.median(months):.1f} months\n"
                    "(60 or more shown at 60)")
            ax_bf.text(0.97, 0.95, note, transform=ax_bf.transAxes, ha="right", va="top", fontsize=8)
        ax_bf.set_title("(d) Lifetime breastfeeding", loc="left", fontsize=10)
        ax_bf.grid(axis="x", visible=False)
        fig.suptitle(title or f"The screened women ({n:,} women, {len(screens):,} screens)", x=0.01, ha="left",
                     fontsize=11, fontweight="bold")
    return fig


# ----------------------------------------------------------------------------- screening funnel
_STAGES = ("recalled", "biopsied", "cancer detected")


def funnel_counts(results_or_screens: Any) -> pd.DataFrame:
    """Counts of the screening funnel by stage and by the finding that triggered the recall.

    Parameters
    ----------
    results_or_screens : Results, DataFrame
        A :class:`~analysis.model.results.Results` (its screens table when it was kept,
        else its counts), a screens table (``Results.screens``), or a count /
        estimates table (columns ``measure, stratum, numerator, n``).

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
        raise CalcsimInputError(f"screening_funnel: expected Results or a DataFrame, not {type(x).__name__}")
    rows: list[tuple[str, str, int]] = []
    if "recalled" in x.columns:
        _need(x, ("recall_calc", "calc_only_recall", "biopsy", "screen_detected"), "screening_funnel",
              "pass the screens table of simulate(..., keep_screens=True)")
        rec, calc, only = (x[c].to_numpy(bool) for c in ("recalled", "recall_calc", "calc_only_recall"))
        finding = {"calcification only": only, "calcification + other": calc & ~only,
                   "other findings": rec & ~calc}
        stage = {"recalled": rec, "biopsied": x["biopsy"].to_numpy(bool),
                 "cancer detected": x["screen_detected"].to_numpy(bool)}
        for s, m in stage.items():
            rows += [(s, f, int(np.count_nonzero(m & fm))) for f, fm in finding.items()]
        screens, source = len(x), "screens table"
        if "woman" in x.columns:
            women = int(x["woman"].nunique())
    elif {"measure", "stratum", "numerator", "n"} <= set(x.columns):
        c = x[x["stratum"] == "all"].set_index("measure")

        def num(m: str) -> int:
            if m not in c.index:
                raise CalcsimInputError(f"screening_funnel: the counts have no measure {m!r}")
            return int(c.loc[m, "numerator"])

        recalls, calc, only = num("recall_rate"), num("calc_recall_rate"), num("calc_only_recall_rate")
        det, det_calc, det_only = (num("cancer_detection_rate_per_1000"), num("calc_share_of_screen_detected"),
                                   num("calc_only_share_of_screen_detected"))
        rows = [("recalled", "calcification only", only), ("recalled", "calcification + other", calc - only),
                ("recalled", "other findings", recalls - calc), ("biopsied", "not split", num("biopsy_rate")),
                ("cancer detected", "calcification only", det_only),
                ("cancer detected", "calcification + other", det_calc - det_only),
                ("cancer detected", "other findings", det - det_calc)]
        screens, source = int(c.loc["recall_rate", "n"]), "counts"
    else:
        raise CalcsimInputError("screening_funnel: pass Results, a screens table (keep_screens=True) or a "
                                "count table (measure, stratum, numerator, n)")
    out = pd.DataFrame(rows, columns=["stage", "finding", "count"])
    out.attrs.update({"screens": int(screens), "women": women, "cohort": cohort, "source": source})
    return out


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
    """
    x = results_or_screens
    f = x if isinstance(x, pd.DataFrame) and {"stage", "finding", "count"} <= set(x.columns) else funnel_counts(x)
    screens = int(f.attrs.get("screens") or 0)
    if screens <= 0:
        raise CalcsimInputError("screening_funnel: no screens (attrs['screens'] missing or 0)")
    findings = [g for g in (*FINDINGS, "not split") if g in set(f["finding"])]
    table = f.pivot_table(index="stage", columns="finding", values="count", aggfunc="sum", fill_value=0)
    table = table.reindex(index=list(_STAGES), columns=findings, fill_value=0)
    totals = table.sum(axis=1)
    recalls = float(totals["recalled"])
    with calcsim_style():
        fig = Figure(figsize=(8.6, 3.9), layout="constrained")
        ax, bx = fig.subplots(1, 2, sharey=True, width_ratios=[1.35, 1])
        y = np.arange(len(_STAGES))[::-1]
        left = np.zeros(len(_STAGES))
        share_left = np.zeros(len(_STAGES))
        for finding in findings:
            v = table[finding].to_numpy(float)
            per = 1000.0 * v / screens
            ax.barh(y, per, left=left, height=0.62, color=FINDING_COLOURS[finding], label=finding)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(totals.to_numpy() > 0, v / totals.to_numpy(), 0.0)
            bx.barh(y, share, left=share_left, height=0.62, color=FINDING_COLOURS[finding])
            for yi, s0, s in zip(y, share_left, share, strict=True):
                if s >= 0.09:
                    text = "not split by finding" if finding == "not split" else f"{100 * s:.0f}%"
                    bx.text(s0 + s / 2, yi, text, ha="center", va="center", fontsize=8.5,
                            color="white" if finding != "calcification only" else "black")
            left += per
            share_left += share
        for yi, tot, end in zip(y, totals.to_numpy(), left, strict=True):
            ax.text(end, yi, f"  {1000 * tot / screens:.1f}", va="center", ha="left", fontsize=8.5)
        labels = []
        for stage, tot in totals.items():
            name = {"recalled": "Recalled", "biopsied": "Biopsied", "cancer detected": "Cancer detected"}[stage]
            extra = "" if stage == "recalled" or recalls == 0 else f"\n{100 * tot / recalls:.0f}% of recalls"
            labels.append(f"{name}\nn = {int(tot):,}{extra}")
        ax.set_yticks(y, labels)
        ax.set_xlim(0, max(left.max(), 1e-9) * 1.18)
        ax.set_xlabel("per 1,000 screens")
        ax.grid(axis="y", visible=False)
        bx.set_xlim(0, 1)
        bx.xaxis.set_major_formatter(_pct())
        bx.set_xlabel("share of the stage")
        bx.grid(axis="y", visible=False)
        bx.tick_params(axis="y", left=False)
        who = f"{screens:,} screens"
        if f.attrs.get("women"):
            who += f" of {int(f.attrs['women']):,} women"
        elif f.attrs.get("cohort"):
            who += f" (cohort of {int(f.attrs['cohort']):,} women)"
        fig.suptitle(title or f"Screening funnel: {who}", x=0.01, ha="left", fontsize=11,
                     fontweight="bold")
        ax.set_title("How many, per 1,000 screens", loc="left", fontsize=9.5, fontweight="normal")
        bx.set_title("What triggered the recall", loc="left", fontsize=9.5, fontweight="normal")
        handles = [Patch(color=FINDING_COLOURS[g], label=g) for g in findings]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8.5,
                   title="finding that triggered the recall", title_fontsize=8.5)
    return fig


# ----------------------------------------------------------------------------- by stratum
def _stratified(e: pd.DataFrame, measure: str, by: list[str], where: str) -> pd.DataFrame:
    """Rows of ``measure`` stratified by exactly the columns ``by``, with one column per stratum variable."""
    _need(e, ("measure", "stratum", "estimate", "lower", "upper", "n"), where,
          "pass an estimates table (Results.estimates())")
    e = e[e["measure"] == measure]
    parsed = e["stratum"].map(parse_stratum)
    keep = parsed.map(lambda p: set(p) == set(by)).to_numpy(bool)
    if not keep.any():
        found = sorted({" × ".join(p) for p in parsed if p}) or ["none (overall only)"]
        raise CalcsimInputError(f"{where}: no {measure!r} rows stratified by {' × '.join(by)}; strata in the "
                                f"table: {', '.join(found)}; run simulate(..., by={by!r})")
    out = e[keep].copy()
    for b in by:
        out[b] = parsed[keep].map(lambda p, b=b: p[b]).to_numpy()
    return out


def _check_by(by: str | Sequence[str], where: str, most: int) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    if not 1 <= len(cols) <= most:
        raise CalcsimInputError(f"{where}: by = {cols!r}: one{' or two' if most > 1 else ''} stratification "
                                "columns")
    for b in cols:
        if b not in STRATA:
            raise CalcsimInputError(f"{where}: by = {b!r}: unknown column{did_you_mean(b, STRATA)}; "
                                    f"allowed: {', '.join(STRATA)}")
    return cols


def recall_by(estimates: Any, by: str | Sequence[str], measure: str = "recall_rate", *,
              title: str | None = None) -> Figure:
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
    cols = _check_by(by, "recall_by", 2)
    series = _series(estimates)
    if len(series) > 1 and len(cols) > 1:
        raise CalcsimInputError("recall_by: several scenarios and two stratification columns: give one of them")
    parts = []
    for i, (label, e) in enumerate(series):
        d = _stratified(e, measure, cols, "recall_by")
        d["hue"] = d[cols[1]] if len(cols) > 1 else label
        d["colour_key"] = i
        parts.append(d)
    d = pd.concat(parts, ignore_index=True)
    d = d[d["n"] > 0]
    xcats = [c for c in STRATA[cols[0]][1] if c in set(d[cols[0]])]
    hues = list(dict.fromkeys(d["hue"])) if len(cols) == 1 else [c for c in STRATA[cols[1]][1]
                                                                   if c in set(d["hue"])]
    offs = _offsets(len(hues))
    with calcsim_style():
        fig, ax = _new((max(5.2, 0.85 * len(xcats) * max(1, len(hues)) ** 0.5 + 2.2), 4.3))
        for h, (hue, off) in enumerate(zip(hues, offs, strict=True)):
            g = d[d["hue"] == hue].set_index(cols[0]).reindex(xcats)
            xs = np.arange(len(xcats)) + off
            ok = g["estimate"].notna().to_numpy()
            name = _PRETTY_LEVEL.get(str(hue), str(hue))
            colour = _colour(str(hue), h) if len(cols) == 1 else PALETTE[_CYCLE[h % len(_CYCLE)]]
            label = (f"{STRATUM_LABELS[cols[1]]}: {name}" if len(cols) > 1
                     else name if len(series) > 1 else "") or None  # one scenario: named in the title
            _errorbar(ax, xs[ok], g["estimate"][ok], g["lower"][ok], g["upper"][ok], color=colour, label=label)
        if len(series) == 1:
            e = series[0][1]
            overall = e[(e["measure"] == measure) & (e["stratum"] == "all")]
            if len(overall):
                v = float(overall["estimate"].iloc[0])
                ax.axhline(v, color=PALETTE["grey"], ls="--", lw=1, zorder=0,
                           label=f"overall: {_fmt(measure, v)}")
        ticks = [_PRETTY_LEVEL.get(c, c) for c in xcats]
        if len(hues) == 1:
            n = d.set_index(cols[0]).reindex(xcats)["n"]
            ticks = [f"{t}\nn = {int(k):,}" for t, k in zip(ticks, n, strict=True)]
        ax.set_xticks(np.arange(len(xcats)), ticks, fontsize=8.5 if len(xcats) > 6 else 9)
        ax.set_xlim(-0.6, len(xcats) - 0.4)
        ax.set_xlabel(STRATUM_LABELS[cols[0]])
        ax.set_ylabel(f"{measure_label(measure).lower()} ({_unit(measure)})")
        _value_axis(ax, measure)
        ax.set_ylim(bottom=0)
        ax.grid(axis="x", visible=False)
        scen = series[0][0] if len(series) == 1 and series[0][0] else ""
        ax.set_title(title or f"{measure_label(measure)} by {STRATUM_LABELS[cols[0]]}"
                     + (f" — {scen}" if scen else ""), loc="left")
        ax.legend(loc="best", fontsize=8, ncol=2 if len(hues) > 3 else 1)
        _subtitle(fig, "Error bars: Wilson 95% (binomial, within one run; screens treated as independent)")
    return fig


# ----------------------------------------------------------------------------- the 12.7–41.2% question
_QUESTION_LABELS = {
    "calc_only_share_of_recalls": "of all recalls\n(women brought back)",
    "calc_only_share_of_screen_detected": "of all screen-detected\ncancers (recall reason)",
    "calc_only_presentation_share_of_screen_detected": "of all screen-detected\ncancers (presentation)",
}


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
    series = _series(question_df)
    for _, q in series:
        _need(q, ("measure", "estimate", "lower", "upper"), "calc_only_shares",
              "pass the table of analysis.stats.question.calc_only_question(results)")
    measures = [m for m in _QUESTION_LABELS if any(m in set(q["measure"]) for _, q in series)]
    first = series[0][1]
    lit_lo = float(first["literature_lower"].iloc[0]) if "literature_lower" in first else np.nan
    lit_hi = float(first["literature_upper"].iloc[0]) if "literature_upper" in first else np.nan
    tables = [(label, q.set_index("measure")) for label, q in series]

    def has_target(q: pd.DataFrame, m: str) -> bool:
        return m in q.index and "target" in q.columns and bool(np.isfinite(q.loc[m, "target"]))

    # rows within each denominator: one per scenario, then one per published target
    layout = {m: [("model", i) for i, (_, q) in enumerate(tables) if m in q.index]
              + [("target", i) for i, (_, q) in enumerate(tables) if has_target(q, m)] for m in measures}
    most = max(len(v) for v in layout.values())
    step = min(0.8 / max(most, 1), 0.3)
    with calcsim_style():
        fig, ax = _new((7.6, 2.1 + 0.42 * len(measures) * max(1, most) ** 0.8))
        handles: list[Any] = []
        if np.isfinite(lit_lo) and np.isfinite(lit_hi):
            ax.axvspan(lit_lo, lit_hi, color=PALETTE["yellow"], alpha=0.35, lw=0, zorder=0)
            handles.append(Patch(color=PALETTE["yellow"], alpha=0.5,
                                 label=f"quoted {100 * lit_lo:.1f}–{100 * lit_hi:.1f}% (denominator not stated)"))
        y = np.arange(len(measures))[::-1].astype(float)
        xmax = lit_hi if np.isfinite(lit_hi) else 0.5
        target_drawn = replicate_drawn = False
        for yi, m in zip(y, measures, strict=True):
            items = layout[m]
            pos = yi + ((len(items) - 1) / 2 - np.arange(len(items))) * step
            for (kind, i), yy in zip(items, pos, strict=True):
                label, q = tables[i]
                r = q.loc[m]
                colour = _colour(label, i)
                if kind == "target":
                    _errorbar(ax, r["target"], yy, r.get("target_lower", np.nan), r.get("target_upper", np.nan),
                              horizontal=True, fmt="D", color=PALETTE["black"], mfc=colour if len(tables) > 1
                              else PALETTE["black"], ms=5, capsize=2, lw=1)
                    src = str(r.get("target_source", "") or "")
                    who = f"{label} " if len(tables) > 1 and label else ""
                    ax.annotate(f"{who}target {_fmt(m, r['target'])}" + (f" ({src})" if src else ""),
                                xy=(r.get("target_upper", r["target"]), yy), xytext=(6, 0),
                                textcoords="offset points", va="center", fontsize=7.5, color=PALETTE["black"])
                    target_drawn = True
                    continue
                if {"replicate_ci_lower", "replicate_ci_upper"} <= set(r.index) and np.isfinite(
                        r["replicate_ci_lower"]):
                    ax.plot([r["replicate_ci_lower"], r["replicate_ci_upper"]], [yy, yy], color=colour, lw=6,
                            alpha=0.35, solid_capstyle="butt")
                    replicate_drawn = True
                _errorbar(ax, r["estimate"], yy, r["lower"], r["upper"], horizontal=True, color=colour)
                counts = f"; {int(r['numerator']):,} / {int(r['n']):,}" if {"numerator", "n"} <= set(r.index) else ""
                ax.annotate(f"{_fmt(m, r['estimate'])} ({_fmt(m, r['lower'])}–{_fmt(m, r['upper'])}{counts})",
                            xy=(r["upper"], yy), xytext=(6, 0), textcoords="offset points", va="center",
                            fontsize=8, color=colour if len(tables) > 1 else PALETTE["black"])
                xmax = max(xmax, float(r["upper"]) if np.isfinite(r["upper"]) else 0.0)
        for i, (label, _) in enumerate(tables):
            handles.append(Line2D([], [], color=_colour(label, i), marker="o", lw=1.4,
                                  label=(f"{label}: " if label else "model: ") + "estimate, Wilson 95%"))
        if replicate_drawn:
            handles.append(Line2D([], [], color=PALETTE["grey"], lw=6, alpha=0.35, label="replicate 95% CI"))
        if target_drawn:
            handles.append(Line2D([], [], color=PALETTE["black"], marker="D", ms=5, lw=1,
                                  label="published programme figure (95% interval)"))
        ax.set_yticks(y, [_QUESTION_LABELS[m] for m in measures])
        ax.set_ylim(y.min() - 0.6, y.max() + 0.6)
        ax.set_xlim(0, min(1.0, xmax * 1.45 + 0.03))
        ax.xaxis.set_major_formatter(_pct())
        ax.set_xlabel("share recalled for calcification as the only finding")
        ax.grid(axis="y", visible=False)
        ax.set_title(title or "Calcification as the only sign: which denominator?", loc="left")
        fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8)
    return fig


# ----------------------------------------------------------------------------- first vs subsequent
#: Measures :func:`rounds_compared` shows by default.
ROUND_MEASURES = ("recall_rate", "cancer_detection_rate_per_1000", "ppv1", "calc_only_share_of_recalls",
                  "calc_only_share_of_screen_detected", "interval_cancer_rate_per_1000")
_ROUND_TARGETS = {"first_round_recall_rate": ("recall_rate", "first"),
                  "subsequent_round_recall_rate": ("recall_rate", "subsequent")}


def rounds_compared(estimates: Any, measures: Sequence[str] = ROUND_MEASURES, *,
                    targets: pd.DataFrame | None = None, title: str | None = None) -> Figure:
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
    series = _series(estimates)
    data = [(label, _stratified(e, m, ["round"], "rounds_compared")) for label, e in series for m in measures]
    ncols = min(3, len(measures))
    nrows = math.ceil(len(measures) / ncols)
    offs = _offsets(len(series), 0.4)
    with calcsim_style():
        fig = Figure(figsize=(3.0 * ncols + 0.6, 2.9 * nrows + 0.7), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax in axes[len(measures):]:
            fig.delaxes(ax)
        cats = ["first", "subsequent"]
        for j, m in enumerate(measures):
            ax = axes[j]
            for i, ((label, _), off) in enumerate(zip(series, offs, strict=True)):
                d = data[i * len(measures) + j][1].set_index("round").reindex(cats)
                xs = np.arange(2) + off
                _errorbar(ax, xs, d["estimate"], d["lower"], d["upper"], color=_colour(label, i),
                          label=label or None)
                ax.plot(xs, d["estimate"], color=_colour(label, i), lw=0.8, alpha=0.5)
            if len(series) == 1:
                n = data[j][1].set_index("round").reindex(cats)["n"]
                ax.set_xticks([0, 1], [f"{c}\nn = {int(k):,}" if np.isfinite(k) else c
                                       for c, k in zip(cats, n, strict=True)], fontsize=8)
            else:
                ax.set_xticks([0, 1], cats)
            if targets is not None:
                for r in targets[targets["kind"] == "upper_bound"].itertuples(index=False):
                    where = _ROUND_TARGETS.get(r.measure)
                    scen_ok = not r.scenario or any(r.scenario == lab for lab, _ in series) or not series[0][0]
                    if where and where[0] == m and scen_ok:
                        x0 = cats.index(where[1])
                        ax.plot([x0 - 0.3, x0 + 0.3], [r.value] * 2, color=PALETTE["red"], ls="--", lw=1.2)
                        ax.annotate(f"guideline < {_fmt(m, r.value, 0)}", xy=(x0, r.value), xytext=(0, 2),
                                    textcoords="offset points", ha="center", va="bottom", fontsize=7,
                                    color=PALETTE["red"])
            ax.set_xlim(-0.5, 1.5)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.12)
            _value_axis(ax, m)
            ax.yaxis.set_major_locator(MaxNLocator(5))
            ax.set_title(_wrap(measure_label(m), 30), fontsize=9.5, loc="left")
            ax.set_ylabel(_wrap(_unit(m), 26), fontsize=8.5)
            ax.grid(axis="x", visible=False)
        if len(series) > 1:
            handles = [Line2D([], [], color=_colour(lab, i), marker="o", label=lab) for i, (lab, _) in
                       enumerate(series)]
            fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8.5)
        scen = series[0][0] if len(series) == 1 and series[0][0] else ""
        fig.suptitle(title or "First-round vs subsequent-round screens" + (f" — {scen}" if scen else ""),
                     x=0.01, ha="left", fontsize=11, fontweight="bold")
        if len(series) == 1:
            _subtitle(fig, "Error bars: Wilson 95% (within one run). First round: a woman's first screen "
                           "in the programme (no prior images).")
    return fig


# ----------------------------------------------------------------------------- cumulative false positives
def cumulative_false_positive(curve: Any, *, min_at_risk: int = 25,
                              years_per_screen: float | Mapping[str, float] | None = None,
                              title: str | None = None) -> Figure:
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
    series = _series(curve)
    for _, c in series:
        _need(c, ("screen_number", "at_risk", "cumulative_probability", "lower", "upper"),
              "cumulative_false_positive", "pass analysis.stats.cumulative.cumulative_false_positive_curve(screens)")

    def interval(label: str) -> float | None:
        if years_per_screen is None:
            return None
        if isinstance(years_per_screen, Mapping):
            if label not in years_per_screen:
                raise CalcsimInputError(f"cumulative_false_positive: years_per_screen has no entry for {label!r}")
            return float(years_per_screen[label])
        return float(years_per_screen)

    with calcsim_style():
        fig, ax = _new((7.0, 4.5))
        xmax, ymax = 1.0, 0.05
        for i, (label, c) in enumerate(series):
            c = c.sort_values("screen_number")
            c = c[c["at_risk"] >= min_at_risk]
            if c.empty:
                continue
            colour = _colour(label, i)
            k = c["screen_number"].to_numpy(float)
            iv = interval(label)
            # value after the k-th screen holds until the next screen
            x = np.concatenate([[0.0], k, [k[-1] + 1]]) if iv is None else np.concatenate([(k - 1) * iv, [k[-1] * iv]])
            pad = ((lambda v: np.concatenate([[0.0], v, [v[-1]]])) if iv is None  # noqa: E731
                   else (lambda v: np.concatenate([v, [v[-1]]])))
            est, lo, hi = (pad(c[col].to_numpy(float)) for col in ("cumulative_probability", "lower", "upper"))
            last = c.iloc[-1]
            when = (f"after {int(last['screen_number'])} screens" if iv is None else
                    f"after {int(last['screen_number'])} screens ({(last['screen_number'] - 1) * iv:g} years)")
            text = f"{100 * last['cumulative_probability']:.1f}% {when}"
            ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.2, lw=0)
            ax.step(x, est, where="post", color=colour, lw=1.8, label=f"{label}: {text}" if label else text)
            xmax = max(xmax, float(x[-1]))
            ymax = max(ymax, float(np.nanmax(hi)))
        ax.set_xlim(0, xmax)
        ax.set_ylim(0, ymax * 1.1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(_pct())
        if years_per_screen is None:
            ax.set_xlabel("screens attended (k)")
            ax.set_ylabel("P(≥1 false-positive recall\nin the first k screens)")
        else:
            ax.set_xlabel("years since the first screen")
            ax.set_ylabel("P(≥1 false-positive recall\nby this time)")
        ax.set_title(title or "Cumulative probability of a false-positive recall", loc="left")
        ax.legend(loc="best", fontsize=8.5)
        _subtitle(fig, "Kaplan–Meier over screen number (censored at the last screen or at a cancer diagnosis); "
                       f"bands: Greenwood 95%.\nLines stop at the last screen with ≥ {min_at_risk} women at risk.")
    return fig


# ----------------------------------------------------------------------------- scenario comparison
#: Measures :func:`scenario_comparison` shows by default.
COMPARE_MEASURES = ("recall_rate", "calc_only_share_of_recalls", "calc_only_share_of_screen_detected",
                    "cancer_detection_rate_per_1000", "ppv1", "interval_cancer_rate_per_1000",
                    "cumulative_false_positive_recall")


def _comparisons(compare_df: Any) -> list[tuple[str, pd.DataFrame]]:
    def label(df: pd.DataFrame, fallback: str) -> str:
        a, b = df.attrs.get("a"), df.attrs.get("b")
        return f"{a} − {b}" if a and b else fallback

    if isinstance(compare_df, Mapping):
        return [(str(k), v) for k, v in compare_df.items()]
    if isinstance(compare_df, list | tuple):
        return [(label(d, f"#{i + 1}"), d) for i, d in enumerate(compare_df)]
    if "comparison" in compare_df.columns:
        return [(str(k), g) for k, g in compare_df.groupby("comparison", sort=False)]
    return [(label(compare_df, "a − b"), compare_df)]


def scenario_comparison(compare_df: Any, measures: Sequence[str] = COMPARE_MEASURES, *,
                        stratum: str = "all", title: str | None = None) -> Figure:
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
    comps = _comparisons(compare_df)
    rows = []
    for label, c in comps:
        _need(c, ("measure", "stratum", "estimate_a", "estimate_b", "difference", "lower", "upper"),
              "scenario_comparison", "pass the table of analysis.stats.uncertainty.compare(a, b, ...)")
        sub = c[(c["stratum"] == stratum) & c["measure"].isin(list(measures))]
        if sub.empty:
            raise CalcsimInputError(f"scenario_comparison: no rows for stratum {stratum!r} and these measures")
        rows.append((label, c.attrs.get("a", "a"), c.attrs.get("b", "b"), sub.set_index("measure")))
    k = len(comps)
    heights = [0.55 + 0.32 * k for _ in measures]
    with calcsim_style():
        fig = Figure(figsize=(7.6, sum(heights) + 0.9), layout="constrained")
        axes = np.atleast_1d(fig.subplots(len(measures), 1, height_ratios=heights, squeeze=False)).ravel()
        for ax, m in zip(axes, measures, strict=True):
            scale = 100.0 if _is_proportion(m) else 1.0
            y = np.arange(k)[::-1].astype(float)
            span = 0.0
            for yi, (i, (_label, a, b, d)) in zip(y, enumerate(rows), strict=True):
                if m not in d.index:
                    continue
                r = d.loc[m]
                colour = _colour(str(a), i) if k > 1 else PALETTE["black"]
                _errorbar(ax, scale * r["difference"], yi, scale * r["lower"], scale * r["upper"], horizontal=True,
                          color=colour, ms=4.5)
                span = max(span, *(abs(scale * r[c]) for c in ("lower", "upper", "difference")
                                   if np.isfinite(r[c])))
                ax.annotate(f"{a} {_fmt(m, r['estimate_a'])} vs {b} {_fmt(m, r['estimate_b'])}",
                            xy=(1.0, yi), xycoords=("axes fraction", "data"), xytext=(8, 0),
                            textcoords="offset points", va="center", fontsize=7.5, color=colour)
            span = span or 1.0
            ax.set_xlim(-1.15 * span, 1.15 * span)
            ax.axvline(0, color=PALETTE["grey"], lw=0.9)
            ax.set_ylim(-0.6, k - 0.4)
            ax.set_yticks(y, [lab for lab, *_ in rows] if k > 1 else [""])
            ax.tick_params(axis="y", labelsize=8, left=False)
            ax.grid(axis="y", visible=False)
            unit = "percentage points" if _is_proportion(m) else _unit(m)
            ax.set_title(f"{measure_label(m)} ({unit})", loc="left", fontsize=9, fontweight="normal")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))
            ax.tick_params(axis="x", labelsize=8)
        what = rows[0][0] if k == 1 else "scenarios"
        fig.suptitle(title or f"Paired differences: {what}", x=0.01, ha="left", fontsize=11, fontweight="bold")
        interval = comps[0][1].attrs.get("interval", "paired 95%")
        _subtitle(fig, f"Difference a − b with its {interval}; same women and draws in both scenarios.")
    return fig


# ----------------------------------------------------------------------------- regression and Sobol
def _term_label(term: str, references: Mapping[str, str]) -> str:
    if "=" in term:
        cov, level = term.split("=", 1)
        ref = references.get(cov)
        pretty = _PRETTY_LEVEL.get(level, level)
        return f"{cov.replace('_', ' ')}: {pretty}" + (f" (vs {_PRETTY_LEVEL.get(ref, ref)})" if ref else "")
    return term.replace("_", " ")


def odds_ratios(fits: Any, *, title: str | None = None) -> Figure:
    """Forest plot of adjusted odds ratios (log scale) with their 95% Wald intervals.

    Parameters
    ----------
    fits : DataFrame or mapping
        :func:`analysis.stats.regression.fit_odds_ratios`; several fits (e.g. of recall and
        of a calcification-only recall on the same covariates) as ``{label: table}``.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One row per term; a line at OR = 1.
    """
    series = list(fits.items()) if isinstance(fits, Mapping) else [(str(fits.attrs.get("outcome", "")), fits)]
    for _, f in series:
        _need(f, ("term", "odds_ratio", "lower", "upper"), "odds_ratios",
              "pass the table of analysis.stats.regression.fit_odds_ratios(screens, ...)")
    terms = list(dict.fromkeys(t for _, f in series for t in f["term"]))
    refs: dict[str, str] = {}
    for _, f in series:
        refs.update(f.attrs.get("references", {}) or {})
    offs = _offsets(len(series), 0.5)
    with calcsim_style():
        fig, ax = _new((7.4, 1.6 + 0.36 * len(terms) * max(1, len(series)) ** 0.5))
        y = np.arange(len(terms))[::-1].astype(float)
        pos = dict(zip(terms, y, strict=True))
        lo_all, hi_all = [1.0], [1.0]
        for i, ((label, f), off) in enumerate(zip(series, offs, strict=True)):
            yy = np.array([pos[t] for t in f["term"]]) - off
            colour = PALETTE[_CYCLE[i % len(_CYCLE)]]
            a = f.attrs
            desc = f"{label}" if label else "odds ratio"
            if a.get("method"):
                desc += f" ({a['method'].upper()}, {a.get('n_obs', 0):,} screens, {a.get('n_events', 0):,} events)"
            _errorbar(ax, f["odds_ratio"], yy, f["lower"], f["upper"], horizontal=True, color=colour, label=desc)
            lo_all += [v for v in f["lower"] if np.isfinite(v) and v > 0]
            hi_all += [v for v in f["upper"] if np.isfinite(v)]
        ax.axvline(1.0, color=PALETTE["grey"], lw=0.9)
        ax.set_xscale("log")
        ax.set_xlim(min(lo_all) / 1.3, max(hi_all) * 1.3)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if v > 0 and round(v / 10 ** math.floor(math.log10(v)), 6) in (2, 3, 5) else ""))
        ax.tick_params(axis="x", which="minor", labelsize=8)
        ax.set_yticks(y, [_term_label(t, refs) for t in terms], fontsize=8.5)
        ax.set_ylim(-0.7, len(terms) - 0.3)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("adjusted odds ratio (log scale; 95% Wald interval)")
        outcome = series[0][1].attrs.get("outcome", "") if len(series) == 1 else ""
        ax.set_title(title or ("Odds ratios" + (f" of {outcome.replace('_', ' ')}" if outcome else "")), loc="left")
        fig.legend(loc="outside lower center", fontsize=8, ncol=1)
    return fig


def sobol_indices(sobol: pd.DataFrame, *, title: str | None = None) -> Figure:
    """First-order and total Sobol indices with their bootstrap 95% half-widths, one panel per output.

    Parameters
    ----------
    sobol : DataFrame
        :func:`analysis.calibration.sensitivity.sobol`.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per output (in the table's order); parameters in the same rows in every panel,
        sorted by their largest total index.
    """
    _need(sobol, ("output", "parameter", "S1", "S1_conf", "ST", "ST_conf"), "sobol_indices",
          "pass the table of analysis.calibration.sensitivity.sobol(...)")
    outputs = list(dict.fromkeys(sobol["output"]))
    order = sobol.groupby("parameter")["ST"].max().sort_values(kind="stable").index.tolist()  # same rows everywhere
    k = len(order)
    with calcsim_style():
        fig = Figure(figsize=(4.0 * len(outputs) + 1.6, 1.6 + 0.42 * k), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(outputs), squeeze=False)).ravel()
        for j, (ax, out) in enumerate(zip(axes, outputs, strict=True)):
            d = sobol[sobol["output"] == out].set_index("parameter").reindex(order)
            y = np.arange(len(d)).astype(float)
            ax.barh(y + 0.18, d["ST"].clip(lower=0), height=0.36, color=PALETTE["orange"], label="total (ST)",
                    xerr=d["ST_conf"], error_kw={"lw": 0.8, "capsize": 2})
            ax.barh(y - 0.18, d["S1"].clip(lower=0), height=0.36, color=PALETTE["blue"], label="first order (S1)",
                    xerr=d["S1_conf"], error_kw={"lw": 0.8, "capsize": 2})
            ax.set_yticks(y, order if j == 0 else [""] * len(d), fontsize=8)
            top = max(float((d["ST"] + d["ST_conf"]).max()), float((d["S1"] + d["S1_conf"]).max()))
            ax.set_xlim(0, max(1.0, top * 1.05) if np.isfinite(top) else 1.0)
            ax.set_title(_wrap(measure_label(out), 32), loc="left", fontsize=9.5)
            ax.set_xlabel("share of output variance")
            ax.grid(axis="y", visible=False)
        axes[0].legend(loc="lower right", fontsize=8)
        a = sobol.attrs
        extra = f" — {a.get('runs', '?')} runs of {a.get('women', 0):,} women" if a.get("runs") else ""
        fig.suptitle(title or f"Sobol indices{extra}", x=0.01, ha="left", fontsize=11, fontweight="bold")
    return fig


__all__ = ["COMPARE_MEASURES", "FINDINGS", "MEASURE_LABELS", "PALETTE", "ROUND_MEASURES", "SCENARIO_COLOURS",
           "STYLE", "calc_only_shares", "calcsim_style", "calibration_fit", "cohort_distributions",
           "cumulative_false_positive", "funnel_counts", "measure_label", "odds_ratios", "parse_stratum",
           "recall_by", "rounds_compared", "scenario_comparison", "screening_funnel", "sobol_indices", "tornado"]
