"""A scenario's ABC-SMC calibration on disk: simulate the proposals, save every draw, write the result.

:func:`calibrate_smc` runs :class:`analysis.calibration.smc.SMC` with the scenario's distance
(:func:`analysis.calibration.targets_fit.evaluate`; every draw on the same women and seed: common
random numbers). Every simulated draw is appended to ``<scenario>.csv.partial`` at once, so an
interrupted run resumes by replaying its saved draws (the proposals are deterministic); a finished
run's complete record ``<scenario>.draws.csv`` is continued the same way when it is started again
with the same settings and a larger ``draws`` budget. The result is

* ``<scenario>.csv``: the final population (``accepted`` True, normalised ``weight``), with the
  per-generation tolerance, acceptance rate and ESS and ``tolerance_reached: yes|no (...)`` in its
  header -- readable by :func:`analysis.scenario.read_calibration`;
* ``<scenario>.draws.csv``: every simulated draw with its ``generation`` (the same header).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.calibration.progress import append_rows, header_text, open_progress, writing
from analysis.calibration.smc import SMC, Proposal, SMCSettings, ess, run_smc
from analysis.calibration.targets_fit import evaluate_item
from analysis.errors import ArgumentError
from analysis.io.atomic import atomic_write_text
from analysis.scenario import Scenario

__all__ = ["SMC_HEADER_KEYS", "calibrate_smc", "tolerance_line"]

#: Header keys that must match for saved draws to be resumed or continued (not ``draws``: a larger
#: budget continues a run).
SMC_HEADER_KEYS = (
    "scenario",
    "prior_hash",
    "version",
    "method",
    "seed",
    "women",
    "population",
    "alpha",
    "final_tolerance",
    "distance_sd",
    "targets_sha256",
    "targets",
    "parameters",
)


def tolerance_line(reached: bool, tolerance: float, chi2_point: float) -> str:
    """``yes|no (final tolerance X, chi-square point Y)``."""
    return f"{'yes' if reached else 'no'} (final tolerance {tolerance:.6g}, chi-square point {chi2_point:.6g})"


def _columns(free: list[tuple[str, float, float]], t: pd.DataFrame) -> list[str]:
    return [
        "draw",
        "generation",
        *[p[0] for p in free],
        "distance",
        "proposal",
        *[f"{x}__{k}" for x in t["target"] for k in ("model", "z")],
        "invalid",
    ]


def calibrate_smc(
    s: Scenario,
    free: list[tuple[str, float, float]],
    t: pd.DataFrame,
    meta: dict[str, Any],
    settings: SMCSettings,
    *,
    out: Path,
    women: int,
    map_fn: Callable[[Callable, list], list] | None = None,
    progress: bool = False,
    restart: bool = False,
    stop_after: int | None = None,
) -> pd.DataFrame:
    """Run (or resume) the ABC-SMC calibration of ``s`` and write its files (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Every draw simulated so far, with ``accepted`` (member of the final population) and
        ``weight``; the header in ``attrs`` (``tolerance_reached`` among it). Interrupted on purpose
        (``stop_after``): the draws so far, nothing final written.
    """
    from tqdm import tqdm

    final, partial = out / f"{s.name}.csv", out / f"{s.name}.csv.partial"
    record = out / f"{s.name}.draws.csv"
    columns = _columns(free, t)
    with writing(out):
        done = open_progress(partial, meta, SMC_HEADER_KEYS, restart, previous=record, columns=columns)
    if len(done) > settings.draws:
        raise ArgumentError(
            "draws", settings.draws, f"at least the {len(done)} draws already saved in {out} (or restart)"
        )
    smc = SMC(free, settings)
    if not done.empty:
        smc.replay(done.sort_values("draw"))
    keys = [p[0] for p in free]
    mapper = map_fn or (lambda fn, items: [fn(i) for i in items])
    seed = settings.seed

    def evaluate(props: list[Proposal]) -> list[dict]:
        items = [(s, dict(zip(keys, map(float, p.values), strict=True)), t, women, seed) for p in props]
        return mapper(evaluate_item, items)

    bar = tqdm(
        total=settings.draws, initial=smc.recorded, desc=f"calibrate {s.name}", unit="draw", disable=not progress
    )

    def save(used: list[tuple[Proposal, dict]]) -> None:
        if not used:
            return
        first = smc.recorded - len(used)
        rows = pd.DataFrame(
            [
                {
                    "draw": first + i,
                    "generation": p.generation,
                    "proposal": p.index,
                    **dict(zip(keys, p.values, strict=True)),
                    **r,
                }
                for i, (p, r) in enumerate(used)
            ]
        ).reindex(columns=columns)
        with writing(out):
            append_rows(partial, rows, header=first == 0)
        bar.update(len(used))

    run_smc(smc, evaluate, batch=8 if map_fn is not None else 1, stop_after=stop_after, on_batch=save)
    bar.close()
    _, rows = _saved_rows(partial)
    if not smc.finished:
        rows.attrs.update(meta)
        return rows  # interrupted on purpose (stop_after): resume later
    with writing(out):
        return _finish(smc, rows, meta, final, record, partial)


def _saved_rows(partial: Path) -> tuple[dict[str, str], pd.DataFrame]:
    from analysis.io.commented_csv import read_commented_csv

    meta, rows = read_commented_csv(partial)
    return meta, rows.sort_values("draw").reset_index(drop=True) if not rows.empty else rows


def _finish(
    smc: SMC, rows: pd.DataFrame, meta: dict[str, Any], final: Path, record: Path, partial: Path
) -> pd.DataFrame:
    """Mark the final population, complete the header, write both files atomically, drop the progress file."""
    pop = smc.final()
    accepted, weight = np.zeros(len(rows), dtype=bool), np.zeros(len(rows))
    accepted[pop.rows], weight[pop.rows] = True, pop.weights
    flags = pd.DataFrame({"accepted": accepted, "weight": weight}, index=rows.index)
    rows = pd.concat([rows.drop(columns=["accepted", "weight"], errors="ignore"), flags], axis=1)
    chi2_point = smc.settings.final_tolerance
    summary = smc.summary()
    meta = {
        **meta,
        "tolerance_reached": tolerance_line(smc.reached, pop.tolerance, chi2_point),
        "acceptance": f"ABC-SMC population {smc.n}, generation {pop.index}"
        + ("" if smc.reached else " (TOLERANCE NOT REACHED: the last complete population, draw budget spent)"),
        "tolerance": f"{pop.tolerance:.6g}",
        "accepted": len(pop.rows),
        "effective_sample_size": f"{ess(pop.weights):.1f}",
        "draws_used": smc.recorded,
        **{f"generation_{g.generation}": _generation_text(g) for g in summary.itertuples(index=False)},
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    order = ["draw", "generation", *smc.keys, "distance", "accepted", "weight", "proposal"]
    rows = rows[order + [c for c in rows.columns if c not in order]]
    atomic_write_text(record, header_text(meta) + rows.to_csv(index=False))
    atomic_write_text(final, header_text(meta) + rows[rows["accepted"]].to_csv(index=False))
    partial.unlink(missing_ok=True)
    rows.attrs.update(meta)
    rows.attrs["generations"] = summary
    return rows


def _generation_text(g: Any) -> str:
    state = "" if g.complete else ", incomplete (budget spent)"
    return (
        f"tolerance {g.tolerance:.6g}, proposals {g.proposals}, accepted {g.accepted},"
        f" acceptance rate {g.acceptance_rate:.3f}, ess {g.ess:.1f}{state}"
    )
