"""Associations: odds ratios of recall and of microcalcification clusters on risk factors.

MODEL.md §2 asks for odds ratios from logistic regression, with GEE (or
cluster-robust errors) when a woman contributes several screens. Two methods:

* ``method="glm"`` — a logistic GLM (statsmodels ``GLM``, Binomial family) on ONE
  screen per woman: her first screen among the screens fitted (after ``subset``);
* ``method="gee"`` — a logistic GEE on all screens, grouped by woman, with an
  exchangeable working correlation and robust (sandwich) standard errors.

The GEE is solved by a vectorised implementation of exactly the algorithm of
statsmodels ``GEE(..., cov_struct=Exchangeable())`` (started from the same GLM
estimate, with the same moment estimator of the working correlation, the same
Fisher-scoring updates, stopping rule and sandwich covariance; see
:func:`gee_exchangeable_logit`).
statsmodels loops over women in Python, which takes 15-20 s for 400,000 screens;
the vectorised version uses group sums and the closed-form inverse of the
exchangeable matrix and takes well under a second. ``engine="statsmodels"`` runs
statsmodels itself; the test suite checks that both give the same numbers.

Problems with the data are reported before fitting, as one-line
:class:`~analysis.errors.CalcsimInputError` messages that say what to do: an
unknown outcome or covariate, no events (or only events), too few screens or
women for the number of parameters, a constant covariate, a level whose screens
are all events or all non-events (perfect or quasi-perfect separation), collinear
covariates. A level with **no** screens (e.g. BRCA2 after subsetting a small
cohort) is dropped automatically and listed in ``attrs["dropped_levels"]``: it
carries no information, and dropping it gives the same fit as the model without
that column. An empty *reference* level is an error instead (the remaining
levels would have nothing to be compared with). Whatever statsmodels still warns
about (separation among several covariates together, non-convergence) is turned
into the same kind of one-line error; no statsmodels warning reaches the user.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import CalcsimInputError, did_you_mean, input_error

#: Outcomes (boolean columns of the screens table) that can be modelled.
OUTCOMES: tuple[str, ...] = ("recalled", "any_cluster", "benign_cluster", "recall_calc", "calc_only_recall")
METHODS: tuple[str, ...] = ("gee", "glm")
ENGINES: tuple[str, ...] = ("vectorised", "statsmodels")

#: Largest |log odds ratio| accepted from a fit; beyond it (OR > 160,000) the
#: estimate is running off to infinity, i.e. the data are (quasi-)separated.
MAX_ABS_LOG_OR = 12.0


@dataclass(frozen=True)
class Covariate:
    """A modelling covariate derived from columns of the screens table."""

    name: str
    kind: str  # "numeric", "binary" (0/1) or "categorical"
    needs: tuple[str, ...]
    doc: str
    levels: tuple[str, ...] = ()
    reference: str | None = None


#: Every covariate :func:`covariates` can derive, by name.
COVARIATES: dict[str, Covariate] = {c.name: c for c in (
    Covariate("age_per_decade", "numeric", ("age_years",), "(age - 60) / 10: odds ratio per decade of age"),
    Covariate("postmenopausal", "binary", ("postmenopausal",), "postmenopausal at the screen (0/1)"),
    Covariate("family_history", "categorical", ("family_history",), "affected first-degree relatives",
              ("0", "1", ">=2"), "0"),
    Covariate("family_history_any", "binary", ("family_history",), ">= 1 affected first-degree relative (0/1)"),
    Covariate("brca", "categorical", ("brca",), "BRCA carrier status", ("non-carrier", "BRCA1", "BRCA2"),
              "non-carrier"),
    Covariate("breastfeeding", "categorical", ("breastfeeding_months",), "lifetime breastfeeding",
              ("none", "<6 months", "6-12 months", ">12 months"), "none"),
    Covariate("breastfeeding_over_12_months", "binary", ("breastfeeding_months",),
              "lifetime breastfeeding > 12 months (0/1)"),
    Covariate("density", "categorical", ("density",), "BI-RADS density at the screen (reference b, the commonest)",
              ("a", "b", "c", "d"), "b"),
    Covariate("dense", "binary", ("density",), "BI-RADS density c or d (0/1)"),
    Covariate("parity", "categorical", ("births",), "number of births", ("0", "1", "2", ">=3"), "0"),
    Covariate("births", "numeric", ("births",), "number of births: odds ratio per birth"),
    Covariate("first_round", "binary", ("first_round",), "first screen of the woman (no prior images; 0/1)"),
)}

#: Covariates used when none are named.
DEFAULT_COVARIATES: tuple[str, ...] = ("age_per_decade", "postmenopausal", "family_history", "brca",
                                       "breastfeeding", "density", "parity")

_PASS_THROUGH = ("woman", "round_index", "age_years")
_CODES = {"family_history": (0, 2, "a code 0, 1 or 2 (>= 2 relatives)"),
          "brca": (0, 2, "a code 0 (none), 1 (BRCA1) or 2 (BRCA2)"),
          "density": (0, 3, "a BI-RADS code 0..3 (a..d)"),
          "births": (0, 127, "a number of births >= 0")}


# ----------------------------------------------------------------------------- covariates
def _column(screens: pd.DataFrame, name: str) -> np.ndarray:
    """A column as a numpy array, checked for missing values and valid codes."""
    col = screens[name]
    if col.isna().any():
        raise CalcsimInputError(f"screens: column {name!r} has {int(col.isna().sum())} missing values;"
                                " fill or drop those screens first")
    values = col.to_numpy()
    if name in _CODES:
        lo, hi, allowed = _CODES[name]
        num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(num) | (num < lo) | (num > hi) | (num != np.round(num))
        if bad.any():
            raise input_error("screens", name, col.to_numpy()[np.argmax(bad)], allowed)
        return num.astype(np.int64)
    if name in ("breastfeeding_months", "age_years"):
        num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(num) | (num < 0)
        if bad.any():
            raise input_error("screens", name, col.to_numpy()[np.argmax(bad)], "a finite number >= 0")
        return num
    return values


def _as_bool(screens: pd.DataFrame, name: str) -> np.ndarray:
    """A boolean (or 0/1) column as a bool array; one-line error otherwise."""
    col = screens[name]
    if col.isna().any():
        raise CalcsimInputError(f"screens: column {name!r} has {int(col.isna().sum())} missing values;"
                                " fill or drop those screens first")
    values = col.to_numpy()
    if values.dtype == bool:
        return values
    num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise input_error("screens", name, values[np.argmax(bad)], "True/False (or 0/1)")
    return num.astype(bool)


def _categorical(codes: np.ndarray, levels: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(levels))


def covariates(screens: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """A modelling frame with readable covariates, one row per screen.

    Parameters
    ----------
    screens : pandas.DataFrame
        Screens table (:data:`analysis.model.results.SCREEN_COLUMNS`; only the columns the
        requested covariates need must be present).
    names : sequence of str, optional
        Covariates to derive (keys of :data:`COVARIATES`). By default every covariate
        whose source columns are present.

    Returns
    -------
    pandas.DataFrame
        Same index as ``screens``. Covariates:

        * ``age_per_decade`` = (age_years - 60) / 10;
        * ``postmenopausal``, ``family_history_any``, ``breastfeeding_over_12_months``,
          ``dense`` (c/d), ``first_round``: 0/1 integers;
        * ``family_history`` ("0", "1", ">=2"), ``brca`` ("non-carrier", "BRCA1",
          "BRCA2"), ``breastfeeding`` ("none", "<6 months", "6-12 months",
          ">12 months": months <= 0, < 6, <= 12, > 12), ``density`` ("a".."d"),
          ``parity`` ("0", "1", "2", ">=3"): pandas Categoricals whose first
          category is NOT necessarily the reference — see :data:`COVARIATES`
          (density's reference is "b");
        * ``births``: number of births (integer);

        plus ``woman``, ``round_index``, ``age_years`` and the outcome columns
        (:data:`OUTCOMES`, as bool) when present.

    Raises
    ------
    CalcsimInputError
        A requested covariate whose source column is missing; missing values or
        invalid codes in a column used.
    """
    if not isinstance(screens, pd.DataFrame):
        raise CalcsimInputError(f"covariates: screens must be a pandas DataFrame, not {type(screens).__name__}")
    if names is None:
        wanted = [c for c in COVARIATES.values() if all(n in screens.columns for n in c.needs)]
    else:
        wanted = []
        for name in names:
            if name not in COVARIATES:
                raise input_error("covariates", "name", name, f"unknown covariate{did_you_mean(name, COVARIATES)};"
                                  f" allowed: {', '.join(COVARIATES)}")
            cov = COVARIATES[name]
            missing = [n for n in cov.needs if n not in screens.columns]
            if missing:
                raise CalcsimInputError(f"screens: covariate {name!r} needs column(s) {', '.join(missing)},"
                                        " which the table does not have")
            wanted.append(cov)
    out: dict[str, Any] = {}
    cache: dict[str, np.ndarray] = {}

    def col(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = _as_bool(screens, name) if name in ("postmenopausal", "first_round") \
                else _column(screens, name)
        return cache[name]

    for cov in wanted:
        n = cov.name
        if n == "age_per_decade":
            out[n] = (col("age_years").astype(float) - 60.0) / 10.0
        elif n in ("postmenopausal", "first_round"):
            out[n] = col(n).astype(np.int8)
        elif n == "family_history":
            out[n] = _categorical(col("family_history"), cov.levels)
        elif n == "family_history_any":
            out[n] = (col("family_history") >= 1).astype(np.int8)
        elif n == "brca":
            out[n] = _categorical(col("brca"), cov.levels)
        elif n == "breastfeeding":
            m = col("breastfeeding_months")
            out[n] = _categorical(np.select([m <= 0, m < 6, m <= 12], [0, 1, 2], 3), cov.levels)
        elif n == "breastfeeding_over_12_months":
            out[n] = (col("breastfeeding_months") > 12.0).astype(np.int8)
        elif n == "density":
            out[n] = _categorical(col("density"), cov.levels)
        elif n == "dense":
            out[n] = (col("density") >= 2).astype(np.int8)
        elif n == "parity":
            out[n] = _categorical(np.minimum(col("births"), 3), cov.levels)
        elif n == "births":
            out[n] = col("births")
    for name in _PASS_THROUGH:
        if name in screens.columns and name not in out:
            out[name] = screens[name].to_numpy()
    for name in OUTCOMES:
        if name in screens.columns:
            out[name] = _as_bool(screens, name)
    return pd.DataFrame(out, index=screens.index)


_derive_covariates = covariates  # fit_odds_ratios has an argument called ``covariates``


# ----------------------------------------------------------------------------- GEE engine
def logistic_mle(y: np.ndarray, x: np.ndarray, maxiter: int = 50, tol: float = 1e-10) -> np.ndarray:
    """Maximum-likelihood logistic regression by Newton's method (the GEE's starting values).

    statsmodels' GEE starts from a statsmodels GLM fit; both converge to the same
    estimate, and this one solves the ``p x p`` normal equations directly instead of
    a least-squares problem on all screens (3 s -> 0.3 s for 400,000 screens).

    Raises
    ------
    numpy.linalg.LinAlgError
        When Newton's method does not converge (separation).
    """
    beta = np.zeros(x.shape[1])
    for _ in range(maxiter):
        mu = 1.0 / (1.0 + np.exp(-(x @ beta)))
        w = mu * (1.0 - mu)
        step = np.linalg.solve((x * w[:, None]).T @ x, x.T @ (y - mu))
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            break
        if np.max(np.abs(step)) < tol:
            return beta
    raise np.linalg.LinAlgError("logistic regression diverges: coefficients run off to infinity")


@dataclass(frozen=True)
class GEEFit:
    """Result of :func:`gee_exchangeable_logit`.

    Attributes
    ----------
    params : numpy.ndarray
        Estimated coefficients (log odds scale, intercept first).
    cov_robust : numpy.ndarray
        Robust (sandwich) covariance of ``params``; NaN when not converged.
    dep_param : float
        Estimated exchangeable working correlation.
    iterations : int
        Fisher-scoring steps taken.
    converged : bool
        Whether the score norm fell below the tolerance.
    """

    params: np.ndarray
    cov_robust: np.ndarray
    dep_param: float
    iterations: int
    converged: bool


def _logit_state(y: np.ndarray, x: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whitened design ``A = D / sd`` and Pearson residuals at ``beta`` (statsmodels' clipping)."""
    lin = x @ beta
    mu = 1.0 / (1.0 + np.exp(-lin))
    dmu = mu * (1.0 - mu)  # derivative of the inverse logit
    p = np.clip(mu, np.finfo(float).eps, 1 - np.finfo(float).eps)
    sd = np.sqrt(p * (1.0 - p))
    return x * (dmu / sd)[:, None], (y - mu) / sd


def gee_exchangeable_logit(y: np.ndarray, x: np.ndarray, groups: np.ndarray, start_params: np.ndarray,
                           maxiter: int = 60, ctol: float = 1e-6) -> GEEFit:
    """Logistic GEE with an exchangeable working correlation, vectorised over groups.

    The algorithm of statsmodels ``GEE(y, x, groups, family=Binomial(),
    cov_struct=Exchangeable()).fit()``, step for step: Fisher scoring from
    ``start_params`` (statsmodels starts from the GLM fit), the moment estimate of
    the common correlation after each step (scale with ``ddof = p``), stop when
    the score norm is below ``ctol`` after at least one correlation update, and
    the sandwich covariance at the final estimate. With ``R = (1 - r) I + r J``
    the inverse is ``(I - c_g J) / (1 - r)``, ``c_g = r / (1 + r (n_g - 1))``, so
    every per-woman product reduces to sums over her screens.

    Parameters
    ----------
    y : array of 0/1
        Outcome, one element per screen.
    x : 2-d array
        Design matrix (with the intercept column).
    groups : array
        Woman of each screen; the rows must be sorted so each woman's screens are
        contiguous.
    start_params : array
        Starting values (the GLM estimate).
    maxiter, ctol : int, float
        Iteration limit and tolerance on the norm of the score (statsmodels' defaults).

    Returns
    -------
    GEEFit
    """
    n, p = x.shape
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    sizes = np.diff(np.r_[starts, n]).astype(float)
    if np.unique(groups[starts]).size != starts.size:
        raise ValueError("groups must be contiguous (sort the rows by group)")
    n_pairs = float(np.sum(sizes * (sizes - 1) / 2))
    beta = np.asarray(start_params, dtype=float).copy()
    rho = 0.0

    def pieces(beta: np.ndarray, rho: float) -> tuple[np.ndarray, ...]:
        """Whitened design, residuals and the per-woman sums the estimating equations need."""
        a, r = _logit_state(y, x, beta)
        c = rho / (1.0 - rho) / (1.0 + rho * (sizes - 1.0))
        s = np.add.reduceat(a, starts, axis=0)  # per-woman sums of the whitened design
        rs = np.add.reduceat(r, starts)  # per-woman sums of Pearson residuals
        bmat = a.T @ a / (1.0 - rho) - (s * c[:, None]).T @ s
        return a, r, c, s, rs, bmat

    def correlation(beta: np.ndarray) -> float:
        """Moment estimate of the exchangeable correlation (statsmodels' formula)."""
        if n_pairs <= p:  # (almost) one screen per woman: nothing to estimate
            return 0.0
        _, r = _logit_state(y, x, beta)
        ssr = np.add.reduceat(r * r, starts)
        rs = np.add.reduceat(r, starts)
        scale = ssr.sum() / (n - p)
        return float(np.sum((rs**2 - ssr) / 2) / scale / (n_pairs - p))

    def valid(rho: float) -> bool:
        return bool(np.isfinite(rho) and -1.0 / max(sizes.max() - 1.0, 1.0) < rho < 1.0)

    converged, updates, itr = False, 0, 0
    while itr < maxiter:
        itr += 1
        a, r, c, s, rs, bmat = pieces(beta, rho)
        score = a.T @ r / (1.0 - rho) - s.T @ (c * rs)
        beta = beta + np.linalg.solve(bmat, score)
        if not np.all(np.isfinite(beta)):
            break
        if np.sqrt(np.sum(score**2)) < ctol and updates > 0:
            converged = True
            break
        rho = correlation(beta)
        updates += 1
        if not valid(rho):
            break
    if not (converged and valid(rho)):
        return GEEFit(params=beta, cov_robust=np.full((p, p), np.nan), dep_param=float(rho), iterations=itr,
                      converged=False)
    a, r, c, s, rs, bmat = pieces(beta, rho)
    u = np.add.reduceat(a * r[:, None], starts, axis=0) / (1.0 - rho) - s * (c * rs)[:, None]
    bmati = np.linalg.inv(bmat)
    cov = bmati @ (u.T @ u) @ bmati
    return GEEFit(params=beta, cov_robust=cov, dep_param=float(rho), iterations=itr, converged=True)


# ----------------------------------------------------------------------------- design
@dataclass
class _Design:
    """Design matrix with readable term names, and what was dropped or chosen on the way."""

    x: np.ndarray
    terms: list[str]  # without the intercept
    formula_terms: list[str]
    owners: list[str]  # covariate of each term
    dropped_levels: list[str]
    references: dict[str, str]
    separation: str | None  # the first separated level or covariate, reported after the size checks


def _fail(message: str) -> CalcsimInputError:
    return CalcsimInputError(f"fit_odds_ratios: {message}")


def _separated_level(cov: str, labels: Sequence[str], codes: np.ndarray, y: np.ndarray,
                     outcome: str) -> str | None:
    """Message for the first level whose screens are all events or all non-events (quasi-complete separation)."""
    k = len(labels)
    n = np.bincount(codes, minlength=k)
    ev = np.bincount(codes, weights=y.astype(float), minlength=k).astype(np.int64)
    for j, label in enumerate(labels):
        if n[j] > 0 and (ev[j] == 0 or ev[j] == n[j]):
            what = "non-events" if ev[j] == 0 else "events"
            return (f"{cov} = {label!r}: all {n[j]:,} screens at this level are {what} for {outcome}"
                    " (perfect/quasi-perfect separation: its odds ratio is infinite); drop"
                    f" {cov!r} from covariates, merge its levels, or widen the subset")
    return None


def _build_design(frame: pd.DataFrame, names: Sequence[str], y: np.ndarray, outcome: str) -> _Design:
    cols: list[np.ndarray] = [np.ones(len(frame))]
    terms: list[str] = []
    formula: list[str] = []
    owners: list[str] = []
    dropped: list[str] = []
    refs: dict[str, str] = {}
    separation: list[str | None] = []
    for name in names:
        cov = COVARIATES[name]
        values = frame[name]
        if cov.kind == "categorical":
            codes = values.cat.codes.to_numpy().astype(np.intp)
            counts = np.bincount(codes, minlength=len(cov.levels))
            ref = cov.reference
            assert ref is not None
            ref_code = cov.levels.index(ref)
            present = [lv for lv, c in zip(cov.levels, counts, strict=True) if c > 0]
            if len(present) < 2:
                only = present[0] if present else "none"
                raise _fail(f"covariate {name!r} is constant (every screen is {only!r}) in the screens fitted;"
                            " drop it from covariates")
            if counts[ref_code] == 0:
                raise _fail(f"{name}: the reference level {ref!r} has no screens (empty stratum) in the screens"
                            f" fitted; drop {name!r} from covariates, merge levels, or widen the subset")
            separation.append(_separated_level(name, cov.levels, codes, y, outcome))
            refs[name] = ref
            formula.append(f"C({name}, Treatment({ref!r}))")
            for j, level in enumerate(cov.levels):
                if j == ref_code:
                    continue
                if counts[j] == 0:
                    dropped.append(f"{name}={level}")
                    continue
                cols.append((codes == j).astype(float))
                terms.append(f"{name}={level}")
                owners.append(name)
        else:
            v = values.to_numpy().astype(float)
            if np.ptp(v) == 0:
                raise _fail(f"covariate {name!r} is constant (every screen has {v[0]:g}) in the screens fitted;"
                            " drop it from covariates")
            if cov.kind == "binary":
                separation.append(_separated_level(name, ("0", "1"), v.astype(np.intp), y, outcome))
            else:
                ev, ne = v[y], v[~y]
                if ev.max() <= ne.min() or ev.min() >= ne.max():
                    separation.append(f"{name} separates the outcome: every {outcome} event is at one end of its"
                                      " range (perfect/quasi-perfect separation: its odds ratio is infinite); drop"
                                      f" {name!r} from covariates or widen the subset")
            cols.append(v)
            terms.append(name)
            formula.append(name)
            owners.append(name)
    x = np.column_stack(cols)
    # collinearity: the first term that adds nothing to the span of the earlier ones (on the
    # Gram matrix of the RMS-scaled columns: p x p, cheap however many screens)
    rms = np.maximum(np.sqrt((x**2).mean(axis=0)), 1e-300)
    gram = (x.T @ x) / len(x) / np.outer(rms, rms)

    def rank(j: int) -> int:
        return int(np.linalg.matrix_rank(gram[:j, :j], rtol=1e-10, hermitian=True))

    if rank(x.shape[1]) < x.shape[1]:
        for j in range(2, x.shape[1] + 1):
            if rank(j) < j:
                term = terms[j - 2]
                raise _fail(f"term {term!r} is a linear combination of the intercept and earlier terms (collinear"
                            " covariates, e.g. family_history with family_history_any); drop"
                            f" {owners[j - 2]!r} or the covariate it duplicates")
    return _Design(x=x, terms=terms, formula_terms=formula, owners=owners, dropped_levels=dropped,
                   references=refs, separation=next((m for m in separation if m), None))


# ----------------------------------------------------------------------------- fitting
def _subset_mask(screens: pd.DataFrame, subset: Any) -> np.ndarray:
    if isinstance(subset, pd.Series):
        if not subset.index.equals(screens.index):
            if not subset.index.is_unique:
                raise _fail("subset: a Series with a duplicated index; pass a boolean numpy array, one per screen")
            subset = subset.reindex(screens.index)  # align on the index, like screens.loc[subset]
        if subset.isna().any():
            raise _fail("subset: missing values (a Series not covering every screen); pass a boolean mask with"
                        " one True/False per screen")
        subset = subset.to_numpy()
    mask = np.asarray(subset)
    if mask.dtype != bool:
        raise _fail(f"subset: dtype {mask.dtype}; pass a boolean mask with one True/False per screen")
    if mask.shape != (len(screens),):
        raise _fail(f"subset: length {mask.size} but {len(screens):,} screens; pass a boolean mask with one"
                    " True/False per screen")
    return mask


def _fit_error(message: str) -> CalcsimInputError:
    first = str(message).strip().splitlines()[0] if str(message).strip() else "no message"
    return _fail(f"the fit did not converge ({first}): usually quasi-separation among several covariates"
                 " together or too few events; drop or merge covariates, or use more screens")


def _run_quietly(fn: Any) -> Any:
    """Call ``fn`` with statsmodels/numpy warnings turned into one-line errors."""
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        HessianInversionWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            result = fn()
        except PerfectSeparationError:
            raise _fail("perfect separation detected by the fitting routine (some combination of covariates"
                        " predicts the outcome exactly); drop or merge covariates, or use more screens") from None
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError) as exc:
            raise _fit_error(str(exc)) from None
    for w in caught:
        if issubclass(w.category, PerfectSeparationWarning):
            raise _fail("perfect separation detected by the fitting routine (some combination of covariates"
                        " predicts the outcome exactly); drop or merge covariates, or use more screens")
        if issubclass(w.category, ConvergenceWarning | HessianInversionWarning | RuntimeWarning):
            raise _fit_error(str(w.message))
    return result


def fit_odds_ratios(
    screens: pd.DataFrame,
    outcome: str = "recalled",
    *,
    method: str = "gee",
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    first_screen_only: bool | None = None,
    subset: Any = None,
    engine: str = "vectorised",
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
        Covariate names (keys of :data:`COVARIATES`); default
        :data:`DEFAULT_COVARIATES`.
    first_screen_only : bool, optional
        Keep only each woman's first screen among the screens fitted (ordered by
        ``round_index``, else ``age_years``, else table order). Default: True for
        ``glm``, False for ``gee``. ``glm`` on all screens uses cluster-robust
        (by woman) errors; ``gee`` on first screens has an independence working
        correlation (robust errors).
    subset : boolean array or Series, optional
        Screens to use (e.g. ``screens["postmenopausal"]``); applied before taking
        first screens.
    engine : {"vectorised", "statsmodels"}
        How the GEE is solved (same algorithm; see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Columns ``term``, ``odds_ratio``, ``lower``, ``upper``, ``p_value`` (Wald,
        normal; intercept excluded). Term names: ``age_per_decade``,
        ``density=c``, ``family_history=>=2``, ``breastfeeding_over_12_months``.
        ``attrs``: ``method``, ``outcome``, ``n_obs``, ``n_women``, ``n_events``,
        ``covariance`` ("exchangeable", "independence", "none" or
        "cluster-robust"), ``formula``, ``references`` (reference level of each
        categorical covariate), ``dropped_levels`` (levels with no screens, dropped),
        ``working_correlation`` (GEE), ``params`` (log odds incl. intercept),
        ``cov_params`` (terms and matrix, log-odds scale) for :func:`wald_test`.

    Raises
    ------
    CalcsimInputError
        One line, saying what to do, for every problem with the data or the
        arguments (see the module docstring).
    """
    if outcome not in OUTCOMES:
        raise input_error("fit_odds_ratios", "outcome", outcome,
                          f"unknown outcome{did_you_mean(str(outcome), OUTCOMES)}; allowed: {', '.join(OUTCOMES)}")
    if method not in METHODS:
        raise input_error("fit_odds_ratios", "method", method, f"allowed: {', '.join(METHODS)}")
    if engine not in ENGINES:
        raise input_error("fit_odds_ratios", "engine", engine, f"allowed: {', '.join(ENGINES)}")
    if isinstance(covariates, str):
        covariates = [covariates]
    names = list(dict.fromkeys(covariates))
    if not names:
        raise _fail("covariates: empty; name at least one (allowed: " + ", ".join(COVARIATES) + ")")
    for name in names:
        if name not in COVARIATES:
            raise input_error("fit_odds_ratios", "covariates", name,
                              f"unknown covariate{did_you_mean(str(name), COVARIATES)};"
                              f" allowed: {', '.join(COVARIATES)}")
    if not isinstance(screens, pd.DataFrame):
        raise _fail(f"screens must be a pandas DataFrame, not {type(screens).__name__}")
    for col in ("woman", outcome):
        if col not in screens.columns:
            raise _fail(f"screens: no column {col!r}; pass the screens table of simulate(..., keep_screens=True)")
    if first_screen_only is None:
        first_screen_only = method == "glm"

    data = screens if subset is None else screens.loc[_subset_mask(screens, subset)]
    if data.empty:
        raise _fail("no screens to fit (empty table or subset selects none); widen the subset")
    order_by = ["woman", *[c for c in ("round_index", "age_years") if c in data.columns][:1]]
    data = data.sort_values(order_by, kind="stable")
    if first_screen_only:
        data = data.loc[~data["woman"].duplicated()]
    frame = _derive_covariates(data, names)
    y = _as_bool(data, outcome)
    groups = data["woman"].to_numpy()
    n_obs, n_events = len(y), int(y.sum())
    n_women = int(pd.unique(groups).size)
    if n_events == 0 or n_events == n_obs:
        what = "no events" if n_events == 0 else "only events"
        raise _fail(f"{outcome}: {what} among the {n_obs:,} screens fitted; an odds ratio needs both outcomes"
                    " — widen the subset, simulate more women or choose another outcome")
    if n_obs < 10:
        raise _fail(f"too few observations ({n_obs} screens); a logistic model needs far more — simulate more"
                    " women or widen the subset")

    design = _build_design(frame, names, y, outcome)
    p = design.x.shape[1]
    fewest = min(n_events, n_obs - n_events)
    if fewest < p or n_obs < 2 * p:
        raise _fail(f"too few observations for {p} parameters ({n_obs:,} screens, {n_events:,} events,"
                    f" {n_obs - n_events:,} non-events; need at least one event and one non-event per parameter,"
                    " ideally ten): drop covariates, simulate more women or widen the subset")
    if method == "gee" and n_women <= p:
        raise _fail(f"too few women ({n_women}) for {p} parameters: robust GEE errors need many more women than"
                    " parameters — drop covariates or simulate more women")
    if design.separation:
        raise _fail(design.separation)

    import statsmodels.api as sm

    formula = f"{outcome} ~ " + " + ".join(design.formula_terms)
    xs, ys = design.x, y.astype(float)
    rho = np.nan
    if method == "glm":
        model = sm.GLM(ys, xs, family=sm.families.Binomial())
        if first_screen_only or n_women == n_obs:
            res = _run_quietly(lambda: model.fit())
            covariance = "none"
        else:
            res = _run_quietly(lambda: model.fit(cov_type="cluster", cov_kwds={"groups": groups}))
            covariance = "cluster-robust"
        if not res.converged:
            raise _fit_error("IRLS did not converge")
        params, cov = np.asarray(res.params), np.asarray(res.cov_params())
    else:
        single = n_women == n_obs
        covariance = "independence" if single else "exchangeable"
        if engine == "statsmodels":
            cov_struct = sm.cov_struct.Independence() if single else sm.cov_struct.Exchangeable()
            model = sm.GEE(ys, xs, groups=groups, family=sm.families.Binomial(), cov_struct=cov_struct)
            res = _run_quietly(lambda: model.fit())
            if res is None:
                raise _fit_error("statsmodels GEE returned no result")
            params, cov = np.asarray(res.params), np.asarray(res.cov_params())
            rho = float(np.asarray(res.model.cov_struct.dep_params).ravel()[0]) if not single else 0.0
        else:
            start = _run_quietly(lambda: logistic_mle(ys, xs))
            fit = _run_quietly(lambda: gee_exchangeable_logit(ys, xs, groups, start))
            if not fit.converged:
                raise _fit_error(f"GEE did not converge in {fit.iterations} iterations"
                                 f" (working correlation {fit.dep_param:.3g})")
            params, cov, rho = fit.params, fit.cov_robust, fit.dep_param
    se = np.sqrt(np.diag(cov))
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(se))):
        raise _fit_error("non-finite estimates or standard errors")
    worst = int(np.argmax(np.abs(params[1:]))) if p > 1 else 0
    if p > 1 and abs(params[1 + worst]) > MAX_ABS_LOG_OR:
        raise _fail(f"term {design.terms[worst]!r} has log odds ratio {params[1 + worst]:.1f}, running off to"
                    " infinity (quasi-separation among covariates); drop or merge covariates, or use more screens")

    z = stats.norm.ppf(0.975)
    b, s = params[1:], se[1:]
    out = pd.DataFrame({
        "term": design.terms,
        "odds_ratio": np.exp(b),
        "lower": np.exp(b - z * s),
        "upper": np.exp(b + z * s),
        "p_value": 2.0 * stats.norm.sf(np.abs(b / s)),
    })
    all_terms = ["Intercept", *design.terms]
    out.attrs.update({
        "method": method, "outcome": outcome, "n_obs": n_obs, "n_women": n_women, "n_events": n_events,
        "covariance": covariance, "formula": formula, "engine": engine if method == "gee" else "statsmodels",
        "first_screen_only": bool(first_screen_only), "covariates": names,
        "references": design.references, "dropped_levels": design.dropped_levels,
        "working_correlation": float(rho) if method == "gee" else None,
        "params": dict(zip(all_terms, map(float, params), strict=True)),
        "cov_params": {"terms": all_terms, "matrix": cov.tolist()},
    })
    return out


def wald_test(result: pd.DataFrame, terms: Sequence[str]) -> tuple[float, int, float]:
    """Joint Wald test that the log odds ratios of ``terms`` are all zero.

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`fit_odds_ratios` (uses ``attrs["params"]`` and ``attrs["cov_params"]``).
    terms : sequence of str
        Term names, e.g. ``["density=a", "density=c", "density=d"]``.

    Returns
    -------
    tuple
        ``(chi2, df, p_value)``.
    """
    try:
        all_terms = result.attrs["cov_params"]["terms"]
        cov = np.asarray(result.attrs["cov_params"]["matrix"])
        params = result.attrs["params"]
    except (KeyError, TypeError):
        raise CalcsimInputError("wald_test: result has no attrs from fit_odds_ratios; pass its output") from None
    missing = [t for t in terms if t not in params]
    if missing or not terms:
        raise input_error("wald_test", "terms", missing or list(terms),
                          f"term names of the fit: {', '.join(all_terms[1:])}")
    idx = [all_terms.index(t) for t in terms]
    b = np.array([params[t] for t in terms])
    v = cov[np.ix_(idx, idx)]
    chi2 = float(b @ np.linalg.solve(v, b))
    return chi2, len(terms), float(stats.chi2.sf(chi2, len(terms)))
