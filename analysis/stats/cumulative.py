"""Cumulative probability of at least one false-positive recall over screening rounds.

docs/model.md §7.4 lists, among the programme measures, "the cumulative probability of
≥1 false-positive recall over N rounds". The single-number measure
``cumulative_false_positive_recall`` (:mod:`analysis.model.results`) counts it among the
women who were screened exactly N times; :func:`cumulative_false_positive_curve`
gives the whole curve, for every N, with the **Kaplan–Meier product-limit
estimate** over the woman's screen number (Hubbard et al., Ann Intern Med
2011;155:481 use the same approach for the 10-year cumulative risk):

* time is the woman's screen number (1 = her first attended screen, 2 = her
  second, …), not calendar time or the programme round — a missed invitation
  does not count as a screen;
* the event is her first false-positive recall (a recall with no cancer
  diagnosed at that screen or within follow-up: the screens column
  ``false_positive``);
* a woman is censored after her last screen without a false positive — she
  leaves the programme (stop age, death, no longer attending) or is diagnosed
  with cancer. Screens after a cancer diagnosis (``screen_detected`` or
  ``interval_cancer`` at an earlier screen) are not used: the curve is for women
  still screened without a cancer diagnosis.

With ``d_k`` first false positives among the ``n_k`` women at risk at screen
``k``, ``S(k) = Π_{j≤k} (1 − d_j / n_j)`` and the cumulative probability is
``1 − S(k)``. Its 95% interval uses Greenwood's variance
``Var S(k) = S(k)² Σ_{j≤k} d_j / (n_j (n_j − d_j))``, by default on the log(−log)
scale (Kalbfleisch & Prentice), which keeps the bounds inside [0, 1];
``ci="plain"`` gives the untransformed ``S ± z·SE`` (clipped to [0, 1]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import CalcsimInputError

#: Columns of the curve returned by :func:`cumulative_false_positive_curve`.
CURVE_COLUMNS = ("screen_number", "at_risk", "events", "cumulative_probability", "lower", "upper")
CI_METHODS = ("log-log", "plain")


def _bool(screens: pd.DataFrame, name: str) -> np.ndarray:
    col = screens[name]
    if col.isna().any():
        raise CalcsimInputError(f"screens: column {name!r} has missing values; fill or drop those screens first")
    if col.dtype != bool and not pd.to_numeric(col, errors="coerce").isin([0, 1]).all():
        raise CalcsimInputError(f"screens: column {name!r} must be True/False (or 0/1), found {col.dtype}")
    return col.to_numpy().astype(bool)


def first_events(screens: pd.DataFrame) -> pd.DataFrame:
    """One row per woman: her follow-up in screens and whether it ends in a false positive.

    Parameters
    ----------
    screens : pandas.DataFrame
        Screens table (``Results.screens``): needs ``woman`` and ``false_positive``;
        screens are ordered within a woman by ``round_index``, else ``age_years``,
        else table order; ``screen_detected`` and ``interval_cancer`` are used,
        when present, to drop screens after a cancer diagnosis.

    Returns
    -------
    pandas.DataFrame
        ``woman, screens, event``: ``screens`` is the screen number of her first
        false positive (``event`` True) or of her last usable screen (censored).
    """
    if not isinstance(screens, pd.DataFrame):
        raise CalcsimInputError(f"screens must be a pandas DataFrame, not {type(screens).__name__}")
    for col in ("woman", "false_positive"):
        if col not in screens.columns:
            raise CalcsimInputError(
                f"screens: no column {col!r}; pass the screens table of simulate(..., keep_screens=True)"
            )
    order = ["woman", *[c for c in ("round_index", "age_years") if c in screens.columns][:1]]
    s = screens.sort_values(order, kind="stable")
    woman = s["woman"].to_numpy()
    fp = _bool(s, "false_positive")
    diagnosed = np.zeros(len(s), dtype=bool)
    for col in ("screen_detected", "interval_cancer"):
        if col in s.columns:
            diagnosed |= _bool(s, col)
    # screens after the woman's first cancer diagnosis (strictly later) are dropped
    g = pd.Series(diagnosed.astype(np.int64)).groupby(woman, sort=False)
    diagnosed_before = (g.cumsum() - diagnosed).to_numpy() > 0
    keep = ~diagnosed_before
    woman, fp = woman[keep], fp[keep]
    number = pd.Series(np.ones(len(woman), dtype=np.int64)).groupby(woman, sort=False).cumsum().to_numpy()
    frame = pd.DataFrame({"woman": woman, "number": number, "fp": fp})
    last = frame.groupby("woman", sort=True)["number"].max()
    first_fp = frame[frame["fp"]].groupby("woman", sort=True)["number"].min()
    out = pd.DataFrame({"woman": last.index.to_numpy(), "screens": last.to_numpy()})
    fpn = first_fp.reindex(last.index)
    out["event"] = fpn.notna().to_numpy()
    out.loc[out["event"], "screens"] = fpn.dropna().to_numpy().astype(np.int64)
    return out


def cumulative_false_positive_curve(screens: pd.DataFrame, *, alpha: float = 0.05, ci: str = "log-log") -> pd.DataFrame:
    """Kaplan–Meier cumulative probability of ≥1 false-positive recall by screen number.

    Parameters
    ----------
    screens : pandas.DataFrame
        Screens table (``simulate(..., keep_screens=True).screens``); see
        :func:`first_events` for the columns used.
    alpha : float
        1 − confidence level of the interval.
    ci : {"log-log", "plain"}
        Greenwood interval on the log(−log S) scale (default) or untransformed.

    Returns
    -------
    pandas.DataFrame
        One row per screen number ``k`` = 1 … the largest with a woman at risk:
        ``screen_number, at_risk, events, cumulative_probability, lower, upper``
        (``at_risk``: women with a k-th screen and no earlier false positive;
        ``events``: first false positives at that screen). ``attrs`` records the
        women, the interval and the method.

    Notes
    -----
    Before the first event the estimate is 0 with a degenerate interval [0, 0];
    if every woman at risk has an event (S = 0) the estimate and both bounds are 1.
    """
    if ci not in CI_METHODS:
        raise CalcsimInputError(f"ci: {ci!r}: allowed {', '.join(CI_METHODS)}")
    if not 0 < alpha < 1:
        raise CalcsimInputError(f"alpha: {alpha!r}: a number between 0 and 1")
    w = first_events(screens)
    if w.empty:
        raise CalcsimInputError("screens: no screens; simulate more women")
    kmax = int(w["screens"].max())
    k = np.arange(1, kmax + 1)
    # women still at risk at k: follow-up (event or censoring) at k or later
    ends = np.bincount(w["screens"].to_numpy(), minlength=kmax + 2)[1 : kmax + 1]
    at_risk = (ends[::-1].cumsum()[::-1]).astype(np.int64)
    events = np.bincount(w.loc[w["event"], "screens"].to_numpy(), minlength=kmax + 1)[1 : kmax + 1].astype(np.int64)
    n, d = at_risk.astype(float), events.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n)
        terms = np.where(d > 0, d / (n * (n - d)), 0.0)  # inf where d == n
    greenwood = np.cumsum(terms)
    z = float(stats.norm.ppf(1 - alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        if ci == "log-log":
            # CI of log(-log S): half-width z * sqrt(V) / |log S|; S bounds = S ** exp(-/+ h)
            h = z * np.sqrt(greenwood) / np.abs(np.log(surv))
            s_lo, s_hi = surv ** np.exp(h), surv ** np.exp(-h)
        else:
            se = surv * np.sqrt(greenwood)
            s_lo, s_hi = surv - z * se, surv + z * se
    none_yet = np.cumsum(d) == 0
    zero = surv <= 0
    s_lo = np.where(none_yet, 1.0, np.where(zero, 0.0, s_lo))
    s_hi = np.where(none_yet, 1.0, np.where(zero, 0.0, s_hi))
    s_lo, s_hi = np.clip(s_lo, 0.0, 1.0), np.clip(s_hi, 0.0, 1.0)
    out = pd.DataFrame(
        {
            "screen_number": k,
            "at_risk": at_risk,
            "events": events,
            "cumulative_probability": 1.0 - surv,
            "lower": 1.0 - s_hi,
            "upper": 1.0 - s_lo,
        }
    )
    out.attrs.update(
        {
            "women": int(len(w)),
            "interval": f"Greenwood {100 * (1 - alpha):g}% ({ci})",
            "method": "Kaplan-Meier over screen number; event: first false-positive recall; "
            "censored at the last screen or at a cancer diagnosis",
        }
    )
    return out


__all__ = ["CI_METHODS", "CURVE_COLUMNS", "cumulative_false_positive_curve", "first_events"]
