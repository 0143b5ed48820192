"""Calcifications: benign propensities thresholded by age, and the descriptors of malignant ones.

* :class:`CalcificationPropensity` — each woman's latent propensity for a benign microcalcification
  cluster and for benign non-suspicious calcifications, evaluated at any age (docs/model.md §4.9).
  The programme thresholds it at every invitation; the natural history uses it on its hazard grid
  for the cluster relative risk of breast cancer.
* :func:`malignant_descriptors` — how one phase of a lesion (its DCIS phase or its invasive phase)
  presents on the mammogram, and, when it has calcifications, their morphology, distribution and
  cluster form.
* :func:`benign_descriptors` — morphology, distribution and cluster form of a woman's benign cluster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import logit

from analysis.model.cohort import Cohort, categorical_draw
from analysis.model.streams import uniforms
from analysis.scenario import DISTRIBUTIONS, MORPHOLOGIES, PRESENTATIONS, Scenario

if TYPE_CHECKING:  # the natural history builds on this module; only its type is needed here
    from analysis.model.natural_history import NaturalHistory

#: Presentation codes (index into PRESENTATIONS).
CALC_ONLY, CALC_MASS, MASS, OTHER = range(4)


@dataclass(frozen=True)
class CalcificationPropensity:
    """Each woman's log-odds of a benign cluster and of non-suspicious calcifications, by age.

    A woman has a cluster at a screen when ``logit(cluster_u) < `` her log-odds at that age
    (a latent propensity: who has clusters is stable across screens, and a cluster once present
    persists); likewise for non-suspicious calcifications, which are re-evaluated at every screen.
    """

    s: Scenario
    cluster_pre: np.ndarray  # log-odds before menopause, without the age and density terms
    cluster_post: np.ndarray  # after menopause
    cluster_lu: np.ndarray  # logit of the woman's cluster propensity uniform
    nonsusp_lu: np.ndarray

    @classmethod
    def of(cls, s: Scenario, c: Cohort, nh: NaturalHistory) -> CalcificationPropensity:
        """The propensities of the women of one block."""
        return cls.from_uniforms(s, c, nh.cluster_u, nh.nonsuspicious_u)

    @classmethod
    def from_uniforms(
        cls, s: Scenario, c: Cohort, cluster_u: np.ndarray, nonsuspicious_u: np.ndarray | None = None
    ) -> CalcificationPropensity:
        """The propensities from the women's propensity uniforms.

        Without ``nonsuspicious_u`` only :meth:`cluster_present` may be used (the natural history
        needs the cluster alone, before the rest of the history exists).
        """
        cal = s.calcifications
        pre = (
            logit(cal.cluster_prevalence_age50)
            + math.log(cal.cluster_or_family_history) * (c.family_history >= 1)
            + math.log(cal.cluster_or_per_birth) * c.births
        )
        long_bf = c.breastfeeding_months > 12.0
        post = (
            pre
            + math.log(cal.cluster_or_postmenopausal)
            + math.log(cal.cluster_or_breastfeeding_over_12_months_postmenopausal) * long_bf
        )
        nonsusp = logit(nonsuspicious_u) if nonsuspicious_u is not None else np.empty(0)
        return cls(s, pre, post, logit(cluster_u), nonsusp)

    def cluster_present(self, age: float, postmenopausal: np.ndarray, density: np.ndarray) -> np.ndarray:
        """Whether each woman's cluster propensity is below her log-odds at this age (all women)."""
        cal = self.s.calcifications
        dense_lor = np.array([0.0, 0.0, 1.0, 1.0]) * math.log(cal.cluster_or_dense)  # BI-RADS c/d
        lg = np.where(postmenopausal, self.cluster_post, self.cluster_pre)
        lg += dense_lor[density]
        lg += math.log(cal.cluster_odds_ratio_per_decade) * (age - 50.0) / 10.0
        return self.cluster_lu < lg

    def nonsuspicious(self, idx: np.ndarray, age: float) -> np.ndarray:
        """Non-suspicious calcifications at this screen, for the attending women ``idx``."""
        cal = self.s.calcifications
        lg = (
            logit(cal.nonsuspicious_prevalence_age50)
            + math.log(cal.nonsuspicious_odds_ratio_per_decade) * (age - 50.0) / 10.0
        )
        return self.nonsusp_lu[idx] < lg


@dataclass
class Descriptors:
    """Presentation and calcification descriptors of one phase of a lesion (or of a benign cluster)."""

    presentation: np.ndarray  # int8: -1 when the phase does not exist, else index into PRESENTATIONS
    morphology: np.ndarray  # int8: -1 when the phase has no calcification
    distribution: np.ndarray  # int8: -1 when the phase has no calcification
    compact: np.ndarray  # bool


def _rows(s: Scenario, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """The morphology and distribution shares of one ``origin`` row (benign, dcis, invasive)."""
    morph = s.tables["morphology"].set_index("origin").loc[origin, list(MORPHOLOGIES)].to_numpy(dtype=float)
    dist = s.tables["distribution"].set_index("origin").loc[origin, list(DISTRIBUTIONS)].to_numpy(dtype=float)
    return morph, dist


def malignant_descriptors(s: Scenario, seed: int, block: int, phase: str, present: np.ndarray) -> Descriptors:
    """Presentation and calcifications of the ``phase`` (``"dcis"`` or ``"invasive"``) of each lesion.

    The presentation is drawn from the ``phase`` row of the presentation table; a phase presenting
    with calcifications (calcification only, or calcification and mass) gets a morphology and a
    distribution from the ``phase`` rows of the calcification tables and is compact with
    ``calcifications.compact_share_malignant``. Each phase has its own streams
    (``history.<phase>_presentation``, ``_morphology``, ``_distribution``, ``_compact``): the DCIS
    and invasive phases of one lesion are drawn independently.
    """
    n = present.size
    shares = s.tables["presentation"].set_index("cancer_type").loc[phase, list(PRESENTATIONS)].to_numpy(dtype=float)
    pres = categorical_draw(uniforms(seed, f"history.{phase}_presentation", block, n), shares)
    pres = np.where(present, pres, -1).astype(np.int8)
    has_calc = (pres == CALC_ONLY) | (pres == CALC_MASS)
    morph, dist = _rows(s, phase)
    m = categorical_draw(uniforms(seed, f"history.{phase}_morphology", block, n), morph)
    d = categorical_draw(uniforms(seed, f"history.{phase}_distribution", block, n), dist)
    compact = uniforms(seed, f"history.{phase}_compact", block, n) < s.calcifications.compact_share_malignant
    return Descriptors(
        presentation=pres,
        morphology=np.where(has_calc, m, -1).astype(np.int8),
        distribution=np.where(has_calc, d, -1).astype(np.int8),
        compact=has_calc & compact,
    )


def benign_descriptors(s: Scenario, seed: int, block: int, n: int) -> Descriptors:
    """Morphology, distribution and cluster form of each woman's benign cluster (should she have one)."""
    morph, dist = _rows(s, "benign")
    return Descriptors(
        presentation=np.full(n, -1, dtype=np.int8),
        morphology=categorical_draw(uniforms(seed, "history.benign_morphology", block, n), morph),
        distribution=categorical_draw(uniforms(seed, "history.benign_distribution", block, n), dist),
        compact=uniforms(seed, "history.benign_compact", block, n) < s.calcifications.compact_share_benign,
    )
