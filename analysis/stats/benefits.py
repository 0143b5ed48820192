"""Benefit and harm measures: ratios of woman-level sums with paired (linearised) intervals.

Every measure is a ratio ``R = a'S / b'S`` of linear combinations of the sums ``S`` of the woman-level
variables of :data:`analysis.model.benefits.VARIABLES` (e.g. deaths averted per 1,000 women invited:
``a`` = breast-cancer death without screening minus with it, ``b`` = invited). Its variance is the
woman-level linearisation used for paired comparisons (:mod:`analysis.stats.uncertainty`):
``z_i = (a - R b)' x_i / b'S`` and ``Var(R) = N / (N - 1) sum z_i^2``, from the sums of cross-products
``Q = sum x_i x_i'`` (exact integers). Because both runs of a woman are in the same ``x_i`` (common random
numbers), the covariance between the screened and unscreened outcome is used: the **paired** interval.
For measures that are a difference of the two runs the **unpaired** standard error (the covariance
left out, as if the two runs were of different women) is reported beside it, to show what pairing gains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.model.benefits import DAYS_PER_YEAR, VARIABLES

__all__ = ["BENEFIT_MEASURES", "BenefitMeasure", "measure_rows"]

_AVERTED = {"bc_death_unscreened": 1, "bc_death_screened": -1}
_LYG = {"life_days_screened": 1, "life_days_unscreened": -1}
_DLYG = {"discounted_days_screened": 1, "discounted_days_unscreened": -1}
_OVER = {"overdiagnosed_dcis": 1, "overdiagnosed_invasive": 1}
_DETECTED = {"screen_detected_dcis": 1, "screen_detected_invasive": 1}
_PER_YEAR = 1000.0 / DAYS_PER_YEAR


@dataclass(frozen=True)
class BenefitMeasure:
    """One measure: ``per * a'S / b'S``; ``side`` is ``benefit``, ``harm``, ``ratio``, ``share`` or ``use``."""

    name: str
    label: str
    side: str
    num: dict[str, int]
    den: dict[str, int]
    per: float
    unit: str
    paired: bool = field(default=False)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """The coefficient vectors ``a`` and ``b`` over :data:`VARIABLES`."""
        a, b = np.zeros(len(VARIABLES)), np.zeros(len(VARIABLES))
        for k, v in self.num.items():
            a[VARIABLES.index(k)] = v
        for k, v in self.den.items():
            b[VARIABLES.index(k)] = v
        return a, b


def _measures() -> tuple[BenefitMeasure, ...]:
    """The measures, per 1,000 women invited, screened and alive at the population age; shares and ratios."""
    denominators = {
        "invited": ({"invited": 1}, "per 1,000 women invited"),
        "screened": ({"screened": 1}, "per 1,000 women screened"),
        "women": ({"women": 1}, "per 1,000 women alive and free of breast cancer at the population age"),
    }
    counts = [
        ("bc_deaths_averted", "Breast-cancer deaths averted", "benefit", _AVERTED, 1000.0, True),
        ("life_years_gained", "Life-years gained", "benefit", _LYG, _PER_YEAR, True),
        ("discounted_life_years_gained", "Life-years gained (discounted)", "benefit", _DLYG, _PER_YEAR, True),
        ("false_positive_recalls", "False-positive recalls", "harm", {"false_positives": 1}, 1000.0, False),
        ("benign_biopsies", "Benign biopsies", "harm", {"benign_biopsies": 1}, 1000.0, False),
        ("short_interval_followups", "Short-interval follow-ups", "harm", {"short_interval": 1}, 1000.0, False),
        ("overdiagnosed", "Overdiagnosed cancers", "harm", _OVER, 1000.0, False),
        ("overdiagnosed_dcis", "Overdiagnosed DCIS", "harm", {"overdiagnosed_dcis": 1}, 1000.0, False),
        ("overdiagnosed_invasive", "Overdiagnosed invasive cancers", "harm", {"overdiagnosed_invasive": 1}, 1000.0,
         False),
        ("screens", "Screens", "use", {"screens": 1}, 1000.0, False),
    ]  # fmt: skip
    out = [
        BenefitMeasure(f"{name}_per_1000_{d}", label, side, num, den, per, unit, paired)
        for d, (den, unit) in denominators.items()
        for name, label, side, num, per, paired in counts
        if not (d == "screened" and name == "screens")
    ]
    deaths_invited = {"bc_death_unscreened_invited": 1}
    out += [
        BenefitMeasure(
            "bc_deaths_without_screening_per_1000_invited", "Breast-cancer deaths without screening", "use",
            deaths_invited, {"invited": 1}, 1000.0, "per 1,000 women invited",
        ),
        BenefitMeasure(
            "bc_mortality_reduction_pct", "Breast-cancer mortality reduction among women invited", "benefit",
            _AVERTED, deaths_invited, 100.0, "% of breast-cancer deaths without screening",
        ),
        BenefitMeasure(
            "overdiagnosed_share_of_screen_detected_pct", "Overdiagnosed share of screen-detected cancers", "share",
            _OVER, _DETECTED, 100.0, "% of screen-detected cancers",
        ),
        BenefitMeasure(
            "overdiagnosed_share_of_screen_detected_dcis_pct", "Overdiagnosed share of screen-detected DCIS", "share",
            {"overdiagnosed_dcis": 1}, {"screen_detected_dcis": 1}, 100.0, "% of screen-detected DCIS",
        ),
        BenefitMeasure(
            "overdiagnosed_share_of_screen_detected_invasive_pct",
            "Overdiagnosed share of screen-detected invasive cancers", "share",
            {"overdiagnosed_invasive": 1}, {"screen_detected_invasive": 1}, 100.0, "% of screen-detected invasive",
        ),
        BenefitMeasure(
            "calc_only_share_of_overdiagnosed_pct", "Calcification-only presentation among overdiagnosed cancers",
            "share", {"overdiagnosed_calc_only": 1}, _OVER, 100.0, "% of overdiagnosed cancers",
        ),
        BenefitMeasure(
            "calc_only_share_of_overdiagnosed_dcis_pct", "Calcification-only presentation among overdiagnosed DCIS",
            "share", {"overdiagnosed_dcis_calc_only": 1}, {"overdiagnosed_dcis": 1}, 100.0, "% of overdiagnosed DCIS",
        ),
        BenefitMeasure(
            "calc_only_share_of_screen_detected_pct", "Calcification-only presentation among screen-detected",
            "share", {"screen_detected_calc_only": 1}, _DETECTED, 100.0, "% of screen-detected cancers",
        ),
        BenefitMeasure(
            "false_positives_per_death_averted", "False-positive recalls per death averted", "ratio",
            {"false_positives": 1}, _AVERTED, 1.0, "per breast-cancer death averted",
        ),
        BenefitMeasure(
            "overdiagnosed_per_death_averted", "Overdiagnosed cancers per death averted", "ratio",
            _OVER, _AVERTED, 1.0, "per breast-cancer death averted",
        ),
        BenefitMeasure(
            "number_needed_to_screen", "Women screened per death averted (NNS)", "ratio",
            {"screened": 1}, _AVERTED, 1.0, "women screened per breast-cancer death averted",
        ),
        BenefitMeasure(
            "number_needed_to_invite", "Women invited per death averted (NNI)", "ratio",
            {"invited": 1}, _AVERTED, 1.0, "women invited per breast-cancer death averted",
        ),
    ]  # fmt: skip
    return tuple(out)


#: Every benefit and harm measure, in table order.
BENEFIT_MEASURES: tuple[BenefitMeasure, ...] = _measures()


def _linearised(a: np.ndarray, b: np.ndarray, s: np.ndarray, q: np.ndarray, n: float) -> tuple[float, float]:
    """``a'S / b'S`` and its woman-level linearised variance (NaN when ``b'S`` is 0)."""
    den = float(b @ s)
    if den == 0:
        return float("nan"), float("nan")
    r = float(a @ s) / den
    c = a - r * b
    var = float(c @ q @ c) / den**2 * (n / max(n - 1.0, 1.0))
    return r, max(var, 0.0)


def measure_rows(sums: np.ndarray, products: np.ndarray, alpha: float = 0.05) -> list[dict[str, float | str]]:
    """Every :data:`BENEFIT_MEASURES` of one strategy from its sums and cross-products, with intervals.

    Parameters
    ----------
    sums : int array (variables,)
        ``S``: sums of the woman-level variables over the population.
    products : int array (variables, variables)
        ``Q``: sums of their cross-products.
    alpha : float
        1 - coverage of the intervals.

    Returns
    -------
    list of dict
        ``measure, label, side, estimate, lower, upper, se, se_unpaired, unit`` (``se_unpaired``: NaN unless
        the measure is a difference of the screened and unscreened runs).
    """
    s = np.asarray(sums, dtype=float)
    q = np.asarray(products, dtype=float)
    n = float(s[VARIABLES.index("women")])
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows = []
    for m in BENEFIT_MEASURES:
        a, b = m.vectors()
        r, var = _linearised(a, b, s, q, n)
        se_unpaired = float("nan")
        if m.paired:
            _, v_pos = _linearised(np.where(a > 0, a, 0.0), b, s, q, n)
            _, v_neg = _linearised(np.where(a < 0, a, 0.0), b, s, q, n)
            se_unpaired = float(np.sqrt(v_pos + v_neg)) * m.per
        se = float(np.sqrt(var)) * m.per
        est = r * m.per
        rows.append(
            {
                "measure": m.name,
                "label": m.label,
                "side": m.side,
                "estimate": est,
                "lower": est - z * se,
                "upper": est + z * se,
                "se": se,
                "se_unpaired": se_unpaired,
                "unit": m.unit,
            }
        )
    return rows


def measures_frame(sums: np.ndarray, products: np.ndarray, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`measure_rows` as a DataFrame."""
    return pd.DataFrame(measure_rows(sums, products, alpha))
