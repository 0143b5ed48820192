"""The cohort: risk factors of the simulated women, one array element per woman.

Two sources (docs/model.md §3):

* **parametric** (default) — distributions from the published figures in the
  scenario's ``[cohort]`` section;
* **BCSC** — risk-factor profiles (family history, parity, density, menopause)
  resampled, with their weights, from a BCSC Risk Estimation Dataset file the user
  points to; what BCSC does not record (births, breastfeeding, BRCA) is drawn from
  the parametric model conditional on the profile.

BRCA carrier status is drawn *given* family history by Bayes' rule
(:func:`carrier_probabilities`), so the marginal carrier prevalence is the
published one and carriers are concentrated among women with affected relatives.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy import special

from analysis.model.streams import stream, uniforms
from analysis.scenario import CohortParams, Scenario

NO_EVENT = np.inf
#: Truncation of the age at natural menopause (years): keeps the normal's tails inside the range in which
#: natural menopause is observed (assumption; at mean 50.5, SD 4.5 it removes 0.4% of the mass).
NATURAL_MENOPAUSE_AGES = (38.0, 62.0)
#: Truncation of the age at surgical menopause (assumption: bilateral oophorectomy in adult women before 60).
SURGICAL_MENOPAUSE_AGES = (30.0, 60.0)


@dataclass
class Cohort:
    """Risk factors, one element per woman (all arrays have the same length).

    Attributes
    ----------
    family_history : int8 array
        First-degree relatives with breast cancer: 0, 1, 2 (meaning >= 2).
    brca : int8 array
        0 non-carrier, 1 BRCA1, 2 BRCA2.
    births : int8 array
        Number of births (0 = nulliparous).
    breastfeeding_months : float array
        Lifetime breastfeeding in months.
    natural_menopause_age : float array
        Age at natural menopause (years).
    surgical_menopause_age : float array
        Age at surgical menopause, ``inf`` if none.
    density_u : float array
        Density percentile propensity in (0, 1): fixed per woman, turned into a
        BI-RADS category by the age- and menopause-specific distribution.
    """

    family_history: np.ndarray
    brca: np.ndarray
    births: np.ndarray
    breastfeeding_months: np.ndarray
    natural_menopause_age: np.ndarray
    surgical_menopause_age: np.ndarray
    density_u: np.ndarray

    @property
    def n(self) -> int:
        """Number of women."""
        return len(self.family_history)

    @property
    def menopause_age(self) -> np.ndarray:
        """Age at menopause, natural or surgical, whichever came first."""
        return np.minimum(self.natural_menopause_age, self.surgical_menopause_age)

    def to_frame(self) -> pd.DataFrame:
        """The cohort as a DataFrame (one row per woman)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["menopause_age"] = self.menopause_age
        return pd.DataFrame(data)


# ----------------------------------------------------------------------------- helpers
def truncated_normal_ppf(
    u: np.ndarray, mean: float, sd: float, low: np.ndarray | float, high: np.ndarray | float
) -> np.ndarray:
    """Inverse CDF of Normal(mean, sd) truncated to [low, high], vectorised over ``u``."""
    a = special.ndtr((np.asarray(low, dtype=float) - mean) / sd)
    b = special.ndtr((np.asarray(high, dtype=float) - mean) / sd)
    p = a + u * (b - a)
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.clip(mean + sd * special.ndtri(p), low, high)


def cumulative_risk(
    hazard_per_year: np.ndarray, ages_lower: np.ndarray, ages_upper: np.ndarray, to_age: float
) -> float:
    """``1 - exp(-integral of a piecewise-constant hazard)`` up to ``to_age``."""
    width = np.clip(np.minimum(ages_upper, to_age) - ages_lower, 0, None)
    return float(1 - np.exp(-np.sum(hazard_per_year * width)))


def carrier_probabilities(p: CohortParams, brca_table: pd.DataFrame, incidence_table: pd.DataFrame) -> np.ndarray:
    """P(BRCA1), P(BRCA2) given family history 0, 1, >=2, by Bayes' rule.

    Each of ``n`` female first-degree relatives of a carrier carries the variant
    with probability 1/2 (autosomal dominant); a carrier relative is affected with
    the carrier's cumulative risk to age 70, a non-carrier relative with the
    population cumulative risk to 70 (from the incidence table). With
    ``q_c = (pen_c + risk_pop) / 2`` the number of affected relatives of a carrier
    is Binomial(n, q_c) (2 or more pooled), giving ``P(k | carrier)``. Then
    ``P(carrier | k) = P(k | carrier) P(carrier) / P(k)`` with ``P(k)`` the
    family-history shares of the scenario. The marginal carrier prevalence is
    preserved exactly: ``sum_k P(carrier | k) P(k) = P(carrier)``.

    Returns
    -------
    numpy.ndarray
        Shape (3, 2): rows family history 0, 1, >=2; columns BRCA1, BRCA2.
    """
    inc = incidence_table
    risk_pop = cumulative_risk(
        inc["annual_incidence_per_100000"].to_numpy() / 1e5,
        inc["age_lower"].to_numpy(),
        inc["age_upper"].to_numpy(),
        70.0,
    )
    p_k = np.array(
        [
            1 - p.family_history_any_share,
            p.family_history_any_share * (1 - p.family_history_two_plus_share_of_any),
            p.family_history_any_share * p.family_history_two_plus_share_of_any,
        ]
    )
    out = np.zeros((3, 2))
    n = p.female_first_degree_relatives
    for j, (col, prev) in enumerate((("brca1_annual_hazard", p.brca1_share), ("brca2_annual_hazard", p.brca2_share))):
        pen = cumulative_risk(
            brca_table[col].to_numpy(), brca_table["age_lower"].to_numpy(), brca_table["age_upper"].to_numpy(), 70.0
        )
        q = 0.5 * pen + 0.5 * risk_pop
        k0 = (1 - q) ** n
        k1 = n * q * (1 - q) ** (n - 1)
        lik = np.array([k0, k1, 1 - k0 - k1])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, j] = np.where(p_k > 0, lik * prev / p_k, 0.0)
    if np.any(out.sum(axis=1) > 1):
        raise ValueError("carrier probabilities given family history exceed 1; check cohort shares")
    return out


def categorical_draw(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Category index by inverse CDF. ``probs`` is (k,) or (n, k)."""
    cum = np.cumsum(probs, axis=-1)
    if cum.ndim == 1:
        return np.searchsorted(cum[:-1], u, side="right").astype(np.int8)
    out = np.zeros(len(u), dtype=np.int8)
    for j in range(cum.shape[1] - 1):
        out += u >= cum[:, j]
    return out


# ----------------------------------------------------------------------------- parametric
def _births_and_breastfeeding(
    p: CohortParams, seed: int, block: int, n: int, parous: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    extra = stream(seed, "cohort.births", block).poisson(max(p.mean_births_parous - 1.0, 0.0), n)
    births = np.where(parous, 1 + np.minimum(extra, 20), 0).astype(np.int8)
    u_bf = uniforms(seed, "cohort.ever_breastfed", block, n)
    mean_breastfeeders = p.breastfeeding_mean_months_parous / max(p.ever_breastfed_share_parous, 1e-12)
    gamma = stream(seed, "cohort.breastfeeding_months", block).gamma(
        p.breastfeeding_gamma_shape, mean_breastfeeders / p.breastfeeding_gamma_shape, n
    )
    months = np.where(parous & (u_bf < p.ever_breastfed_share_parous), gamma, 0.0)
    return births, months


def _surgical(p: CohortParams, seed: int, block: int, n: int) -> np.ndarray:
    u = uniforms(seed, "cohort.surgical_menopause", block, n)
    u_age = uniforms(seed, "cohort.surgical_menopause_age", block, n)
    age = truncated_normal_ppf(
        u_age, p.surgical_menopause_mean_age_years, p.surgical_menopause_sd_years, *SURGICAL_MENOPAUSE_AGES
    )
    return np.where(u < p.surgical_menopause_share, age, NO_EVENT)


def draw_cohort(s: Scenario, seed: int, block: int, n: int) -> Cohort:
    """Draw ``n`` women of block ``block`` from the parametric cohort model.

    Parameters
    ----------
    s : Scenario
        Validated scenario (uses ``s.cohort`` and the incidence tables).
    seed, block, n : int
        Run seed, block index and number of women in this block.
    """
    p = s.cohort
    u_fh = uniforms(seed, "cohort.family_history", block, n)
    any_fh = p.family_history_any_share
    fh = np.where(
        u_fh < 1 - any_fh, 0, np.where(u_fh < 1 - any_fh * p.family_history_two_plus_share_of_any, 1, 2)
    ).astype(np.int8)
    brca = _draw_brca(s, seed, block, fh)
    parous = uniforms(seed, "cohort.parous", block, n) >= p.nulliparous_share
    births, months = _births_and_breastfeeding(p, seed, block, n, parous)
    natural = truncated_normal_ppf(
        uniforms(seed, "cohort.natural_menopause", block, n),
        p.natural_menopause_mean_age_years,
        p.natural_menopause_sd_years,
        *NATURAL_MENOPAUSE_AGES,
    )
    return Cohort(
        family_history=fh,
        brca=brca,
        births=births,
        breastfeeding_months=months,
        natural_menopause_age=natural,
        surgical_menopause_age=_surgical(p, seed, block, n),
        density_u=uniforms(seed, "cohort.density", block, n),
    )


def _draw_brca(s: Scenario, seed: int, block: int, fh: np.ndarray) -> np.ndarray:
    probs = carrier_probabilities(s.cohort, s.tables["brca_incidence"], s.tables["incidence"])
    u = uniforms(seed, "cohort.brca", block, len(fh))
    p1, p2 = probs[fh, 0], probs[fh, 1]
    return np.where(u < p1, 1, np.where(u < p1 + p2, 2, 0)).astype(np.int8)


# ----------------------------------------------------------------------------- BCSC
def density_grid(table: pd.DataFrame) -> np.ndarray:
    """Complete density distribution, shape (n_age_groups, 2, 4), for 5-year groups from 35.

    Age groups run 35-39, 40-44, ..., 80-84 (and older ages use the last group).
    Combinations absent from the table (premenopausal at 55+, postmenopausal
    before 45) take the nearest age group with the same menopausal status.
    """
    groups = np.arange(35, 85, 5)
    out = np.zeros((len(groups), 2, 4))
    cols = ["density_a", "density_b", "density_c", "density_d"]
    for meno in (0, 1):
        sub = table[table["postmenopausal"] == meno]
        if sub.empty:
            sub = table
        lowers = sub["age_lower"].to_numpy()
        for i, g in enumerate(groups):
            j = int(np.argmin(np.abs(lowers - g)))
            out[i, meno] = sub[cols].to_numpy()[j]
    return out


def density_category(
    grid: np.ndarray, age: float | np.ndarray, postmenopausal: np.ndarray, density_u: np.ndarray
) -> np.ndarray:
    """BI-RADS density (0=a ... 3=d) at ``age`` from the woman's fixed percentile ``density_u``.

    ``age`` is a scalar (all women screened at the same age: the fast path used by
    the programme loop) or an array aligned with the women.
    """
    if np.ndim(age) == 0:
        g = int(np.clip((float(age) - 35) // 5, 0, grid.shape[0] - 1))
        thresholds = np.cumsum(grid[g], axis=-1)  # (menopause status, category)
        status = postmenopausal.view(np.int8) if postmenopausal.dtype == bool else postmenopausal
        out = np.zeros(len(density_u), dtype=np.int8)
        for j in range(3):
            np.add(out, density_u >= thresholds[:, j][status], out=out, casting="unsafe")
        return out
    g = np.clip(((np.asarray(age) - 35) // 5).astype(np.intp), 0, grid.shape[0] - 1)
    cum = np.cumsum(grid[g, postmenopausal.astype(np.intp)], axis=-1)
    return (density_u[:, None] >= cum[:, :3]).sum(axis=1).astype(np.int8)


def draw_cohort_bcsc(
    s: Scenario, profiles: pd.DataFrame, reference_age: float, seed: int, block: int, n: int
) -> Cohort:
    """Draw ``n`` women by resampling BCSC risk-factor profiles (weights = mammogram counts).

    ``profiles`` is :func:`analysis.io.bcsc.risk_profiles` for the age group of the
    programme's first invitation; ``reference_age`` is that group's mid-point. The
    woman's density percentile is drawn inside her profile's density category at
    ``reference_age``; her menopause age is drawn conditional on her status there.
    """
    p = s.cohort
    w = profiles["weight"].to_numpy(dtype=float)
    idx = np.searchsorted(np.cumsum(w)[:-1] / w.sum(), uniforms(seed, "cohort.profile", block, n), side="right")
    prof = profiles.iloc[idx]
    fh = prof["family_history"].to_numpy().astype(np.int8)
    brca = _draw_brca(s, seed, block, fh)
    parous = ~prof["nulliparous"].to_numpy(dtype=bool)
    births, months = _births_and_breastfeeding(p, seed, block, n, parous)
    post = prof["postmenopausal"].to_numpy(dtype=bool)
    surgical_flag = prof["surgical_menopause"].to_numpy(dtype=bool)
    # menopause age conditional on the profile's status at the reference age (bounds kept half a year apart)
    lo, hi = NATURAL_MENOPAUSE_AGES
    ref = float(np.clip(reference_age, lo + 0.5, hi - 0.5))
    u_nat = uniforms(seed, "cohort.natural_menopause", block, n)
    natural = np.where(
        post & ~surgical_flag,
        truncated_normal_ppf(u_nat, p.natural_menopause_mean_age_years, p.natural_menopause_sd_years, lo, ref),
        truncated_normal_ppf(u_nat, p.natural_menopause_mean_age_years, p.natural_menopause_sd_years, ref, hi),
    )
    u_s = uniforms(seed, "cohort.surgical_menopause_age", block, n)
    surgical = np.where(
        post & surgical_flag,
        truncated_normal_ppf(
            u_s,
            p.surgical_menopause_mean_age_years,
            p.surgical_menopause_sd_years,
            SURGICAL_MENOPAUSE_AGES[0],
            max(reference_age, SURGICAL_MENOPAUSE_AGES[0] + 0.5),
        ),
        NO_EVENT,
    )
    grid = density_grid(s.tables["density"])
    g = int(np.clip((reference_age - 35) // 5, 0, grid.shape[0] - 1))
    cum_by_woman = np.cumsum(grid[g][post.astype(np.intp)], axis=-1)
    cum_by_woman = np.concatenate([np.zeros((n, 1)), cum_by_woman], axis=1)
    cat = prof["density"].map({"a": 0, "b": 1, "c": 2, "d": 3}).to_numpy().astype(np.intp)
    lo = cum_by_woman[np.arange(n), cat]
    hi = cum_by_woman[np.arange(n), cat + 1]
    density_u = lo + uniforms(seed, "cohort.density", block, n) * (hi - lo)
    return Cohort(
        family_history=fh,
        brca=brca,
        births=births,
        breastfeeding_months=months,
        natural_menopause_age=natural,
        surgical_menopause_age=surgical,
        density_u=density_u,
    )
