"""Identifiability of a calibration: how much the targets narrowed each parameter, and how they trade off.

:func:`identifiability` reads a calibration file (its accepted sets and their weights) and gives,
per parameter, the prior range, the weighted posterior mean and 95% credible interval, and the
ratio of the interval's width to the prior width: about 0.95 means the targets did not inform the
parameter at all (the posterior is the uniform prior), a small ratio that they pinned it down.
The weighted posterior correlation matrix (``attrs["correlation"]``, also :func:`posterior_correlation`)
shows parameters that are identified only jointly (a strong correlation: a ridge along which the
targets cannot tell them apart).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

from analysis.calibration.posterior import weighted_quantiles
from analysis.errors import CalcsimInputError
from analysis.scenario import CalibrationFile, read_calibration

__all__ = ["generations_from_header", "identifiability", "posterior_correlation", "prior_ranges"]


def _weights(cal: CalibrationFile) -> np.ndarray:
    acc = cal.accepted
    w = acc["weight"].to_numpy(dtype=float) if "weight" in acc.columns else np.ones(len(acc))
    if not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise CalcsimInputError(f"{cal.label}: column 'weight' of the accepted draws: finite, not all zero")
    return w / w.sum()


def posterior_correlation(x: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """Weighted correlation matrix of the columns of ``x`` (NaN for a column without spread)."""
    v = x.to_numpy(dtype=float)
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    dev = v - w @ v
    cov = (dev * w[:, None]).T @ dev
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return pd.DataFrame(corr, index=x.columns, columns=x.columns)


def prior_ranges(cal: CalibrationFile) -> dict[str, tuple[float, float]]:
    """``{parameter: (low, high)}`` from the file's ``prior_ranges`` header, else from its scenario."""
    if cal.meta.get("prior_ranges"):
        return {k: (float(v[0]), float(v[1])) for k, v in json.loads(cal.meta["prior_ranges"]).items()}
    from analysis.calibration.abc import calibrated_parameters
    from analysis.scenario import load_scenario

    s = load_scenario(cal.meta["scenario"], calibration="parents")
    return {k: (lo, hi) for k, lo, hi in calibrated_parameters(s)}


def identifiability(calibration: str | os.PathLike[str] | CalibrationFile) -> pd.DataFrame:
    """Per calibrated parameter: prior range, weighted posterior mean, 95% interval, width ratio.

    Parameters
    ----------
    calibration : path or CalibrationFile
        A calibration file (``calcsim calibrate``).

    Returns
    -------
    pandas.DataFrame
        ``parameter, prior_low, prior_high, best, posterior_mean, posterior_sd, posterior_lower,
        posterior_upper, width_ratio`` (``width_ratio`` = 95% interval width / prior width;
        ``best`` = the applied, nearest accepted set). ``attrs``: ``correlation`` (weighted
        posterior correlation matrix, DataFrame), ``accepted``, ``effective_sample_size``,
        ``tolerance_reached``, ``calibration``.
    """
    cal = calibration if isinstance(calibration, CalibrationFile) else read_calibration(calibration)
    acc, w = cal.accepted, _weights(cal)
    ranges = prior_ranges(cal)
    best = cal.best()
    rows = []
    for k in cal.parameters:
        x = acc[k].to_numpy(dtype=float)
        lo, hi = ranges.get(k, (np.nan, np.nan))
        mean = float(w @ x)
        q_lo, q_hi = weighted_quantiles(x, w, [0.025, 0.975])
        rows.append(
            {
                "parameter": k,
                "prior_low": lo,
                "prior_high": hi,
                "best": float(best[k]),
                "posterior_mean": mean,
                "posterior_sd": float(np.sqrt(w @ (x - mean) ** 2)),
                "posterior_lower": float(q_lo),
                "posterior_upper": float(q_hi),
                "width_ratio": float((q_hi - q_lo) / (hi - lo)) if hi > lo else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(
        {
            "correlation": posterior_correlation(acc[cal.parameters], w),
            "accepted": len(acc),
            "effective_sample_size": float(1.0 / np.sum(w * w)),
            "tolerance_reached": cal.meta.get("tolerance_reached", "not recorded (older calibration file)"),
            "calibration": cal.label,
        }
    )
    return out


def generations_from_header(meta: dict[str, str]) -> pd.DataFrame:
    """The per-generation summary in an ABC-SMC calibration file's header (empty for the rounds method)."""
    rows = []
    for key, text in meta.items():
        if not (key.startswith("generation_") and key[11:].isdigit()):
            continue
        parts = dict(p.strip().rsplit(" ", 1) for p in text.split(",") if " " in p.strip())
        rows.append(
            {
                "generation": int(key[11:]),
                "tolerance": float(parts.get("tolerance", "nan")),
                "proposals": int(parts.get("proposals", 0)),
                "accepted": int(parts.get("accepted", 0)),
                "acceptance_rate": float(parts.get("acceptance rate", "nan")),
                "ess": float(parts.get("ess", "nan")),
                "complete": "incomplete" not in text,
            }
        )
    return pd.DataFrame(rows)
