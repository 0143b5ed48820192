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
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from analysis import __version__
from analysis.errors import ArgumentError, CalcsimInputError
from analysis.io.atomic import atomic_write_text
from analysis.io.commented_csv import read_commented_csv
from analysis.model.results import MEASURES
from analysis.model.simulation import simulate
from analysis.scenario import Scenario, load_scenario
from analysis.scenario.calibrated import prior_record
from analysis.stats.targets import load_targets

#: Default output folder of :func:`calibrate`, relative to the working directory.
DEFAULT_OUT = "calibration"
#: Relative SD given to a published figure that comes with neither counts nor an interval (assumption).
DEFAULT_RELATIVE_SD = 0.10
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


def calibrated_parameters(s: Scenario) -> list[tuple[str, float, float]]:
    """``(key, low, high)`` of every scalar parameter with status ``calibrated``."""
    out = []
    for key, prov in s.provenance.items():
        value = s.values()[key]
        if prov.status == "calibrated" and prov.range is not None and isinstance(value, float):
            out.append((key, *prov.range))
    return sorted(out)


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


def lhs_draws(params: Sequence[tuple[str, float, float]], draws: int, seed: int) -> pd.DataFrame:
    """Latin hypercube sample of ``draws`` parameter sets over the prior ranges."""
    sampler = qmc.LatinHypercube(d=len(params), seed=np.random.default_rng(seed))
    unit = sampler.random(draws)
    lo = np.array([p[1] for p in params])
    hi = np.array([p[2] for p in params])
    values = qmc.scale(unit, lo, hi) if np.all(hi > lo) else lo + unit * (hi - lo)
    df = pd.DataFrame(values, columns=[p[0] for p in params])
    df.insert(0, "draw", np.arange(draws))
    return df


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
        raise CalcsimInputError(f"--scenario: {s.name!r}: no targets for this scenario in the targets file")
    out = Path(out_dir) if out_dir is not None else Path(DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    final, partial = out / f"{s.name}.csv", out / f"{s.name}.csv.partial"
    meta = {
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
    with _writing(out):
        done = _open_progress(partial, meta, restart)
    run = _Rounds(s, free, t, women, seed, min_accepted, partial, map_fn)
    from tqdm import tqdm

    bar = tqdm(total=draws - len(done), desc=f"calibrate {s.name}", unit="draw", disable=not progress, leave=False)
    budget, boxes = np.inf if stop_after is None else stop_after, []
    sizes = [draws // rounds + (1 if r < draws % rounds else 0) for r in range(rounds)]
    for r, n_r in enumerate(sizes):
        with _writing(out):
            done, budget = run.round(r, n_r, sum(sizes[:r]), done, boxes, budget, bar)
        if budget <= 0:
            break
    bar.close()
    _, all_rows = read_commented_csv(partial)
    if len(all_rows) < draws:
        all_rows.attrs.update(meta)
        return all_rows  # interrupted on purpose (stop_after): resume later
    with _writing(out):
        return _finish(all_rows, boxes, sizes, free, t, min_accepted, meta, partial, final)


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
    if draws < 2 or women < 1:
        raise CalcsimInputError(f"--draws/--women: {draws}/{women}: need draws >= 2 and women >= 1")
    if rounds < 1 or draws < 2 * rounds:
        raise CalcsimInputError(f"--rounds: {rounds}: a whole number >= 1 with at least 2 draws per round")


def _free_parameters(s: Scenario, params: Sequence[str] | None) -> list[tuple[str, float, float]]:
    """The calibrated parameters to vary (``params``, or all with a non-zero-width range)."""
    all_params = [p for p in calibrated_parameters(s) if p[2] > p[1]]  # a zero-width range is not free
    if params is not None:
        known = {p[0] for p in all_params}
        unknown = [k for k in params if k not in known]
        if unknown:
            raise CalcsimInputError(
                f"--params: {unknown[0]!r}: not a calibrated parameter of {s.name}; "
                f"calibrated: {', '.join(sorted(known))}"
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


class _Rounds:
    """Evaluates the draws of each sequential round, saving every finished draw at once."""

    def __init__(
        self,
        s: Scenario,
        free: list[tuple[str, float, float]],
        t: pd.DataFrame,
        women: int,
        seed: int,
        min_accepted: int,
        partial: Path,
        map_fn: Callable[[Callable, list], list] | None,
    ) -> None:
        self.s, self.free, self.t, self.women, self.seed = s, free, t, women, seed
        self.min_accepted, self.partial = min_accepted, partial
        self.keys = [p[0] for p in free]
        self.columns = [
            "draw",
            "round",
            *self.keys,
            "distance",
            *[f"{x}__{k}" for x in t["target"] for k in ("model", "z")],
        ]
        self.mapper = map_fn or (lambda fn, items: [fn(i) for i in items])
        self.batch = 8 if map_fn is not None else 1

    def round(
        self, r: int, n_r: int, first_id: int, done: pd.DataFrame, boxes: list[np.ndarray], budget: float, bar: Any
    ) -> tuple[pd.DataFrame, float]:
        """Run round ``r`` (its proposal box depends only on earlier rounds: resumable)."""
        earlier = done[done["round"] < r] if not done.empty else done
        box = (
            _proposal_box(self.free, earlier, n_targets=len(self.t), min_accepted=self.min_accepted)
            if r
            else np.array([[p[1], p[2]] for p in self.free])
        )
        boxes.append(box)
        design = lhs_draws([(k, lo, hi) for k, (lo, hi) in zip(self.keys, box, strict=True)], n_r, self.seed + r)
        design["draw"] += first_id
        have = set(done["draw"]) if not done.empty else set()
        todo = [d for d in design["draw"] if d not in have]
        design = design.set_index("draw")
        for start in range(0, len(todo), self.batch):
            if budget <= 0:
                break
            chunk = todo[start : start + min(self.batch, int(min(budget, self.batch)))]
            items = [
                (self.s, {k: float(design.loc[d, k]) for k in self.keys}, self.t, self.women, self.seed) for d in chunk
            ]
            results = self.mapper(_evaluate_item, items)
            rows = pd.DataFrame([{"draw": d, "round": r, **items[i][1], **results[i]} for i, d in enumerate(chunk)])
            with self.partial.open("a", encoding="utf-8") as fh:
                rows[self.columns].to_csv(fh, header=done.empty, index=False)
                fh.flush()
                os.fsync(fh.fileno())
            done = (
                pd.concat([done, rows[self.columns]], ignore_index=True)
                if not done.empty
                else rows[self.columns].copy()
            )
            budget -= len(chunk)
            bar.update(len(chunk))
        return done, budget


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
    all_rows["weight"] = _importance_weights(all_rows[keys].to_numpy(), boxes, sizes, free)
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


def _proposal_box(
    free: Sequence[tuple[str, float, float]], rows: pd.DataFrame, n_targets: int, min_accepted: int
) -> np.ndarray:
    """Box around the draws accepted so far, widened by half its width (at least 5% of the prior), in the prior."""
    prior = np.array([[p[1], p[2]] for p in free])
    acc = accept(rows.reset_index(drop=True), n_targets=n_targets, min_accepted=min_accepted)
    x = acc.loc[acc["accepted"], [p[0] for p in free]].to_numpy()
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.maximum(0.5 * (hi - lo), 0.05 * (prior[:, 1] - prior[:, 0]))
    return np.column_stack([np.maximum(lo - pad, prior[:, 0]), np.minimum(hi + pad, prior[:, 1])])


def _importance_weights(
    x: np.ndarray, boxes: list[np.ndarray], sizes: list[int], free: Sequence[tuple[str, float, float]]
) -> np.ndarray:
    """Prior / proposal density of every draw (uniform prior; the proposal mixes the rounds' uniform boxes)."""
    prior = np.array([[p[1], p[2]] for p in free])
    width = prior[:, 1] - prior[:, 0]
    density = np.zeros(len(x))
    for box, n in zip(boxes, sizes, strict=True):
        vol = float(np.prod((box[:, 1] - box[:, 0]) / width))
        inside = np.all((x >= box[:, 0] - 1e-12) & (x <= box[:, 1] + 1e-12), axis=1)
        density += inside * (n / sum(sizes)) / vol
    return 1.0 / density


def _evaluate_item(item: tuple) -> dict[str, Any]:
    s, values, t, women, seed = item
    return evaluate(s, values, t, women, seed)


def accept(df: pd.DataFrame, n_targets: int, min_accepted: int = 10, level: float = 0.95) -> pd.DataFrame:
    """ABC rejection: accept distances below the chi-square ``level`` point (df = targets)."""
    tol = float(stats.chi2.ppf(level, n_targets))
    accepted = df["distance"].to_numpy() <= tol
    kind = f"chi-square {level:.0%} (df={n_targets})"
    if accepted.sum() < min(min_accepted, len(df)):
        k = min(min_accepted, len(df))
        order = np.argsort(df["distance"].to_numpy(), kind="stable")
        accepted = np.zeros(len(df), dtype=bool)
        accepted[order[:k]] = True
        tol = float(df["distance"].to_numpy()[order[k - 1]])
        kind = f"nearest {k} (none or too few within the chi-square {level:.0%} point)"
    out = df.copy()
    out["accepted"] = accepted
    out.attrs.update({"acceptance": kind, "tolerance": tol})
    return out
