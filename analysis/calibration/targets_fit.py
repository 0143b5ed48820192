"""The distance of calibration: the targets of a scenario with their SDs, and the score of one parameter set.

:func:`scenario_targets` gives every point and upper-bound target of a scenario a
target SD: binomial from the source's counts when it gives counts, from its published
interval when it gives one, and otherwise a relative SD of :data:`DEFAULT_RELATIVE_SD`
(an assumption, stated in the output). :func:`evaluate` simulates one parameter set and
scores it with the chi-square distance ``sum(z_k^2)``, ``z_k = (model_k - target_k) / sd_k``
where ``sd_k^2`` = target variance + model Monte Carlo variance; guideline maxima
(``upper_bound``) only penalise values above the bound.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError
from analysis.model.results import MEASURES
from analysis.model.simulation import simulate
from analysis.scenario import Scenario
from analysis.stats.targets import load_targets

#: Relative SD given to a published figure that comes with neither counts nor an interval (assumption).
DEFAULT_RELATIVE_SD = 0.10


def scenario_targets(s: Scenario, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """The point and upper-bound targets that apply to this scenario, with their SDs."""
    t = load_targets() if targets is None else targets
    t = t[(t["scenario"] == s.name) & t["kind"].isin(["point", "upper_bound"])].copy()
    per = {m.name: m.per for m in MEASURES}
    sd = np.full(len(t), np.nan)
    how = np.empty(len(t), dtype=object)
    for i, r in enumerate(t.itertuples(index=False)):
        scale = per[r.measure]
        if np.isfinite(r.denominator):
            p = r.numerator / r.denominator
            sd[i], how[i] = math.sqrt(max(p * (1 - p), 1e-12) / r.denominator) * scale, "binomial (counts)"
        elif np.isfinite(r.lower) and np.isfinite(r.upper):
            sd[i], how[i] = (r.upper - r.lower) / (2 * 1.959964), "published interval"
        else:
            sd[i], how[i] = DEFAULT_RELATIVE_SD * r.value, f"assumed {DEFAULT_RELATIVE_SD:.0%} relative SD"
    t["target_sd"], t["target_sd_basis"] = sd, how
    return t.reset_index(drop=True)


def evaluate(s: Scenario, values: dict[str, float], targets: pd.DataFrame, women: int, seed: int) -> dict[str, Any]:
    """Simulate one parameter set and score it against the targets.

    Returns
    -------
    dict
        ``distance`` and, per target, the model estimate (``<target>__model``) and
        its z-score (``<target>__z``).
    """
    try:
        scenario = s.replace(values, origin="calibration") if values else s
    except CalcsimInputError as exc:  # a combination the model does not allow: rejected
        out = {f"{r.target}__{k}": np.nan for r in targets.itertuples(index=False) for k in ("model", "z")}
        return {**out, "distance": np.inf, "invalid": str(exc)}
    e = simulate(scenario, women=women, seed=seed).estimates()
    e = e[e["stratum"] == "all"].set_index("measure")
    per = {m.name: m.per for m in MEASURES}
    out: dict[str, Any] = {}
    distance = 0.0
    for r in targets.itertuples(index=False):
        est, n = float(e.loc[r.measure, "estimate"]), int(e.loc[r.measure, "denominator_count"])
        scale = per[r.measure]
        p = est / scale if np.isfinite(est) else np.nan
        model_sd = math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1)) * scale if np.isfinite(p) else np.inf
        sd = math.sqrt(r.target_sd**2 + model_sd**2)
        if not np.isfinite(est):
            z = 10.0  # no denominator in the model (e.g. no screen-detected cancers): a bad fit
        elif r.kind == "upper_bound":
            z = max(0.0, (est - r.value) / sd)
        else:
            z = (est - r.value) / sd
        out[f"{r.target}__model"] = est
        out[f"{r.target}__z"] = z
        distance += z * z
    out["distance"] = distance
    return out
