"""The power a correct analysis has, at a given dataset size, to find what each coursework exercise asks.

Computed, not guessed: one pilot dataset at the scenario's own values gives the standard error of each
estimate at the pilot size; standard errors scale as 1/√n with the number of women, so the standard
error at the student's size is ``se_pilot · √(pilot_women / women)``. The effect differs between
students (the :data:`~analysis.teach.export.HIDDEN` draws), so the power is averaged over the students'
effects, drawn as the export draws them:

* **first vs subsequent recall** (Exercise 2, a direction): the difference of the two recall rates;
  each student's threshold shift moves both rates on the logit scale. Power = P(the 95% Wald interval
  of the difference lies above 0) = Φ(d / se − 1.96).
* **breastfeeding odds ratio** (Exercise 4, an estimate with its interval, not a direction): the power
  of the robust GEE interval to exclude 1, Φ(|β| / se − 1.96), with each student's β the pilot's
  population-averaged log odds ratio scaled by the student's drawn log odds ratio over the scenario's
  (the GEE's attenuation taken as proportional). This is the chance a student's interval shows the
  direction; the exercise does not ask for it, because at any class-sized dataset it is well below 90%
  for the lower end of the odds ratio's stated range.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["exercise_power", "power_table"]

_Z = 1.959963984540054


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def exercise_power(
    scenario: str, women: int, *, seed: int, pilot_women: int = 40_000, draws: int = 2_000
) -> dict[str, Any]:
    """Power of a correct analysis at ``women`` women per student, for each exercise (see the module doc).

    Parameters
    ----------
    scenario : str
        Base scenario of the course.
    women : int
        Women per student dataset.
    seed : int
        Seed of the pilot simulation and of the draws of the students' effects.
    pilot_women : int
        Women in the pilot dataset.
    draws : int
        Students' effects drawn to average the power over.

    Returns
    -------
    dict
        ``first_higher`` and ``bf12_or_excludes_1``: mean power over the drawn students, its minimum, and
        the standard errors used; plus ``women`` and ``pilot_women``.
    """
    from analysis.scenario import load_scenario
    from analysis.teach.export import HIDDEN, hidden_parameters
    from analysis.teach.key import analyse_student_table, demo_student_table

    base = load_scenario(scenario)
    key = analyse_student_table(demo_student_table(scenario, women=pilot_women, seed=seed))
    scale = math.sqrt(pilot_women / women)
    draws_ = [hidden_parameters(base, seed, k) for k in range(1, draws + 1)]
    shift_key, or_key = HIDDEN[0].key, HIDDEN[2].key
    shift0 = float(base.values()[shift_key])
    shifts = np.array([d[shift_key] for d in draws_]) - shift0
    # first vs subsequent: both rates moved by the student's threshold shift on the logit scale
    p1 = _expit(_logit(key["recall_first"]) + shifts)
    p2 = _expit(_logit(key["recall_subsequent"]) + shifts)
    n1 = key["recall_first_n"] / pilot_women * women
    n2 = key["recall_subsequent_n"] / pilot_women * women
    se_d = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    power_d = norm.cdf((p1 - p2) / se_d - _Z)
    # odds ratio: the pilot's GEE log OR and robust SE, scaled to each student's drawn OR and size
    beta0 = math.log(key["bf12_cluster_or_crude"])
    se_or = (math.log(key["bf12_cluster_or_crude_upper"]) - math.log(key["bf12_cluster_or_crude_lower"])) / (2 * _Z)
    ratio = np.log([d[or_key] for d in draws_]) / math.log(float(base.values()[or_key]))
    beta = beta0 * ratio
    power_or = norm.cdf(np.abs(beta) / (se_or * scale) - _Z)
    return {
        "women": int(women),
        "pilot_women": int(pilot_women),
        "first_higher": {
            "mean": float(power_d.mean()),
            "min": float(power_d.min()),
            "se_at_women": float(np.median(se_d)),
        },
        "bf12_or_excludes_1": {
            "mean": float(power_or.mean()),
            "min": float(power_or.min()),
            "at_scenario_or": float(norm.cdf(abs(beta0) / (se_or * scale) - _Z)),
            "se_at_women": float(se_or * scale),
        },
    }


def power_table(power: dict[str, Any]) -> pd.DataFrame:
    """The power of :func:`exercise_power` as a table (one row per exercise) for the instructor's page."""
    d, o = power["first_higher"], power["bf12_or_excludes_1"]
    return pd.DataFrame(
        [
            {
                "exercise": "2: first-screen recall higher than subsequent (asks a direction)",
                "power, mean over students (%)": 100 * d["mean"],
                "power, lowest student (%)": 100 * d["min"],
                "power at the scenario's value (%)": math.nan,
            },
            {
                "exercise": "4: breastfeeding OR interval excludes 1 (an estimate; direction not asked)",
                "power, mean over students (%)": 100 * o["mean"],
                "power, lowest student (%)": 100 * o["min"],
                "power at the scenario's value (%)": 100 * o["at_scenario_or"],
            },
        ]
    )
