"""Coursework export: per-student datasets and the instructor key (see :mod:`analysis.teach` for what is written)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.scenario.codings import DENSITY, FAMILY_HISTORY, PATHOLOGY

#: Tag mixed into every coursework seed (keeps these streams apart from ``calcsim run --seed``).
_TEACH_TAG = 0x7EAC4


@dataclass(frozen=True)
class Hidden:
    """A parameter drawn per student.

    ``scale`` ``"logit"``: uniform on the log-odds scale within ``± half_width`` of the scenario's
    value; ``"additive"``: uniform within ``± half_width``; ``"log-range"``: log-uniform over the
    parameter's stated range. Draws are clipped to the stated range when there is one.
    """

    key: str
    scale: str
    half_width: float = 0.0
    doc: str = ""


#: The hidden parameters, and the neighbourhood each is drawn from.
HIDDEN: tuple[Hidden, ...] = (
    Hidden(
        "reading.threshold_logit_shift",
        "additive",
        0.5,
        "recall threshold: scenario value ± 0.5 on the logit scale (recall rate roughly ×/÷ 1.6)",
    ),
    Hidden(
        "calcifications.cluster_prevalence_age50",
        "logit",
        math.log(2.0),
        "benign cluster prevalence at 50: scenario odds ×/÷ 2",
    ),
    Hidden(
        "calcifications.cluster_or_breastfeeding_over_12_months_postmenopausal",
        "log-range",
        0.0,
        "cluster odds ratio for > 12 months breastfeeding (postmenopausal): log-uniform over its stated range",
    ),
)

#: Columns of a student's CSV, with their meaning (the README is built from this).
COLUMNS: dict[str, str] = {
    "woman_id": "anonymous number of the woman (1, 2, …); a woman has one row per screen she attended",
    "screen_number": "1 for the woman's first attended screen in this dataset, 2 for her second, …",
    "age": "age at the screen (years)",
    "round": "`first` (the woman's first screen in the programme, no earlier mammogram to compare with)"
    " or `subsequent`",
    "density": "BI-RADS breast density at this screen: `a` (almost entirely fatty), `b` (scattered"
    " fibroglandular), `c` (heterogeneously dense), `d` (extremely dense)",
    "menopausal_status": "`premenopausal` or `postmenopausal` at the screen",
    "family_history": "first-degree relatives with breast cancer: `0`, `1` or `>=2`",
    "breastfeeding_months": "lifetime breastfeeding (months, all children together; 0 = never)",
    "parity": "number of births",
    "recalled": "1 if the woman was recalled for further assessment after this screen, else 0",
    "recall_reason": "why she was recalled: `calcification only`, `calcification + other` (calcifications"
    " and another finding such as a mass), `other` (no calcifications among the"
    " reasons); empty when not recalled",
    "biopsy": "1 if the assessment included a biopsy (needle or surgical), else 0",
    "outcome": "pathology of the biopsy: `benign`, `high-risk` (high-risk lesion), `DCIS`, `invasive`;"
    " `none` when there was no biopsy. A screen-detected cancer is `DCIS` or `invasive`",
    "interval_cancer": "1 if a breast cancer surfaced clinically before the next scheduled screen (within"
    " one screening interval) after this screen did not detect it, else 0",
    "microcalcification_cluster": "1 if the mammogram shows a cluster of microcalcifications (whatever the"
    " reader decided and whatever its cause), else 0",
}

_OUTCOME = np.array(["none", "benign", "high-risk", "DCIS", "invasive"])
CALC_ONLY, CALC_OTHER, OTHER_REASON = "calcification only", "calcification + other", "other"

#: Covariates of the adjusted odds ratio in the key (names of :data:`analysis.stats.regression.COVARIATES`).
ADJUSTED_COVARIATES: tuple[str, ...] = (
    "breastfeeding_over_12_months",
    "age_per_decade",
    "dense",
    "family_history_any",
    "births",
)


# ----------------------------------------------------------------------------- draws
def _seed_sequence(seed: int, student: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([_TEACH_TAG, int(seed), int(student)])


def student_seed(seed: int, student: int) -> int:
    """The simulation seed of student ``student`` (1-based): a function of ``(seed, student)`` only."""
    return int(_seed_sequence(seed, student).generate_state(1, np.uint64)[0] >> np.uint64(1))


def hidden_parameters(base: Any, seed: int, student: int) -> dict[str, float]:
    """The hidden parameter values of one student, drawn around scenario ``base`` (see :data:`HIDDEN`)."""
    rng = np.random.default_rng(_seed_sequence(seed, student).spawn(1)[0])
    values = base.values()
    out: dict[str, float] = {}
    for h in HIDDEN:
        value = float(values[h.key])
        stated = base.provenance[h.key].range
        u = rng.uniform()  # one draw per parameter, always, so the draws never shift
        if h.scale == "additive":
            v = value + (2 * u - 1) * h.half_width
        elif h.scale == "logit":
            lo = math.log(value / (1 - value)) + (2 * u - 1) * h.half_width
            v = 1.0 / (1.0 + math.exp(-lo))
        elif h.scale == "log-range":
            lo_, hi_ = stated if stated is not None else (value / 1.5, value * 1.5)
            v = math.exp(math.log(lo_) + u * (math.log(hi_) - math.log(lo_)))
        else:  # pragma: no cover - HIDDEN is fixed above
            raise ValueError(h.scale)
        if stated is not None:
            v = min(max(v, stated[0]), stated[1])
        out[h.key] = round(v, 6)
    return out


# ----------------------------------------------------------------------------- data
def _age(values: np.ndarray) -> np.ndarray | pd.Series:
    a = np.round(values.astype(float), 1)
    return a.astype(np.int64) if np.all(a == np.round(a)) else a


def student_table(screens: pd.DataFrame) -> pd.DataFrame:
    """The readable student table (:data:`COLUMNS`) from a simulated screens table."""
    sc = screens.sort_values(["woman", "round_index"], kind="stable").reset_index(drop=True)
    woman_id = pd.factorize(sc["woman"], sort=True)[0] + 1
    rc, ro = sc["recall_calc"].to_numpy(), sc["recall_other"].to_numpy()
    reason = np.select([rc & ~ro, rc & ro, ro], [CALC_ONLY, CALC_OTHER, OTHER_REASON], "")
    return pd.DataFrame(
        {
            "woman_id": woman_id,
            "screen_number": sc.groupby(woman_id).cumcount().to_numpy() + 1,
            "age": _age(sc["age_years"].to_numpy()),
            "round": np.where(sc["first_round"].to_numpy(), "first", "subsequent"),
            "density": np.asarray(DENSITY.labels)[DENSITY.codes(sc["density"])],
            "menopausal_status": np.where(sc["postmenopausal"].to_numpy(), "postmenopausal", "premenopausal"),
            "family_history": np.asarray(FAMILY_HISTORY.labels)[FAMILY_HISTORY.codes(sc["family_history"])],
            "breastfeeding_months": np.round(sc["breastfeeding_months"].to_numpy().astype(float), 1),
            "parity": sc["births"].to_numpy().astype(np.int64),
            "recalled": sc["recalled"].to_numpy().astype(np.int8),
            "recall_reason": reason,
            "biopsy": sc["biopsy"].to_numpy().astype(np.int8),
            "outcome": _OUTCOME[PATHOLOGY.codes(sc["pathology"])],
            "interval_cancer": sc["interval_cancer"].to_numpy().astype(np.int8),
            "microcalcification_cluster": sc["any_cluster"].to_numpy().astype(np.int8),
        }
    )


def read_student_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a student CSV exactly as a student would (``recall_reason`` empty -> "")."""
    return pd.read_csv(path, dtype={"family_history": str, "density": str, "recall_reason": str}, keep_default_na=False)


def screens_from_student_table(df: pd.DataFrame) -> pd.DataFrame:
    """Map a student table back to screens-table columns that :func:`fit_odds_ratios` reads."""
    return pd.DataFrame(
        {
            "woman": df["woman_id"].to_numpy(),
            "round_index": df["screen_number"].to_numpy(),
            "age_years": df["age"].to_numpy(dtype=float),
            "postmenopausal": (df["menopausal_status"] == "postmenopausal").to_numpy(),
            "density": DENSITY.codes(df["density"]),
            "family_history": FAMILY_HISTORY.codes(df["family_history"]),
            "births": df["parity"].to_numpy(),
            "breastfeeding_months": df["breastfeeding_months"].to_numpy(dtype=float),
            "any_cluster": df["microcalcification_cluster"].to_numpy().astype(bool),
        }
    )
