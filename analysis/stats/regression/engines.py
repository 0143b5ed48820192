"""Fitting engines: statsmodels GLM and GEE (the default), and the opt-in vectorised GEE.

Every engine returns an :class:`EngineFit` with the coefficients, their covariance, the working
correlation and the convergence record (converged, iterations, iteration limit). A fit counts as
converged when the routine's own criterion is met *and* it stopped before its iteration limit:
statsmodels' GEE reports convergence after using up its iterations whenever the score was small
before the last update of the working correlation (e.g. ``maxiter=1``: the GLM start, unchanged). Whatever
statsmodels or numpy warns about (separation, non-convergence, an iteration limit, a singular
matrix, overflow) becomes a one-line :class:`~analysis.errors.CalcsimInputError`; no warning
reaches the user.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from analysis.errors import CalcsimInputError
from analysis.stats.regression.design import fit_input_error
from analysis.stats.regression.vectorised import gee_exchangeable_logit, logistic_mle

__all__ = [
    "ENGINES",
    "GEE_CTOL",
    "GLM_MAXITER",
    "GEE_MAXITER",
    "EngineFit",
    "convergence_error",
    "fit_gee",
    "fit_glm",
    "run_quietly",
]

#: How the GEE is solved: ``"statsmodels"`` (the default: statsmodels ``GEE``) or ``"vectorised"``
#: (:mod:`analysis.stats.regression.vectorised`: the same algorithm, opt-in, faster on large tables).
ENGINES: tuple[str, ...] = ("statsmodels", "vectorised")

#: Iteration limits and GEE tolerance: statsmodels' defaults, passed explicitly to both engines.
GLM_MAXITER = 100
GEE_MAXITER = 60
GEE_CTOL = 1e-6

T = TypeVar("T")


@dataclass(frozen=True)
class EngineFit:
    """What an engine returns.

    Attributes
    ----------
    params : numpy.ndarray
        Coefficients (log odds, intercept first).
    cov : numpy.ndarray
        Their covariance (robust for GEE and cluster-robust GLM, model-based otherwise).
    covariance : str
        ``"exchangeable"``, ``"independence"``, ``"none"`` or ``"cluster-robust"``.
    working_correlation : float
        Estimated exchangeable correlation (0 for independence; NaN for a GLM).
    converged : bool
        Whether the engine's convergence criterion was met.
    iterations : int
        Iterations taken (IRLS steps for a GLM, Fisher-scoring steps for a GEE).
    maxiter : int
        The iteration limit.
    """

    params: np.ndarray
    cov: np.ndarray
    covariance: str
    working_correlation: float
    converged: bool
    iterations: int
    maxiter: int


def convergence_error(message: str) -> CalcsimInputError:
    """One-line error for a fit that did not converge.

    Parameters
    ----------
    message : str
        How it failed (only the first line is kept), e.g. a statsmodels warning.
    """
    first = str(message).strip().splitlines()[0] if str(message).strip() else "no message"
    return fit_input_error(
        f"the fit did not converge ({first}): usually quasi-separation among several covariates"
        " together or too few events; drop or merge covariates, or use more screens"
    )


_SEPARATION = (
    "perfect separation detected by the fitting routine (some combination of covariates predicts the"
    " outcome exactly); drop or merge covariates, or use more screens"
)


def run_quietly(fn: Callable[[], T]) -> T:
    """Call ``fn`` with statsmodels/numpy warnings and numerical failures turned into one-line errors.

    Parameters
    ----------
    fn : callable
        Called without arguments.

    Returns
    -------
    object
        What ``fn`` returns.

    Raises
    ------
    CalcsimInputError
        Perfect separation; any statsmodels model warning (non-convergence, iteration limit,
        singular Hessian, ...) or numpy runtime warning; a linear-algebra or floating-point
        failure.
    """
    from statsmodels.tools.sm_exceptions import ModelWarning, PerfectSeparationError, PerfectSeparationWarning

    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            result = fn()
        except PerfectSeparationError:
            raise fit_input_error(_SEPARATION) from None
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError) as exc:
            raise convergence_error(str(exc)) from None
    for w in caught:
        if issubclass(w.category, PerfectSeparationWarning):
            raise fit_input_error(_SEPARATION)
        if issubclass(w.category, ModelWarning | RuntimeWarning):
            raise convergence_error(str(w.message))
    return result


def _limit(maxiter: int | None, default: int) -> int:
    return default if maxiter is None else int(maxiter)


def fit_glm(y: np.ndarray, x: np.ndarray, groups: np.ndarray | None, maxiter: int | None = None) -> EngineFit:
    """Logistic GLM by statsmodels IRLS; cluster-robust (by ``groups``) errors unless ``groups`` is None.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome (0/1).
    x : numpy.ndarray
        Design matrix (intercept first).
    groups : numpy.ndarray or None
        Woman of each row, for cluster-robust errors; None for model-based errors.
    maxiter : int, optional
        Iteration limit (default :data:`GLM_MAXITER`).

    Returns
    -------
    EngineFit

    Raises
    ------
    CalcsimInputError
        Separation or non-convergence (see :func:`run_quietly`).
    """
    import statsmodels.api as sm

    limit = _limit(maxiter, GLM_MAXITER)
    model = sm.GLM(y, x, family=sm.families.Binomial())
    if groups is None:
        res = run_quietly(lambda: model.fit(maxiter=limit))
        covariance = "none"
    else:
        res = run_quietly(lambda: model.fit(maxiter=limit, cov_type="cluster", cov_kwds={"groups": groups}))
        covariance = "cluster-robust"
    iterations = int(res.fit_history["iteration"])
    if not (res.converged and iterations < limit):
        raise convergence_error(f"IRLS did not converge in {iterations} iterations")
    return EngineFit(
        params=np.asarray(res.params),
        cov=np.asarray(res.cov_params()),
        covariance=covariance,
        working_correlation=np.nan,
        converged=True,
        iterations=iterations,
        maxiter=limit,
    )


def _gee_statsmodels(y: np.ndarray, x: np.ndarray, groups: np.ndarray, single: bool, limit: int) -> EngineFit:
    import statsmodels.api as sm

    cov_struct = sm.cov_struct.Independence() if single else sm.cov_struct.Exchangeable()
    model = sm.GEE(y, x, groups=groups, family=sm.families.Binomial(), cov_struct=cov_struct)
    res: Any = run_quietly(lambda: model.fit(maxiter=limit, ctol=GEE_CTOL))
    if res is None:
        raise convergence_error("statsmodels GEE returned no result")
    iterations = len(res.fit_history["params"])
    rho = 0.0 if single else float(np.asarray(res.model.cov_struct.dep_params).ravel()[0])
    if not (res.converged and iterations < limit):
        raise convergence_error(f"GEE did not converge in {iterations} iterations (working correlation {rho:.3g})")
    return EngineFit(
        params=np.asarray(res.params),
        cov=np.asarray(res.cov_params()),
        covariance="independence" if single else "exchangeable",
        working_correlation=rho,
        converged=True,
        iterations=iterations,
        maxiter=limit,
    )


def _gee_vectorised(y: np.ndarray, x: np.ndarray, groups: np.ndarray, single: bool, limit: int) -> EngineFit:
    start = run_quietly(lambda: logistic_mle(y, x))
    fit = run_quietly(lambda: gee_exchangeable_logit(y, x, groups, start, maxiter=limit, ctol=GEE_CTOL))
    if not (fit.converged and fit.iterations < limit):
        raise convergence_error(
            f"GEE did not converge in {fit.iterations} iterations (working correlation {fit.dep_param:.3g})"
        )
    return EngineFit(
        params=fit.params,
        cov=fit.cov_robust,
        covariance="independence" if single else "exchangeable",
        working_correlation=fit.dep_param,
        converged=True,
        iterations=fit.iterations,
        maxiter=limit,
    )


def fit_gee(
    y: np.ndarray, x: np.ndarray, groups: np.ndarray, engine: str = "statsmodels", maxiter: int | None = None
) -> EngineFit:
    """Logistic GEE grouped by woman: exchangeable working correlation (independence if one screen each).

    Parameters
    ----------
    y : numpy.ndarray
        Outcome (0/1) of each screen.
    x : numpy.ndarray
        Design matrix (intercept first).
    groups : numpy.ndarray
        Woman of each screen, rows sorted so that each woman's screens are contiguous.
    engine : {"statsmodels", "vectorised"}
        See :data:`ENGINES`.
    maxiter : int, optional
        Iteration limit (default :data:`GEE_MAXITER`).

    Returns
    -------
    EngineFit

    Raises
    ------
    CalcsimInputError
        Separation or non-convergence (see :func:`run_quietly`).
    """
    single = int(np.unique(groups).size) == len(groups)
    limit = _limit(maxiter, GEE_MAXITER)
    solve = _gee_statsmodels if engine == "statsmodels" else _gee_vectorised
    return solve(y, x, groups, single, limit)
