"""Associations: odds ratios of recall and of microcalcification clusters on risk factors.

docs/model.md §1.3: the question asks for odds ratios from logistic regression, with GEE (or
cluster-robust errors) when a woman contributes several screens. Two methods:

* ``method="glm"`` — a logistic GLM (statsmodels ``GLM``, Binomial family) on ONE
  screen per woman: her first screen among the screens fitted (after ``subset``);
* ``method="gee"`` — a logistic GEE on all screens, grouped by woman, with an
  exchangeable working correlation and robust (sandwich) standard errors.

The GEE is solved by statsmodels ``GEE(..., cov_struct=Exchangeable())`` by default, so that
students reproduce the instructor's numbers with the same library. ``engine="vectorised"``
opts in to a vectorised implementation of exactly the same algorithm
(:mod:`~analysis.stats.regression.vectorised`, with its measured speed-up); the test suite
checks that both engines give the same coefficients, robust errors and working correlation.

Problems with the data are reported before fitting, as one-line
:class:`~analysis.errors.CalcsimInputError` messages that say what to do: an
unknown outcome or covariate, no events (or only events), too few screens or
women for the number of parameters, a constant covariate, a level whose screens
are all events or all non-events (perfect or quasi-perfect separation), collinear
covariates, a value of a coded column that is neither a label nor a code of
:mod:`analysis.scenario.codings`. A level with **no** screens (e.g. BRCA2 after
subsetting a small cohort) is dropped automatically and listed in
``attrs["dropped_levels"]``: it carries no information, and dropping it gives the same
fit as the model without that column. An empty *reference* level is an error instead
(the remaining levels would have nothing to be compared with). Whatever statsmodels
still warns about (separation among several covariates together, non-convergence, an
iteration limit) is turned into the same kind of one-line error; no statsmodels warning
reaches the user. Every fit records its convergence (``attrs["converged"]``,
``attrs["iterations"]``, ``attrs["maxiter"]``).

Modules: :mod:`~analysis.stats.regression.frame` (covariates from the screens table),
:mod:`~analysis.stats.regression.design` (design matrix and data checks),
:mod:`~analysis.stats.regression.engines` (statsmodels and vectorised fits),
:mod:`~analysis.stats.regression.vectorised` (the vectorised GEE),
:mod:`~analysis.stats.regression.fit` (:func:`fit_odds_ratios`, :func:`wald_test`).
"""

from analysis.stats.regression.design import Design, build_design, fit_input_error, separated_level
from analysis.stats.regression.engines import (
    ENGINES,
    GEE_CTOL,
    GEE_MAXITER,
    GLM_MAXITER,
    EngineFit,
    convergence_error,
    fit_gee,
    fit_glm,
    run_quietly,
)
from analysis.stats.regression.fit import MAX_ABS_LOG_OR, METHODS, fit_odds_ratios, wald_test
from analysis.stats.regression.frame import (
    COVARIATES,
    DEFAULT_COVARIATES,
    OUTCOMES,
    SOURCE_CODINGS,
    Covariate,
    bool_column,
    coded_column,
    covariates,
    number_column,
)
from analysis.stats.regression.vectorised import GEEFit, gee_exchangeable_logit, logistic_mle

__all__ = [
    "COVARIATES",
    "DEFAULT_COVARIATES",
    "ENGINES",
    "GEE_CTOL",
    "GEE_MAXITER",
    "GLM_MAXITER",
    "MAX_ABS_LOG_OR",
    "METHODS",
    "OUTCOMES",
    "SOURCE_CODINGS",
    "Covariate",
    "Design",
    "EngineFit",
    "GEEFit",
    "bool_column",
    "build_design",
    "coded_column",
    "convergence_error",
    "covariates",
    "fit_gee",
    "fit_glm",
    "fit_input_error",
    "fit_odds_ratios",
    "gee_exchangeable_logit",
    "logistic_mle",
    "number_column",
    "run_quietly",
    "separated_level",
    "wald_test",
]
