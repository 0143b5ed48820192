"""The power a correct analysis has, at a given dataset size, to find what each coursework exercise asks.

Computed, not guessed: one pilot dataset (:data:`PILOT_WOMEN` women at the scenario's own values, seed
:data:`PILOT_SEED`, the same whatever the course) gives the standard error of each estimate; standard
errors scale as 1/√n with the number of women, so at the student's size it is
``se_pilot · √(PILOT_WOMEN / women)``. The effect differs between students (the hidden draws), so the power
is given for each student's effect, drawn as the export draws it, and at the scenario's own value:

* **first vs subsequent recall** (Exercise 2, asks a direction): the difference of the two recall rates,
  both moved on the logit scale by the student's threshold shift. Power = P(the 95% Wald interval of
  the difference lies above 0) = Φ(d / se − 1.96).
* **breastfeeding odds ratio** (Exercise 4, an estimate with its interval): the power of the robust GEE
  interval to exclude 1, Φ(|β| / se − 1.96). The GEE estimates a population-averaged odds ratio, smaller
  than the simulator's conditional one: β is the student's drawn log odds ratio times the pilot's
  attenuation (its GEE log odds ratio over the scenario's; 1 when the scenario's is 1), and "at the
  published value" is at the pilot's estimate itself. se is the pilot's robust standard error scaled to
  the size and to the student's cluster prevalence (its odds drawn ×/÷ 2) as 1/√(p(1 − p)). The
  attenuation is itself estimated (at 100,000 women its standard error is about 0.07).

:func:`choose_default_women` picks the default size: the smallest of :data:`GRID` at which the direction
of Exercise 2 has power ≥ 90% for every drawn student and the interval of Exercise 4 excludes 1 with
power ≥ 90% at the scenario's (published) odds ratio.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["GRID", "PILOT_SEED", "PILOT_WOMEN", "choose_default_women", "exercise_power", "power_table"]

_Z = 1.959963984540054


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


#: The pilot dataset behind every power figure (fixed, so the figures do not move with a course's seed).
PILOT_WOMEN, PILOT_SEED = 100_000, 2026
#: Dataset sizes :func:`choose_default_women` chooses from.
GRID = (5_000, 10_000, 20_000, 40_000)
_pilots: dict[str, dict[str, Any]] = {}


def _pilot(scenario: str) -> dict[str, Any]:
    if scenario not in _pilots:
        from analysis.teach.key import analyse_student_table, demo_student_table

        table = demo_student_table(scenario, women=PILOT_WOMEN, seed=PILOT_SEED)
        key = analyse_student_table(table)
        post = table["menopausal_status"] == "postmenopausal"
        key["cluster_share_postmenopausal"] = float(table.loc[post, "microcalcification_cluster"].mean())
        _pilots[scenario] = key
    return _pilots[scenario]


def exercise_power(scenario: str, women: int, *, seed: int = PILOT_SEED, students: int = 2_000) -> dict[str, Any]:
    """Power of a correct analysis at ``women`` women per student, for each exercise (see the module doc).

    Parameters
    ----------
    scenario : str
        Base scenario of the course.
    women : int
        Women per student dataset.
    seed : int
        Course seed: the students' hidden effects are those of students 1 … ``students`` of that course.
    students : int
        Students whose effects the power is given for (a class; or many, for the distribution).

    Returns
    -------
    dict
        ``first_higher`` and ``bf12_or_excludes_1``: the mean power over the students, the lowest, and the
        standard error at ``women``; for the odds ratio also the power at the scenario's value and the
        pilot's estimate; plus ``women``, ``students`` and ``pilot_women``.
    """
    from analysis.scenario import load_scenario
    from analysis.teach.export import HIDDEN, hidden_parameters

    base = load_scenario(scenario)
    key = _pilot(scenario)
    scale = math.sqrt(PILOT_WOMEN / women)
    draws = [hidden_parameters(base, seed, k) for k in range(1, students + 1)]
    shift_key, or_key = HIDDEN[0].key, HIDDEN[2].key
    shifts = np.array([d[shift_key] for d in draws]) - float(base.values()[shift_key])
    p1 = _expit(_logit(key["recall_first"]) + shifts)
    p2 = _expit(_logit(key["recall_subsequent"]) + shifts)
    n1 = key["recall_first_n"] / PILOT_WOMEN * women
    n2 = key["recall_subsequent_n"] / PILOT_WOMEN * women
    se_d = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    power_d = norm.cdf((p1 - p2) / se_d - _Z)
    se_or = (
        scale * (math.log(key["bf12_cluster_or_crude_upper"]) - math.log(key["bf12_cluster_or_crude_lower"])) / (2 * _Z)
    )
    # the GEE estimates the population-averaged odds ratio: the drawn (conditional) one scaled by the pilot's
    # attenuation; each student's cluster prevalence (odds drawn x/÷ 2) moves the standard error as 1/√(p(1-p))
    log_or = math.log(float(base.values()[or_key]))
    attenuation = math.log(key["bf12_cluster_or_crude"]) / log_or if abs(log_or) > 1e-6 else 1.0
    beta = attenuation * np.log([d[or_key] for d in draws])
    prev_key = HIDDEN[1].key
    p0 = key["cluster_share_postmenopausal"]
    base_prev = float(base.values()[prev_key])
    odds = np.array([d[prev_key] / (1 - d[prev_key]) for d in draws]) / (base_prev / (1 - base_prev))
    pk = _expit(_logit(p0) + np.log(odds))
    se_k = se_or * np.sqrt(p0 * (1 - p0) / (pk * (1 - pk)))
    power_or = norm.cdf(np.abs(beta) / se_k - _Z)
    return {
        "women": int(women),
        "students": int(students),
        "pilot_women": PILOT_WOMEN,
        "first_higher": {
            "mean": float(power_d.mean()),
            "min": float(power_d.min()),
            "se_at_women": float(np.median(se_d)),
        },
        "bf12_or_excludes_1": {
            "mean": float(power_or.mean()),
            "min": float(power_or.min()),
            "at_scenario_or": float(norm.cdf(abs(math.log(key["bf12_cluster_or_crude"])) / se_or - _Z)),
            "attenuation": float(attenuation),
            "scenario_or": float(base.values()[or_key]),
            "pilot_or": float(key["bf12_cluster_or_crude"]),
            "se_at_women": float(se_or),
        },
    }


def choose_default_women(scenario: str = "nl-biennial") -> tuple[int, pd.DataFrame]:
    """The default size by the rule of the module doc, and the power at every size of :data:`GRID`."""
    rows, chosen = [], None
    for women in GRID:
        p = exercise_power(scenario, women)
        d, o = p["first_higher"], p["bf12_or_excludes_1"]
        ok = d["min"] >= 0.9 and o["at_scenario_or"] >= 0.9
        chosen = women if chosen is None and ok else chosen
        rows.append(
            {
                "women per student": women,
                "Ex. 2 direction, lowest student (%)": 100 * d["min"],
                "Ex. 4 excludes 1 at the scenario's OR (%)": 100 * o["at_scenario_or"],
                "Ex. 4 excludes 1, mean over students (%)": 100 * o["mean"],
            }
        )
    if chosen is None:
        raise ValueError(f"no size of {GRID} gives the exercises 90% power")
    return chosen, pd.DataFrame(rows)


def power_table(power: dict[str, Any]) -> pd.DataFrame:
    """The power of :func:`exercise_power` as a table (one row per exercise) for the instructor's page."""
    d, o = power["first_higher"], power["bf12_or_excludes_1"]
    return pd.DataFrame(
        [
            {
                "exercise": "2: first-screen recall higher than subsequent (asks a direction)",
                "power, mean over the students (%)": 100 * d["mean"],
                "power, lowest student (%)": 100 * d["min"],
                "power at the scenario's value (%)": math.nan,
            },
            {
                "exercise": "4: breastfeeding OR interval excludes 1 (an estimate; direction not asked)",
                "power, mean over the students (%)": 100 * o["mean"],
                "power, lowest student (%)": 100 * o["min"],
                "power at the scenario's value (%)": 100 * o["at_scenario_or"],
            },
        ]
    )
