"""The sequential rounds of calibration: Latin hypercube designs, ABC acceptance and importance weights.

Round 1 samples the prior ranges by Latin hypercube sampling (:func:`lhs_draws`); each
later round samples a box around the draws accepted so far (:func:`proposal_box`).
:class:`Rounds` evaluates the draws of a round and appends each finished draw to the
progress file at once. :func:`accept` is the rejection step of approximate Bayesian
computation, and :func:`importance_weights` (prior density over the mixture of the
rounds' proposal densities) keeps the accepted set a valid ABC sample.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from analysis.calibration.targets_fit import evaluate_item
from analysis.scenario import Scenario


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


class Rounds:
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
            proposal_box(self.free, earlier, n_targets=len(self.t), min_accepted=self.min_accepted)
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
            results = self.mapper(evaluate_item, items)
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


def proposal_box(
    free: Sequence[tuple[str, float, float]], rows: pd.DataFrame, n_targets: int, min_accepted: int
) -> np.ndarray:
    """Box around the draws accepted so far, widened by half its width (at least 5% of the prior), in the prior."""
    prior = np.array([[p[1], p[2]] for p in free])
    acc = accept(rows.reset_index(drop=True), n_targets=n_targets, min_accepted=min_accepted)
    x = acc.loc[acc["accepted"], [p[0] for p in free]].to_numpy()
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.maximum(0.5 * (hi - lo), 0.05 * (prior[:, 1] - prior[:, 0]))
    return np.column_stack([np.maximum(lo - pad, prior[:, 0]), np.minimum(hi + pad, prior[:, 1])])


def importance_weights(
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
