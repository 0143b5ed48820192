"""Calibration: Latin hypercube draws, a count-based distance, and ABC acceptance.

The free parameters of a scenario are those with status ``calibrated`` (each has
a prior range). :func:`calibrate`:

1. draws parameter sets by Latin hypercube sampling (``scipy.stats.qmc``, seeded)
   in sequential rounds: the first over the prior ranges, each later one over a box
   around the draws accepted so far, with importance weights (prior / proposal
   density) so that the accepted set remains a valid ABC sample;
2. simulates each set on the same women (common random numbers: the same run
   seed for every draw, so differences between draws are not noise);
3. scores each set against the scenario's targets (``data/targets/targets.csv``)
   with a chi-square distance ``sum(z_k^2)``, ``z_k = (model_k - target_k) / sd_k``
   where ``sd_k^2`` = target variance + model Monte Carlo variance. The target
   variance is binomial from the source's counts when it gives counts, from its
   published interval when it gives one, and otherwise a relative SD of
   :data:`DEFAULT_RELATIVE_SD` (an assumption, stated in the output). Guideline
   maxima (``upper_bound``) only penalise values above the bound;
4. accepts (approximate Bayesian computation, rejection step) every draw whose
   distance is below the chi-square 95% point with one degree of freedom per
   target; if fewer than ``min_accepted`` draws pass, the ``min_accepted`` nearest
   draws are kept and the file says so (``acceptance = nearest``).

Every finished draw is appended (and flushed to disk) to
``<scenario>.csv.partial`` as soon as it is done, so an interrupted calibration
resumes where it stopped; the final ``<out_dir>/<scenario>.csv`` (default ``calibration/`` in the
working directory) is written atomically with the seed, version, targets and settings in its header.
working directory) is written atomically with the seed, version, targets and settings in its header.

The pieces: :mod:`analysis.calibration.targets_fit` (the targets' SDs and the distance of one
draw) and :mod:`analysis.calibration.rounds` (Latin hypercube designs, the rounds, acceptance and
importance weights); their public names are importable from here too.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import __version__
from analysis.calibration.rounds import Rounds, accept, importance_weights, lhs_draws
from analysis.calibration.targets_fit import DEFAULT_RELATIVE_SD, evaluate, scenario_targets
from analysis.errors import ArgumentError, CalcsimInputError
from analysis.io.atomic import atomic_write_text
from analysis.io.commented_csv import read_commented_csv
from analysis.scenario import Scenario, load_scenario
from analysis.scenario.calibrated import prior_record
from analysis.stats.targets import load_targets

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_RELATIVE_SD",
    "HEADER_KEYS",
    "accept",
    "calibrate",
    "calibrated_parameters",
    "evaluate",
    "lhs_draws",
    "scenario_targets",
]

#: Default output folder of :func:`calibrate`, relative to the working directory.
DEFAULT_OUT = "calibration"
HEADER_KEYS = (
    "scenario",
    "prior_hash",
    "version",
    "seed",
    "women",
    "draws",
    "rounds",
    "min_accepted",
    "targets_sha256",
    "targets",
    "parameters",
)
#: The old name of :func:`~analysis.calibration.rounds.importance_weights` (kept for existing callers).
_importance_weights = importance_weights


def calibrated_parameters(s: Scenario) -> list[tuple[str, float, float]]:
    """``(key, low, high)`` of every scalar parameter with status ``calibrated``."""
    out = []
    for key, prov in s.provenance.items():
        value = s.values()[key]
        if prov.status == "calibrated" and prov.range is not None and isinstance(value, float):
            out.append((key, *prov.range))
    return sorted(out)


def _targets_sha(targets: pd.DataFrame) -> str:
    return hashlib.sha256(targets.to_csv(index=False).encode()).hexdigest()[:16]


def _header(meta: dict[str, Any]) -> str:
    return "".join(f"# {k}: {meta[k]}\n" for k in meta)


def calibrate(
    scenario: str | os.PathLike[str] = "nl-biennial",
    *,
    draws: int = 200,
    women: int = 50_000,
    seed: int = 2026,
    targets: pd.DataFrame | None = None,
    out_dir: str | os.PathLike[str] | None = None,
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
    draws, women, seed : int
        Latin hypercube draws, women per simulation, seed (LHS and simulations).
    targets : DataFrame, optional
        Targets (default: the shipped file).
    out_dir : path, optional
        Where ``<scenario>.csv`` goes (default :data:`DEFAULT_OUT`, ``calibration/`` in the working
        directory; never the installed package). Installing a result as the shipped calibration
        (``data/calibration/``) is a deliberate step for maintainers (see the README).
    min_accepted : int
        Keep at least this many draws.
    map_fn : callable, optional
        ``map_fn(fn, items) -> list`` to evaluate draws in parallel (e.g. Dask); each
        item's result is still saved as soon as the batch it belongs to finishes.
    restart : bool
        Discard saved progress instead of resuming.
    stop_after : int, optional
        Stop after this many new draws (for tests of interruption).
    params : sequence of str, optional
        Calibrate only these ``calibrated`` parameters (the others keep their prior values).
    rounds : int
        Sequential rounds: round 1 samples the prior ranges; each later round samples a
        box around the draws accepted so far. Importance weights (prior density over
        the mixture of the rounds' proposal densities) keep the accepted set a valid
        ABC sample; they are written in the ``weight`` column.

    Returns
    -------
    pandas.DataFrame
        All draws with their distance and ``accepted`` flag (header metadata in ``attrs``).
    """
    _check_design(draws, women, rounds)
    # start from the calibrations of the scenarios this one extends, not from its own
    s = load_scenario(scenario, calibration="parents")
    free = _free_parameters(s, params)
    t = scenario_targets(s, load_targets() if targets is None else targets)
    if t.empty:
        raise ArgumentError("scenario", s.name, "no targets for this scenario in the targets file")
    out = Path(out_dir) if out_dir is not None else Path(DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    final, partial = out / f"{s.name}.csv", out / f"{s.name}.csv.partial"
    meta = _metadata(s, free, t, seed=seed, women=women, draws=draws, rounds=rounds, min_accepted=min_accepted)
    with _writing(out):
        done = _open_progress(partial, meta, restart)
    run = Rounds(s, free, t, women, seed, min_accepted, partial, map_fn)
    sizes = [draws // rounds + (1 if r < draws % rounds else 0) for r in range(rounds)]
    boxes = _run_rounds(run, sizes, done, out, stop_after, progress)
    _, all_rows = read_commented_csv(partial)
    if len(all_rows) < draws:
        all_rows.attrs.update(meta)
        return all_rows  # interrupted on purpose (stop_after): resume later
    with _writing(out):
        return _finish(all_rows, boxes, sizes, free, t, min_accepted, meta, partial, final)


def _metadata(
    s: Scenario,
    free: list[tuple[str, float, float]],
    t: pd.DataFrame,
    *,
    seed: int,
    women: int,
    draws: int,
    rounds: int,
    min_accepted: int,
) -> dict[str, Any]:
    """The header of the progress and final files (:data:`HEADER_KEYS` must match to resume)."""
    return {
        "scenario": s.name,
        "prior_hash": s.hash,
        "version": __version__,
        "seed": seed,
        "women": women,
        "draws": draws,
        "rounds": rounds,
        "min_accepted": min_accepted,
        "targets_sha256": _targets_sha(t),
        "targets": " ".join(t["target"]),
        "parameters": " ".join(p[0] for p in free),
        "prior_values": prior_record(s.values(), dict(s.tables)),
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
        with _writing(out):
            done, budget = run.round(r, n_r, sum(sizes[:r]), done, boxes, budget, bar)
        if budget <= 0:
            break
    bar.close()
    return boxes


@contextlib.contextmanager
def _writing(out: Path) -> Iterator[None]:
    """Turn a failed write into the calibration folder (full disk, read-only) into one line naming ``--out``."""
    try:
        yield
    except OSError as exc:
        raise ArgumentError(
            "out",
            str(out),
            f"cannot write the calibration there ({exc.strerror or exc});"
            " free space or choose another folder, then rerun to resume",
        ) from None


def _check_design(draws: int, women: int, rounds: int) -> None:
    """Refuse a design that cannot calibrate, naming the argument (:class:`ArgumentError`)."""
    if draws < 2:
        raise ArgumentError("draws", draws, "a whole number >= 2")
    if women < 1:
        raise ArgumentError("women", women, "a whole number >= 1")
    if rounds < 1 or draws < 2 * rounds:
        raise ArgumentError("rounds", rounds, "a whole number >= 1 with at least 2 draws per round")


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


def _open_progress(partial: Path, meta: dict[str, Any], restart: bool) -> pd.DataFrame:
    """The draws saved by an interrupted run with the same settings (a torn last line is dropped), or none."""
    if partial.exists() and not restart:
        text = partial.read_text(encoding="utf-8", errors="replace")
        if text and not text.endswith("\n"):  # killed while writing a line: keep the complete lines only
            atomic_write_text(partial, text[: text.rfind("\n") + 1])
        try:
            old_meta, done = read_commented_csv(partial)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise CalcsimInputError(
                f"{partial}: saved progress is not readable ({str(exc).splitlines()[0]});"
                " rerun with --restart to discard it"
            ) from None
        mismatch = [k for k in HEADER_KEYS if str(old_meta.get(k)) != str(meta[k])]
        if mismatch:
            raise CalcsimInputError(
                f"{partial}: saved progress was made with different {', '.join(mismatch)}; "
                "rerun with --restart to discard it, or use the same settings to resume"
            )
        return done
    atomic_write_text(partial, _header(meta))
    return pd.DataFrame()


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
    """Weights, acceptance and the final file (written atomically; the progress file removed)."""
    keys = [p[0] for p in free]
    all_rows = all_rows.sort_values("draw").reset_index(drop=True)
    all_rows["weight"] = importance_weights(all_rows[keys].to_numpy(), boxes, sizes, free)
    result = accept(all_rows, n_targets=len(t), min_accepted=min_accepted)
    w = np.where(result["accepted"], result["weight"], 0.0)
    result["weight"] = w / w.sum()
    meta.update(
        {
            "acceptance": result.attrs["acceptance"],
            "tolerance": f"{result.attrs['tolerance']:.6g}",
            "accepted": int(result["accepted"].sum()),
            "effective_sample_size": f"{1.0 / np.sum(result['weight'] ** 2):.1f}",
            "target_sd": "; ".join(
                f"{r.target}={r.target_sd:.4g} ({r.target_sd_basis})" for r in t.itertuples(index=False)
            ),
            "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    atomic_write_text(final, _header(meta) + result.to_csv(index=False))
    partial.unlink(missing_ok=True)
    result.attrs.update(meta)
    return result
