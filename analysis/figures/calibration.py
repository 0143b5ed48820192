"""Figures of calibration and sensitivity: the fit to the targets, tornado charts, Sobol indices."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from analysis.errors import CalcsimInputError
from analysis.figures.inputs import need
from analysis.figures.style import (
    PALETTE,
    STYLE,
    calcsim_style,
    format_value,
    left_title,
    measure_label,
    new_axes,
    new_figure,
    unit,
    value_axis,
    wrap,
)

__all__ = ["calibration_fit", "parameter_label", "sobol_indices", "tornado"]


def _fit_row(ax: Axes, yi: float, r: pd.Series) -> None:
    """One target: its interval and value above, the model (Wilson and posterior ranges) below."""

    def rel(v: float) -> float:  # plotted relative to the target
        return v / r["target_value"]

    if r["kind"] == "upper_bound":
        ax.plot([0, 1], [yi + 0.15] * 2, color=PALETTE["grey"], lw=4, alpha=0.5, solid_capstyle="butt")
    else:
        ax.plot(
            [rel(r["target_lower"]), rel(r["target_upper"])],
            [yi + 0.15] * 2,
            color=PALETTE["grey"],
            lw=4,
            alpha=0.6,
            solid_capstyle="butt",
        )
    ax.plot(1, yi + 0.15, "D", color=PALETTE["black"], ms=5)
    ax.plot(
        [rel(r["posterior_lower"]), rel(r["posterior_upper"])],
        [yi - 0.15] * 2,
        color=PALETTE["sky"],
        lw=4,
        solid_capstyle="butt",
    )
    ax.errorbar(
        rel(r["model"]),
        yi - 0.15,
        xerr=[[rel(r["model"] - r["model_lower"])], [rel(r["model_upper"] - r["model"])]],
        fmt="o",
        color=PALETTE["blue"],
        ms=5,
        capsize=2,
    )


def calibration_fit(fit: pd.DataFrame) -> Figure:
    """Each calibration target (interval) against the model (Wilson and posterior ranges).

    Parameters
    ----------
    fit : DataFrame
        :func:`analysis.calibration.posterior.calibration_fit`.

    Returns
    -------
    matplotlib.figure.Figure
        One row per target, values relative to the target (1 = target).
    """
    need(
        fit,
        (
            "target",
            "measure",
            "kind",
            "target_value",
            "target_lower",
            "target_upper",
            "model",
            "model_lower",
            "model_upper",
            "posterior_lower",
            "posterior_upper",
        ),
        "calibration_fit",
        "pass the table of analysis.calibration.posterior.calibration_fit(...)",
    )
    with calcsim_style():
        fig, ax = new_axes((7.0, 0.55 * len(fit) + 1.6))
        y = np.arange(len(fit))[::-1]
        for yi, (_, r) in zip(y, fit.iterrows(), strict=True):
            _fit_row(ax, yi, r)
        ax.axvline(1, color=PALETTE["black"], lw=0.8, ls=":")
        ax.set_yticks(y, [f"{t}\n({m})" for t, m in zip(fit["target"], fit["measure"], strict=True)], fontsize=8)
        ax.set_xlabel("value relative to the target (1 = target)")
        ax.set_title(f"Calibration fit — {fit.attrs.get('scenario', '')}", loc="left")
        handles = [
            Line2D([], [], color=PALETTE["grey"], lw=4, alpha=0.6, label="target interval"),
            Line2D([], [], color=PALETTE["black"], marker="D", ls="", ms=5, label="target"),
            Line2D([], [], color=PALETTE["blue"], marker="o", ls="", label="model (Wilson 95%)"),
            Line2D([], [], color=PALETTE["sky"], lw=4, label="model across accepted parameter sets (95%)"),
        ]
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

    Returns
    -------
    matplotlib.figure.Figure
        One row per parameter: the output at the low and at the high end of its range, around the base value.
    """
    need(
        one_way,
        ("output", "parameter", "low_value", "high_value", "base", "at_low", "at_high", "swing"),
        "tornado",
        "pass the table of analysis.calibration.sensitivity.one_way(...)",
    )
    if output not in set(one_way["output"]):
        raise CalcsimInputError(
            f"tornado: output = {output!r}: not in the table; outputs: "
            f"{', '.join(map(str, dict.fromkeys(one_way['output'])))}"
        )
    d = one_way[one_way["output"] == output].sort_values("swing", ascending=False).head(top)
    labels = [
        parameter_label(p, lo, hi) for p, lo, hi in zip(d["parameter"], d["low_value"], d["high_value"], strict=True)
    ]
    lines = sum(label.count("\n") + 1 for label in labels)
    with calcsim_style():
        fig, ax = new_axes((7.0, 0.2 * lines + 0.25 * len(d) + 1.9))
        base = float(d["base"].iloc[0]) if len(d) else 0.0
        y = np.arange(len(d))[::-1]
        for yi, (_, r) in zip(y, d.iterrows(), strict=True):
            bars = [(r["at_low"] - base, PALETTE["sky"]), (r["at_high"] - base, PALETTE["orange"])]
            # the longer bar first, so that a shorter one on the same side stays visible
            for width, colour in sorted(bars, key=lambda b: -abs(b[0]) if np.isfinite(b[0]) else 0.0):
                ax.barh(yi, width, left=base, color=colour, height=0.7)
        ax.axvline(base, color=PALETTE["black"], lw=0.8)
        ax.set_yticks(y, labels)
        value_axis(ax, output, "x")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], min_n_ticks=4))
        ax.set_xlabel(f"{wrap(measure_label(output).lower(), 45)}\n({unit(output)}; base {format_value(output, base)})")
        left_title(fig, wrap(f"One-way sensitivity: {measure_label(output).lower()}", 70))
        ax.grid(axis="y", visible=False)
        fig.legend(
            handles=[
                Patch(color=PALETTE["sky"], label="parameter at low end of its range"),
                Patch(color=PALETTE["orange"], label="parameter at high end of its range"),
                Line2D([], [], color=PALETTE["black"], lw=0.8, label="base value"),
            ],
            loc="outside lower center",
            ncol=2,
        )
    return fig


def parameter_label(name: str, low: float, high: float, width: int = 32) -> str:
    """A parameter and its range on lines of at most ``width`` characters, broken after ``.`` or ``_``.

    ``"calcifications.cluster_prevalence_age50", 0.01, 0.15`` →
    ``"calcifications.cluster_\nprevalence_age50 [0.01–0.15]"``.
    """
    parts = re.findall(r"[^._]+[._]?", str(name)) or [str(name)]
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    rng = f"[{low:g} to {high:g}]" if min(low, high) < 0 else f"[{low:g}–{high:g}]"
    rng = rng.replace("-", "−")
    if len(lines[-1]) + 1 + len(rng) > width:
        lines.append(rng)
    else:
        lines[-1] += f" {rng}"
    return "\n".join(lines)


def _sobol_panel(ax: Axes, d: pd.DataFrame, output: str, labels: list[str]) -> None:
    """Total and first-order indices of one output (rows in the order of ``d``), at the style's font sizes."""
    y = np.arange(len(d)).astype(float)
    ax.barh(
        y + 0.18,
        d["ST"].clip(lower=0),
        height=0.36,
        color=PALETTE["orange"],
        label="total (ST)",
        xerr=d["ST_conf"],
        error_kw={"lw": 0.8, "capsize": 2},
    )
    ax.barh(
        y - 0.18,
        d["S1"].clip(lower=0),
        height=0.36,
        color=PALETTE["blue"],
        label="first order (S1)",
        xerr=d["S1_conf"],
        error_kw={"lw": 0.8, "capsize": 2},
    )
    ax.set_yticks(y, labels)
    top = max(float((d["ST"] + d["ST_conf"]).max()), float((d["S1"] + d["S1_conf"]).max()))
    ax.set_xlim(0, max(1.0, top * 1.05) if np.isfinite(top) else 1.0)
    ax.set_title(wrap(measure_label(output), 48), loc="left")
    ax.set_xlabel("share of output variance")
    ax.grid(axis="y", visible=False)


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
        One axes per output (in the table's order), stacked at the width of every other figure so
        that a page shows it unscaled, every text at least the style's base font size; parameters
        in the same rows in every panel, sorted by their largest total index.
    """
    need(
        sobol,
        ("output", "parameter", "S1", "S1_conf", "ST", "ST_conf"),
        "sobol_indices",
        "pass the table of analysis.calibration.sensitivity.sobol(...)",
    )
    outputs = list(dict.fromkeys(sobol["output"]))
    order = sobol.groupby("parameter")["ST"].max().sort_values(kind="stable").index.tolist()  # same rows everywhere
    with calcsim_style():
        fig = new_figure((STYLE["figure.figsize"][0], 1.2 + len(outputs) * (1.1 + 0.45 * len(order))))
        axes = np.atleast_1d(fig.subplots(len(outputs), 1, squeeze=False)).ravel()
        for ax, out in zip(axes, outputs, strict=True):
            d = sobol[sobol["output"] == out].set_index("parameter").reindex(order)
            _sobol_panel(ax, d, out, order)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncol=2)
        a = sobol.attrs
        extra = f" — {a.get('runs', '?')} runs of {a.get('women', 0):,} women" if a.get("runs") else ""
        left_title(fig, title or f"Sobol indices{extra}")
    return fig
