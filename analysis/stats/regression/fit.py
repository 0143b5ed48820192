"""Adjusted odds ratios with 95% Wald intervals (:func:`fit_odds_ratios`) and joint Wald tests (:func:`wald_test`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import CalcsimInputError, did_you_mean, input_error
from analysis.stats.regression.design import Design, build_design, fit_input_error
from analysis.stats.regression.engines import ENGINES, EngineFit, convergence_error, fit_gee, fit_glm
from analysis.stats.regression.frame import COVARIATES, DEFAULT_COVARIATES, OUTCOMES, bool_column
from analysis.stats.regression.frame import covariates as derive_covariates

__all__ = ["MAX_ABS_LOG_OR", "METHODS", "fit_odds_ratios", "wald_test"]

METHODS: tuple[str, ...] = ("gee", "glm")

#: Largest |log odds ratio| accepted from a fit; beyond it (OR > 160,000) the
#: estimate is running off to infinity, i.e. the data are (quasi-)separated.
MAX_ABS_LOG_OR = 12.0


# ----------------------------------------------------------------------------- arguments and data
def _check_arguments(
    outcome: str, method: str, engine: str, covariates: Sequence[str] | str, maxiter: int | None
) -> list[str]:
    """The covariate names, de-duplicated; one-line errors for bad arguments."""
    if outcome not in OUTCOMES:
        raise input_error(
            "fit_odds_ratios",
            "outcome",
            outcome,
            f"unknown outcome{did_you_mean(str(outcome), OUTCOMES)}; allowed: {', '.join(OUTCOMES)}",
        )
    if method not in METHODS:
        raise input_error("fit_odds_ratios", "method", method, f"allowed: {', '.join(METHODS)}")
    if engine not in ENGINES:
        raise input_error("fit_odds_ratios", "engine", engine, f"allowed: {', '.join(ENGINES)}")
    if maxiter is not None and (isinstance(maxiter, bool) or not isinstance(maxiter, int | np.integer) or maxiter < 1):
        raise input_error("fit_odds_ratios", "maxiter", maxiter, "a whole number >= 1, or None for the default")
    names = list(dict.fromkeys([covariates] if isinstance(covariates, str) else covariates))
    if not names:
        raise fit_input_error("covariates: empty; name at least one (allowed: " + ", ".join(COVARIATES) + ")")
    for name in names:
        if name not in COVARIATES:
            raise input_error(
                "fit_odds_ratios",
                "covariates",
                name,
                f"unknown covariate{did_you_mean(str(name), COVARIATES)}; allowed: {', '.join(COVARIATES)}",
            )
    return names


def _subset_mask(screens: pd.DataFrame, subset: Any) -> np.ndarray:
    if isinstance(subset, pd.Series):
        if not subset.index.equals(screens.index):
            if not subset.index.is_unique:
                raise fit_input_error(
                    "subset: a Series with a duplicated index; pass a boolean numpy array, one per screen"
                )
            subset = subset.reindex(screens.index)  # align on the index, like screens.loc[subset]
        if subset.isna().any():
            raise fit_input_error(
                "subset: missing values (a Series not covering every screen); pass a boolean"
                " mask with one True/False per screen"
            )
        subset = subset.to_numpy()
    mask = np.asarray(subset)
    if mask.dtype != bool:
        raise fit_input_error(f"subset: dtype {mask.dtype}; pass a boolean mask with one True/False per screen")
    if mask.shape != (len(screens),):
        raise fit_input_error(
            f"subset: length {mask.size} but {len(screens):,} screens; pass a boolean mask with"
            " one True/False per screen"
        )
    return mask


@dataclass
class _Data:
    """The screens fitted, in fitting order (by woman), with outcome, groups and counts."""

    rows: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    n_obs: int
    n_events: int
    n_women: int


def _screens_fitted(screens: pd.DataFrame, outcome: str, subset: Any, first_screen_only: bool) -> _Data:
    """Subset, sort by woman (then round or age), keep first screens if asked; check the counts."""
    if not isinstance(screens, pd.DataFrame):
        raise fit_input_error(f"screens must be a pandas DataFrame, not {type(screens).__name__}")
    for col in ("woman", outcome):
        if col not in screens.columns:
            raise fit_input_error(
                f"screens: no column {col!r}; pass the screens table of simulate(..., keep_screens=True)"
            )
    rows = screens if subset is None else screens.loc[_subset_mask(screens, subset)]
    if rows.empty:
        raise fit_input_error("no screens to fit (empty table or subset selects none); widen the subset")
    order_by = ["woman", *[c for c in ("round_index", "age_years") if c in rows.columns][:1]]
    rows = rows.sort_values(order_by, kind="stable")
    if first_screen_only:
        rows = rows.loc[~rows["woman"].duplicated()]
    y = bool_column(rows, outcome)
    groups = rows["woman"].to_numpy()
    n_obs, n_events = len(y), int(y.sum())
    if n_events == 0 or n_events == n_obs:
        what = "no events" if n_events == 0 else "only events"
        raise fit_input_error(
            f"{outcome}: {what} among the {n_obs:,} screens fitted; an odds ratio needs both"
            " outcomes — widen the subset, simulate more women or choose another outcome"
        )
    if n_obs < 10:
        raise fit_input_error(
            f"too few observations ({n_obs} screens); a logistic model needs far more —"
            " simulate more women or widen the subset"
        )
    return _Data(rows=rows, y=y, groups=groups, n_obs=n_obs, n_events=n_events, n_women=int(pd.unique(groups).size))


def _check_size(data: _Data, p: int, method: str) -> None:
    fewest = min(data.n_events, data.n_obs - data.n_events)
    if fewest < p or data.n_obs < 2 * p:
        raise fit_input_error(
            f"too few observations for {p} parameters ({data.n_obs:,} screens, {data.n_events:,}"
            f" events, {data.n_obs - data.n_events:,} non-events; need at least one event and one"
            " non-event per parameter, ideally ten): drop covariates, simulate more women or"
            " widen the subset"
        )
    if method == "gee" and data.n_women <= p:
        raise fit_input_error(
            f"too few women ({data.n_women}) for {p} parameters: robust GEE errors need many"
            " more women than parameters — drop covariates or simulate more women"
        )


def _check_estimates(fit: EngineFit, terms: list[str]) -> np.ndarray:
    """Standard errors; one-line errors for non-finite estimates or a coefficient running off to infinity."""
    params, p = fit.params, len(fit.params)
    se = np.sqrt(np.diag(fit.cov))
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(se))):
        raise convergence_error("non-finite estimates or standard errors")
    worst = int(np.argmax(np.abs(params[1:]))) if p > 1 else 0
    if p > 1 and abs(params[1 + worst]) > MAX_ABS_LOG_OR:
        raise fit_input_error(
            f"term {terms[worst]!r} has log odds ratio {params[1 + worst]:.1f}, running off to"
            " infinity (quasi-separation among covariates); drop or merge covariates, or use"
            " more screens"
        )
    return se


# ----------------------------------------------------------------------------- fitting
def _table(fit: EngineFit, design: Design, data: _Data, attrs: dict[str, Any]) -> pd.DataFrame:
    """The odds-ratio table of a fit, with its ``attrs`` (see :func:`fit_odds_ratios`)."""
    se = _check_estimates(fit, design.terms)
    z = stats.norm.ppf(0.975)
    b, s = fit.params[1:], se[1:]
    out = pd.DataFrame(
        {
            "term": design.terms,
            "odds_ratio": np.exp(b),
            "lower": np.exp(b - z * s),
            "upper": np.exp(b + z * s),
            "p_value": 2.0 * stats.norm.sf(np.abs(b / s)),
        }
    )
    all_terms = ["Intercept", *design.terms]
    out.attrs.update(attrs)
    out.attrs.update(
        {
            "n_obs": data.n_obs,
            "n_women": data.n_women,
            "n_events": data.n_events,
            "covariance": fit.covariance,
            "formula": f"{attrs['outcome']} ~ " + " + ".join(design.formula_terms),
            "references": design.references,
            "dropped_levels": design.dropped_levels,
            "working_correlation": float(fit.working_correlation) if attrs["method"] == "gee" else None,
            "converged": bool(fit.converged),
            "iterations": int(fit.iterations),
            "maxiter": int(fit.maxiter),
            "params": dict(zip(all_terms, map(float, fit.params), strict=True)),
            "cov_params": {"terms": all_terms, "matrix": fit.cov.tolist()},
        }
    )
    return out


def _fit(data: _Data, design: Design, method: str, engine: str, maxiter: int | None, first_only: bool) -> EngineFit:
    """The GLM (cluster-robust by woman when she has several screens) or the GEE of the screens fitted."""
    ys = data.y.astype(float)
    if method == "glm":
        clustered = not first_only and data.n_women < data.n_obs
        return fit_glm(ys, design.x, data.groups if clustered else None, maxiter)
    return fit_gee(ys, design.x, data.groups, engine, maxiter)


def fit_odds_ratios(
    screens: pd.DataFrame,
    outcome: str = "recalled",
    *,
    method: str = "gee",
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    first_screen_only: bool | None = None,
    subset: Any = None,
    engine: str = "statsmodels",
    maxiter: int | None = None,
) -> pd.DataFrame:
    """Adjusted odds ratios of an outcome on risk factors, with 95% Wald intervals.

    Parameters
    ----------
    screens : pandas.DataFrame
        Screens table (one row per attended screen; ``Results.screens``).
    outcome : str
        One of :data:`OUTCOMES`.
    method : {"gee", "glm"}
        ``"gee"``: logistic GEE on all screens, groups = woman, exchangeable working
        correlation, robust (sandwich) errors. ``"glm"``: logistic GLM on each
        woman's first screen (model-based errors).
    covariates : sequence of str
        Covariate names (keys of :data:`COVARIATES`); default :data:`DEFAULT_COVARIATES`.
    first_screen_only : bool, optional
        Keep only each woman's first screen among the screens fitted (ordered by
        ``round_index``, else ``age_years``, else table order). Default: True for
        ``glm``, False for ``gee``. ``glm`` on all screens uses cluster-robust (by
        woman) errors; ``gee`` on first screens has an independence working correlation.
    subset : boolean array or Series, optional
        Screens to use (e.g. ``screens["postmenopausal"]``); applied before taking first screens.
    engine : {"statsmodels", "vectorised"}
        How the GEE is solved: statsmodels ``GEE`` (default), or the same algorithm vectorised
        (:mod:`analysis.stats.regression.vectorised`, opt-in: the same numbers, about 10x faster
        as measured there). A GLM is always fitted by statsmodels.
    maxiter : int, optional
        Iteration limit of the fitting routine (default statsmodels': 100 IRLS steps for a
        GLM, 60 for a GEE); reaching it is an error.

    Returns
    -------
    pandas.DataFrame
        Columns ``term``, ``odds_ratio``, ``lower``, ``upper``, ``p_value`` (Wald, normal;
        intercept excluded). Term names: ``age_per_decade``, ``density=c``,
        ``family_history=>=2``, ``breastfeeding_over_12_months``. ``attrs``: ``method``,
        ``outcome``, ``engine``, ``n_obs``, ``n_women``, ``n_events``, ``covariance``
        ("exchangeable", "independence", "none" or "cluster-robust"), ``formula``,
        ``references`` (reference level of each categorical covariate), ``dropped_levels``
        (levels with no screens, dropped), ``working_correlation`` (GEE), ``converged``,
        ``iterations`` and ``maxiter`` (the convergence record), ``params`` (log odds incl.
        intercept), ``cov_params`` (terms and matrix, log-odds scale) for :func:`wald_test`.

    Raises
    ------
    CalcsimInputError
        One line, saying what to do, for every problem with the data or the arguments (see
        :mod:`analysis.stats.regression`).
    """
    names = _check_arguments(outcome, method, engine, covariates, maxiter)
    first_only = method == "glm" if first_screen_only is None else bool(first_screen_only)
    data = _screens_fitted(screens, outcome, subset, first_only)
    design = build_design(derive_covariates(data.rows, names), names, data.y, outcome)
    _check_size(data, design.x.shape[1], method)
    if design.separation:
        raise fit_input_error(design.separation)
    fit = _fit(data, design, method, engine, maxiter, first_only)
    attrs = {
        "method": method,
        "outcome": outcome,
        "engine": engine if method == "gee" else "statsmodels",
        "first_screen_only": first_only,
        "covariates": names,
    }
    return _table(fit, design, data, attrs)


def wald_test(
    result: pd.DataFrame, terms: Sequence[str], null: Sequence[float] | None = None
) -> tuple[float, int, float]:
    """Joint Wald test that the odds ratios of ``terms`` equal ``null`` (by default all 1).

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`fit_odds_ratios` (uses ``attrs["params"]`` and ``attrs["cov_params"]``).
    terms : sequence of str
        Term names, e.g. ``["density=a", "density=c", "density=d"]``.
    null : sequence of float, optional
        Odds ratio of each term under the null hypothesis (positive; default 1, i.e. no effect).

    Returns
    -------
    tuple
        ``(chi2, df, p_value)``: ``chi2 = (b - b0)' V^-1 (b - b0)`` on the log-odds scale with the
        fit's covariance ``V``, referred to chi-square with ``df = len(terms)``.

    Raises
    ------
    CalcsimInputError
        ``result`` is not a fit, an unknown term, or a ``null`` of the wrong length or not positive.
    """
    try:
        all_terms = result.attrs["cov_params"]["terms"]
        cov = np.asarray(result.attrs["cov_params"]["matrix"])
        params = result.attrs["params"]
    except (KeyError, TypeError, AttributeError):
        raise CalcsimInputError("wald_test: result has no attrs from fit_odds_ratios; pass its output") from None
    terms = [terms] if isinstance(terms, str) else list(terms)
    missing = [t for t in terms if t not in params]
    if missing or not terms:
        raise input_error("wald_test", "terms", missing or terms, f"term names of the fit: {', '.join(all_terms[1:])}")
    b0 = np.zeros(len(terms))
    if null is not None:
        ors = np.asarray(null, dtype=float).ravel()
        if ors.shape != (len(terms),) or not np.all(np.isfinite(ors) & (ors > 0)):
            raise input_error(
                "wald_test", "null", list(np.asarray(null).ravel()), f"{len(terms)} positive odds ratios, one per term"
            )
        b0 = np.log(ors)
    idx = [all_terms.index(t) for t in terms]
    d = np.array([params[t] for t in terms]) - b0
    chi2 = float(d @ np.linalg.solve(cov[np.ix_(idx, idx)], d))
    return chi2, len(terms), float(stats.chi2.sf(chi2, len(terms)))
