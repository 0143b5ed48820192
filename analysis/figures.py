"""Figures: each a function that returns a matplotlib Figure, in one consistent style.

Notebooks, reports and users share these functions; nothing here runs a
simulation — every function takes the tables the analysis functions return.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg", force=False)  # headless by default; a notebook's inline backend still works

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Colour-blind-safe palette (Okabe & Ito) used by every figure.
PALETTE = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "red": "#D55E00",
           "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "grey": "#7f7f7f", "black": "#000000"}
STYLE = {
    "figure.dpi": 110, "savefig.dpi": 150, "figure.figsize": (7.0, 4.2), "font.size": 10,
    "axes.titlesize": 11, "axes.titleweight": "bold", "axes.labelsize": 10, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25, "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE.values())),
}


@contextmanager
def calcsim_style() -> Iterator[None]:
    """Context manager applying the calcsim figure style."""
    with plt.rc_context(STYLE):
        yield


def _new(figsize: tuple[float, float] | None = None) -> tuple[Figure, plt.Axes]:
    fig = Figure(figsize=figsize or STYLE["figure.figsize"], layout="constrained")
    return fig, fig.add_subplot()


def calibration_fit(fit: pd.DataFrame) -> Figure:
    """Each calibration target (interval) against the model (Wilson and posterior ranges).

    Parameters
    ----------
    fit : DataFrame
        :func:`analysis.posterior.calibration_fit`.
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
        ax.set_title(f"Calibration fit — {fit.attrs.get('scenario', '')}")
        handles = [plt.Line2D([], [], color=PALETTE["grey"], lw=4, alpha=0.6, label="target interval"),
                   plt.Line2D([], [], color=PALETTE["blue"], marker="o", ls="", label="model (Wilson 95%)"),
                   plt.Line2D([], [], color=PALETTE["sky"], lw=4,
                              label="model across accepted parameter sets (95%)")]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncol=3, fontsize=8)
    return fig


def tornado(one_way: pd.DataFrame, output: str = "recall_rate", top: int = 12) -> Figure:
    """Tornado chart of one-way sensitivity for one output.

    Parameters
    ----------
    one_way : DataFrame
        :func:`analysis.sensitivity.one_way`.
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
            ax.barh(yi, r["at_low"] - base, left=base, color=PALETTE["sky"], height=0.7)
            ax.barh(yi, r["at_high"] - base, left=base, color=PALETTE["orange"], height=0.7)
        ax.axvline(base, color=PALETTE["black"], lw=0.8)
        ax.set_yticks(y, [f"{p}  [{lo:g}–{hi:g}]" for p, lo, hi in
                          zip(d["parameter"], d["low_value"], d["high_value"], strict=True)], fontsize=8)
        ax.set_xlabel(output.replace("_", " "))
        ax.set_title(f"One-way sensitivity: {output.replace('_', ' ')}", loc="left", fontsize=10)
        ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=PALETTE["sky"], label="parameter at low end"),
                           plt.Rectangle((0, 0), 1, 1, color=PALETTE["orange"], label="parameter at high end")],
                  loc="lower right", fontsize=8)
    return fig
