"""The figure style and the drawing helpers every figure module shares.

Nothing here touches pyplot or the matplotlib backend: figures are
:class:`CalcsimFigure` objects (a :class:`matplotlib.figure.Figure` that can show
itself in Jupyter) made under :func:`calcsim_style`, which is
:func:`matplotlib.rc_context` with :data:`STYLE`, so the user's rcParams are never
changed.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.model.results import MEASURES

__all__ = [
    "CYCLE",
    "FINDINGS",
    "FINDING_COLOURS",
    "MEASURE_LABELS",
    "PALETTE",
    "PRETTY_LEVEL",
    "SCENARIO_COLOURS",
    "STRATUM_LABELS",
    "STYLE",
    "CalcsimFigure",
    "calcsim_style",
    "colour",
    "cycle_colour",
    "errorbar",
    "format_value",
    "is_proportion",
    "left_title",
    "measure_label",
    "new_axes",
    "new_figure",
    "offsets",
    "percent",
    "percent_formatter",
    "pretty",
    "subtitle",
    "unit",
    "value_axis",
    "wrap",
]

#: Colour-blind-safe palette (Okabe & Ito) used by every figure.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "red": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "grey": "#7f7f7f",
    "black": "#000000",
}
#: rcParams of every figure (applied with :func:`matplotlib.rc_context`, never globally).
STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "figure.figsize": (7.0, 4.2),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE.values())),
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}
#: The shipped scenarios keep their colour in every figure.
SCENARIO_COLOURS = {
    "nl-biennial": PALETTE["orange"],
    "us-annual": PALETTE["blue"],
    "england-triennial": PALETTE["green"],
}
#: Order in which other series take the colours of :data:`PALETTE`.
CYCLE = ("blue", "orange", "green", "red", "purple", "sky", "grey")
#: Colours of the finding types (what triggered the recall).
FINDING_COLOURS = {
    "calcification only": PALETTE["orange"],
    "calcification + other": PALETTE["purple"],
    "other findings": PALETTE["blue"],
    "not split": PALETTE["grey"],
}
#: The finding types that trigger a recall, in the order figures stack them.
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
    "calc_only_presentation_share_of_screen_detected": "Share of screen-detected cancers presenting as "
    "calcifications only",
    "calc_share_of_screen_detected": "Calcification share of screen-detected cancers",
    "dcis_share_of_screen_detected": "DCIS share of screen-detected cancers",
    "cancer_detection_rate_per_1000": "Cancer detection rate",
    "dcis_detection_rate_per_1000": "DCIS detection rate",
    "dcis_or_microinvasive_detection_rate_per_1000": "DCIS or micro-invasive detection rate",
    "invasive_detection_rate_per_1000": "Invasive cancer detection rate",
    "small_invasive_detection_rate_per_1000": "Small (< 15 mm) invasive detection rate",
    "small_share_of_screen_detected_invasive": "Small (< 15 mm) share of screen-detected invasive cancers",
    "invasive_incidence_per_100000": "Invasive incidence",
    "dcis_incidence_per_100000": "DCIS incidence",
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
STRATUM_LABELS = {
    "round": "screening round",
    "age_group": "age group (years)",
    "menopause": "menopausal status",
    "family_history": "first-degree relatives with breast cancer",
    "brca": "BRCA carrier status",
    "breastfeeding": "lifetime breastfeeding",
    "density": "BI-RADS density",
    "parity": "births",
}
#: Typeset versions of category labels (of :mod:`analysis.scenario.codings`) that are written in ASCII.
PRETTY_LEVEL = {">=2": "≥2", ">=3": "≥3", "6-12 months": "6–12 months"}
_PER = {m.name: m.per for m in MEASURES}
_DENOMINATOR = {m.name: m.denominator for m in MEASURES}


class CalcsimFigure(Figure):
    """A :class:`matplotlib.figure.Figure` that shows itself as a PNG in Jupyter, without pyplot.

    IPython registers its matplotlib display formatter only once pyplot has loaded the
    inline backend; a figure made without pyplot would otherwise show as
    ``<Figure size ... with n Axes>``. ``_repr_png_`` renders with the Agg canvas
    (as ``savefig`` does), so no backend is chosen and no pyplot state is created.
    When IPython's own formatter is registered it takes precedence (same image).
    """

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes (tight bounding box, like the inline backend)."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


@contextmanager
def calcsim_style() -> Iterator[None]:
    """Context manager applying the calcsim figure style (:data:`STYLE`) and restoring the rcParams after.

    Uses :func:`matplotlib.rc_context`, not pyplot: the backend is neither chosen nor changed.
    """
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(figsize: tuple[float, float] | None = None) -> CalcsimFigure:
    """A new constrained-layout :class:`CalcsimFigure` (call within :func:`calcsim_style`).

    Parameters
    ----------
    figsize : tuple of float, optional
        Width and height in inches (default ``STYLE["figure.figsize"]``).
    """
    return CalcsimFigure(figsize=figsize or STYLE["figure.figsize"], layout="constrained")


def new_axes(figsize: tuple[float, float] | None = None) -> tuple[CalcsimFigure, Axes]:
    """A new figure (:func:`new_figure`) with a single axes."""
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def left_title(fig: Figure, text: str) -> None:
    """The figure title, left-aligned and bold (the style of every multi-panel figure)."""
    fig.suptitle(text, x=0.01, ha="left", fontsize=11, fontweight="bold")


# ----------------------------------------------------------------------------- labels and number formats
def measure_label(measure: str) -> str:
    """Short readable label of a measure."""
    return MEASURE_LABELS.get(measure, measure.replace("_", " ").capitalize())


def pretty(level: Any) -> str:
    """A category label as shown in a figure (``">=2"`` → ``"≥2"``)."""
    return PRETTY_LEVEL.get(str(level), str(level))


def percent(v: float, _pos: Any = None) -> str:
    """A proportion as a percentage without trailing zeros: 0.02 -> "2%", 0.025 -> "2.5%"."""
    text = f"{100 * v:.3f}".rstrip("0").rstrip(".")
    return f"{'0' if text in ('-0', '') else text}%"


def percent_formatter() -> FuncFormatter:
    """A new tick formatter for proportions shown as percentages (one per axis: formatters are not shared)."""
    return FuncFormatter(percent)


def is_proportion(measure: str) -> bool:
    """Whether a measure is a proportion (shown in %), not a rate per 1,000."""
    return _PER.get(measure, 1.0) == 1.0


def unit(measure: str) -> str:
    """Axis unit naming the denominator, e.g. "% of screens" or "per 1,000 screens"."""
    den = _DENOMINATOR.get(measure, "")
    den = den.split(" (")[0]
    if is_proportion(measure):
        return f"% of {den}" if den else "%"
    return f"per {_PER[measure]:,.0f} {den}".strip()


def format_value(measure: str, v: float, digits: int = 1) -> str:
    """A value of a measure as text: a percentage for proportions, else the number ("–" if not finite)."""
    if not np.isfinite(v):
        return "–"
    return f"{100 * v:.{digits}f}%" if is_proportion(measure) else f"{v:.{digits + 1}f}"


def value_axis(ax: Axes, measure: str, axis: str = "y") -> None:
    """Format the ticks of the ``axis`` ("x" or "y") of ``ax`` for the values of ``measure``."""
    fmt = percent_formatter() if is_proportion(measure) else FuncFormatter(lambda v, _: f"{v:g}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def wrap(text: str, width: int) -> str:
    """``text`` wrapped to lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width)) or text


# ----------------------------------------------------------------------------- colours and marks
def cycle_colour(i: int) -> str:
    """The ``i``-th colour of :data:`CYCLE` (repeating)."""
    return PALETTE[CYCLE[i % len(CYCLE)]]


def colour(label: str, i: int) -> str:
    """Colour of a series: the scenario's own colour (:data:`SCENARIO_COLOURS`), else :func:`cycle_colour`."""
    return SCENARIO_COLOURS.get(label, cycle_colour(i))


def offsets(k: int, width: float = 0.5) -> np.ndarray:
    """Positions of ``k`` series side by side around a category (spread over at most ``width``)."""
    step = min(width / max(k, 1), 0.22)
    return (np.arange(k) - (k - 1) / 2) * step


def errorbar(ax: Axes, x: Any, y: Any, lo: Any, hi: Any, horizontal: bool = False, **kw: Any) -> Any:
    """Points with an interval ``[lo, hi]`` (around ``x`` when ``horizontal``, else around ``y``).

    Non-finite interval ends draw no bar; keyword arguments go to :meth:`~matplotlib.axes.Axes.errorbar`.
    """
    x, y, lo, hi = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, y, lo, hi))
    centre = x if horizontal else y
    err = np.vstack([np.clip(centre - lo, 0, None), np.clip(hi - centre, 0, None)])
    err = np.where(np.isfinite(err), err, 0.0)
    kw = {"fmt": "o", "ms": 5, "capsize": 3, "lw": 1.4} | kw
    return ax.errorbar(x, y, xerr=err, **kw) if horizontal else ax.errorbar(x, y, yerr=err, **kw)


def subtitle(fig: Figure, text: str) -> None:
    """A small grey note under the figure (what the intervals are); the layout leaves room for it."""
    lines = text.count("\n") + 1
    h = (0.06 + 0.14 * lines) / fig.get_figheight()
    fig.get_layout_engine().set(rect=(0, h, 1, 1 - h))
    fig.text(0.01, 0.01, text, fontsize=7.5, color=PALETTE["grey"], ha="left", va="bottom")
