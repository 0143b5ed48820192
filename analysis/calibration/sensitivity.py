"""Sensitivity analysis: one-way ranges (tornado data) and global Sobol indices (SALib).

Outputs studied by default: the recall rate and both calcification-only shares
(of recalls, and of screen-detected cancers). Parameters studied: every scalar
parameter with a stated range (``calibrated`` and ``assumption`` values, and
sourced values with a published interval). Every run uses the same seed, so the
women and their draws are shared (common random numbers) and differences are
due to the parameters, not to noise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analysis.errors import ArgumentError
from analysis.model.simulation import simulate
from analysis.scenario import Scenario

OUTPUTS = ("recall_rate", "calc_only_share_of_recalls", "calc_only_share_of_screen_detected")


def sensitivity_parameters(s: Scenario, keys: Sequence[str] | None = None) -> list[tuple[str, float, float]]:
    """``(key, low, high)`` of the scalar parameters with a range (or of ``keys`` only)."""
    values = s.values()
    out = [
        (k, *p.range)
        for k, p in s.provenance.items()
        if p.range is not None and isinstance(values[k], float) and p.range[1] > p.range[0]
    ]
    if keys is not None:
        known = {k for k, _, _ in out}
        bad = [k for k in keys if k not in known]
        if bad:
            raise ArgumentError(
                "params", bad[0], f"not a scalar parameter with a range; allowed: {', '.join(sorted(known))}"
            )
        out = [p for p in out if p[0] in set(keys)]
    return sorted(out)


def _outputs(item: tuple) -> list[float]:
    s, values, women, seed, outputs = item
    scenario = s.replace(values, origin="sensitivity") if values else s
    e = simulate(scenario, women=women, seed=seed).estimates()
    e = e[e["stratum"] == "all"].set_index("measure")
    return [float(e.loc[o, "estimate"]) for o in outputs]


def _serial(fn: Callable, items: list) -> list:
    return [fn(i) for i in items]


def one_way(
    s: Scenario,
    women: int = 20_000,
    seed: int = 2026,
    *,
    params: Sequence[str] | None = None,
    outputs: Sequence[str] = OUTPUTS,
    map_fn: Callable | None = None,
) -> pd.DataFrame:
    """One-way sensitivity: each parameter at the ends of its range, the others at their values.

    Returns
    -------
    pandas.DataFrame
        ``output, parameter, low_value, high_value, base, at_low, at_high, swing`` — one
        row per output and parameter, sorted by ``swing`` (the tornado's bar length).
    """
    plist = sensitivity_parameters(s, params)
    items = [(s, {}, women, seed, tuple(outputs))]
    for key, lo, hi in plist:
        items += [(s, {key: lo}, women, seed, tuple(outputs)), (s, {key: hi}, women, seed, tuple(outputs))]
    res = np.asarray((map_fn or _serial)(_outputs, items))
    base, rest = res[0], res[1:].reshape(len(plist), 2, len(outputs))
    values = s.values()
    rows = []
    for j, out in enumerate(outputs):
        for i, (key, lo, hi) in enumerate(plist):
            rows.append(
                {
                    "output": out,
                    "parameter": key,
                    "value": values[key],
                    "low_value": lo,
                    "high_value": hi,
                    "base": base[j],
                    "at_low": rest[i, 0, j],
                    "at_high": rest[i, 1, j],
                    "swing": abs(rest[i, 1, j] - rest[i, 0, j]),
                }
            )
    df = pd.DataFrame(rows).sort_values(["output", "swing"], ascending=[True, False], kind="stable")
    df.attrs.update({"scenario": s.name, "women": women, "seed": seed})
    return df.reset_index(drop=True)


def sobol(
    s: Scenario,
    women: int = 5_000,
    seed: int = 2026,
    *,
    samples: int = 64,
    params: Sequence[str] | None = None,
    outputs: Sequence[str] = OUTPUTS,
    map_fn: Callable | None = None,
) -> pd.DataFrame:
    """Global sensitivity: first-order and total Sobol indices with SALib.

    Uses Saltelli's extension of the Sobol sequence (``SALib.sample.sobol``, no
    second-order terms: ``samples * (D + 2)`` runs for D parameters) and
    ``SALib.analyze.sobol``; parameters vary uniformly over their ranges.

    Returns
    -------
    pandas.DataFrame
        ``output, parameter, S1, S1_conf, ST, ST_conf`` (conf: 95% bootstrap half-width).
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    plist = sensitivity_parameters(s, params)
    if len(plist) < 2:
        raise ArgumentError("params", [p[0] for p in plist], "a Sobol analysis needs at least 2 parameters with ranges")
    if samples < 2 or samples & (samples - 1):
        raise ArgumentError("samples", samples, "a power of 2 (>= 2), as Sobol sequences need")
    problem = {"num_vars": len(plist), "names": [p[0] for p in plist], "bounds": [[p[1], p[2]] for p in plist]}
    x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    items = [(s, dict(zip(problem["names"], map(float, row), strict=True)), women, seed, tuple(outputs)) for row in x]
    y = np.asarray((map_fn or _serial)(_outputs, items))
    if not np.isfinite(y).all():
        raise ArgumentError(
            "women",
            women,
            "some runs had no denominator for an output (e.g. no screen-detected cancers); use more women",
        )
    rows = []
    for j, out in enumerate(outputs):
        res = sobol_analyze.analyze(problem, y[:, j], calc_second_order=False, seed=seed, print_to_console=False)
        for i, key in enumerate(problem["names"]):
            rows.append(
                {
                    "output": out,
                    "parameter": key,
                    "S1": res["S1"][i],
                    "S1_conf": res["S1_conf"][i],
                    "ST": res["ST"][i],
                    "ST_conf": res["ST_conf"][i],
                }
            )
    df = pd.DataFrame(rows).sort_values(["output", "ST"], ascending=[True, False], kind="stable")
    df.attrs.update({"scenario": s.name, "women": women, "seed": seed, "samples": samples, "runs": len(items)})
    return df.reset_index(drop=True)
