"""Lifetime outcomes of the same women with and without screening: deaths, life-years, overdiagnosis, harms.

For each block of women the cohort and the natural history are drawn once; the women are then followed
to :attr:`analysis.scenario.SurvivalParams.horizon_age_years` **without screening** (the comparator: each
progressive cancer is diagnosed when it surfaces, if she is still alive) and **under each strategy**
(:func:`analysis.model.programme.run_programme` with the strategy's ages and intervals; a cancer is
diagnosed at screen detection, or else when it surfaces). Both runs share every random number (common
random numbers): onset, growth and other-cause death, and the two draws of breast-cancer death below.

**Breast-cancer death** (:mod:`analysis.model.survival`). Without screening, a cancer diagnosed at
clinical surfacing with diameter ``D`` is fatal when the woman's uniform ``u`` is below the lethality
``L(D)``; she then dies of it ``T`` years after diagnosis (``T`` from the survival-time distribution) unless
other causes come first. Under screening, a cancer found earlier, smaller (``d <= D``) or as DCIS, is
fatal when ``u < L(d)`` too, and then she dies when she would have without screening (the cure model of
the CISNET and MISCAN models: screening cures or does not; it never moves a death earlier). Because
``L`` increases with size, every death under screening is a death without screening: deaths averted are
never negative, and are exactly zero when screening finds nothing earlier. A cancer that would not have
been diagnosed in her lifetime without screening is **overdiagnosed** (known exactly here) and never
fatal.

Each woman of the **population** (alive and free of diagnosed breast cancer at the population age: the
youngest start age of the strategies compared) contributes one row of integer variables
(:data:`VARIABLES`): counts, indicators and life-years in whole days, counted and discounted from the
fixed age ``survival.discount_age_years`` (so a strategy's numbers do not depend on which others are run).
Their sums and sums of cross-products (:class:`BenefitSums`) add up exactly over blocks, whatever the
grouping of blocks over workers, and give every ratio measure with a paired (woman-level) variance
(:mod:`analysis.stats.benefits`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.model.cohort import Cohort, density_category
from analysis.model.natural_history import (
    CALC_ONLY,
    DCIS,
    INVASIVE,
    HazardModel,
    NaturalHistory,
    draw_natural_history,
)
from analysis.model.programme import ProgrammeOutcome, run_programme
from analysis.model.streams import BLOCK_SIZE, uniforms
from analysis.model.survival import Survival
from analysis.scenario import Scenario
from analysis.scenario.strategies import Strategy

__all__ = [
    "DAYS_PER_YEAR",
    "VARIABLES",
    "BenefitSums",
    "Comparator",
    "block_benefits",
    "comparator",
    "strategy_intervals",
    "screened_bc_death_age",
    "strategy_outcome",
]

#: Days per year for life-years counted in whole days (Julian year).
DAYS_PER_YEAR = 365.25

#: Per-woman integer variables, in column order.
VARIABLES = (
    "women",  # 1 for every woman of the population
    "invited",  # alive and free of diagnosed breast cancer at the strategy's start age
    "screened",  # attended at least one screen
    "screens",  # attended screens
    "false_positives",  # recalls without a cancer found at work-up or surfacing within the interval
    "benign_biopsies",  # biopsies with benign or high-risk (non-malignant) pathology
    "short_interval",  # short-interval (6-month) follow-ups
    "screen_detected_dcis",
    "screen_detected_invasive",
    "screen_detected_calc_only",  # screen-detected, presenting as calcifications only
    "overdiagnosed_dcis",
    "overdiagnosed_invasive",
    "overdiagnosed_calc_only",
    "overdiagnosed_dcis_calc_only",
    "bc_death_unscreened",  # dies of breast cancer before the horizon, without screening
    "bc_death_screened",  # ... under the strategy
    "bc_death_unscreened_invited",  # bc_death_unscreened among the invited
    "life_days_unscreened",  # days lived from survival.discount_age_years to death or the horizon
    "life_days_screened",
    "discounted_days_unscreened",  # the same, discounted to survival.discount_age_years
    "discounted_days_screened",
)
_COL = {name: i for i, name in enumerate(VARIABLES)}


@dataclass(frozen=True)
class Comparator:
    """The block's women followed without screening (arrays aligned with the block's women)."""

    population: np.ndarray  # bool: alive and free of diagnosed breast cancer at the population age
    diagnosed: np.ndarray  # bool: diagnosed before other-cause death and the horizon
    lethal_u: np.ndarray  # the uniform of breast-cancer lethality
    bc_death_age: np.ndarray  # age at breast-cancer death without screening (inf: none before death, horizon)
    death_age: np.ndarray  # age at death from any cause without screening (inf beyond the horizon: capped later)


def comparator(
    s: Scenario, nh: NaturalHistory, sv: Survival, seed: int, block: int, population_age: float
) -> Comparator:
    """Follow the women without screening: diagnosis at surfacing, breast-cancer death by lethality and time."""
    n = nh.death_age.size
    horizon = s.survival.horizon_age_years
    oc = nh.death_age
    surf = nh.surfacing_age
    diagnosed = surf < np.minimum(oc, horizon)
    u = uniforms(seed, "survival.lethal", block, n)
    years = sv.years_to_death(uniforms(seed, "survival.time", block, n))
    lethal = diagnosed & (u < sv.invasive_lethality(np.nan_to_num(nh.clinical_diameter_mm)))
    bc = np.where(lethal, surf + years, np.inf)
    bc = np.where((bc < oc) & (bc < horizon), bc, np.inf)
    population = (oc > population_age) & (surf > population_age)
    return Comparator(population, diagnosed, u, bc, np.minimum(oc, bc))


def strategy_intervals(st: Strategy, c: Cohort, density_grid: np.ndarray) -> np.ndarray | None:
    """Each woman's screening interval under a risk-based strategy (``None``: the strategy's one for all).

    High-risk by the strategy's rule (BRCA carrier, family history, density d at the start age);
    low-risk: not high-risk, no family history, density a or b at the start age; the others: average.
    """
    if not st.risk_based:
        return None
    dens = density_category(density_grid, st.start_age_years, c.menopause_age <= st.start_age_years, c.density_u)
    rule = st.high_risk or ""
    high = c.brca > 0
    if "family_history" in rule:
        high |= c.family_history > 0
    if "density_d" in rule:
        high |= dens == 3
    low = ~high & (c.family_history == 0) & (dens <= 1)
    hi_iv = st.high_risk_interval_years or st.interval_years
    lo_iv = st.low_risk_interval_years or st.interval_years
    return np.where(high, hi_iv, np.where(low, lo_iv, st.interval_years)).astype(float)


def strategy_outcome(
    s: Scenario, st: Strategy, c: Cohort, nh: NaturalHistory, seed: int, block: int, density_grid: np.ndarray
) -> ProgrammeOutcome:
    """The programme of one strategy run on the block's women (``s`` already carries the strategy's ages)."""
    return run_programme(
        s, c, nh, seed, block, density_grid, first_woman=block * BLOCK_SIZE, detail=False,
        intervals=strategy_intervals(st, c, density_grid),
    )  # fmt: skip


def _per_woman(screens: dict[str, np.ndarray], first: int, n: int) -> dict[str, np.ndarray]:
    """Per-woman counts of screens and harms, and the presentation at the detecting screen."""
    w = (screens["woman"] - first).astype(np.intp)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(w[mask], minlength=n).astype(np.int64)

    detected = screens["screen_detected"]
    return {
        "screens": count(np.ones(w.size, dtype=bool)),
        "false_positives": count(screens["false_positive"]),
        "benign_biopsies": count(screens["biopsy"] & np.isin(screens["pathology"], (1, 2))),
        "short_interval": count(screens["workup"] == 2),
        "calc_only": count(detected & (screens["presentation"] == CALC_ONLY)) > 0,
    }


def _life_days(start: float, end: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Days lived from ``start`` to ``end`` (0 when ``end <= start``), undiscounted and discounted at ``rate``."""
    t = np.maximum(end - start, 0.0)
    disc = t if rate == 0 else -np.expm1(-np.log1p(rate) * t) / np.log1p(rate)
    return np.rint(t * DAYS_PER_YEAR).astype(np.int64), np.rint(disc * DAYS_PER_YEAR).astype(np.int64)


def screened_bc_death_age(cmp: Comparator, out: ProgrammeOutcome, sv: Survival) -> np.ndarray:
    """Breast-cancer death age under a strategy (``inf``: none), by the cure model.

    A cancer the strategy detects is fatal only if the woman's lethality uniform is below the lethality at
    the size it was found (DCIS: :attr:`Survival.dcis_lethality`); a fatal one kills her when it would have
    without screening. Women the strategy does not detect keep their unscreened fate.
    """
    detected = np.isfinite(out.detected_age)
    lethal = np.where(
        out.detected_type == DCIS, sv.dcis_lethality, sv.invasive_lethality(np.nan_to_num(out.detected_diameter_mm))
    )
    return np.where(detected & (cmp.lethal_u >= lethal), np.inf, cmp.bc_death_age)


def woman_variables(
    s: Scenario,
    st: Strategy,
    cmp: Comparator,
    nh: NaturalHistory,
    out: ProgrammeOutcome,
    sv: Survival,
    first_woman: int,
    population_age: float,
    discount_rate: float,
) -> np.ndarray:
    """The :data:`VARIABLES` of the population's women under one strategy, shape ``(population, variables)``."""
    n = nh.death_age.size
    horizon = s.survival.horizon_age_years
    per = _per_woman(out.screens, first_woman, n)
    detected = np.isfinite(out.detected_age)
    dcis, inv = detected & (out.detected_type == DCIS), detected & (out.detected_type == INVASIVE)
    bc_s = screened_bc_death_age(cmp, out, sv)
    death_s = np.minimum(nh.death_age, bc_s)
    over = detected & ~cmp.diagnosed
    invited = cmp.population & (nh.death_age > st.start_age_years) & (nh.surfacing_age > st.start_age_years)
    origin = s.survival.discount_age_years  # fixed: a strategy's life-years do not depend on the others run
    ly_u, dly_u = _life_days(origin, np.minimum(cmp.death_age, horizon), discount_rate)
    ly_s, dly_s = _life_days(origin, np.minimum(death_s, horizon), discount_rate)
    cols = {
        "women": np.ones(n, dtype=np.int64),
        "invited": invited,
        "screened": per["screens"] > 0,
        "screens": per["screens"],
        "false_positives": per["false_positives"],
        "benign_biopsies": per["benign_biopsies"],
        "short_interval": per["short_interval"],
        "screen_detected_dcis": dcis,
        "screen_detected_invasive": inv,
        "screen_detected_calc_only": detected & per["calc_only"],
        "overdiagnosed_dcis": over & dcis,
        "overdiagnosed_invasive": over & inv,
        "overdiagnosed_calc_only": over & per["calc_only"],
        "overdiagnosed_dcis_calc_only": over & dcis & per["calc_only"],
        "bc_death_unscreened": np.isfinite(cmp.bc_death_age),
        "bc_death_screened": np.isfinite(bc_s),
        "bc_death_unscreened_invited": invited & np.isfinite(cmp.bc_death_age),
        "life_days_unscreened": ly_u,
        "life_days_screened": ly_s,
        "discounted_days_unscreened": dly_u,
        "discounted_days_screened": dly_s,
    }
    x = np.column_stack([np.asarray(cols[v], dtype=np.int64) for v in VARIABLES])
    return x[cmp.population]


@dataclass
class BenefitSums:
    """Sums and sums of cross-products of the :data:`VARIABLES` over women, per strategy (exact integers)."""

    sums: np.ndarray  # (strategies, variables) int64
    products: np.ndarray  # (strategies, variables, variables) int64

    @classmethod
    def zeros(cls, strategies: int) -> BenefitSums:
        """No women yet."""
        k = len(VARIABLES)
        return cls(np.zeros((strategies, k), np.int64), np.zeros((strategies, k, k), np.int64))

    def __add__(self, other: BenefitSums) -> BenefitSums:
        return BenefitSums(self.sums + other.sums, self.products + other.products)


def block_benefits(
    s: Scenario,
    scenarios: Sequence[Scenario],
    strategies: Sequence[Strategy],
    c: Cohort,
    hazards: HazardModel,
    density_grid: np.ndarray,
    seed: int,
    block: int,
    population_age: float,
    discount_rate: float,
) -> BenefitSums:
    """One block of women: the comparator once, then every strategy on the same women; their sums.

    ``scenarios[i]`` is ``s`` with the ages and interval of ``strategies[i]``; the natural history is
    drawn from ``s`` (the strategies share the women's biology).
    """
    nh = draw_natural_history(s, hazards, c, seed, block)
    sv = Survival.from_scenario(s)
    cmp = comparator(s, nh, sv, seed, block, population_age)
    acc = BenefitSums.zeros(len(strategies))
    for i, (sk, st) in enumerate(zip(scenarios, strategies, strict=True)):
        out = strategy_outcome(sk, st, c, nh, seed, block, density_grid)
        x = woman_variables(s, st, cmp, nh, out, sv, block * BLOCK_SIZE, population_age, discount_rate)
        acc.sums[i] = x.sum(axis=0)
        acc.products[i] = x.T @ x
    return acc
