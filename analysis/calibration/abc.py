"""Calibration by approximate Bayesian computation: ABC-SMC (default) or sequential Latin hypercube rounds.

The free parameters of a scenario are those with status ``calibrated`` (each has a prior range,
the prior is uniform on it). :func:`calibrate` scores parameter sets against the scenario's
targets (``data/targets/targets.csv``) with the chi-square distance of
:mod:`analysis.calibration.targets_fit`: ``sum(z_k^2)`` with ``sd_k^2`` = target variance
(binomial from counts, else from the published interval, else an assumed
:data:`DEFAULT_RELATIVE_SD`) + a model-discrepancy variance (:data:`MODEL_DISCREPANCY_RELATIVE_SD`
of the target value, an assumption applied to every target) + the model's Monte Carlo variance.
Every draw is simulated on the same women (one seed: common random numbers).

``method="smc"`` (default; :mod:`analysis.calibration.smc`): ABC sequential Monte Carlo
(population Monte Carlo, Beaumont et al. 2009). A population of ``population`` particles is
moved through tolerances that are the ``alpha``-quantiles of the previous distances, down to the
final tolerance, the chi-square 95% point with one degree of freedom per target; it stops there
or when the ``draws`` budget is spent. The result file says which
(``tolerance_reached: yes|no (final tolerance X, chi-square point Y)``): a calibration that did not
reach the tolerance is never passed off as a posterior at it.

``method="rounds"`` (:mod:`analysis.calibration.rounds`): Latin hypercube draws in ``rounds``
sequential boxes with importance weights, ABC rejection at the chi-square point (or the
``min_accepted`` nearest draws, which the file says: ``acceptance = nearest``).

Both save every finished draw at once to ``<out>/<scenario>.csv.partial``, so an interrupted
calibration resumes where it stopped, and write ``<out>/<scenario>.csv`` (default ``calibration/``
in the working directory, never the installed package) atomically with the seed, version, targets
and settings in its header.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis import __version__
from analysis.calibration.progress import header_text, open_progress, targets_sha, writing
from analysis.calibration.rounds import Rounds, accept, importance_weights, lhs_draws
from analysis.calibration.smc import SMCSettings
from analysis.calibration.smc_run import calibrate_smc
from analysis.calibration.targets_fit import (
    DEFAULT_RELATIVE_SD,
    MODEL_DISCREPANCY_RELATIVE_SD,
    discrepancy_note,
    evaluate,
    scenario_targets,
)
from analysis.errors import ArgumentError, CalcsimInputError
from analysis.io.atomic import atomic_write_text
from analysis.io.commented_csv import read_commented_csv
from analysis.scenario import Scenario, load_scenario
from analysis.scenario.calibrated import prior_record

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_RELATIVE_SD",
    "HEADER_KEYS",
    "METHODS",
    "MODEL_DISCREPANCY_RELATIVE_SD",
    "accept",
    "calibrate",
    "calibrated_parameters",
    "evaluate",
    "lhs_draws",
    "scenario_targets",
]

#: Default output folder of :func:`calibrate`, relative to the working directory.
DEFAULT_OUT = "calibration"
METHODS = ("smc", "rounds")
#: Header keys that must match for the rounds method to resume.
HEADER_KEYS = (
    "scenario",
    "prior_hash",
    "version",
    "seed",
    "women",
    "draws",
    "rounds",
    "min_accepted",
    "distance_sd",
    "targets_sha256",
    "targets",
    "parameters",
)


def calibrated_parameters(s: Scenario) -> list[tuple[str, float, float]]:
    """``(key, low, high)`` of every scalar parameter with status ``calibrated``."""
    out = []
    for key, prov in s.provenance.items():
        value = s.values()[key]
        if prov.status == "calibrated" and prov.range is not None and isinstance(value, float):
            out.append((key, *prov.range))
    return sorted(out)


def calibrate(
    scenario: str | os.PathLike[str] = "nl-biennial",
    *,
    draws: int = 3000,
    women: int = 50_000,
    seed: int = 2026,
    targets: pd.DataFrame | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    method: str = "smc",
    population: int = 150,
    alpha: float = 0.5,
    min_accepted: int = 10,
    map_fn: Callable[[Callable, list], list] | None = None,
    progress: bool = False,
    restart: bool = False,
    stop_after: int | None = None,
    params: Sequence[str] | None = None,
    rounds: int = 3,
) -> pd.DataFrame:
    """Calibrate a scenario's ``calibrated`` parameters to its targets (see the module docstring).

    Parameters
    ----------
    scenario : str or path
        Scenario name or TOML path. Calibration starts from its own prior values and the
        calibrated values of the scenarios it ``extends`` (so a programme scenario can
        calibrate its reading parameters on top of shared, already calibrated biology).
    draws : int
        Draw budget (simulations). ``smc``: the run stops when the final tolerance is reached or
        the budget is spent; ``rounds``: exactly this many Latin hypercube draws.
    women, seed : int
        Women per simulation and the seed (designs, proposals and every simulation).
    targets : DataFrame, optional
        Targets (default: the shipped file).
    out_dir : path, optional
        Where ``<scenario>.csv`` goes (default :data:`DEFAULT_OUT`, ``calibration/`` in the working
        directory; never the installed package). Installing a result as the shipped calibration
        (``data/calibration/``) is a deliberate step for maintainers (see the README).
    method : {"smc", "rounds"}
        ABC-SMC (default) or Latin hypercube rounds.
    population, alpha : int, float
        ``smc``: particles per generation (at most ``draws``) and the quantile of the distances
        that sets each next tolerance.
    min_accepted : int
        ``rounds``: keep at least this many draws (the nearest, if too few pass).
    map_fn : callable, optional
        ``map_fn(fn, items) -> list`` to simulate draws in parallel (e.g. Dask); same result as serial.
    progress, restart : bool
        A progress bar on stderr; discard saved progress instead of resuming.
    stop_after : int, optional
        Stop after this many new draws (for tests of interruption).
    params : sequence of str, optional
        Calibrate only these ``calibrated`` parameters (the others keep their prior values).
    rounds : int
        ``rounds``: sequential rounds (the first over the prior ranges, each later one around the draws accepted).

    Returns
    -------
    pandas.DataFrame
        The draws with their distance, ``accepted`` flag and ``weight`` (header metadata in ``attrs``).
    """
    _check_design(draws, women, rounds, method, population, alpha)
    # start from the calibrations of the scenarios this one extends, not from its own
    s = load_scenario(scenario, calibration="parents")
    free = _free_parameters(s, params)
    t = scenario_targets(s, targets)
    if t.empty:
        raise ArgumentError("scenario", s.name, "no targets for this scenario in the targets file")
    out = Path(out_dir) if out_dir is not None else Path(DEFAULT_OUT)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
    base = _metadata(s, free, t, seed=seed, women=women, draws=draws)
    run = {"out": out, "women": women, "map_fn": map_fn, "progress": progress, "restart": restart}
    if method == "smc":
        settings = SMCSettings(population, alpha, draws, float(stats.chi2.ppf(0.95, scored_df(t))), seed)
        return _calibrate_smc(s, free, t, base, settings, run, stop_after)
    meta = {**base, "method": "rounds", "rounds": rounds, "min_accepted": min_accepted, **_tail(s, free, t)}
    return _calibrate_rounds(
        s, free, t, meta, out, women, seed, draws, rounds, min_accepted, map_fn, progress, restart, stop_after
    )


def scored_df(t: pd.DataFrame) -> int:
    """Degrees of freedom of the final tolerance: the point targets (an upper bound adds 0 unless exceeded)."""
    return max(int((t["kind"] == "point").sum()), 1)


def _calibrate_smc(
    s: Scenario,
    free: list[tuple[str, float, float]],
    t: pd.DataFrame,
    base: dict[str, Any],
    settings: SMCSettings,
    run: dict[str, Any],
    stop_after: int | None,
) -> pd.DataFrame:
    """The ABC-SMC method: its header and :func:`~analysis.calibration.smc_run.calibrate_smc`."""
    meta = {
        **base,
        "method": "smc",
        "population": min(settings.population, settings.draws),
        "alpha": settings.alpha,
        "final_tolerance": f"{settings.final_tolerance:.6g} (chi-square 95% point, df {scored_df(t)}:"
        " the point targets; guideline maxima add to the distance only when exceeded)",
        **_tail(s, free, t),
    }
    return calibrate_smc(s, free, t, meta, settings, stop_after=stop_after, **run)


def _calibrate_rounds(
    s: Scenario,
    free: list[tuple[str, float, float]],
    t: pd.DataFrame,
    meta: dict[str, Any],
    out: Path,
    women: int,
    seed: int,
    draws: int,
    rounds: int,
    min_accepted: int,
    map_fn: Callable | None,
    progress: bool,
    restart: bool,
    stop_after: int | None,
) -> pd.DataFrame:
    """The Latin hypercube rounds method (see the module docstring)."""
    final, partial = out / f"{s.name}.csv", out / f"{s.name}.csv.partial"
    with writing(out):
        done = open_progress(partial, meta, HEADER_KEYS, restart)
    run = Rounds(s, free, t, women, seed, min_accepted, partial, map_fn)
    sizes = [draws // rounds + (1 if r < draws % rounds else 0) for r in range(rounds)]
    boxes = _run_rounds(run, sizes, done, out, stop_after, progress)
    _, all_rows = read_commented_csv(partial)
    if len(all_rows) < draws:
        all_rows.attrs.update(meta)
        return all_rows  # interrupted on purpose (stop_after): resume later
    with writing(out):
        return _finish(all_rows, boxes, sizes, free, t, min_accepted, meta, partial, final)


def _metadata(
    s: Scenario, free: list[tuple[str, float, float]], t: pd.DataFrame, *, seed: int, women: int, draws: int
) -> dict[str, Any]:
    """The header keys common to both methods (those of the method's ``*_HEADER_KEYS`` must match to resume)."""
    return {
        "scenario": s.name,
        "prior_hash": s.prior_hash,
        "version": __version__,
        "seed": seed,
        "women": women,
        "draws": draws,
        "targets_sha256": targets_sha(t),
        "targets": " ".join(t["target"]),
        "parameters": " ".join(p[0] for p in free),
    }


def _tail(s: Scenario, free: list[tuple[str, float, float]], t: pd.DataFrame) -> dict[str, Any]:
    """The header keys after the settings: SD rule, target SDs, prior ranges and prior values."""
    return {
        "distance_sd": discrepancy_note(),
        "target_sd": "; ".join(
            f"{r.target}={r.target_sd:.4g} ({r.target_sd_basis}; with discrepancy {r.distance_sd:.4g})"
            for r in t.itertuples(index=False)
        ),
        "prior_ranges": json.dumps({k: [lo, hi] for k, lo, hi in free}, separators=(",", ":")),
        "prior_values": prior_record(s.calibration_values(), dict(s.tables)),
    }


def _run_rounds(
    run: Rounds, sizes: list[int], done: pd.DataFrame, out: Path, stop_after: int | None, progress: bool
) -> list[np.ndarray]:
    """Run the rounds (each saving its draws as they finish) until done or ``stop_after`` new draws; the boxes."""
    from tqdm import tqdm

    bar = tqdm(
        total=sum(sizes) - len(done), desc=f"calibrate {run.s.name}", unit="draw", disable=not progress, leave=False
    )
    budget, boxes = np.inf if stop_after is None else stop_after, []
    for r, n_r in enumerate(sizes):
        with writing(out):
            done, budget = run.round(r, n_r, sum(sizes[:r]), done, boxes, budget, bar)
        if budget <= 0:
            break
    bar.close()
    return boxes


def _check_design(draws: int, women: int, rounds: int, method: str, population: int, alpha: float) -> None:
    """Refuse a design that cannot calibrate, naming the argument (:class:`ArgumentError`)."""
    if method not in METHODS:
        raise ArgumentError("method", method, f"one of {', '.join(METHODS)}")
    if draws < 2:
        raise ArgumentError("draws", draws, "a whole number >= 2")
    if women < 1:
        raise ArgumentError("women", women, "a whole number >= 1")
    if method == "rounds" and (rounds < 1 or draws < 2 * rounds):
        raise ArgumentError("rounds", rounds, "a whole number >= 1 with at least 2 draws per round")
    if method == "smc" and population < 2:
        raise ArgumentError("population", population, "a whole number >= 2")
    if method == "smc" and not 0.0 < alpha < 1.0:
        raise ArgumentError("alpha", alpha, "a quantile strictly between 0 and 1")


def _free_parameters(s: Scenario, params: Sequence[str] | None) -> list[tuple[str, float, float]]:
    """The calibrated parameters to vary (``params``, or all with a non-zero-width range)."""
    all_params = [p for p in calibrated_parameters(s) if p[2] > p[1]]  # a zero-width range is not free
    if params is not None:
        known = {p[0] for p in all_params}
        unknown = [k for k in params if k not in known]
        if unknown:
            raise ArgumentError(
                "params", unknown[0], f"not a calibrated parameter of {s.name}; calibrated: {', '.join(sorted(known))}"
            )
        all_params = [p for p in all_params if p[0] in set(params)]
    if not all_params:
        raise CalcsimInputError(f"{s.origin}: no parameter has status 'calibrated': nothing to calibrate")
    return all_params


def _finish(
    all_rows: pd.DataFrame,
    boxes: list[np.ndarray],
    sizes: list[int],
    free: list[tuple[str, float, float]],
    t: pd.DataFrame,
    min_accepted: int,
    meta: dict[str, Any],
    partial: Path,
    final: Path,
) -> pd.DataFrame:
    """Weights, acceptance and the final file of the rounds method (written atomically; progress file removed)."""
    keys = [p[0] for p in free]
    all_rows = all_rows.sort_values("draw").reset_index(drop=True)
    all_rows["weight"] = importance_weights(all_rows[keys].to_numpy(), boxes, sizes, free)
    result = accept(all_rows, n_targets=len(t), min_accepted=min_accepted)
    w = np.where(result["accepted"], result["weight"], 0.0)
    result["weight"] = w / w.sum()
    reached = not str(result.attrs["acceptance"]).startswith("nearest")
    chi2_point = float(stats.chi2.ppf(0.95, len(t)))
    meta = {
        **meta,
        "tolerance_reached": f"{'yes' if reached else 'no'} (final tolerance {result.attrs['tolerance']:.6g},"
        f" chi-square point {chi2_point:.6g})",
        "acceptance": result.attrs["acceptance"],
        "tolerance": f"{result.attrs['tolerance']:.6g}",
        "accepted": int(result["accepted"].sum()),
        "effective_sample_size": f"{1.0 / np.sum(result['weight'] ** 2):.1f}",
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    atomic_write_text(final, header_text(meta) + result.to_csv(index=False))
    partial.unlink(missing_ok=True)
    result.attrs.update(meta)
    return result
