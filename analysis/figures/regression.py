"""Forest plot of adjusted odds ratios (:func:`analysis.stats.regression.fit_odds_ratios`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.errors import CalcsimInputError
from analysis.figures.inputs import need
from analysis.figures.style import PALETTE, calcsim_style, cycle_colour, errorbar, new_axes, offsets, pretty

__all__ = ["odds_ratios", "term_label"]


def term_label(term: str, references: Mapping[str, str]) -> str:
    """Readable label of a regression term: ``"family_history=>=2"`` → ``"family history ≥2 (vs 0)"``.

    Parameters
    ----------
    term : str
        A term of the fit (``covariate=level`` for a level of a categorical covariate).
    references : mapping
        Reference level of each categorical covariate (the fit's ``attrs["references"]``).
    """
    if "=" in term:
        cov, level = term.split("=", 1)
        ref = references.get(cov)
        return f"{cov.replace('_', ' ')} {pretty(level)}" + (f" (vs {pretty(ref)})" if ref else "")
    return term.replace("_", " ")


def _log_axis(ax: Axes, lo: float, hi: float) -> None:
    """Log-scaled odds-ratio axis from ``lo`` to ``hi``, labelled at 1, 2, 3, 5 × powers of ten."""
    ax.axvline(1.0, color=PALETTE["grey"], lw=0.9)
    ax.set_xscale("log")
    ax.set_xlim(lo / 1.3, hi * 1.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(
        FuncFormatter(
            lambda v, _: f"{v:g}" if v > 0 and round(v / 10 ** math.floor(math.log10(v)), 6) in (2, 3, 5) else ""
        )
    )
    ax.tick_params(axis="x", which="minor", labelsize=8)


def _fits(fits: Any) -> list[tuple[str, pd.DataFrame]]:
    if isinstance(fits, Mapping):
        out = [(str(k), v) for k, v in fits.items()]
    elif isinstance(fits, pd.DataFrame):
        out = [(str(fits.attrs.get("outcome", "")), fits)]
    else:
        raise CalcsimInputError(
            f"odds_ratios: fits is a {type(fits).__name__}; pass the table of "
            "analysis.stats.regression.fit_odds_ratios(screens, ...) or a {label: table} mapping"
        )
    if not out:
        raise CalcsimInputError("odds_ratios: fits is empty; pass at least one fit")
    for _, f in out:
        need(
            f,
            ("term", "odds_ratio", "lower", "upper"),
            "odds_ratios",
            "pass the table of analysis.stats.regression.fit_odds_ratios(screens, ...)",
        )
    return out


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
    series = _fits(fits)
    terms = list(dict.fromkeys(t for _, f in series for t in f["term"]))
    refs: dict[str, str] = {}
    for _, f in series:
        refs.update(f.attrs.get("references", {}) or {})
    offs = offsets(len(series), 0.5)
    with calcsim_style():
        fig, ax = new_axes((7.4, 1.6 + 0.36 * len(terms) * max(1, len(series)) ** 0.5))
        y = np.arange(len(terms))[::-1].astype(float)
        pos = dict(zip(terms, y, strict=True))
        lo_all, hi_all = [1.0], [1.0]
        for i, ((label, f), off) in enumerate(zip(series, offs, strict=True)):
            a = f.attrs
            desc = f"{label}" if label else "odds ratio"
            if a.get("method"):
                desc += f" ({a['method'].upper()}, {a.get('n_obs', 0):,} screens, {a.get('n_events', 0):,} events)"
            errorbar(
                ax,
                f["odds_ratio"],
                np.array([pos[t] for t in f["term"]]) - off,
                f["lower"],
                f["upper"],
                horizontal=True,
                color=cycle_colour(i),
                label=desc,
            )
            lo_all += [v for v in f["lower"] if np.isfinite(v) and v > 0]
            hi_all += [v for v in f["upper"] if np.isfinite(v)]
        _log_axis(ax, min(lo_all), max(hi_all))
        ax.set_yticks(y, [term_label(t, refs) for t in terms], fontsize=8.5)
        ax.set_ylim(-0.7, len(terms) - 0.3)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("adjusted odds ratio (log scale; 95% Wald interval)")
        outcome = series[0][1].attrs.get("outcome", "") if len(series) == 1 else ""
        ax.set_title(title or ("Odds ratios" + (f" of {outcome.replace('_', ' ')}" if outcome else "")), loc="left")
        fig.legend(loc="outside lower center", fontsize=8, ncol=1)
    return fig
