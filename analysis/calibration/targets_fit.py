"""The distance of calibration: the targets of a scenario with their SDs, and the score of one parameter set.

:func:`scenario_targets` gives every point and upper-bound target of a scenario a
target SD: binomial from the source's counts when it gives counts, from its published
interval when it gives one, and otherwise a relative SD of :data:`DEFAULT_RELATIVE_SD`
(an assumption, stated in the output). :func:`evaluate` simulates one parameter set once,
with every grouping the targets need, sums the model's counts over each target's stratum
(:func:`analysis.stats.targets.model_strata`: a 10-year age group is two 5-year ones) and
scores the set with the chi-square distance ``sum(z_k^2)``, ``z_k = (model_k - target_k) / sd_k``,

    sd_k^2 = target_sd_k^2 + (MODEL_DISCREPANCY_RELATIVE_SD * target_k)^2 + model Monte Carlo variance_k.

The model-discrepancy term is an **assumption** applied to every target alike: a structural
model is never exact, and without it a target with huge counts (the BCSC cells: binomial SDs of
0.1-1% of the value) would reject every parameter set. Guideline maxima (``upper_bound``) only
penalise values above the bound; ``check`` rows are never scored (they are shown by ``calcsim fit``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError
from analysis.model.results import MEASURES, Results
from analysis.model.simulation import simulate
from analysis.scenario import Scenario
from analysis.stats.targets import load_targets, model_strata, stratum_grouping

#: Relative SD given to a published figure that comes with neither counts nor an interval (assumption).
DEFAULT_RELATIVE_SD = 0.10
#: Model-discrepancy SD, relative to the target value, added in quadrature to every target's SD (assumption).
MODEL_DISCREPANCY_RELATIVE_SD = 0.05
#: z given to a target the model has no denominator for (e.g. no screen-detected cancers): a bad fit.
NO_DENOMINATOR_Z = 10.0
SCORED_KINDS = ("point", "upper_bound")


def discrepancy_note() -> str:
    """The one-line statement of the distance's SD rule (written into calibration files and fit output)."""
    return (
        f"sd^2 = target sd^2 + ({MODEL_DISCREPANCY_RELATIVE_SD:g} x target)^2 + model Monte Carlo variance;"
        f" model-discrepancy relative SD {MODEL_DISCREPANCY_RELATIVE_SD:.0%} (assumption, every target);"
        f" targets without counts or interval: assumed {DEFAULT_RELATIVE_SD:.0%} relative SD"
    )


def scenario_targets(s: Scenario, targets: pd.DataFrame | None = None, *, checks: bool = False) -> pd.DataFrame:
    """The targets that apply to this scenario, with their SDs.

    Parameters
    ----------
    s : Scenario
        The scenario (its name selects the rows).
    targets : DataFrame, optional
        :func:`~analysis.stats.targets.load_targets` output (default: the shipped file).
    checks : bool
        Also return the ``check`` rows (not scored; for the fit display).

    Returns
    -------
    pandas.DataFrame
        The target rows plus ``target_sd``, ``target_sd_basis`` (the source's uncertainty only),
        ``distance_sd`` (with the model discrepancy, before the model's Monte Carlo variance) and
        ``stratum`` (``""`` = all screens).
    """
    t = load_targets() if targets is None else targets
    kinds = (*SCORED_KINDS, "check") if checks else SCORED_KINDS
    t = t[(t["scenario"] == s.name) & t["kind"].isin(kinds)].copy()
    if "stratum" not in t.columns:
        t["stratum"] = ""
    t["stratum"] = t["stratum"].fillna("").astype(str)
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
    t["distance_sd"] = np.sqrt(sd**2 + (MODEL_DISCREPANCY_RELATIVE_SD * t["value"].to_numpy(dtype=float)) ** 2)
    return t.reset_index(drop=True)


def target_groupings(targets: pd.DataFrame) -> list[list[str]]:
    """The groupings ``simulate(by=...)`` needs to score these targets (none for unstratified ones)."""
    strata = targets["stratum"] if "stratum" in targets.columns else pd.Series([], dtype=str)
    groups = dict.fromkeys(stratum_grouping(x) for x in strata.fillna(""))
    return [list(g) for g in groups if g]


def model_counts(results: Results, targets: pd.DataFrame) -> pd.DataFrame:
    """The model's numerator and denominator for every target, summed over the target's stratum.

    Returns
    -------
    pandas.DataFrame
        ``target, numerator, n, estimate`` (``estimate`` in the measure's unit; NaN when ``n`` is 0).

    Raises
    ------
    CalcsimInputError
        The run was not stratified the way a target needs.
    """
    c = results.counts
    lookup = dict(
        zip(zip(c["measure"], c["stratum"], strict=True), zip(c["numerator"], c["n"], strict=True), strict=True)
    )
    per = {m.name: m.per for m in MEASURES}
    rows = []
    for r in targets.itertuples(index=False):
        stratum = getattr(r, "stratum", "") or ""
        num = n = 0
        for label in model_strata(stratum):
            if (r.measure, label) not in lookup:
                raise CalcsimInputError(
                    f"target {r.target}: stratum {stratum!r} not in this run; simulate with"
                    f" by={target_groupings(targets)!r}"
                )
            a, b = lookup[(r.measure, label)]
            num, n = num + int(a), n + int(b)
        rows.append(
            {"target": r.target, "numerator": num, "n": n, "estimate": num / n * per[r.measure] if n else np.nan}
        )
    return pd.DataFrame(rows, columns=["target", "numerator", "n", "estimate"])


def score(counts: pd.DataFrame, targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """z of every target from the model's counts (:func:`model_counts`), and the SD used.

    ``sd^2`` = ``distance_sd^2`` (target and model discrepancy) + the model's binomial variance.
    """
    per = np.array([{m.name: m.per for m in MEASURES}[x] for x in targets["measure"]])
    est = counts["estimate"].to_numpy(dtype=float)
    n = counts["n"].to_numpy(dtype=float)
    p = est / per
    with np.errstate(invalid="ignore", divide="ignore"):
        model_var = np.where(n > 0, np.maximum(p * (1 - p), 1e-12) / np.maximum(n, 1), np.inf) * per**2
    sd = np.sqrt(targets["distance_sd"].to_numpy(dtype=float) ** 2 + model_var)
    value = targets["value"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        z = (est - value) / sd
    upper = (targets["kind"] == "upper_bound").to_numpy()
    z = np.where(upper, np.maximum(z, 0.0), z)
    z = np.where(np.isfinite(est), z, NO_DENOMINATOR_Z)
    return z, sd


def evaluate(s: Scenario, values: dict[str, float], targets: pd.DataFrame, women: int, seed: int) -> dict[str, Any]:
    """Simulate one parameter set (once, with every grouping the targets need) and score it.

    Parameters
    ----------
    s : Scenario
        The scenario calibrated.
    values : dict
        Parameter values to set (empty: the scenario as it is).
    targets : DataFrame
        :func:`scenario_targets` output (scored rows only).
    women, seed : int
        Women and seed of the run (one seed for every set of a calibration: common random numbers).

    Returns
    -------
    dict
        ``distance`` and, per target, the model estimate (``<target>__model``) and
        its z-score (``<target>__z``); ``invalid`` (the reason) for a combination the model refuses.
    """
    try:
        scenario = s.replace(values, origin="calibration") if values else s
    except CalcsimInputError as exc:  # a combination the model does not allow: rejected
        out = {f"{r.target}__{k}": np.nan for r in targets.itertuples(index=False) for k in ("model", "z")}
        return {**out, "distance": np.inf, "invalid": str(exc)}
    results = simulate(scenario, women=women, seed=seed, by=target_groupings(targets))
    counts = model_counts(results, targets)
    z, _ = score(counts, targets)
    out: dict[str, Any] = {}
    for name, est, zk in zip(targets["target"], counts["estimate"], z, strict=True):
        out[f"{name}__model"] = float(est)
        out[f"{name}__z"] = float(zk)
    out["distance"] = float(np.sum(z * z))
    return out


def evaluate_item(item: tuple) -> dict[str, Any]:
    """:func:`evaluate` of one ``(scenario, values, targets, women, seed)`` tuple (for ``map_fn``)."""
    s, values, t, women, seed = item
    return evaluate(s, values, t, women, seed)
