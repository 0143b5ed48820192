"""The screening programme: schedule, attendance, the calcifications seen at each screen, and the rounds.

Women are advanced round by round (a loop over the handful of rounds, vectorised over women). At
each round the women still eligible (alive, no clinical or screen-detected cancer yet) attend with
their own propensity; the calcifications on their mammogram are updated (a benign cluster, once
present, persists, and is *known* once it has been seen on a screen); the lesion present at the
screen (a DCIS phase, or an invasive tumour of the diameter it has grown to) and the benign findings
are read in two channels (:mod:`analysis.model.reading`) and the recalled women worked up
(:mod:`analysis.model.workup`). A screen-detected lesion is treated: a progressive DCIS found by
screening never becomes invasive, and an invasive tumour found by screening never surfaces. Every
random number is drawn per woman from a stream keyed by the decision and the screening age
(:mod:`analysis.model.streams`), so two programmes that screen a woman at the same age give her the
same draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from analysis.model.calcifications import CalcificationPropensity
from analysis.model.cohort import Cohort, density_category
from analysis.model.natural_history import CALC_MASS, CALC_ONLY, DCIS, INVASIVE, MASS, OTHER, NaturalHistory
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
    "ProgrammeOutcome",
    "reading_logits",
    "reading_table",
    "run_programme",
    "schedule",
    "woman_schedule",
]


def schedule(s: Scenario) -> np.ndarray:
    """Invitation ages: start, start + interval, ... up to the stop age."""
    pg = s.programme
    return pg.start_age_years + pg.interval_years * np.arange(scheduled_rounds(pg))


def woman_schedule(s: Scenario, intervals: np.ndarray | None) -> list[tuple[float, np.ndarray | None]]:
    """The invitation rounds when women have their own screening intervals: ``(age, invited mask)`` in age order.

    ``intervals`` (years, one per woman) puts each woman on the grid ``start, start + I, ...`` up to the stop
    age; a round is an age on any woman's grid, and only the women whose grid has it are invited (the mask).
    Ages in the same month (the random streams' slot) are one round, at the first such age; with one
    interval for everyone the rounds are :func:`schedule`'s. ``round_index`` in the screens table then counts
    these rounds, not the woman's own screens. ``None``: the programme's own interval for everyone (masks
    ``None``).
    """
    if intervals is None:
        return [(float(a), None) for a in schedule(s)]
    pg = s.programme
    rounds: dict[int, tuple[float, np.ndarray]] = {}  # keyed by the screening month (the streams' slot)
    for interval in np.unique(intervals):
        k = int(np.floor((pg.stop_age_years - pg.start_age_years) / interval + 1e-9)) + 1
        mine = intervals == interval
        for a in pg.start_age_years + interval * np.arange(k):
            month = int(round(a * 12))
            age, mask = rounds.get(month, (float(a), np.zeros_like(mine)))
            rounds[month] = (age, mask | mine)
    return [rounds[m] for m in sorted(rounds)]


def _draw(seed: int, decision: str, block: int, n: int, slot: int, buf: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The uniforms of women ``idx`` for one decision at one screening age (drawn for all ``n``: CRN)."""
    return uniforms(seed, f"programme.{decision}", block, n, slot, out=buf)[idx]


@dataclass(frozen=True)
class ProgrammeOutcome:
    """What the programme did to one block: its screens, and per woman her screen detection (if any)."""

    screens: Frame
    detected_age: np.ndarray  # inf when not screen-detected
    detected_type: np.ndarray  # int8: 0 not detected, 1 DCIS, 2 invasive
    detected_diameter_mm: np.ndarray  # diameter of a screen-detected invasive tumour, else nan


def run_programme(
    s: Scenario,
    c: Cohort,
    nh: NaturalHistory,
    seed: int,
    block: int,
    density_grid: np.ndarray,
    first_woman: int = 0,
    detail: bool = True,
    intervals: np.ndarray | None = None,
) -> ProgrammeOutcome:
    """Run the programme over one block of women: their screens and who was screen-detected, when and how.

    One screen row per attended screen (see :data:`analysis.model.results.SCREEN_COLUMNS`). With
    ``detail=False`` only the columns that the measures and strata need are built (same draws, same
    counts; faster). ``intervals`` (years, one per woman) gives each woman her own screening interval
    (risk-based strategies, :func:`woman_schedule`); interval cancers are counted within her own interval.
    """
    run = _BlockRun(s, c, nh, seed, block, density_grid, first_woman, detail, intervals)
    for k, (age, invited) in enumerate(woman_schedule(s, intervals)):
        run.screen_round(k, age, invited)
    return ProgrammeOutcome(run.frame(), run.detected_age, run.detected_type, run.detected_diameter)


def _calc_presentation(presentation: np.ndarray) -> np.ndarray:
    """Whether a presentation code shows malignant calcifications (calcification only, or with a mass)."""
    return (presentation == CALC_ONLY) | (presentation == CALC_MASS)


def _seen_presentation(phase: np.ndarray, mal_calc: np.ndarray, other_state: np.ndarray) -> np.ndarray:
    """The presentation of the lesion on this mammogram, from the signs it shows at the screen.

    Malignant calcifications alone: calcification only; with a mass or another sign: calcification and
    mass (Luiten's categories have no "calcification and other sign"); else mass or other; -1 without a
    lesion. An invasive tumour that grew from a DCIS with calcifications shows them, whatever its own
    drawn presentation.
    """
    other = other_state > 0
    signs = [mal_calc & ~other, mal_calc & other, other_state == 1, other_state == 2]
    code = np.select(signs, [CALC_ONLY, CALC_MASS, MASS, OTHER], -1)
    return np.where(phase > 0, code, -1).astype(np.int8)


def _other_state(presentation: np.ndarray) -> np.ndarray:
    """Other-channel state of a presentation: 1 a mass (with or without calcifications), 2 other signs, else 0."""
    return np.select([(presentation == CALC_MASS) | (presentation == MASS), presentation == OTHER], [1, 2], 0).astype(
        np.int8
    )


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
        intervals: np.ndarray | None = None,
    ) -> None:
        n = c.n
        self.window = np.full(n, s.programme.interval_years) if intervals is None else np.asarray(intervals, float)
        self.s, self.c, self.nh, self.seed, self.block, self.n = s, c, nh, seed, block, n
        self.grid, self.first_woman, self.detail = density_grid, first_woman, detail
        self.reading, self.workup = ReadingModel.from_scenario(s), WorkupModel.from_scenario(s)
        self.calcs = CalcificationPropensity.of(s, c, nh)
        pg = s.programme
        z = normals(seed, "programme.attendance_propensity", block, n)
        self.p_attend = expit(logit(pg.attendance) + pg.attendance_logit_sd * z)
        self.benign_z = s.reading.benign_propensity_logit_sd * normals(seed, "programme.benign_propensity", block, n)
        self.n_cumulative = cumulative_rounds(pg)
        self.detected_age = np.full(n, np.inf)
        self.detected_type = np.zeros(n, dtype=np.int8)
        self.detected_diameter = np.full(n, np.nan)
        self.n_screens = np.zeros(n, dtype=np.int16)
        self.any_fp = np.zeros(n, dtype=bool)
        self.cluster = np.zeros(n, dtype=bool)  # a benign cluster present (persists once it appears)
        self.cluster_seen = np.zeros(n, dtype=bool)  # a benign cluster on a prior attended screen: known
        self.buf = np.empty(n)  # reused for every per-screen uniform draw
        self.dcis_calc = _calc_presentation(nh.dcis_presentation)
        self.inv_calc = _calc_presentation(nh.invasive_presentation)
        self.dcis_other = _other_state(nh.dcis_presentation)
        self.inv_other = _other_state(nh.invasive_presentation)
        self.cols: dict[str, list[np.ndarray]] = {}

    def put(self, name: str, value: np.ndarray) -> None:
        """Append one round's values of a column."""
        self.cols.setdefault(name, []).append(value)

    def screen_round(self, k: int, age: float, invited: np.ndarray | None = None) -> None:
        """Attendance, calcifications, reading and work-up at the ``k``-th invitation (age ``age``).

        ``invited``: the women invited at this age (``None``: all of them).
        """
        nh, c, n, slot = self.nh, self.c, self.n, int(round(age * 12))
        alive = (nh.death_age > age) & (nh.clinical_age > age) & (self.detected_age > age)
        if invited is not None:
            alive &= invited
        post_all = c.menopause_age <= age
        dens_all = density_category(self.grid, age, post_all, c.density_u)
        # the cluster the risk model uses (first half-year grid age with one): one state, whatever the schedule
        self.cluster = nh.cluster_onset_age <= age
        u = uniforms(self.seed, "programme.attendance", self.block, n, slot, out=self.buf)
        idx = np.flatnonzero(alive & (u < self.p_attend))
        if idx.size == 0:
            return
        first = self.n_screens[idx] == 0
        cell = density_round_cell(dens_all[idx], ~first)
        phase = nh.phase(idx, age)
        diameter = np.where(phase == INVASIVE, nh.diameter_mm(idx, age), np.nan)
        draw = lambda name: _draw(self.seed, name, self.block, n, slot, self.buf, idx)  # noqa: E731
        calc = self.read_calcifications(idx, age, phase, diameter, cell)
        recall_calc = draw("read_calc") < calc["p"]
        other_state, p_other = self.read_other(idx, age, phase, diameter, cell)
        calc["other_state"] = other_state
        recall_other = draw("read_other") < p_other
        recalled = recall_calc | recall_other
        malignant_recall = (recall_calc & calc["mal_calc"]) | (recall_other & (other_state > 0))
        out = self.work_up(idx, recalled, malignant_recall, recall_calc, phase, diameter, n, slot, age)
        clinical = nh.clinical_age[idx]
        interval_ca = ~out["screen_detected"] & (clinical > age) & (clinical <= age + self.window[idx])
        fp = recalled & ~(out["screen_detected"] | interval_ca)
        self.n_screens[idx] += 1
        self.any_fp[idx] |= fp
        self.cluster_seen[idx] |= self.cluster[idx]
        cfp_eligible = self.n_screens[idx] == self.n_cumulative
        found = dict(
            calc,
            first=first,
            post=post_all[idx],
            dens=dens_all[idx],
            phase=phase,
            diameter=diameter,
            recalled=recalled,
            recall_calc=recall_calc,
            recall_other=recall_other,
            interval_ca=interval_ca,
            fp=fp,
            cfp_eligible=cfp_eligible,
        )
        self.record(k, age, idx, found, out)

    def read_calcifications(
        self, idx: np.ndarray, age: float, phase: np.ndarray, diameter: np.ndarray, cell: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The calcification channel: the most suspicious calcification present and its recall probability.

        Malignant > benign cluster (new, or known from a prior screen) > non-suspicious. A DCIS phase with
        calcifications shows them (no size term), and so does the invasive tumour that grew from it; an
        invasive tumour's own calcifications are read with its size term. Benign states get the age and
        woman terms.
        """
        nh, rd = self.nh, self.reading
        in_dcis, in_inv = phase == DCIS, phase == INVASIVE
        dcis_calc = (in_dcis | (in_inv & np.isfinite(nh.dcis_onset_age[idx]))) & self.dcis_calc[idx]
        inv_calc = in_inv & self.inv_calc[idx]
        mal_calc = dcis_calc | inv_calc
        p_dcis = rd.probability(rd.calc_logits(np.full(idx.size, 4), nh.dcis_morphology[idx], cell))
        p_inv = rd.sized_probability(
            rd.calc_logits(np.full(idx.size, 4), nh.invasive_morphology[idx], cell), np.nan_to_num(diameter)
        )
        use_inv = inv_calc & (~dcis_calc | (p_inv > p_dcis))
        p_mal = np.where(use_inv, p_inv, p_dcis)
        benign_cluster = self.cluster[idx] & ~mal_calc
        known = benign_cluster & self.cluster_seen[idx]
        nonsusp = self.calcs.nonsuspicious(idx, age)
        state = np.where(mal_calc, 4, np.where(benign_cluster, np.where(known, 3, 2), nonsusp.view(np.int8)))
        morph = np.where(
            mal_calc,
            np.where(use_inv, nh.invasive_morphology[idx], nh.dcis_morphology[idx]),
            np.where(benign_cluster, nh.benign_morphology[idx], -1),
        ).astype(np.int8)
        p_benign = rd.probability(rd.calc_logits(state, morph, cell) + rd.benign_term(age, self.benign_z[idx]))
        return {
            "p": np.where(mal_calc, p_mal, p_benign),
            "mal_calc": mal_calc,
            "use_inv_calc": use_inv,
            "benign_cluster": benign_cluster,
            "known_cluster": known,
            "nonsusp": nonsusp,
            "morph": morph,
        }

    def read_other(
        self, idx: np.ndarray, age: float, phase: np.ndarray, diameter: np.ndarray, cell: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The other-findings channel: a malignant mass or other sign of the lesion, else the benign background."""
        rd = self.reading
        state = np.where(
            phase == DCIS, self.dcis_other[idx], np.where(phase == INVASIVE, self.inv_other[idx], 0)
        ).astype(np.int8)
        lg = rd.other_logits(state, cell)
        p_benign = rd.probability(lg + rd.benign_term(age, self.benign_z[idx]))
        p_mal = np.where(phase == INVASIVE, rd.sized_probability(lg, np.nan_to_num(diameter)), rd.probability(lg))
        return state, np.where(state > 0, p_mal, p_benign)

    def work_up(
        self,
        idx: np.ndarray,
        recalled: np.ndarray,
        malignant: np.ndarray,
        calc: np.ndarray,
        phase: np.ndarray,
        diameter: np.ndarray,
        n: int,
        slot: int,
        age: float,
    ) -> dict[str, np.ndarray]:
        """Work up the recalled attendees; record who was screen-detected; return per-attendee work-up columns."""
        r = np.flatnonzero(recalled)
        ri = idx[r]
        u = WorkupDraws(
            *(
                _draw(self.seed, d, self.block, n, slot, self.buf, ri)
                for d in ("workup", "short_interval", "core_inconclusive", "pathology")
            )
        )
        res = self.workup.work_up(malignant[r], calc[r], phase[r] == DCIS, u)
        found = ri[res.detected]
        self.detected_age[found] = age
        self.detected_type[found] = phase[r][res.detected]
        self.detected_diameter[found] = diameter[r][res.detected]
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
        c, put, m = self.c, self.put, idx.size
        phase = f["phase"]
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
        put("presentation", _seen_presentation(phase, f["mal_calc"], f["other_state"]))
        put("tumour_diameter_mm", f["diameter"].astype(np.float32))
        put("recalled", f["recalled"])
        put("recall_calc", f["recall_calc"])
        put("calc_only_recall", f["recall_calc"] & ~f["recall_other"])
        put("biopsy", out["biopsy"])
        put("pathology", out["pathology"])
        put("screen_detected", out["screen_detected"])
        put("interval_cancer", f["interval_ca"])
        put("cfp_eligible", f["cfp_eligible"])
        put("cfp_event", f["cfp_eligible"] & self.any_fp[idx])
        put("false_positive", f["fp"])
        put("workup", out["workup"])
        if self.detail:
            self.record_detail(k, idx, f, out)

    def record_detail(self, k: int, idx: np.ndarray, f: dict[str, np.ndarray], out: dict[str, np.ndarray]) -> None:
        """The descriptive columns of the screens table (only with ``detail=True``)."""
        nh, put, mal_calc, benign_cluster = self.nh, self.put, f["mal_calc"], f["benign_cluster"]
        phase, use_inv = f["phase"], f["use_inv_calc"]
        put("round_index", np.full(idx.size, k, dtype=np.int16))
        put("nonsuspicious_calc", f["nonsusp"])
        put("benign_cluster", benign_cluster)
        put("known_benign_cluster", f["known_cluster"])
        put("malignant_calc", mal_calc)
        put("cancer_present", phase > 0)
        put("cancer_type", phase.astype(np.int8))
        put("dcis_high_grade", (phase == DCIS) & nh.dcis_high_grade[idx])
        put("calc_morphology", f["morph"])
        mal_dist = np.where(use_inv, nh.invasive_distribution[idx], nh.dcis_distribution[idx])
        mal_compact = np.where(use_inv, nh.invasive_compact[idx], nh.dcis_compact[idx])
        put(
            "calc_distribution",
            np.where(mal_calc, mal_dist, np.where(benign_cluster, nh.benign_distribution[idx], -1)).astype(np.int8),
        )
        put("calc_compact", np.where(mal_calc, mal_compact, benign_cluster & nh.benign_compact[idx]))
        put("recall_other", f["recall_other"])
        put("biopsy_method", out["biopsy_method"])

    def frame(self) -> Frame:
        """The screens of the block as columns (in :data:`SCREEN_COLUMNS` order with ``detail``)."""
        if not self.cols:
            return empty_screens()
        out = {name: np.concatenate(parts) for name, parts in self.cols.items()}
        return {name: out[name] for name in SCREEN_COLUMNS} if self.detail else out
