"""The screening programme: schedule, attendance, the calcifications seen at each screen, and the rounds.

Women are advanced round by round (a loop over the handful of rounds, vectorised over women). At
each round the women still eligible (alive, no clinical or screen-detected cancer yet) attend with
their own propensity; the calcifications on their mammogram are updated (a benign cluster, once
present, persists); the two channels are read (:mod:`analysis.model.reading`) and the recalled
women worked up (:mod:`analysis.model.workup`). Every random number is drawn per woman from a
stream keyed by the decision and the screening age (:mod:`analysis.model.streams`), so two
programmes that screen a woman at the same age give her the same draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from analysis.model.cohort import Cohort, density_category
from analysis.model.natural_history import CALC_MASS, CALC_ONLY, DCIS, MASS, OTHER, NaturalHistory
from analysis.model.reading import ReadingModel, density_round_cell, reading_logits, reading_table
from analysis.model.results import SCREEN_COLUMNS, Frame, empty_screens
from analysis.model.streams import normals, uniforms
from analysis.model.workup import BIOPSY_METHOD, PATHOLOGY, WORKUP, WorkupDraws, WorkupModel
from analysis.scenario import Scenario, cumulative_rounds, scheduled_rounds

__all__ = [
    "BIOPSY_METHOD",
    "PATHOLOGY",
    "WORKUP",
    "CalcificationPropensity",
    "reading_logits",
    "reading_table",
    "schedule",
    "screen_block",
]


def schedule(s: Scenario) -> np.ndarray:
    """Invitation ages: start, start + interval, ... up to the stop age."""
    pg = s.programme
    return pg.start_age_years + pg.interval_years * np.arange(scheduled_rounds(pg))


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
        return cls(s, pre, post, logit(nh.cluster_u), logit(nh.nonsuspicious_u))

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


def _draw(seed: int, decision: str, block: int, n: int, slot: int, buf: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The uniforms of women ``idx`` for one decision at one screening age (drawn for all ``n``: CRN)."""
    return uniforms(seed, f"programme.{decision}", block, n, slot, out=buf)[idx]


def screen_block(
    s: Scenario,
    c: Cohort,
    nh: NaturalHistory,
    seed: int,
    block: int,
    density_grid: np.ndarray,
    first_woman: int = 0,
    detail: bool = True,
) -> Frame:
    """Run the programme over one block of women; return its screens as columns.

    One row per attended screen; see :data:`analysis.model.results.SCREEN_COLUMNS` for the
    columns. With ``detail=False`` only the columns that the measures and strata need are
    returned (same draws, same counts; faster).
    """
    run = _BlockRun(s, c, nh, seed, block, density_grid, first_woman, detail)
    for k, age in enumerate(schedule(s)):
        run.screen_round(k, float(age))
    return run.frame()


class _BlockRun:
    """The state of one block of women across the rounds of the programme."""

    def __init__(
        self,
        s: Scenario,
        c: Cohort,
        nh: NaturalHistory,
        seed: int,
        block: int,
        density_grid: np.ndarray,
        first_woman: int,
        detail: bool,
    ) -> None:
        n = c.n
        self.s, self.c, self.nh, self.seed, self.block, self.n = s, c, nh, seed, block, n
        self.grid, self.first_woman, self.detail = density_grid, first_woman, detail
        self.reading, self.workup = ReadingModel.from_scenario(s), WorkupModel.from_scenario(s)
        self.calcs = CalcificationPropensity.of(s, c, nh)
        pg = s.programme
        z = normals(seed, "programme.attendance_propensity", block, n)
        self.p_attend = expit(logit(pg.attendance) + pg.attendance_logit_sd * z)
        self.n_cumulative = cumulative_rounds(pg)
        self.detected_age = np.full(n, np.inf)
        self.n_screens = np.zeros(n, dtype=np.int16)
        self.any_fp = np.zeros(n, dtype=bool)
        self.cluster = np.zeros(n, dtype=bool)
        self.buf = np.empty(n)  # reused for every per-screen uniform draw
        self.has_calc_cancer = (nh.presentation == CALC_ONLY) | (nh.presentation == CALC_MASS)
        self.other_cancer_state = np.select(
            [(nh.presentation == CALC_MASS) | (nh.presentation == MASS), nh.presentation == OTHER], [1, 2], 0
        ).astype(np.int8)
        self.cols: dict[str, list[np.ndarray]] = {}

    def put(self, name: str, value: np.ndarray) -> None:
        """Append one round's values of a column."""
        self.cols.setdefault(name, []).append(value)

    def screen_round(self, k: int, age: float) -> None:
        """Attendance, calcifications, reading and work-up at the ``k``-th invitation (age ``age``)."""
        nh, c, n, slot = self.nh, self.c, self.n, int(round(age * 12))
        alive = (nh.death_age > age) & (nh.clinical_age > age) & (self.detected_age > age)
        post_all = c.menopause_age <= age
        dens_all = density_category(self.grid, age, post_all, c.density_u)
        self.cluster |= alive & self.calcs.cluster_present(age, post_all, dens_all)
        u = uniforms(self.seed, "programme.attendance", self.block, n, slot, out=self.buf)
        idx = np.flatnonzero(alive & (u < self.p_attend))
        if idx.size == 0:
            return
        first = self.n_screens[idx] == 0
        cell = density_round_cell(dens_all[idx], ~first)
        preclin = nh.onset_age[idx] <= age
        mal_calc = preclin & self.has_calc_cancer[idx]
        benign_cluster = self.cluster[idx]
        nonsusp = self.calcs.nonsuspicious(idx, age)
        # calcification channel: the most suspicious calcification present
        calc_state = np.where(mal_calc, 3, np.where(benign_cluster, 2, nonsusp.view(np.int8)))
        morph = np.where(
            mal_calc, nh.malignant_morphology[idx], np.where(benign_cluster, nh.benign_morphology[idx], -1)
        ).astype(np.int8)
        draw = lambda name: _draw(self.seed, name, self.block, n, slot, self.buf, idx)  # noqa: E731
        recall_calc = draw("read_calc") < self.reading.calc_probability(calc_state, morph, cell)
        # other-findings channel: a malignant mass/distortion, else the benign background
        other_state = np.where(preclin, self.other_cancer_state[idx], 0)
        recall_other = draw("read_other") < self.reading.other_probability(other_state, cell)
        recalled = recall_calc | recall_other
        malignant_recall = (recall_calc & mal_calc) | (recall_other & (other_state > 0))
        out = self.work_up(idx, recalled, malignant_recall, recall_calc, n, slot, age)
        clinical = nh.clinical_age[idx]
        interval_ca = ~out["screen_detected"] & (clinical > age) & (clinical <= age + self.s.programme.interval_years)
        fp = recalled & ~(out["screen_detected"] | interval_ca)
        self.n_screens[idx] += 1
        self.any_fp[idx] |= fp
        cfp_eligible = self.n_screens[idx] == self.n_cumulative
        found = dict(
            first=first,
            post=post_all[idx],
            dens=dens_all[idx],
            benign_cluster=benign_cluster,
            mal_calc=mal_calc,
            preclin=preclin,
            recalled=recalled,
            recall_calc=recall_calc,
            recall_other=recall_other,
            interval_ca=interval_ca,
            fp=fp,
            cfp_eligible=cfp_eligible,
            nonsusp=nonsusp,
            morph=morph,
        )
        self.record(k, age, idx, found, out)

    def work_up(
        self,
        idx: np.ndarray,
        recalled: np.ndarray,
        malignant: np.ndarray,
        calc: np.ndarray,
        n: int,
        slot: int,
        age: float,
    ) -> dict[str, np.ndarray]:
        """Work up the recalled attendees; return per-attendee work-up columns."""
        r = np.flatnonzero(recalled)
        ri = idx[r]
        u = WorkupDraws(
            *(
                _draw(self.seed, d, self.block, n, slot, self.buf, ri)
                for d in ("workup", "short_interval", "core_inconclusive", "pathology")
            )
        )
        res = self.workup.work_up(malignant[r], calc[r], self.nh.cancer_type[ri] == DCIS, u)
        self.detected_age[ri[res.detected]] = age
        m = idx.size
        out = {
            "workup": np.zeros(m, dtype=np.int8),
            "biopsy": np.zeros(m, dtype=bool),
            "screen_detected": np.zeros(m, dtype=bool),
            "pathology": np.zeros(m, dtype=np.int8),
            "biopsy_method": np.zeros(m, dtype=np.int8),
        }
        for name, value in (
            ("workup", res.workup),
            ("biopsy", res.biopsy),
            ("screen_detected", res.detected),
            ("pathology", res.pathology),
            ("biopsy_method", res.method),
        ):
            out[name][r] = value
        return out

    def record(self, k: int, age: float, idx: np.ndarray, f: dict[str, np.ndarray], out: dict[str, np.ndarray]) -> None:
        """Append the round's screens: the columns the measures and strata need, and with ``detail`` the rest."""
        c, nh, put, m = self.c, self.nh, self.put, idx.size
        put("woman", (self.first_woman + idx).astype(np.int64))
        put("age_years", np.full(m, age, dtype=np.float32))
        put("first_round", f["first"])
        put("postmenopausal", f["post"])
        put("density", f["dens"])
        put("family_history", c.family_history[idx])
        put("brca", c.brca[idx])
        put("births", c.births[idx])
        put("breastfeeding_months", c.breastfeeding_months[idx].astype(np.float32))
        put("any_cluster", f["benign_cluster"] | f["mal_calc"])
        put("presentation", np.where(f["preclin"], nh.presentation[idx], -1).astype(np.int8))
        put("recalled", f["recalled"])
        put("recall_calc", f["recall_calc"])
        put("calc_only_recall", f["recall_calc"] & ~f["recall_other"])
        put("biopsy", out["biopsy"])
        put("pathology", out["pathology"])
        put("screen_detected", out["screen_detected"])
        put("interval_cancer", f["interval_ca"])
        put("cfp_eligible", f["cfp_eligible"])
        put("cfp_event", f["cfp_eligible"] & self.any_fp[idx])
        if self.detail:
            self.record_detail(k, idx, f, out)

    def record_detail(self, k: int, idx: np.ndarray, f: dict[str, np.ndarray], out: dict[str, np.ndarray]) -> None:
        """The descriptive columns of the screens table (only with ``detail=True``)."""
        nh, put, mal_calc, benign_cluster = self.nh, self.put, f["mal_calc"], f["benign_cluster"]
        put("round_index", np.full(idx.size, k, dtype=np.int16))
        put("nonsuspicious_calc", f["nonsusp"])
        put("benign_cluster", benign_cluster)
        put("malignant_calc", mal_calc)
        put("cancer_present", f["preclin"])
        put("cancer_type", np.where(f["preclin"], nh.cancer_type[idx], 0).astype(np.int8))
        put("calc_morphology", f["morph"])
        put(
            "calc_distribution",
            np.where(
                mal_calc, nh.malignant_distribution[idx], np.where(benign_cluster, nh.benign_distribution[idx], -1)
            ).astype(np.int8),
        )
        put("calc_compact", np.where(mal_calc, nh.malignant_compact[idx], benign_cluster & nh.benign_compact[idx]))
        put("recall_other", f["recall_other"])
        put("workup", out["workup"])
        put("biopsy_method", out["biopsy_method"])
        put("false_positive", f["fp"])

    def frame(self) -> Frame:
        """The screens of the block as columns (in :data:`SCREEN_COLUMNS` order with ``detail``)."""
        if not self.cols:
            return empty_screens()
        out = {name: np.concatenate(parts) for name, parts in self.cols.items()}
        return {name: out[name] for name in SCREEN_COLUMNS} if self.detail else out
