"""The efficient frontier of screening strategies: which schedules buy benefit at the least cost.

Each strategy is a point (cost, benefit) -- e.g. screens per 1,000 women against life-years gained
per 1,000 women, both relative to no screening. The method is the one of the CISNET breast-cancer
models (Mandelblatt et al., Ann Intern Med 2009;151:738-47 and 2016;164:215-25), which is the
dominance analysis of health economics with a harm or resource count as the cost:

* a strategy is **strongly dominated** when another strategy (or no screening) has cost <= and
  benefit >= its own, at least one of them strictly;
* of the rest, a strategy is **extendedly dominated** when it lies strictly below the line joining
  two of the others: mixing those two (screening part of the women one way and the rest the other)
  gives more benefit at its cost;
* the remaining strategies are **efficient**: the upper-left convex hull of the points. Along it the
  incremental benefit per unit of cost decreases -- each step up the frontier buys less benefit per
  extra screen -- so the **incremental ratio** (extra cost per extra unit of benefit versus the
  previous efficient strategy, e.g. extra screens per life-year gained) increases.

Conventions of this implementation:

* with ``origin=True`` no screening, the point (0, 0), is a strategy of its own: it can dominate
  (anything with cost >= 0 and benefit <= 0, except (0, 0) itself), it starts the frontier and the
  first efficient strategy's incremental ratio is against it; it is not a row of the output (a
  strategy with cost <= 0 and benefit >= 0, one strictly, dominates it and starts the frontier instead);
* **ties**: strategies with identical cost and benefit do not dominate each other; when their common
  point is on the frontier all of them are efficient, with the same incremental ratio, against the
  previous frontier point at a different position (they are interchangeable; a strategy at (0, 0)
  with ``origin=True``, or the first point without an origin, has no comparator: NaN);
* a strategy exactly **on** a line joining two frontier neighbours (equal incremental ratios) is
  kept efficient: a mix of the two gives the same benefit at its cost, not more. Points are compared
  with a relative tolerance of 1e-12, so rounding does not decide this.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import input_error

__all__ = ["FRONTIER_COLUMNS", "efficient_frontier"]

#: The columns :func:`efficient_frontier` adds.
FRONTIER_COLUMNS = ("efficient", "dominance", "incremental_ratio")
_RELATIVE_TOLERANCE = 1e-12


def _values(df: pd.DataFrame, column: str, labels: list[object]) -> np.ndarray:
    """The column as finite floats; else a one-line error naming the strategy and the value."""
    if column not in df.columns:
        raise input_error(
            "efficient_frontier", "column", column, f"one of the columns {', '.join(map(str, df.columns))}"
        )
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise input_error("efficient_frontier", f"{column} of strategy {labels[i]!r}", raw.iloc[i], "a finite number")
    return values


def _strongly_dominated(cost: np.ndarray, benefit: np.ndarray, origin: bool) -> np.ndarray:
    """For each point: another point (or the origin) has cost <= and benefit >=, one strictly."""
    c, b = cost, benefit
    if origin:
        c, b = np.append(cost, 0.0), np.append(benefit, 0.0)
    no_worse = (c[None, :] <= cost[:, None]) & (b[None, :] >= benefit[:, None])
    better = (c[None, :] < cost[:, None]) | (b[None, :] > benefit[:, None])
    return (no_worse & better).any(axis=1)


def _below(a: tuple[float, float], m: tuple[float, float], z: tuple[float, float]) -> bool:
    """Whether ``m`` lies strictly below the line from ``a`` to ``z`` (``a`` left of ``m`` left of ``z``)."""
    cross = (m[0] - a[0]) * (z[1] - a[1]) - (m[1] - a[1]) * (z[0] - a[0])
    scale = np.hypot(m[0] - a[0], m[1] - a[1]) * np.hypot(z[0] - a[0], z[1] - a[1])
    return bool(cross > _RELATIVE_TOLERANCE * scale)


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The upper-left hull of distinct points, none strongly dominated, sorted by increasing cost.

    Such points have strictly increasing cost and benefit; the hull keeps a point unless it lies
    strictly below the line joining its neighbours (the monotone-chain upper hull, collinear points kept).
    """
    hull: list[tuple[float, float]] = []
    for p in points:
        while len(hull) >= 2 and _below(hull[-2], hull[-1], p):
            hull.pop()
        hull.append(p)
    return hull


def efficient_frontier(
    df: pd.DataFrame, cost: str, benefit: str, name: str = "strategy", origin: bool = True
) -> pd.DataFrame:
    """Flag the efficient strategies and the kind of dominance of the others.

    The CISNET efficient-frontier method (Mandelblatt et al., Ann Intern Med 2009;151:738-47;
    Mandelblatt et al., Ann Intern Med 2016;164:215-25): a strategy is efficient when no other
    strategy, nor a mix of two others, gives at least its benefit at no more cost; the efficient
    strategies form the upper-left convex hull of the (cost, benefit) points, along which the
    incremental benefit per unit of cost decreases. The module docstring states the conventions
    (the origin, ties, points exactly on the hull).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per strategy.
    cost : str
        Column of the cost, e.g. screens (or false positives) per 1,000 women; numeric, finite.
    benefit : str
        Column of the benefit, e.g. life-years gained per 1,000 women; numeric, finite.
    name : str, default "strategy"
        Column naming the strategies, used in error messages; the index labels when there is no
        such column.
    origin : bool, default True
        Whether no screening (cost 0, benefit 0) is a comparator: it may dominate, it starts the
        frontier and the first efficient strategy's incremental ratio is against it. It is not a row
        of the result.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` (same rows, same order) with ``efficient`` (bool), ``dominance`` (``""``
        for efficient, ``"strong"`` or ``"extended"``) and ``incremental_ratio`` (for an efficient
        strategy: (cost - previous cost) / (benefit - previous benefit) against the previous
        efficient point, e.g. extra screens per extra life-year gained; NaN otherwise and where there
        is no previous point). Columns of those names already in ``df`` are replaced.

    Raises
    ------
    CalcsimInputError
        (a ``ValueError``) ``cost`` or ``benefit`` is not a column, or a strategy's value is missing,
        not a number or infinite; the message names the strategy.
    """
    if not isinstance(df, pd.DataFrame):
        raise input_error("efficient_frontier", "df", type(df).__name__, "a pandas DataFrame")
    labels = list(df[name]) if name in df.columns else list(df.index)
    c, b = _values(df, cost, labels), _values(df, benefit, labels)
    strong = _strongly_dominated(c, b, origin)
    candidates = {(float(x), float(y)) for x, y, s in zip(c, b, strong, strict=True) if not s}
    if origin and not ((c <= 0) & (b >= 0) & ((c < 0) | (b > 0))).any():
        candidates.add((0.0, 0.0))  # no screening, unless a strategy dominates it
    hull = _hull(sorted(candidates))
    ratio_at = {hull[0]: np.nan} if hull else {}
    for prev, p in zip(hull, hull[1:], strict=False):
        ratio_at[p] = (p[0] - prev[0]) / (p[1] - prev[1])
    points = list(zip(c.tolist(), b.tolist(), strict=True))
    efficient = np.array([p in ratio_at for p in points], dtype=bool) & ~strong
    out = df.copy()
    out["efficient"] = efficient
    out["dominance"] = np.where(efficient, "", np.where(strong, "strong", "extended")).astype(object)
    out["incremental_ratio"] = [ratio_at[p] if e else np.nan for p, e in zip(points, efficient, strict=True)]
    out["incremental_ratio"] = out["incremental_ratio"].astype(float)
    return out
