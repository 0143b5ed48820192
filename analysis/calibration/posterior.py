"""Parameter uncertainty: runs over the accepted calibrated parameter sets, and the calibration fit.

``calcsim run --posterior`` simulates every accepted parameter set of the
scenario's calibration on the same women (common random numbers) and reports,
beside the default run's Wilson interval, the 2.5–97.5% range of the estimates
across the accepted sets. That range contains parameter uncertainty (what the
calibration could not pin down) plus the Monte Carlo noise of one run; it is
labelled as such.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import CalcsimInputError
from analysis.model.results import Results
from analysis.model.simulation import simulate
from analysis.scenario import Scenario, load_scenario, read_calibration

POSTERIOR_INTERVAL = (
    "weighted 2.5-97.5% of the estimates across the accepted calibrated parameter sets "
    "(parameter uncertainty + Monte Carlo noise of one run; same women for every set)"
)


@dataclass
class PosteriorResults:
    """The default (best-set) run and one run per accepted parameter set."""

    best: Results
    runs: list[Results]
    sets: list[dict[str, float]]
    weights: np.ndarray | None = None  # ABC importance weights of the sets (None: equal)
    meta: dict = field(default_factory=dict)
    scenario: Scenario | None = None  # the scenario as loaded (its calibration, overrides and name)

    @property
    def pooled(self) -> Results:
        """The default run (for metadata shared with other result kinds)."""
        return self.best

    def estimates(self, alpha: float = 0.05) -> pd.DataFrame:
        """Default-run estimates (Wilson) with the posterior median and 95% range across sets."""
        out = self.best.estimates(alpha)
        per = np.vstack([r.estimates(alpha)["estimate"].to_numpy() for r in self.runs])
        import warnings

        w = np.ones(per.shape[0]) if self.weights is None else np.asarray(self.weights, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.array(
                [weighted_quantiles(per[:, j], w, [alpha / 2, 0.5, 1 - alpha / 2]) for j in range(per.shape[1])]
            )
        out["posterior_lower"], out["posterior_median"], out["posterior_upper"] = q[:, 0], q[:, 1], q[:, 2]
        out.attrs["intervals"] = {
            "lower/upper": "Wilson 95% of the default (nearest accepted) parameter set",
            "posterior_lower/posterior_upper": POSTERIOR_INTERVAL,
        }
        out.attrs["parameter_sets"] = len(self.runs)
        return out

    def to_json_dict(self) -> dict:
        """The ``--json`` document of a posterior run."""
        e = self.estimates()
        doc = self.best.to_json_dict()
        for rec, row in zip(doc["estimates"], e.itertuples(index=False), strict=True):
            for col in ("posterior_median", "posterior_lower", "posterior_upper"):
                v = getattr(row, col)
                rec[col] = None if np.isnan(v) else float(v)
        doc["parameter_sets"] = len(self.runs)
        doc["intervals"] = e.attrs["intervals"]
        doc.pop("interval", None)
        return doc


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of ``x`` under weights ``w`` (NaNs dropped; inverse of the weighted empirical CDF)."""
    ok = np.isfinite(x) & (w > 0)
    if not ok.any():
        return np.full(len(qs), np.nan)
    order = np.argsort(x[ok], kind="stable")
    xs, ws = x[ok][order], w[ok][order]
    cdf = np.cumsum(ws) / ws.sum()
    idx = np.minimum(np.searchsorted(cdf, np.asarray(qs) - 1e-12, side="left"), len(xs) - 1)
    return xs[idx]


def run_posterior(
    scenario: Scenario | str | os.PathLike[str] = "nl-biennial",
    women: int = 100_000,
    seed: int = 2026,
    *,
    by: Sequence[str] = (),
    map_fn: Callable | None = None,
    progress: bool = False,
    cohort_data: str | os.PathLike[str] | None = None,
) -> PosteriorResults:
    """Simulate every accepted parameter set of the scenario's calibration.

    Parameters
    ----------
    scenario : Scenario, str or path
        A scenario (with any overrides already applied) or its name / TOML file (loaded with the
        shipped calibration). The posterior runs over the accepted sets of the calibration applied
        to it last (:attr:`Scenario.calibration`: its own, or that of the scenario it extends).
        The accepted sets replace only the calibrated parameters, so other overrides are kept.
    women, seed : int
        Women and seed of every run (the same for all sets: common random numbers).
    by : sequence of str
        Strata.
    map_fn : callable, optional
        ``map_fn(fn, items)`` to run the sets in parallel (Dask).
    """
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not s.calibration:
        raise CalcsimInputError(
            f"scenario {s.name!r} was loaded without a calibration (calibration: none): no"
            " accepted parameter sets to run over; load it with the shipped calibration or a"
            f" calibration file, or calibrate it first (calcsim calibrate --scenario {s.name})"
        )
    applied = s.calibration[-1]
    if applied.overridden:
        raise CalcsimInputError(
            f"{applied.file}: the posterior replaces its calibrated parameters by each accepted set, but"
            f" {', '.join(applied.overridden)} was overridden (--set): drop that override, or run without"
            " the posterior (or with --calibration none)"
        )
    cal = read_calibration(applied.path, label=applied.file)
    acc = cal.accepted
    sets = [{k: float(r[k]) for k in cal.parameters} for _, r in acc.iterrows()]
    best = simulate(s, women=women, seed=seed, by=by, progress=progress, cohort_data=cohort_data)
    items = [
        (s, values, int(d), women, seed, tuple(by), cohort_data) for values, d in zip(sets, acc["draw"], strict=True)
    ]
    mapper = map_fn or (lambda fn, xs: [fn(x) for x in xs])
    runs = mapper(_run_item, items)
    weights = acc["weight"].to_numpy(dtype=float) if "weight" in acc.columns else None
    return PosteriorResults(
        best=best,
        runs=runs,
        sets=sets,
        weights=weights,
        meta={"calibration": applied.file, "calibrated_scenario": applied.scenario},
        scenario=s,
    )


def _run_item(item: tuple) -> Results:
    s, values, draw, women, seed, by, cohort_data = item
    run = s.replace(values, origin="calibrated set")
    # this run uses accepted draw ``draw`` of the calibration: say so (not "draw N, overridden")
    applied = dataclasses.replace(s.calibration[-1], draw=draw, overridden=())
    run = dataclasses.replace(run, calibration=(*s.calibration[:-1], applied))
    return simulate(run, women=women, seed=seed, by=by, cohort_data=cohort_data)


def calibration_fit(
    post: PosteriorResults, scenario: Scenario | None = None, targets: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each target against the model's prediction, both with intervals (:func:`analysis.calibration.fit.fit_table`).

    Returns
    -------
    pandas.DataFrame
        ``target, stratum, measure, kind, role, target_value, target_lower, target_upper,
        target_interval, source, model, model_lower, model_upper (Wilson, default set), model_n,
        posterior_lower, posterior_upper, sd, z, verdict, within`` -- ``within`` is ``verdict ==
        "within"``: ``|z| <= 1.96`` at the default set, with the calibration's distance SD. The
        posterior run must be stratified as the targets need
        (:func:`analysis.calibration.targets_fit.target_groupings`).
    """
    from analysis.calibration.fit import fit_table

    return fit_table(post, scenario, targets)
