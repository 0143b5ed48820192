"""Benefits and harms of screening strategies: efficiency frontiers, benefit against harms, one balance sheet.

``strategies``: one row per strategy (``strategy``, ``label``, optional ``default``: the scenario's programme), each
measure ``M`` with ``M_lower`` and ``M_upper`` (95% interval), and the frontier flags ``efficient_<flag>`` and
``dominance_<flag>`` (``""``, ``"strong"``, ``"extended"``) for ``flag`` in ``screens`` and ``false_positives``.
``balance``: a strategy's ``measure``, ``label``, ``side`` (benefit/harm), ``estimate``, ``lower``, ``upper``, ``unit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.errors import CalcsimInputError
from analysis.figures.cells import format_number
from analysis.figures.inputs import need
from analysis.figures.style import PALETTE, calcsim_style, errorbar, left_title, new_axes, new_figure, subtitle, wrap
from analysis.stats.benefits import BENEFIT_MEASURES

__all__ = ["STRATEGY_MEASURES", "axis_label", "balance_sheet", "efficiency_frontier", "harm_benefit"]

#: The columns of a measure ``M`` in the strategies table: ``M``, ``M_lower``, ``M_upper``.
_ENDS = ("", "_lower", "_upper")
#: What each measure counts (the part of its name before ``_per_``), labelled as the measures are.
_LABELS = {m.name.split("_per_1000_")[0]: m.label for m in BENEFIT_MEASURES if "_per_1000_" in m.name}
_NAMES = {k: _LABELS[k] for k in ("screens", "life_years_gained", "bc_deaths_averted", "false_positive_recalls",
                                  "overdiagnosed")}  # fmt: skip
#: The measures of the strategies table (each with ``_lower`` and ``_upper``), per 1,000 women of the
#: population (the frontier's common denominator).
STRATEGY_MEASURES = tuple(f"{name}_per_1000_women" for name in _NAMES)
#: Who a denominator counts (the part of a measure's name after ``_per_1000_``), when not ``women <part>``.
_WHO = {"women": "women alive and free of breast cancer at the population age"}
#: How each kind of strategy is drawn: legend text, marker, colour, filled.
_KINDS = {
    "efficient": ("efficient", "o", PALETTE["blue"], True),
    "strong": ("strongly dominated", "s", PALETTE["grey"], False),
    "extended": ("extendedly dominated", "^", PALETTE["grey"], False),
    "other": ("not on the frontier", "o", PALETTE["grey"], False),
}
#: The ring around the scenario's own programme, and the frontier line (a dot at the origin, no screening).
_RING = {"ms": 13, "mfc": "none", "mec": PALETTE["orange"], "mew": 2, "zorder": 4, "gid": "default"}
_FRONTIER = {"color": PALETTE["blue"], "lw": 1.6, "zorder": 2, "gid": "frontier"}
_ORIGIN = {"marker": "o", "markevery": [0], "ms": 4, "mfc": PALETTE["black"], "mec": PALETTE["black"]}
_FRONTIER_NOTE = (
    "Error bars: 95% interval of the benefit.\nStrongly dominated: another strategy gives more {b} with fewer {c};\n"
    "extendedly dominated: a mix of two strategies on the frontier gives more {b} with as few {c}."
)
_HARM_NOTE = "Error bars: 95% intervals of both measures. Named: the strategies on the frontier against screens."
_STRATEGIES_HINT = "pass the table of strategies (one row per strategy, each measure with _lower and _upper)"
_BALANCE = ("measure", "label", "side", "estimate", "lower", "upper", "unit")
_BALANCE_HINT = f"pass the balance sheet of one strategy ({', '.join(_BALANCE)})"
_VALUE = {"xytext": (4, 0), "textcoords": "offset points", "va": "center", "fontsize": 8}


# ----------------------------------------------------------------------------- labels and inputs
def axis_label(measure: str, two_lines: bool = False) -> str:
    """Axis label of a measure: ``"screens_per_1000_invited"`` → ``"Screens per 1,000 women invited"``.

    With ``two_lines`` the denominator goes on a second line (``"Screens\\nper 1,000 women invited"``).
    """
    name, sep, per = measure.partition("_per_")
    what = _NAMES.get(name, name.replace("_", " ").capitalize())
    n, _, who = per.partition("_")
    per = f"per {int(n):,} " if n.isdigit() else f"per {n} "
    per += _WHO.get(who, f"women {who.replace('_', ' ')}".strip())
    return (f"{what}\n{wrap(per, 40)}" if two_lines else f"{what} {per}") if sep else what


def _name(measure: str) -> str:
    """What a measure counts, in lower case for a sentence (``"life-years gained"``)."""
    what = axis_label(measure.partition("_per_")[0])
    return what[:1].lower() + what[1:]


def _frame(df: Any, cols: Sequence[str], where: str, arg: str, hint: str) -> pd.DataFrame:
    """``df`` checked: a DataFrame with the columns ``cols`` and at least one row (index reset)."""
    if not isinstance(df, pd.DataFrame):
        raise CalcsimInputError(f"{where}: {arg} is a {type(df).__name__}; {hint}")
    need(df, cols, where, hint)
    if df.empty:
        raise CalcsimInputError(f"{where}: {arg} has no rows; {hint}")
    return df.reset_index(drop=True)


def _numbers(df: pd.DataFrame, col: str, where: str) -> np.ndarray:
    """Column ``col`` as floats (a value that is not a number raises, naming the column)."""
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna()
    if bad.any():
        raise CalcsimInputError(f"{where}: column {col!r}: {df[col][bad].iloc[0]!r} is not a number")
    return values.to_numpy(float)


def _flag(df: pd.DataFrame, col: str) -> np.ndarray:
    """A boolean column; missing values, or a missing column (e.g. the optional ``default``), are False."""
    return df[col].fillna(False).astype(bool).to_numpy() if col in df.columns else np.zeros(len(df), bool)


def _kinds(df: pd.DataFrame, flag: str, where: str) -> np.ndarray:
    """Kind of each strategy on frontier ``flag``: efficient, strong, extended (dominated) or other."""
    col = f"dominance_{flag}"
    dom = df[col].fillna("").astype(str).str.strip().str.lower()
    bad = ~dom.isin(["", "strong", "extended"])
    if bad.any():
        raise CalcsimInputError(f"{where}: column {col!r}: {df[col][bad].iloc[0]!r}: one of '', 'strong', 'extended'")
    return np.where(_flag(df, f"efficient_{flag}"), "efficient", np.where(dom == "", "other", dom.to_numpy(str)))


def _names(df: pd.DataFrame) -> list[str]:
    """The name shown for each strategy: its ``label``, else its ``strategy``."""
    fallback = df["strategy"] if "strategy" in df.columns else pd.Series([""] * len(df))
    return [str(lab) if pd.notna(lab) and str(lab) else str(s) for lab, s in zip(df["label"], fallback, strict=True)]


# ----------------------------------------------------------------------------- drawing helpers
def _thousands(*axes: Any) -> None:
    """Tick labels of each axis (``ax.xaxis``, ``ax.yaxis``) with thousands separators: ``20,000``."""
    for a in axes:
        a.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"))


def _err(centre: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Error-bar lengths below and above ``centre`` (none where an end is missing)."""
    err = np.vstack([np.clip(centre - lo, 0, None), np.clip(hi - centre, 0, None)])
    return np.where(np.isfinite(err), err, 0.0)


def _mark_default(ax: Axes, x: np.ndarray, y: np.ndarray, default: np.ndarray, names: list[str]) -> None:
    """A ring around the scenario's own programme, with a legend entry naming it."""
    if default.any():
        which = ", ".join(n for n, d in zip(names, default, strict=True) if d)
        ax.plot(x[default], y[default], "o", label=f"this scenario's programme ({which})", **_RING)


def _name_points(ax: Axes, x: np.ndarray, y: np.ndarray, names: list[str], show: np.ndarray) -> None:
    """Name each strategy where ``show``: above left of its point; below right near the y axis or the last name."""
    xr, yr = (float(np.nanmax(np.abs(np.r_[v, 1e-9]))) for v in (x, y))
    last = (np.inf, np.inf)
    for i in sorted(np.flatnonzero(show & np.isfinite(x) & np.isfinite(y)), key=lambda i: x[i]):
        below = x[i] < 0.2 * xr or (abs(x[i] - last[0]) < 0.06 * xr and abs(y[i] - last[1]) < 0.08 * yr)
        off, ha, va = ((6, -3), "left", "top") if below else ((-5, 5), "right", "bottom")
        ax.annotate(names[i], (x[i], y[i]), xytext=off, textcoords="offset points", ha=ha, va=va, fontsize=7.5)
        last = (x[i], y[i])


def _kind_points(ax: Axes, x: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, kind: np.ndarray) -> None:
    """One error-bar series per kind of strategy present (benefit interval on y)."""
    for k, (text, marker, col, filled) in _KINDS.items():
        m = kind == k
        if m.any():
            kw = {"fmt": marker, "color": col, "mfc": col if filled else "white", "zorder": 3, "gid": k}
            errorbar(ax, x[m], y[m], lo[m], hi[m], label=f"{text} ({m.sum()})", **kw)


# ----------------------------------------------------------------------------- efficiency frontier
def efficiency_frontier(
    strategies: pd.DataFrame,
    cost: str = "screens_per_1000_women",
    benefit: str = "life_years_gained_per_1000_women",
    flag: str = "screens",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Benefit against cost of every strategy, the efficient ones joined from no screening (0, 0).

    Parameters
    ----------
    strategies : DataFrame
        One row per strategy (see the module): ``label``, ``cost``, ``benefit`` with
        ``benefit_lower`` / ``benefit_upper``, ``efficient_<flag>`` and ``dominance_<flag>``;
        optional ``default`` (the scenario's own programme, ringed) and ``strategy``.
    cost, benefit : str
        Measures (columns) on the x and y axes; the flags must come from the same two.
    flag : str
        Which frontier's flags to draw: ``"screens"`` (against screens) or
        ``"false_positives"`` (against false-positive recalls).
    ax : Axes, optional
        Draw into this axes (its figure is returned); default a new figure.
    title : str, optional
        Title (default names benefit and cost).

    Returns
    -------
    matplotlib.figure.Figure
        Points with the benefit's 95% interval; efficient strategies (named) joined by the
        frontier line from (0, 0) in order of cost (the line has ``gid="frontier"``); strongly and
        extendedly dominated ones in muted open markers, each kind with a legend entry.

    Raises
    ------
    CalcsimInputError
        If ``strategies`` is empty, lacks a column or has an unknown dominance value.
    """
    where = "efficiency_frontier"
    cols = ("label", cost, *(f"{benefit}{e}" for e in _ENDS), f"efficient_{flag}", f"dominance_{flag}")
    s = _frame(strategies, cols, where, "strategies", _STRATEGIES_HINT)
    x = _numbers(s, cost, where)
    y, lo, hi = (_numbers(s, f"{benefit}{e}", where) for e in _ENDS)
    kind, names, default = _kinds(s, flag, where), _names(s), _flag(s, "default")
    with calcsim_style():
        own = ax is None
        fig, ax = new_axes((7.2, 4.8)) if ax is None else (ax.get_figure(root=True), ax)
        eff = np.flatnonzero(kind == "efficient")
        eff = eff[np.lexsort((y[eff], x[eff]))]
        ax.plot(np.r_[0.0, x[eff]], np.r_[0.0, y[eff]], label="efficiency frontier", **_FRONTIER, **_ORIGIN)
        ax.annotate("no screening", (0, 0), xytext=(5, 3), textcoords="offset points", fontsize=7.5)
        _kind_points(ax, x, y, lo, hi, kind)
        _mark_default(ax, x, y, default, names)
        _name_points(ax, x, y, names, (kind == "efficient") | default)
        ax.set_xlim(left=0)
        _thousands(ax.xaxis, ax.yaxis)
        ax.set_ylim(bottom=min(0.0, float(np.nanmin(np.r_[y, lo]))))
        ax.set_xlabel(axis_label(cost, two_lines=len(axis_label(cost)) > 75))
        ax.set_ylabel(axis_label(benefit, two_lines=len(axis_label(benefit)) > 50))
        text = title or f"Efficiency frontier: {_name(benefit)} against {_name(cost)}"
        ax.legend(loc="lower right", fontsize=8)
        if own:
            left_title(fig, text)
            subtitle(fig, _FRONTIER_NOTE.format(b=_name(benefit), c=_name(cost)))
        else:
            ax.set_title(text, loc="left")
    return fig


# ----------------------------------------------------------------------------- benefit against harms
def _harm_panel(ax: Axes, s: pd.DataFrame, harm: str, benefit: tuple[np.ndarray, ...], eff: np.ndarray) -> None:
    """One harm on x against the benefit on y: efficient strategies filled and named, the others open."""
    x, xlo, xhi = (_numbers(s, f"{harm}{e}", "harm_benefit") for e in _ENDS)
    y, ylo, yhi = benefit
    names = _names(s)
    for m, (text, _marker, col, filled) in ((eff, _KINDS["efficient"]), (~eff, _KINDS["other"])):
        if m.any():
            kw = {"fmt": "o", "ms": 5, "capsize": 2.5, "lw": 1.1, "color": col, "mfc": col if filled else "white"}
            xerr, yerr = _err(x[m], xlo[m], xhi[m]), _err(y[m], ylo[m], yhi[m])
            ax.errorbar(x[m], y[m], xerr=xerr, yerr=yerr, zorder=3, label=f"{text} against screens ({m.sum()})", **kw)
    _mark_default(ax, x, y, _flag(s, "default"), names)
    _name_points(ax, x, y, names, eff)
    ax.set_xlim(left=min(0.0, float(np.nanmin(np.r_[x, xlo]))))
    ax.set_xlabel(axis_label(harm, two_lines=True))
    _thousands(ax.xaxis, ax.yaxis)


def harm_benefit(
    strategies: pd.DataFrame,
    harm: str = "false_positive_recalls_per_1000_women",
    benefit: str = "bc_deaths_averted_per_1000_women",
    second_harm: str = "overdiagnosed_per_1000_women",
    *,
    title: str | None = None,
) -> Figure:
    """The benefit of every strategy against two harms, side by side on a shared benefit axis.

    Parameters
    ----------
    strategies : DataFrame
        One row per strategy (see the module): ``label``, ``efficient_screens`` and each of
        ``harm``, ``benefit`` and ``second_harm`` with its ``_lower`` and ``_upper`` columns;
        optional ``default`` (the scenario's own programme, ringed) and ``strategy``.
    harm, second_harm : str
        The harms on the x axes of the left and right panels (default: per 1,000 women of the population,
        the frontier's common denominator).
    benefit : str
        The benefit on the shared y axis.
    title : str, optional
        Figure title (default names the benefit and the harms).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels (``fig.axes``: ``harm``, ``second_harm``) sharing y; each strategy a point with
        95% intervals in both directions; only the strategies on the efficiency frontier against
        screens are named (filled), the others drawn open.

    Raises
    ------
    CalcsimInputError
        If ``strategies`` is empty or lacks a column.
    """
    where = "harm_benefit"
    cols = ["label", "efficient_screens"] + [f"{m}{e}" for m in (benefit, harm, second_harm) for e in _ENDS]
    s = _frame(strategies, cols, where, "strategies", _STRATEGIES_HINT)
    y = tuple(_numbers(s, f"{benefit}{e}", where) for e in _ENDS)
    eff = _flag(s, "efficient_screens")
    with calcsim_style():
        fig = new_figure((9.0, 4.6))
        axes = fig.subplots(1, 2, sharey=True)
        for ax, m in zip(axes, (harm, second_harm), strict=True):
            _harm_panel(ax, s, m, y, eff)
        axes[0].set_ylim(bottom=min(0.0, float(np.nanmin(np.r_[y[0], y[1]]))))
        axes[0].set_ylabel(axis_label(benefit, two_lines=True))
        axes[0].legend(loc="lower right", fontsize=8)
        what = axis_label(benefit).split(" per ")[0]
        left_title(fig, title or f"{what} against {_name(harm)} and {_name(second_harm)}")
        subtitle(fig, _HARM_NOTE)
    return fig


# ----------------------------------------------------------------------------- balance sheet
def _value_text(est: float, lo: float, hi: float) -> str:
    """``"4.56 (3.10–6.02)"``: three significant digits, the interval when both ends are known."""
    text = format_number(est, 3)
    if np.isfinite(lo) and np.isfinite(hi):
        text += f" ({format_number(lo, 3)}–{format_number(hi, 3)})"
    return text


def _layout(side: np.ndarray) -> tuple[list[float], list[float], list[str | int]]:
    """Row positions (benefits, a gap, harms); tick positions with each tick's heading or row number."""
    rows, ticks, entries, y = [0.0] * len(side), [], [], -1.0
    for key, heading in (("benefit", "Benefits"), ("harm", "Harms")):
        idx = np.flatnonzero(side == key)
        if len(idx):
            y += 1.6 if ticks else 1.0
            ticks.append(y)
            entries.append(heading)
            for i in idx:
                y += 1.0
                rows[i] = y
                ticks.append(y)
                entries.append(int(i))
    return rows, ticks, entries


def _side_axis(ax: Axes, ticks: list[float], entries: list[str | int], labels: list[str]) -> None:
    """The row labels on y, each side's heading in bold in its colour; no y grid."""
    ax.set_yticks(ticks, [e if isinstance(e, str) else labels[e] for e in entries], fontsize=8.5)
    for tick, e in zip(ax.get_yticklabels(), entries, strict=True):
        if isinstance(e, str):
            tick.set(fontweight="bold", color=PALETTE["green"] if e == "Benefits" else PALETTE["red"])
    ax.set_ylim(ticks[-1] + 0.7, ticks[0] - 0.7)
    ax.tick_params(axis="y", left=False)
    ax.grid(axis="y", visible=False)


def balance_sheet(balance: pd.DataFrame, title: str | None = None) -> Figure:
    """The benefits and the harms of one strategy as bars with their 95% intervals and values.

    Parameters
    ----------
    balance : DataFrame
        One row per measure: ``measure``, ``label`` (shown), ``side`` (``"benefit"`` or
        ``"harm"``), ``estimate``, ``lower``, ``upper`` and ``unit`` (e.g. ``"per 1,000 women
        screened"``); the strategy's name may be in ``balance.attrs["label"]``.
    title : str, optional
        Figure title (default names the strategy and the unit).

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars (benefits green, then harms vermilion, each side under a bold heading),
        each with its 95% interval and its value printed at the end.

    Raises
    ------
    CalcsimInputError
        If ``balance`` is empty, lacks a column or has a side other than benefit or harm.
    """
    where = "balance_sheet"
    b = _frame(balance, _BALANCE, where, "balance", _BALANCE_HINT)
    side = b["side"].astype(str).str.strip().str.lower()
    if not side.isin(["benefit", "harm"]).all():
        bad = b["side"][~side.isin(["benefit", "harm"])].iloc[0]
        raise CalcsimInputError(f"{where}: column 'side': {bad!r}: one of 'benefit', 'harm'")
    side = side.to_numpy(str)
    est, lo, hi = (_numbers(b, c, where) for c in ("estimate", "lower", "upper"))
    units = list(dict.fromkeys(b["unit"].dropna().astype(str)))
    rows, ticks, entries = _layout(side)
    labels = [wrap(str(t), 30) + f"\n({u})" * (len(units) > 1) for t, u in zip(b["label"], b["unit"], strict=True)]
    with calcsim_style():
        fig, ax = new_axes((7.4, 1.5 + 0.42 * len(ticks)))
        colours = np.where(side == "benefit", PALETTE["green"], PALETTE["red"])
        ax.barh(rows, est, height=0.6, color=colours, alpha=0.85, zorder=2)
        errorbar(ax, est, rows, lo, hi, horizontal=True, fmt="none", color=PALETTE["black"], lw=1.1, zorder=3)
        ends = np.nanmax(np.vstack([est, np.where(np.isfinite(hi), hi, est), np.zeros_like(est)]), axis=0)
        for y, end, e, low, high in zip(rows, ends, est, lo, hi, strict=True):
            ax.annotate(_value_text(e, low, high), (end, y), **_VALUE)
        left = min(0.0, float(np.nanmin(np.r_[est, lo])))
        ax.set_xlim(left * 1.1, max(float(np.nanmax(ends)), 1e-9) * 1.4)
        _side_axis(ax, ticks, entries, labels)
        ax.axvline(0, color=PALETTE["grey"], lw=0.9)
        _thousands(ax.xaxis)
        ax.set_xlabel(units[0][:1].upper() + units[0][1:] if len(units) == 1 else "Number (unit under each row)")
        names = b["strategy"].astype(str).unique() if "strategy" in b.columns else []
        who = balance.attrs.get("label") or balance.attrs.get("strategy") or (names[0] if len(names) == 1 else "")
        who = f" ({who})" if who else ""
        left_title(fig, title or f"Benefits and harms of screening{who}" + (f", {units[0]}" if len(units) == 1 else ""))
        subtitle(fig, "Bars: estimate; lines: 95% interval; values: estimate (95% interval).")
    return fig
