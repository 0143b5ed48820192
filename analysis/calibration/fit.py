"""The calibration fit: every target beside the model at the best accepted set and across the posterior.

:func:`fit_table` scores a posterior run (:func:`analysis.calibration.posterior.run_posterior`,
stratified the way the targets need: :func:`analysis.calibration.targets_fit.target_groupings`)
against the scenario's targets with the calibration's own distance SD (target, model discrepancy
and Monte Carlo). ``check`` rows (published figures implied by other targets) are shown too, but
are not part of the distance. :func:`fit_lines` is the text of ``calcsim fit``: unstratified
targets one per line, stratified ones as compact age x density grids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.calibration.posterior import POSTERIOR_INTERVAL, PosteriorResults, weighted_quantiles
from analysis.calibration.targets_fit import discrepancy_note, model_counts, scenario_targets, score
from analysis.model.results import MEASURES, wilson
from analysis.scenario import Scenario, load_scenario
from analysis.stats.targets import parse_stratum

__all__ = ["Z_WITHIN", "fit_lines", "fit_table"]

#: |z| up to which a target counts as reproduced (two-sided 95%).
Z_WITHIN = 1.959964


def _target_interval(r: pd.Series, scale: float) -> tuple[float, float]:
    if r["kind"] == "upper_bound":
        return np.nan, float(r["value"])
    if np.isfinite(r["interval_lower"]) and np.isfinite(r["interval_upper"]):
        return float(r["interval_lower"]), float(r["interval_upper"])
    return max(r["value"] - Z_WITHIN * r["target_sd"], 0.0), min(r["value"] + Z_WITHIN * r["target_sd"], scale)


def _overlaps(kind: str, value: float, t_lo: float, t_hi: float, p_lo: float, p_hi: float) -> float:
    """1.0 / 0.0: the model's posterior interval overlaps the target's own interval (NaN: no interval)."""
    if kind == "upper_bound":
        return float(p_lo <= value)
    if not (np.isfinite(t_lo) and np.isfinite(t_hi)):
        return np.nan
    return float(p_lo <= t_hi and p_hi >= t_lo)


def fit_table(
    post: PosteriorResults, scenario: Scenario | None = None, targets: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each target (and check) against the model, with intervals, z and a verdict.

    Returns
    -------
    pandas.DataFrame
        ``target, stratum, measure, kind, role, target_value, target_lower, target_upper,
        target_interval, source, model, model_lower, model_upper (Wilson 95%, best set), model_n,
        posterior_lower, posterior_upper (weighted 95% across the accepted sets), sd, z, verdict,
        within, overlaps_target_interval``. ``z`` = (model at the best set - target) / sd, sd as in the
        calibration's distance (for an upper bound only the excess counts); ``verdict`` is ``within``
        when ``|z| <= 1.96``. ``overlaps_target_interval`` is the stricter check against the target's
        *own* interval: the posterior 95% interval of the model overlaps it (an upper bound: the
        posterior's lower end is below the bound; NaN when the target has no interval).
        ``attrs``: scenario, parameter_sets, posterior_interval, distance_sd, distance (best set,
        fitted rows), chi2_point, targets (fitted), checks.
    """
    s = scenario or post.scenario or load_scenario(post.best.scenario)
    t = scenario_targets(s, targets, checks=True)
    per = np.array([{m.name: m.per for m in MEASURES}[x] for x in t["measure"]])
    best = model_counts(post.best, t)
    z, sd = score(best, t)
    est, lo, hi = wilson(best["numerator"].to_numpy(), best["n"].to_numpy())
    runs = np.vstack([model_counts(r, t)["estimate"].to_numpy(dtype=float) for r in post.runs])
    w = np.ones(len(post.runs)) if post.weights is None else np.asarray(post.weights, dtype=float)
    q = np.array([weighted_quantiles(runs[:, j], w, [0.025, 0.975]) for j in range(len(t))])
    rows = []
    for j, r in t.iterrows():
        t_lo, t_hi = _target_interval(r, per[j])
        rows.append(
            {
                "target": r["target"],
                "stratum": r["stratum"],
                "measure": r["measure"],
                "kind": r["kind"],
                "role": "check (not fitted)" if r["kind"] == "check" else "fitted",
                "target_value": r["value"],
                "target_lower": t_lo,
                "target_upper": t_hi,
                "target_interval": r["interval_kind"] or r["target_sd_basis"],
                "source": r["source"],
                "model": est[j] * per[j],
                "model_lower": lo[j] * per[j],
                "model_upper": hi[j] * per[j],
                "model_n": int(best["n"].iloc[j]),
                "posterior_lower": q[j, 0],
                "posterior_upper": q[j, 1],
                "sd": sd[j],
                "z": z[j],
                "verdict": "within" if abs(z[j]) <= Z_WITHIN else "outside",
                "overlaps_target_interval": _overlaps(r["kind"], r["value"], t_lo, t_hi, q[j, 0], q[j, 1]),
            }
        )
    out = pd.DataFrame(rows)
    out["within"] = out["verdict"] == "within"
    fitted = out["role"] == "fitted"
    n_point = int((fitted & (out["kind"] == "point")).sum())
    out.attrs.update(
        {
            "scenario": s.name,
            "parameter_sets": len(post.runs),
            "posterior_interval": POSTERIOR_INTERVAL,
            "distance_sd": discrepancy_note(),
            "distance": float(np.sum(out.loc[fitted, "z"] ** 2)),
            # df = point targets: a guideline maximum adds to the distance only when exceeded (as in calibration)
            "chi2_point": float(stats.chi2.ppf(0.95, max(n_point, 1))) if fitted.any() else np.nan,
            "df": max(n_point, 1),
            "targets": int(fitted.sum()),
            "checks": int((~fitted).sum()),
        }
    )
    return out


def _fmt(measure: str, v: float) -> str:
    if not np.isfinite(v):
        return "-"
    return f"{v:.3g}" if measure.endswith("per_1000") else f"{100 * v:.3g}%"


def _interval(measure: str, lo: float, hi: float) -> str:
    return f"[{_fmt(measure, lo)}, {_fmt(measure, hi)}]" if np.isfinite(lo) else f"[<= {_fmt(measure, hi)}]"


def _flat_lines(rows: pd.DataFrame) -> list[str]:
    head = (
        f"{'target':<24} {'measure':<40} {'target [interval]':<26} {'model':>8} {'posterior 95%':<22} {'z':>6}  verdict"
    )
    lines = [head]
    for r in rows.itertuples(index=False):
        m = r.measure
        tag = "" if r.role == "fitted" else "  (check, not fitted)"
        lines.append(
            f"{r.target:<24} {m:<40} {_fmt(m, r.target_value) + ' ' + _interval(m, r.target_lower, r.target_upper):<26}"
            f" {_fmt(m, r.model):>8} {_interval(m, r.posterior_lower, r.posterior_upper):<22} {r.z:>+6.2f}  {r.verdict}"
            f"{tag}"
        )
    return lines


def _grid_lines(rows: pd.DataFrame) -> list[str]:
    """Stratified targets: one grid per measure and fixed strata, age groups down, densities across."""
    parts = rows["stratum"].map(parse_stratum)
    fixed = parts.map(lambda d: "; ".join(f"{k}={v}" for k, v in d.items() if k not in ("age_group", "density")))
    lines: list[str] = []
    for (measure, rest), idx in rows.groupby([rows["measure"], fixed], sort=False).groups.items():
        g, p = rows.loc[idx], parts.loc[idx]
        ages = list(dict.fromkeys(p.map(lambda d: d.get("age_group", "all"))))
        dens = list(dict.fromkeys(p.map(lambda d: d.get("density", "all"))))
        lines.append(
            f"{measure}{', ' + rest if rest else ''}: target -> model at the best set (z; * = outside |z| > 1.96)"
        )
        lines.append(f"  {'age':<8}" + "".join(f"{'density ' + d:<24}" for d in dens))
        cell = {
            (pp.get("age_group", "all"), pp.get("density", "all")): r
            for pp, (_, r) in zip(p, g.iterrows(), strict=True)
        }
        for a in ages:
            text = ""
            for d in dens:
                r = cell.get((a, d))
                c = (
                    ""
                    if r is None
                    else f"{_fmt(measure, r['target_value'])} -> {_fmt(measure, r['model'])} ({r['z']:+.1f})"
                )
                text += f"{c + ('*' if r is not None and r['verdict'] == 'outside' else ''):<24}"
            lines.append(f"  {a:<8}{text}")
    return lines


def _own_interval_line(fitted: pd.DataFrame) -> str:
    """How many fitted targets the model's posterior interval meets within the target's *own* interval."""
    has = fitted["overlaps_target_interval"].notna()
    k = int(fitted.loc[has, "overlaps_target_interval"].sum())
    return (
        f"against the targets' own intervals (stricter: no model-discrepancy SD): the posterior 95% interval"
        f" meets {k} of {int(has.sum())} targets that have one"
    )


def fit_lines(fit: pd.DataFrame) -> list[str]:
    """The text of ``calcsim fit`` for a :func:`fit_table`: summary, unstratified rows, stratified grids."""
    fitted = fit[fit["role"] == "fitted"]
    n_out = int((fitted["verdict"] == "outside").sum())
    lines = [
        f"{len(fitted)} targets fitted: {len(fitted) - n_out} within, {n_out} outside (|z| > 1.96);"
        f" distance at the best set {fit.attrs['distance']:.4g} (chi-square 95% point {fit.attrs['chi2_point']:.4g},"
        f" df {fit.attrs.get('df', len(fitted))}); {fit.attrs['checks']} checks (not fitted)",
        _own_interval_line(fitted),
        f"SD of z: {fit.attrs['distance_sd']}",
        f"posterior 95% = {fit.attrs['posterior_interval']}",
        "",
    ]
    flat = fit[fit["stratum"] == ""]
    if len(flat):
        lines += _flat_lines(flat)
    strat = fit[fit["stratum"] != ""]
    if len(strat):
        lines += ["", *_grid_lines(strat), "(every row with its intervals: calcsim fit --out DIR, calibration_fit.csv)"]
    return lines
