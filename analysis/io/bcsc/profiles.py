"""Weighted risk-factor profiles of an age range, from the BCSC Risk Estimation Dataset.

See :func:`risk_profiles`; its input is :func:`analysis.io.bcsc.risk.read_risk_estimation`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError, input_error
from analysis.io.bcsc.risk import agegrp_bounds

__all__ = ["risk_profiles"]

_DENSITY_LETTERS: dict[int, str] = {1: "a", 2: "b", 3: "c", 4: "d"}

_PROFILE_COLUMNS: tuple[str, ...] = (
    "family_history",
    "nulliparous",
    "first_birth_age_30_plus",
    "density",
    "postmenopausal",
    "surgical_menopause",
)

_NEEDED: tuple[str, ...] = ("agegrp", "nrelbc", "density", "agefirst", "menopaus", "surgmeno", "count")


def _check_request(df: pd.DataFrame, age_lower: int, age_upper: int, where: str) -> None:
    """Raise unless both ages are integers, ``age_lower <= age_upper`` and ``df`` has the needed columns."""
    for key, value in (("age_lower", age_lower), ("age_upper", age_upper)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise input_error(where, key, value, "expected an integer age in years")
    if age_lower > age_upper:
        raise input_error(where, "age range", f"{age_lower}-{age_upper}", "expected age_lower <= age_upper")
    missing = [c for c in _NEEDED if c not in df.columns]
    if missing:
        raise input_error(where, "columns", ", ".join(missing), "expected the output of read_risk_estimation")


def _covered_groups(age_lower: int, age_upper: int) -> list[int]:
    """The BCSC age groups lying entirely inside ``[age_lower, age_upper]``."""
    return [g for g in range(1, 11) if age_lower <= agegrp_bounds(g)[0] and agegrp_bounds(g)[1] <= age_upper]


def _complete_rows(df: pd.DataFrame, groups: list[int]) -> pd.DataFrame:
    """Rows of ``groups`` with known family history, density, parity and menopause and a positive count."""
    keep = (
        df["agegrp"].isin(groups)
        & (df["nrelbc"] != 9)
        & (df["density"] != 9)
        & (df["agefirst"] != 9)
        & (df["menopaus"] != 9)
        & (df["count"] > 0)
    )
    return df.loc[keep]


def _empty_selection_error(where: str, age_lower: int, age_upper: int, groups: list[int]) -> CalcsimInputError:
    """The one-line error for an age range that leaves no mammograms."""
    if groups:
        allowed = (
            "no mammograms with known family history, density, parity and menopause in BCSC "
            f"age groups {', '.join('{}-{}'.format(*agegrp_bounds(g)) for g in groups)}"
        )
    else:
        allowed = (
            "no BCSC 5-year age group (35-39, 40-44, ..., 80-84) lies entirely inside this "
            "range; choose e.g. 50-54 or 40-74"
        )
    return input_error(where, "age range", f"{age_lower}-{age_upper}", allowed)


def _aggregate(sub: pd.DataFrame) -> pd.DataFrame:
    """Sum the ``count`` of each distinct profile of ``sub``, sorted, with weights normalised to 1."""
    profiles = pd.DataFrame(
        {
            "family_history": sub["nrelbc"].to_numpy(dtype=np.int64),
            "nulliparous": (sub["agefirst"] == 2).to_numpy(),
            "first_birth_age_30_plus": (sub["agefirst"] == 1).to_numpy(),
            "density": sub["density"].map(_DENSITY_LETTERS).astype(str).to_numpy(),
            "postmenopausal": (sub["menopaus"] == 1).to_numpy(),
            "surgical_menopause": ((sub["menopaus"] == 1) & (sub["surgmeno"] == 1)).to_numpy(),
            "weight": sub["count"].to_numpy(dtype=np.float64),
        }
    )
    out = (
        profiles.groupby(list(_PROFILE_COLUMNS), sort=True, observed=True)["weight"]
        .sum()
        .reset_index()
        .sort_values(list(_PROFILE_COLUMNS), kind="mergesort")
        .reset_index(drop=True)
    )
    out["weight"] = out["weight"] / out["weight"].sum()
    return out.astype(
        {
            "family_history": "int64",
            "nulliparous": bool,
            "first_birth_age_30_plus": bool,
            "postmenopausal": bool,
            "surgical_menopause": bool,
            "weight": "float64",
        }
    )


def risk_profiles(df: pd.DataFrame, age_lower: int, age_upper: int) -> pd.DataFrame:
    """Weighted risk-factor profiles of women in an age range.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`~analysis.io.bcsc.read_risk_estimation`.
    age_lower, age_upper : int
        Inclusive age range in years. A BCSC 5-year age group is used when it
        lies entirely inside ``[age_lower, age_upper]`` (e.g. ``50, 54`` selects
        agegrp 4 = 50-54; ``40, 74`` selects agegrp 2-8; ``52, 53`` selects
        nothing and raises).

    Returns
    -------
    pandas.DataFrame
        One row per distinct profile, sorted by the profile columns, with
        columns

        ``family_history`` : int
            First-degree relatives with breast cancer: 0, 1 or 2 (2 = two or more).
        ``nulliparous`` : bool
            No live birth (``agefirst == 2``).
        ``first_birth_age_30_plus`` : bool
            First birth at age 30 or over (``agefirst == 1``).
        ``density`` : str
            BI-RADS density ``'a'``-``'d'`` (BI-RADS codes 1-4).
        ``postmenopausal`` : bool
            ``menopaus == 1`` (BCSC codes every woman aged 55+ as post-menopausal).
        ``surgical_menopause`` : bool
            ``surgmeno == 1``; False when natural, unknown or not menopausal.
        ``weight`` : float
            Summed ``count`` of the profile, normalised to sum to 1.

    Raises
    ------
    CalcsimInputError
        If ``df`` lacks a needed column, the ages are not integers with
        ``age_lower <= age_upper``, or no mammograms remain after selecting the
        age groups and dropping rows with unknown (9) ``nrelbc``, ``density``,
        ``agefirst`` or ``menopaus``.

    Notes
    -----
    Dropping unknown ``agefirst`` removes more than half of the mammograms
    (age at first birth is the least complete covariate), so the profiles
    describe women with complete reproductive history.
    """
    where = str(getattr(df, "attrs", {}).get("source", "risk_profiles"))
    _check_request(df, age_lower, age_upper, where)
    groups = _covered_groups(age_lower, age_upper)
    sub = _complete_rows(df, groups)
    if sub.empty:
        raise _empty_selection_error(where, age_lower, age_upper, groups)
    out = _aggregate(sub)
    out.attrs["source"] = where
    return out
