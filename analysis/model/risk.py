"""Each woman's hazard of invasive breast cancer, and the baseline that makes it reproduce the table.

The hazard of a non-carrier at age ``a`` is ``b(a) * RR_i * density_rr[density_i(a)] *
cluster_rr^[cluster by a]``: the fixed relative risks of docs/model.md §4.2 (family history,
breastfeeding, births: :func:`relative_risk`) times two that change with age — her BI-RADS density
(from her fixed density percentile, her age and menopausal status) and a benign microcalcification
cluster, which once present persists. BRCA1/2 carriers follow the carrier table, without other
relative risks. Everything is piecewise constant on a half-year grid (:func:`hazard_grid`); the
density and cluster state of an interval are those at its start.

:func:`rescaled_baseline` chooses ``b`` interval by interval so that in a reference population the
expected number of *first* clinical invasive cancers per living woman-year equals the input table
exactly, depletion included; :func:`noncarrier_family_history_rr` keeps the published
family-history relative risks for whole groups (carriers included).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError
from analysis.model.calcifications import CalcificationPropensity
from analysis.model.cohort import Cohort, density_category
from analysis.scenario import Scenario

#: Width (years) of the intervals of the hazard grid.
AGE_STEP = 0.5
#: Last age of the hazard grid. Tumours must exist past the model end (85) so that those surfacing
#: later can be screen-detected (overdiagnosis); beyond the incidence table its last rate applies.
#: A tumour that would surface after this age is not simulated. The truncation is not small: at the
#: shipped growth values (slow tumours surfacing late), a grid to 120 instead raises the preclinical
#: prevalence at 74 from 9.4% to 14.9% of living women (measured when this was written).
HAZARD_END_AGE = 100.0
#: Number of risk codes: ``density + 4 * cluster`` (density 0..3 = BI-RADS a..d, cluster 0/1).
N_CODES = 8
#: Ages at which the family-history correction is solved (the screening ages, as before).
FAMILY_HISTORY_AGES = (40.0, 75.0)
#: Terms of the power series in which the exact rescaling is solved (:func:`rescaled_baseline`).
SERIES_TERMS = 5


def hazard_grid(s: Scenario) -> np.ndarray:
    """Grid ages from the model start to :data:`HAZARD_END_AGE` in steps of :data:`AGE_STEP`."""
    start = s.cohort.model_start_age_years
    return np.arange(start, HAZARD_END_AGE + AGE_STEP / 2, AGE_STEP)


def band_rate(table: pd.DataFrame, column: str, ages: np.ndarray) -> np.ndarray:
    """Piecewise-constant rate of a banded table at ``ages`` (last band beyond the end).

    Before the first band the carrier tables (``brca*`` columns) are 0 and the population table
    takes its first band.
    """
    lowers = table["age_lower"].to_numpy()
    idx = np.clip(np.searchsorted(lowers, ages, side="right") - 1, 0, len(lowers) - 1)
    rate = table[column].to_numpy()[idx]
    return np.where(ages < lowers[0], 0.0 if column.startswith("brca") else rate, rate)


def table_rates(s: Scenario, ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Population incidence (per woman-year, the table times ``cancer.incidence_scale``) and carrier
    hazards (shape (2, len(ages)), not scaled: carrier penetrance is its own table) at ``ages``."""
    inc = s.cancer.incidence_scale * band_rate(s.tables["incidence"], "annual_incidence_per_100000", ages) / 1e5
    brca = s.tables["brca_incidence"]
    carrier = np.vstack([band_rate(brca, c, ages) for c in ("brca1_annual_hazard", "brca2_annual_hazard")])
    return inc, carrier


def relative_risk(s: Scenario, c: Cohort, family_history_rr: tuple[float, float] | None = None) -> np.ndarray:
    """Fixed multiplicative relative risk of invasive cancer for non-carriers (docs/model.md §4.2).

    Family history, breastfeeding and births. ``family_history_rr`` are the *non-carrier* relative
    risks for 1 and >= 2 affected relatives (:func:`noncarrier_family_history_rr`); by default the
    published (all-women) values of the scenario. Density and clusters change with age: see
    :func:`risk_codes` and :func:`code_factors`.
    """
    p = s.cancer
    rr1, rr2 = family_history_rr or (p.family_history_rr_1, p.family_history_rr_2plus)
    rr = np.ones(c.n)
    rr = np.where(c.family_history == 1, rr1, rr)
    rr = np.where(c.family_history >= 2, rr2, rr)
    rr = rr * (1 - p.breastfeeding_rr_reduction_per_12_months) ** (c.breastfeeding_months / 12.0)
    rr = rr * (1 - p.parity_rr_reduction_per_birth) ** c.births.astype(float)
    return rr


def code_factors(s: Scenario) -> np.ndarray:
    """Relative risk of each risk code ``density + 4 * cluster``: ``density_rr[density] * cluster_rr^cluster``."""
    dens = np.asarray(s.cancer.density_rr, dtype=float)
    return np.concatenate([dens, dens * s.cancer.cluster_rr])


def risk_codes(
    s: Scenario, c: Cohort, cluster_u: np.ndarray, density_grid: np.ndarray, ages: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Density and cluster state of every woman at each of ``ages`` (increasing).

    Density at age ``a`` is :func:`analysis.model.cohort.density_category` with the woman
    postmenopausal when her menopause age is ``<= a``; a cluster is present from the first of
    ``ages`` at which :meth:`CalcificationPropensity.cluster_present` holds (a running OR over
    ``ages``, as the programme does over its invitation ages).

    Returns
    -------
    codes : numpy.ndarray
        int8, shape (len(ages), n): ``density + 4 * cluster``.
    cluster_onset : numpy.ndarray
        First of ``ages`` with a cluster (inf when none).
    """
    props = CalcificationPropensity.from_uniforms(s, c, cluster_u)
    meno = c.menopause_age
    codes = np.empty((len(ages), c.n), dtype=np.int8)
    cluster = np.zeros(c.n, dtype=bool)
    onset = np.full(c.n, np.inf)
    by_group: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # density changes only by age group and menopause
    for j, a in enumerate(ages):
        post = meno <= a
        g = int(np.clip((a - 35.0) // 5, 0, density_grid.shape[0] - 1))
        if g not in by_group:
            by_group[g] = tuple(
                density_category(density_grid, float(a), np.full(c.n, status), c.density_u) for status in (False, True)
            )
        dens = np.where(post, *by_group[g][::-1])
        new = ~cluster & props.cluster_present(float(a), post, dens)
        onset[new] = a
        cluster |= new
        codes[j] = dens + 4 * cluster
    return codes, onset


def _group_shares(reference: Cohort) -> tuple[np.ndarray, np.ndarray]:
    """P(family-history group k) and P(BRCA status c | group k), shape (3,) and (3, 3)."""
    fh = np.minimum(reference.family_history, 2).astype(np.intp)
    p_k = np.bincount(fh, minlength=3) / reference.n
    joint = np.bincount(3 * fh + reference.brca.astype(np.intp), minlength=9).reshape(3, 3) / reference.n
    return p_k, joint / np.maximum(p_k[:, None], 1e-300)


def _other_rr_means(s: Scenario, reference: Cohort, codes: np.ndarray | None, n_ages: int) -> np.ndarray:
    """Mean of the non-family-history relative risks among non-carriers of each group, shape (3, n_ages)."""
    fh = np.minimum(reference.family_history, 2).astype(np.intp)
    nc = reference.brca == 0
    other = relative_risk(s, reference, (1.0, 1.0))
    counts = np.bincount(fh[nc], minlength=3).astype(float)
    if codes is None:
        return np.repeat((np.bincount(fh[nc], weights=other[nc], minlength=3) / counts)[:, None], n_ages, axis=1)
    factors = code_factors(s)
    out = np.empty((3, n_ages))
    key = N_CODES * fh[nc]
    for j in range(n_ages):
        sums = np.bincount(key + codes[j][nc], weights=other[nc], minlength=3 * N_CODES).reshape(3, N_CODES)
        out[:, j] = sums @ factors / counts
    return out


def noncarrier_family_history_rr(
    s: Scenario,
    reference: Cohort,
    codes: np.ndarray | None = None,
    ages: np.ndarray | None = None,
    iterations: int = 4,
) -> tuple[float, float]:
    """Non-carrier relative risks that give the published family-history RRs for whole groups.

    The published RRs (CGHFBC 2001) compare all women with 1 (or >= 2) affected relatives,
    carriers included, with women without. Carriers are concentrated among women with affected
    relatives (:func:`analysis.model.cohort.carrier_probabilities`) and have their own incidence,
    so applying the published RR to non-carriers as well would count family history twice. For
    group ``k`` at age ``a``::

        RR_k * H_0(a) = P(nc | k) b(a) RR'_k E_k(a) + sum_c P(c | k) I_c(a)

    where ``H_0`` is the mean hazard of women without affected relatives, ``b`` the baseline (the
    table over the population's mean relative risk, without depletion) and ``E_k(a)`` the group's
    mean of the other relative risks at ``a`` — breastfeeding and births, and, when ``codes`` (the
    :func:`risk_codes` at ``ages``) are given, density and clusters, which differ between groups
    because clusters are commoner with family history. ``RR'_k`` is solved at every age of
    ``ages`` (default: grid ages 40-74.5) and averaged; the baseline is re-rescaled and the
    solution iterated to a fixed point. Depletion is ignored here: the published RRs are treated
    as hazard ratios at screening ages.
    """
    if ages is None:
        ages = np.arange(FAMILY_HISTORY_AGES[0], FAMILY_HISTORY_AGES[1], AGE_STEP)
    p = s.cancer
    published = np.array([p.family_history_rr_1, p.family_history_rr_2plus])
    table, carrier_rate = table_rates(s, ages)
    p_k, share = _group_shares(reference)
    e_other = _other_rr_means(s, reference, codes, len(ages))
    carriers_k = share[:, 1:] @ carrier_rate  # (3, ages): carrier hazard per woman of group k
    rr = published.copy()
    for _ in range(iterations):
        rr_all = np.array([1.0, rr[0], rr[1]])
        b = (table - p_k @ carriers_k) / ((p_k * share[:, 0] * rr_all) @ e_other)
        h0 = share[0, 0] * b * e_other[0] + carriers_k[0]
        for k in (1, 2):
            need = (published[k - 1] * h0 - carriers_k[k]) / (share[k, 0] * b * e_other[k])
            rr[k - 1] = max(float(np.mean(need)), 1.0)
    return float(rr[0]), float(rr[1])


def rescaled_baseline(
    s: Scenario, reference: Cohort, codes: np.ndarray, family_history_rr: tuple[float, float], ages: np.ndarray
) -> np.ndarray:
    """Non-carrier baseline hazard on the grid ``ages`` that reproduces the table exactly, with depletion.

    For every interval ``j`` of the grid (``ages[j]`` to ``ages[j + 1]``, width ``D``), ``b_j`` solves

        sum_i exp(-Lambda_i(a_j)) (1 - exp(-lambda_ij D)) = N I_j D

    over the ``N`` women of the reference population: the expected number of first clinical
    invasive cancers per woman alive equals the table's rate ``I_j`` (other-cause death is
    independent of cancer and the same for every woman, so it cancels). ``lambda_ij = b_j RR_ij``
    for non-carriers, the carrier table's hazard for carriers; ``Lambda_i`` accumulates them.
    Each ``b_j`` is solved to about 1e-10 relative (:func:`_solve_interval`).

    Parameters
    ----------
    codes : numpy.ndarray
        :func:`risk_codes` of the reference population at ``ages[:-1]``.

    Returns
    -------
    numpy.ndarray
        Hazard per year of a non-carrier with relative risk 1, one per interval.
    """
    step = np.diff(ages)
    table, carrier_rate = table_rates(s, ages[:-1])
    nc = reference.brca == 0
    fixed = np.where(nc, relative_risk(s, reference, family_history_rr), 0.0)  # carriers: their own hazard
    carriers = np.flatnonzero(~nc)
    carrier_row = reference.brca[carriers].astype(np.intp) - 1
    factors = code_factors(s)
    surv = np.ones(reference.n)  # exp(-Lambda_i(a_j))
    baseline = np.empty(len(step))
    for j, d in enumerate(step):
        x = factors[codes[j]]
        x *= fixed * d
        e_c = np.exp(-carrier_rate[carrier_row, j] * d)
        need = reference.n * table[j] * d - np.dot(surv[carriers], 1.0 - e_c)
        if need <= 0:
            raise ValueError(f"carrier incidence exceeds the population incidence table at age {ages[j]:g}")
        if need >= float(np.sum(surv[nc])):
            raise CalcsimInputError(
                f"cancer.incidence_scale={s.cancer.incidence_scale!r}: the incidence table it scales asks for more"
                f" cancers at age {ages[j]:g} than there are women at risk; allowed: a smaller incidence_scale"
            )
        baseline[j] = b = _solve_interval(surv, x, need)
        x *= -b
        surv *= np.exp(x, out=x)
        surv[carriers] *= e_c
    return baseline


def _solve_interval(surv: np.ndarray, x: np.ndarray, need: float) -> float:
    """The ``b`` with ``sum(surv * (1 - exp(-b x))) = need``.

    The left side is expanded in powers of ``b``, ``sum_k (-1)^(k+1) b^k M_k / k!`` with
    ``M_k = sum(surv x^k)``, to :data:`SERIES_TERMS` terms (the first omitted term, relative to the
    first, is ``(b x)^5 / 720 < 1e-10`` for ``b x <= 0.05``; at the shipped values ``b x < 0.035``)
    and solved by Newton's method from ``need / M1`` (below the root: the sum is concave in ``b``); beyond
    ``b x = 0.05`` (incidence far above the shipped tables) Newton's method on the exact sum instead.
    """
    t = surv * x
    moments = []
    for k in range(SERIES_TERMS):
        moments.append(float(np.sum(t)))
        if k < SERIES_TERMS - 1:
            t *= x
    coef = np.array([(-1) ** k * m / math.factorial(k + 1) for k, m in enumerate(moments)])  # of b^(k+1)
    poly = np.polynomial.Polynomial(np.concatenate([[-need], coef]))
    deriv = poly.deriv()
    b = need / moments[0]
    for _ in range(50):
        step = poly(b) / deriv(b)
        b -= step
        if abs(step) <= 1e-15 * b:
            break
    if float(np.max(x)) * b > 0.05:  # beyond the series' accuracy: Newton on the exact sum (concave, from below)
        b = need / moments[0]
        for _ in range(100):
            e = np.exp(-b * x)
            step = (float(np.sum(surv * (1.0 - e))) - need) / float(np.sum(surv * x * e))
            b -= step
            if abs(step) <= 1e-13 * b:
                break
        else:
            raise ValueError(f"baseline hazard did not converge (need {need:g}, last step {step:g})")
    return float(b)
