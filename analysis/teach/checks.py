"""The checks the coursework's hidden tests run: a student's answer against a correct analysis of *their* data.

The graded notebook (``notebooks/06_coursework.py``) calls these from its hidden test cells, e.g.::

    grading.check_proportion(grading.student_key(df), "recall_rate", recall_rate)

:func:`student_key` reads the student's key from the file named by the environment variable
:data:`KEY_ENV` — ``calcsim teach grade`` sets it for each submission, from the instructor's key, so a
student's edited data cannot change what they are graded against — and, when it is not set (the
report, an instructor running a solution notebook), computes the key from the data in the notebook.

A student's answer is computed from the same data as the key, so sampling error does not separate a
correct answer from the key — only rounding and the modelling choices the exercise allows do. The
tolerances are those, and sampling theory where a conclusion is asked:

* a proportion within :data:`PROPORTION_TOLERANCE` (half a unit of the third decimal: an answer rounded
  to three decimals passes; a percentage, a wrong denominator or a wrong subset does not);
* an interval's bounds within :data:`INTERVAL_TOLERANCE` of the interval's width of the Wilson bounds (any
  proper 95% interval — Wilson, Clopper–Pearson, Agresti–Coull, Wald — passes at the default size; a 90% or
  99% interval, or one on another quantity, does not);
* an odds ratio within :data:`ODDS_RATIO_TOLERANCE` on the log scale (an odds ratio rounded to two
  decimals passes) of the GEE estimate with the exchangeable working correlation the exercise asks for,
  or of the independence one (equal to a plain logistic regression's estimate);
* an interval that should allow for the repeated screens of each woman must hold the odds ratio (the
  key's or the student's own) and be closer, in log-width, to a robust (clustered) interval —
  exchangeable or independence GEE — than to the model-based interval of a logistic regression that
  treats every screen as independent;
* a direction (``True``/``False``) must be the one a correct analysis of the data finds — the 95% Wald
  interval of the difference above 0 — or the one the student's own estimates imply (error carried
  forward: a mistake loses only its own marks).

A key value that could not be estimated from a student's data (empty in ``key.csv``) fails the check
with a message saying so, for the instructor to mark by hand.

A failed check raises :class:`AssertionError` with a message for the student's feedback that says
what is wrong without giving the key's value.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

__all__ = [
    "INTERVAL_TOLERANCE",
    "ODDS_RATIO_TOLERANCE",
    "PROPORTION_TOLERANCE",
    "KEY_ENV",
    "check_clustered_interval",
    "check_first_higher",
    "check_interval",
    "check_odds_ratio",
    "check_proportion",
    "student_key",
]

#: Environment variable naming the JSON file of the student's key (set by ``calcsim teach grade``).
KEY_ENV = "CALCSIM_TEACH_KEY"
#: Tolerance on an interval's bounds, as a share of the correct interval's width.
INTERVAL_TOLERANCE = 0.05
#: Tolerance on a proportion (absolute): half a unit of the third decimal.
PROPORTION_TOLERANCE = 5e-4
#: Tolerance on an odds ratio, on the log scale (divided by the odds ratio below 1): an odds ratio rounded to
#: two decimals passes.
ODDS_RATIO_TOLERANCE = 0.005
_Z = 1.959963984540054
_cache: dict[int, tuple[Any, dict[str, Any]]] = {}


def student_key(df: Any = None) -> dict[str, Any]:
    """The key of the student being graded (see the module doc); ``df`` is used only without :data:`KEY_ENV`.

    The key is what :func:`analysis.teach.analyse_student_table` finds in the data: public, like any
    analysis function of the package, and computed from the student's own file.
    """
    path = os.environ.get(KEY_ENV)
    if path:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    if df is None:
        raise AssertionError(f"no key: {KEY_ENV} is not set and no data was given")
    cached = _cache.get(id(df))
    if cached is None or cached[0] is not df:
        from analysis.teach.key import analyse_student_table

        cached = (df, analyse_student_table(df))
        _cache.clear()
        _cache[id(df)] = cached
    return cached[1]


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool | np.bool_) or value is None:
        raise AssertionError(f"{name} must be a number, not {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AssertionError(f"{name} must be a number, not {type(value).__name__}") from None
    if not math.isfinite(v):
        raise AssertionError(f"{name} must be a finite number, not {v}")
    return v


def _key(key: dict[str, Any], name: str) -> float:
    """A key value as a float; a value the export could not estimate fails the check, for marking by hand."""
    try:
        v = float(key[name])
    except (KeyError, TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v):
        raise AssertionError(f"{name} could not be estimated from your data: your instructor marks this by hand")
    return v


def _pair(name: str, value: Any) -> tuple[float, float]:
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise AssertionError(f"{name} must be a pair (lower, upper)") from None
    return _number(f"{name} lower", lo), _number(f"{name} upper", hi)


def check_proportion(key: dict[str, Any], name: str, value: Any) -> None:
    """``value`` within :data:`PROPORTION_TOLERANCE` of the correct proportion ``key[name]``."""
    v = _number(name, value)
    if abs(v - _key(key, name)) > PROPORTION_TOLERANCE + 1e-12:
        raise AssertionError(
            f"{name} = {v:.4g} is not what a correct analysis of your data finds: check the numerator and, above"
            " all, the denominator (which rows count?); give a proportion between 0 and 1, not a percentage"
        )


def check_interval(key: dict[str, Any], name: str, value: Any) -> None:
    """Both bounds within :data:`INTERVAL_TOLERANCE` of the width of the Wilson interval of ``key[name]``."""
    lo, hi = _pair(name, value)
    klo, khi = _key(key, f"{name}_lower"), _key(key, f"{name}_upper")
    tol = INTERVAL_TOLERANCE * (khi - klo)
    if abs(lo - klo) > tol or abs(hi - khi) > tol:
        raise AssertionError(
            f"({lo:.4g}, {hi:.4g}) is not the 95% interval of your {name}: check the counts, alpha=0.05 and the method"
        )


def check_odds_ratio(key: dict[str, Any], name: str, value: Any) -> None:
    """``log(value)`` within :data:`ODDS_RATIO_TOLERANCE` of the exchangeable or the independence GEE estimate."""
    v = _number(name, value)
    if v <= 0:
        raise AssertionError(f"{name} must be an odds ratio (> 0), not {v}")
    targets = [_key(key, name), _key(key, f"{name}_independence")]
    if min(abs(math.log(v) - math.log(t)) * min(1.0, t, v) for t in targets) > ODDS_RATIO_TOLERANCE + 1e-12:
        raise AssertionError(
            f"odds ratio {v:.4g} is not what a correct analysis of your data finds: check the subset"
            " (postmenopausal screens), the exposure (> 12 months), the outcome and that it is an odds ratio"
            " (exp of the coefficient)"
        )


def check_clustered_interval(key: dict[str, Any], name: str, value: Any, estimate: Any = None) -> None:
    """The interval holds the estimate (the key's, or the student's own ``estimate``) and its log-width is
    closer to a robust (clustered) interval than to the naive one."""
    lo, hi = _pair(name, value)
    if not 0 < lo < hi:
        raise AssertionError(f"{name} interval must have 0 < lower < upper, not ({lo}, {hi})")
    centres = [_key(key, name)]
    try:
        centres.append(_number(name, estimate))
    except AssertionError:
        pass
    if not any(lo <= c <= hi for c in centres):  # the key's estimate, or the student's own (error carried forward)
        raise AssertionError(f"the interval ({lo:.4g}, {hi:.4g}) does not contain the odds ratio")
    width = math.log(hi / lo)
    robust = [
        math.log(_key(key, f"{name}{variant}_upper") / _key(key, f"{name}{variant}_lower"))
        for variant in ("", "_independence")
    ]
    naive = math.log(_key(key, f"{name}_naive_upper") / _key(key, f"{name}_naive_lower"))
    if min(abs(math.log(width / r)) for r in robust) >= abs(math.log(width / naive)):
        raise AssertionError(
            "the interval is about as narrow as one that treats every screen as independent: allow for the"
            " repeated screens of each woman (robust errors clustered by woman)"
        )


def check_first_higher(
    key: dict[str, Any], value: Any, recall_first: Any = None, recall_subsequent: Any = None
) -> None:
    """``value`` (True/False) is the direction a correct analysis finds — or, error carried forward, the one
    the student's own two rates imply (Wald interval of the difference above 0, the key's denominators), so
    a wrong rate loses its own marks and not the conclusion drawn correctly from it."""
    if not isinstance(value, bool | np.bool_):
        raise AssertionError(f"first_higher must be True or False, not {value!r}")
    allowed = {str(key["first_higher"]).strip().lower() in ("true", "1", "1.0")}
    try:
        p1, p2 = _number("recall_first", recall_first), _number("recall_subsequent", recall_subsequent)
    except AssertionError:
        p1 = p2 = math.nan
    n1, n2 = _key(key, "recall_first_n"), _key(key, "recall_subsequent_n")
    if 0 <= p1 <= 1 and 0 <= p2 <= 1 and n1 and n2:
        allowed.add(bool(p1 - p2 - _Z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) > 0))
    if bool(value) not in allowed:
        raise AssertionError(f"first_higher = {bool(value)} is not what your rates show: compare the interval with 0")
