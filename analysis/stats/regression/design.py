"""The design matrix of an odds-ratio fit, and the checks on the data that come before fitting.

Every problem found here is a one-line :class:`~analysis.errors.CalcsimInputError` that says
what to do: a constant covariate, an empty reference level, a level or a covariate that
separates the outcome (perfect or quasi-perfect separation), collinear covariates. A level with
no screens is dropped (and recorded): it carries no information.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError
from analysis.stats.regression.frame import COVARIATES, Covariate

__all__ = ["Design", "build_design", "fit_input_error", "separated_level"]


def fit_input_error(message: str) -> CalcsimInputError:
    """The one-line error of :func:`~analysis.stats.regression.fit_odds_ratios`.

    Parameters
    ----------
    message : str
        What is wrong and what to do; the error reads ``fit_odds_ratios: message``.
    """
    return CalcsimInputError(f"fit_odds_ratios: {message}")


@dataclass
class Design:
    """Design matrix with readable term names, and what was dropped or chosen on the way.

    Attributes
    ----------
    x : numpy.ndarray
        ``n x p`` design matrix, intercept first.
    terms : list of str
        Term of each column but the intercept (``density=c``, ``age_per_decade``).
    formula_terms : list of str
        Patsy-style terms of the formula (``C(density, Treatment('b'))``).
    owners : list of str
        Covariate of each term.
    dropped_levels : list of str
        Levels with no screens, dropped (``brca=BRCA2``).
    references : dict
        Reference level of each categorical covariate.
    separation : str or None
        Message for the first separated level or covariate (reported after the size checks).
    """

    x: np.ndarray
    terms: list[str] = field(default_factory=list)
    formula_terms: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    dropped_levels: list[str] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    separation: str | None = None


def separated_level(cov: str, labels: Sequence[str], codes: np.ndarray, y: np.ndarray, outcome: str) -> str | None:
    """Message for the first level whose screens are all events or all non-events, else None.

    Parameters
    ----------
    cov : str
        Covariate name (for the message).
    labels : sequence of str
        Level labels in code order.
    codes : numpy.ndarray
        Level code of each screen.
    y : numpy.ndarray of bool
        Outcome of each screen.
    outcome : str
        Outcome name (for the message).

    Returns
    -------
    str or None
    """
    k = len(labels)
    n = np.bincount(codes, minlength=k)
    ev = np.bincount(codes, weights=y.astype(float), minlength=k).astype(np.int64)
    for j, label in enumerate(labels):
        if n[j] > 0 and (ev[j] == 0 or ev[j] == n[j]):
            what = "non-events" if ev[j] == 0 else "events"
            return (
                f"{cov} = {label!r}: all {n[j]:,} screens at this level are {what} for {outcome}"
                " (perfect/quasi-perfect separation: its odds ratio is infinite); drop"
                f" {cov!r} from covariates, merge its levels, or widen the subset"
            )
    return None


def _add_categorical(
    design: Design, cols: list[np.ndarray], cov: Covariate, values: pd.Series, y: np.ndarray, outcome: str
) -> str | None:
    """Append the indicator columns of a categorical covariate; return its separation message."""
    name, levels, ref = cov.name, cov.levels, cov.reference
    assert ref is not None
    codes = values.cat.codes.to_numpy().astype(np.intp)
    counts = np.bincount(codes, minlength=len(levels))
    ref_code = levels.index(ref)
    present = [lv for lv, c in zip(levels, counts, strict=True) if c > 0]
    if len(present) < 2:
        only = present[0] if present else "none"
        raise fit_input_error(
            f"covariate {name!r} is constant (every screen is {only!r}) in the screens fitted; drop it from covariates"
        )
    if counts[ref_code] == 0:
        raise fit_input_error(
            f"{name}: the reference level {ref!r} has no screens (empty stratum) in the screens"
            f" fitted; drop {name!r} from covariates, merge levels, or widen the subset"
        )
    design.references[name] = ref
    design.formula_terms.append(f"C({name}, Treatment({ref!r}))")
    for j, level in enumerate(levels):
        if j == ref_code:
            continue
        if counts[j] == 0:
            design.dropped_levels.append(f"{name}={level}")
            continue
        cols.append((codes == j).astype(float))
        design.terms.append(f"{name}={level}")
        design.owners.append(name)
    return separated_level(name, levels, codes, y, outcome)


def _add_numeric(
    design: Design, cols: list[np.ndarray], cov: Covariate, values: pd.Series, y: np.ndarray, outcome: str
) -> str | None:
    """Append the column of a numeric or binary covariate; return its separation message."""
    name = cov.name
    v = values.to_numpy().astype(float)
    if np.ptp(v) == 0:
        raise fit_input_error(
            f"covariate {name!r} is constant (every screen has {v[0]:g}) in the screens fitted; drop it from covariates"
        )
    cols.append(v)
    design.terms.append(name)
    design.formula_terms.append(name)
    design.owners.append(name)
    if cov.kind == "binary":
        return separated_level(name, ("0", "1"), v.astype(np.intp), y, outcome)
    ev, ne = v[y], v[~y]
    if ev.max() <= ne.min() or ev.min() >= ne.max():
        return (
            f"{name} separates the outcome: every {outcome} event is at one end of its range"
            " (perfect/quasi-perfect separation: its odds ratio is infinite); drop"
            f" {name!r} from covariates or widen the subset"
        )
    return None


def _check_collinearity(design: Design) -> None:
    """Raise for the first term that adds nothing to the span of the intercept and earlier terms.

    Works on the Gram matrix of the RMS-scaled columns: ``p x p``, cheap however many screens.
    """
    x = design.x
    rms = np.maximum(np.sqrt((x**2).mean(axis=0)), 1e-300)
    gram = (x.T @ x) / len(x) / np.outer(rms, rms)

    def rank(j: int) -> int:
        return int(np.linalg.matrix_rank(gram[:j, :j], rtol=1e-10, hermitian=True))

    if rank(x.shape[1]) == x.shape[1]:
        return
    for j in range(2, x.shape[1] + 1):
        if rank(j) < j:
            raise fit_input_error(
                f"term {design.terms[j - 2]!r} is a linear combination of the intercept and"
                " earlier terms (collinear covariates, e.g. family_history with"
                f" family_history_any); drop {design.owners[j - 2]!r} or the covariate it"
                " duplicates"
            )


def build_design(frame: pd.DataFrame, names: Sequence[str], y: np.ndarray, outcome: str) -> Design:
    """The design matrix of ``names`` (intercept first), after the checks on the data.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`~analysis.stats.regression.covariates` with the columns ``names``.
    names : sequence of str
        Covariates (keys of :data:`~analysis.stats.regression.COVARIATES`), in term order.
    y : numpy.ndarray of bool
        Outcome of each row.
    outcome : str
        Outcome name (for messages).

    Returns
    -------
    Design

    Raises
    ------
    CalcsimInputError
        A constant covariate, an empty reference level, collinear covariates. Separation
        is not raised but recorded in :attr:`Design.separation`.
    """
    design = Design(x=np.empty((len(frame), 0)))
    cols: list[np.ndarray] = [np.ones(len(frame))]
    separation: list[str | None] = []
    for name in names:
        cov = COVARIATES[name]
        add = _add_categorical if cov.kind == "categorical" else _add_numeric
        separation.append(add(design, cols, cov, frame[name], y, outcome))
    design.x = np.column_stack(cols)
    design.separation = next((m for m in separation if m), None)
    _check_collinearity(design)
    return design
