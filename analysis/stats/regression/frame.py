"""The modelling frame: readable covariates derived from the screens table.

Levels and bands come from :mod:`analysis.scenario.codings` (the one definition of the labels
of family history, BRCA, density, breastfeeding and parity), so a ">12 months" level here is the
same women as in a stratum or a Table 1 row. Coded source columns (``density``,
``family_history``, ``brca``) are read with :meth:`~analysis.scenario.codings.Coding.codes`: a
pandas Categorical with the coding's labels, label strings and integer codes are all accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError, did_you_mean, input_error
from analysis.scenario.codings import (
    BRCA,
    BREASTFEEDING,
    DENSITY,
    FAMILY_HISTORY,
    PARITY,
    Coding,
    breastfeeding_band,
    parity_band,
)

__all__ = [
    "COVARIATES",
    "DEFAULT_COVARIATES",
    "OUTCOMES",
    "SOURCE_CODINGS",
    "Covariate",
    "bool_column",
    "coded_column",
    "covariates",
    "number_column",
]

#: Outcomes (boolean columns of the screens table) that can be modelled.
OUTCOMES: tuple[str, ...] = ("recalled", "any_cluster", "benign_cluster", "recall_calc", "calc_only_recall")

#: Codings of the coded source columns of the screens table.
SOURCE_CODINGS: dict[str, Coding] = {c.name: c for c in (FAMILY_HISTORY, BRCA, DENSITY)}


@dataclass(frozen=True)
class Covariate:
    """A modelling covariate derived from columns of the screens table.

    Attributes
    ----------
    name : str
        Name of the covariate (a key of :data:`COVARIATES`).
    kind : str
        ``"numeric"``, ``"binary"`` (0/1) or ``"categorical"``.
    needs : tuple of str
        Columns of the screens table it is derived from.
    doc : str
        What it is.
    levels : tuple of str
        Labels of a categorical covariate in code order (from :mod:`analysis.scenario.codings`).
    reference : str or None
        Reference level of a categorical covariate.
    """

    name: str
    kind: str
    needs: tuple[str, ...]
    doc: str
    levels: tuple[str, ...] = ()
    reference: str | None = None


def _categorical(name: str, needs: str, coding: Coding, doc: str, reference: str | None = None) -> Covariate:
    return Covariate(name, "categorical", (needs,), doc, coding.labels, reference or coding.labels[0])


#: Every covariate :func:`covariates` can derive, by name.
COVARIATES: dict[str, Covariate] = {
    c.name: c
    for c in (
        Covariate("age_per_decade", "numeric", ("age_years",), "(age - 60) / 10: odds ratio per decade of age"),
        Covariate("postmenopausal", "binary", ("postmenopausal",), "postmenopausal at the screen (0/1)"),
        _categorical("family_history", "family_history", FAMILY_HISTORY, "affected first-degree relatives"),
        Covariate("family_history_any", "binary", ("family_history",), ">= 1 affected first-degree relative (0/1)"),
        _categorical("brca", "brca", BRCA, "BRCA carrier status"),
        _categorical("breastfeeding", "breastfeeding_months", BREASTFEEDING, "lifetime breastfeeding"),
        Covariate(
            "breastfeeding_over_12_months",
            "binary",
            ("breastfeeding_months",),
            "lifetime breastfeeding > 12 months (0/1)",
        ),
        _categorical(
            "density", "density", DENSITY, "BI-RADS density at the screen (reference b, the commonest)", reference="b"
        ),
        Covariate("dense", "binary", ("density",), "BI-RADS density c or d (0/1)"),
        _categorical("parity", "births", PARITY, "number of births"),
        Covariate("births", "numeric", ("births",), "number of births: odds ratio per birth"),
        Covariate("first_round", "binary", ("first_round",), "first screen of the woman (no prior images; 0/1)"),
    )
}

#: Covariates used when none are named.
DEFAULT_COVARIATES: tuple[str, ...] = (
    "age_per_decade",
    "postmenopausal",
    "family_history",
    "brca",
    "breastfeeding",
    "density",
    "parity",
)

_PASS_THROUGH = ("woman", "round_index", "age_years")
_BOOLEAN_SOURCES = ("postmenopausal", "first_round")
#: Numeric source columns: name -> (must be a whole number, what is allowed).
_NUMBER_SOURCES = {
    "age_years": (False, "a finite number >= 0"),
    "breastfeeding_months": (False, "a finite number >= 0"),
    "births": (True, "a whole number of births >= 0"),
}


# ----------------------------------------------------------------------------- reading source columns
def _no_missing(screens: pd.DataFrame, name: str) -> pd.Series:
    col = screens[name]
    if col.isna().any():
        raise CalcsimInputError(
            f"screens: column {name!r} has {int(col.isna().sum())} missing values; fill or drop those screens first"
        )
    return col


def bool_column(screens: pd.DataFrame, name: str) -> np.ndarray:
    """A boolean (or 0/1) column of ``screens`` as a bool array.

    Parameters
    ----------
    screens : pandas.DataFrame
        The table.
    name : str
        The column.

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    CalcsimInputError
        One line naming the column and the bad value: missing values, or a value that is
        neither True/False nor 0/1.
    """
    col = _no_missing(screens, name)
    values = col.to_numpy()
    if values.dtype == bool:
        return values
    num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise input_error("screens", name, values[np.argmax(bad)], "True/False (or 0/1)")
    return num.astype(bool)


def coded_column(screens: pd.DataFrame, name: str, coding: Coding) -> np.ndarray:
    """Integer codes of a coded column: a Categorical with ``coding``'s labels, labels or codes.

    Each distinct value is checked once by :meth:`Coding.codes` (so a 400,000-screen column costs
    a factorisation, not 400,000 look-ups); whole-number floats count as integer codes.

    Parameters
    ----------
    screens : pandas.DataFrame
        The table.
    name : str
        The column.
    coding : analysis.scenario.codings.Coding
        Its coding (e.g. :data:`~analysis.scenario.codings.DENSITY`).

    Returns
    -------
    numpy.ndarray of int64
        The code of each row.

    Raises
    ------
    CalcsimInputError
        One line naming the column, the bad value and the allowed labels and codes.
    """
    col = _no_missing(screens, name)
    index, uniques = pd.factorize(col, sort=False)
    values = [_plain(v) for v in np.asarray(uniques, dtype=object)]
    try:
        codes = coding.codes(pd.Series(values, dtype=object))
    except ValueError as exc:
        raise CalcsimInputError(f"screens: {name} = {exc}") from None
    return codes[index]


def _plain(value: Any) -> Any:
    """A numpy scalar as a Python one (shown as ``7``, not ``np.int8(7)``); whole floats as ints."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def number_column(
    screens: pd.DataFrame, name: str, *, whole: bool = False, allowed: str = "a finite number >= 0"
) -> np.ndarray:
    """A non-negative numeric column as a float array (int64 when ``whole``).

    Parameters
    ----------
    screens : pandas.DataFrame
        The table.
    name : str
        The column.
    whole : bool
        Require whole numbers (e.g. births).
    allowed : str
        What is allowed, for the error message.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    CalcsimInputError
        One line naming the column and the first value that is missing, not a finite number
        >= 0, or (``whole``) not a whole number.
    """
    col = _no_missing(screens, name)
    num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(num) | (num < 0)
    if whole:
        bad |= num != np.round(num)
    if bad.any():
        raise input_error("screens", name, col.to_numpy()[np.argmax(bad)], allowed)
    return num.astype(np.int64) if whole else num


def _source(screens: pd.DataFrame, name: str) -> np.ndarray:
    if name in _BOOLEAN_SOURCES:
        return bool_column(screens, name)
    if name in SOURCE_CODINGS:
        return coded_column(screens, name, SOURCE_CODINGS[name])
    whole, allowed = _NUMBER_SOURCES[name]
    return number_column(screens, name, whole=whole, allowed=allowed)


# ----------------------------------------------------------------------------- derivations
Column = Callable[[str], np.ndarray]


def _band(coding: Coding, codes: np.ndarray) -> pd.Categorical:
    return coding.categorical(np.asarray(codes, dtype=np.int64))


#: How each covariate is computed from its (checked) source columns.
_DERIVE: dict[str, Callable[[Column], Any]] = {
    "age_per_decade": lambda col: (col("age_years").astype(float) - 60.0) / 10.0,
    "postmenopausal": lambda col: col("postmenopausal").astype(np.int8),
    "first_round": lambda col: col("first_round").astype(np.int8),
    "family_history": lambda col: _band(FAMILY_HISTORY, col("family_history")),
    "family_history_any": lambda col: (col("family_history") >= FAMILY_HISTORY.labels.index("1")).astype(np.int8),
    "brca": lambda col: _band(BRCA, col("brca")),
    "breastfeeding": lambda col: _band(BREASTFEEDING, breastfeeding_band(col("breastfeeding_months"))),
    "breastfeeding_over_12_months": lambda col: (
        breastfeeding_band(col("breastfeeding_months")) == BREASTFEEDING.labels.index(">12 months")
    ).astype(np.int8),
    "density": lambda col: _band(DENSITY, col("density")),
    "dense": lambda col: (col("density") >= DENSITY.labels.index("c")).astype(np.int8),
    "parity": lambda col: _band(PARITY, parity_band(col("births"))),
    "births": lambda col: col("births"),
}


def _wanted(screens: pd.DataFrame, names: Sequence[str] | None) -> list[Covariate]:
    if names is None:
        return [c for c in COVARIATES.values() if all(n in screens.columns for n in c.needs)]
    wanted = []
    for name in names:
        if name not in COVARIATES:
            raise input_error(
                "covariates",
                "name",
                name,
                f"unknown covariate{did_you_mean(str(name), COVARIATES)}; allowed: {', '.join(COVARIATES)}",
            )
        cov = COVARIATES[name]
        missing = [n for n in cov.needs if n not in screens.columns]
        if missing:
            raise CalcsimInputError(
                f"screens: covariate {name!r} needs column(s) {', '.join(missing)}, which the table does not have"
            )
        wanted.append(cov)
    return wanted


def covariates(screens: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """A modelling frame with readable covariates, one row per screen.

    Parameters
    ----------
    screens : pandas.DataFrame
        Screens table (:data:`analysis.model.results.SCREEN_COLUMNS`; only the columns the
        requested covariates need must be present). ``density``, ``family_history`` and
        ``brca`` may be pandas Categoricals with the labels of
        :mod:`analysis.scenario.codings`, label strings, or integer codes.
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
        * ``family_history``, ``brca``, ``breastfeeding``, ``density``, ``parity``: pandas
          Categoricals with the labels of :data:`analysis.scenario.codings.FAMILY_HISTORY`,
          ``BRCA``, ``BREASTFEEDING`` (bands of :func:`~analysis.scenario.codings.breastfeeding_band`),
          ``DENSITY`` and ``PARITY`` (bands of :func:`~analysis.scenario.codings.parity_band`),
          whose first category is NOT necessarily the reference — see :data:`COVARIATES`
          (density's reference is "b");
        * ``births``: number of births (integer);

        plus ``woman``, ``round_index``, ``age_years`` and the outcome columns
        (:data:`OUTCOMES`, as bool) when present.

    Raises
    ------
    CalcsimInputError
        A requested covariate whose source column is missing; missing values or
        invalid codes or labels in a column used (one line naming the column).
    """
    if not isinstance(screens, pd.DataFrame):
        raise CalcsimInputError(f"covariates: screens must be a pandas DataFrame, not {type(screens).__name__}")
    cache: dict[str, np.ndarray] = {}

    def col(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = _source(screens, name)
        return cache[name]

    out: dict[str, Any] = {cov.name: _DERIVE[cov.name](col) for cov in _wanted(screens, names)}
    for name in _PASS_THROUGH:
        if name in screens.columns and name not in out:
            out[name] = screens[name].to_numpy()
    for name in OUTCOMES:
        if name in screens.columns:
            out[name] = bool_column(screens, name)
    return pd.DataFrame(out, index=screens.index)
