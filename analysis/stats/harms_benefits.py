"""Benefits and harms of screening strategies on the same women: the balance sheet and the frontier.

:func:`harms_benefits` follows one cohort over its lifetime without screening and under each strategy
(:mod:`analysis.model.benefits`), block by block, and reports every measure of
:data:`analysis.stats.benefits.BENEFIT_MEASURES` per strategy with its paired Monte Carlo interval; with
``replicates`` also the spread over independent seeds, and with ``posterior=True`` the range over the
accepted calibrated parameter sets (parameter uncertainty). Efficient strategies are marked on two
frontiers: life-years gained against screens, and against false-positive recalls
(:func:`analysis.stats.frontier.efficient_frontier`), both per 1,000 women alive and free of breast
cancer at the population age, the youngest start age of the strategies compared (a common denominator).

The integer sums add exactly, so the result is bit-identical whatever the grouping of blocks into tasks
(``map_fn``, e.g. Dask) and the number of workers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis import __version__
from analysis.errors import ArgumentError, CalcsimInputError, check_seed, check_women
from analysis.model.benefits import BenefitSums, block_benefits
from analysis.model.simulation import Model, block_sizes, build_model
from analysis.scenario import Scenario, load_scenario, read_calibration
from analysis.scenario.strategies import Strategy, strategies_table
from analysis.stats.benefits import measures_frame
from analysis.stats.frontier import efficient_frontier

__all__ = ["FRONTIERS", "BenefitsResult", "harms_benefits", "programme_strategy"]

#: The two frontiers: (flag suffix, cost measure); the benefit is life-years gained per 1,000 women.
FRONTIERS = (("screens", "screens_per_1000_women"), ("false_positives", "false_positive_recalls_per_1000_women"))
FRONTIER_BENEFIT = "life_years_gained_per_1000_women"
#: Blocks per task when a ``map_fn`` spreads the work.
BLOCKS_PER_TASK = 2


def programme_strategy(s: Scenario) -> Strategy:
    """The scenario's own programme as a strategy (named ``programme``)."""
    pg = s.programme
    return Strategy("programme", pg.start_age_years, pg.stop_age_years, pg.interval_years, note=s.description)


@dataclass
class BenefitsResult:
    """Measures per strategy (long table), the strategies, and the run's settings."""

    table: pd.DataFrame
    strategies: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def wide(self) -> pd.DataFrame:
        """One row per strategy: label, each measure's estimate, lower and upper, and the frontier flags."""
        t = self.table
        est = t.pivot(index="strategy", columns="measure", values="estimate")
        lo = t.pivot(index="strategy", columns="measure", values="lower").add_suffix("_lower")
        hi = t.pivot(index="strategy", columns="measure", values="upper").add_suffix("_upper")
        w = pd.concat([est, lo, hi], axis=1)
        order = list(self.strategies["strategy"])
        w = w.loc[order].reset_index()
        w.insert(1, "label", list(self.strategies["label"]))
        w.insert(2, "default", list(self.strategies["default"]))
        for flag, cost in FRONTIERS:
            f = efficient_frontier(w[["strategy", cost, FRONTIER_BENEFIT]], cost, FRONTIER_BENEFIT)
            w[f"efficient_{flag}"] = f["efficient"].to_numpy()
            w[f"dominance_{flag}"] = f["dominance"].to_numpy()
            w[f"incremental_ratio_{flag}"] = f["incremental_ratio"].to_numpy()
        return w

    def balance(self, strategy: str = "programme") -> pd.DataFrame:
        """The balance sheet of one strategy per 1,000 women screened: benefits, then harms."""
        t = self.table[(self.table["strategy"] == strategy) & self.table["measure"].str.endswith("_per_1000_screened")]
        if t.empty:
            raise ArgumentError("strategy", strategy, f"one of {', '.join(self.strategies['strategy'])}")
        keep = t[t["side"].isin(["benefit", "harm"]) & ~t["measure"].str.startswith("discounted")]
        return keep.sort_values("side", key=lambda s: s.map({"benefit": 0, "harm": 1}), kind="stable")

    def estimate(self, measure: str, strategy: str = "programme") -> float:
        """One estimate."""
        row = self.table[(self.table["strategy"] == strategy) & (self.table["measure"] == measure)]
        if row.empty:
            raise ArgumentError("measure", measure, "a benefit measure of a strategy of this run")
        return float(row["estimate"].iloc[0])


def _chunk(item: tuple) -> BenefitSums:
    """The summed :class:`BenefitSums` of some blocks (a task)."""
    s, scenarios, strategies, women, seed, blocks, population_age, rate = item
    model = build_model(s)
    return _run_blocks(model, scenarios, strategies, women, seed, blocks, population_age, rate)


def _run_blocks(
    model: Model,
    scenarios: Sequence[Scenario],
    strategies: Sequence[Strategy],
    women: int,
    seed: int,
    blocks: Sequence[int],
    population_age: float,
    rate: float,
) -> BenefitSums:
    sizes = block_sizes(women)
    acc = BenefitSums.zeros(len(strategies))
    for b in blocks:
        c = model.cohort(seed, b, sizes[b])
        acc = acc + block_benefits(
            model.scenario, scenarios, strategies, c, model.hazards, model.density_grid, seed, b, population_age, rate
        )
    return acc


def _sums(
    s: Scenario, strategies: Sequence[Strategy], women: int, seed: int, rate: float, map_fn: Callable | None
) -> tuple[BenefitSums, float]:
    """The sums of every strategy over the whole cohort, and the population age."""
    population_age = min(st.start_age_years for st in strategies)
    scenarios = [s.replace(st.overrides(), origin=f"strategy {st.name}") for st in strategies]
    n_blocks = len(block_sizes(women))
    if map_fn is None:
        sums = _run_blocks(build_model(s), scenarios, strategies, women, seed, range(n_blocks), population_age, rate)
        return sums, population_age
    chunks = [list(range(i, min(i + BLOCKS_PER_TASK, n_blocks))) for i in range(0, n_blocks, BLOCKS_PER_TASK)]
    parts = map_fn(_chunk, [(s, scenarios, strategies, women, seed, ch, population_age, rate) for ch in chunks])
    total = BenefitSums.zeros(len(strategies))
    for p in parts:
        total = total + p
    return total, population_age


def _table(sums: BenefitSums, strategies: Sequence[Strategy], alpha: float) -> pd.DataFrame:
    frames = []
    for i, st in enumerate(strategies):
        f = measures_frame(sums.sums[i], sums.products[i], alpha)
        f.insert(0, "strategy", st.name)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _check(s: Scenario, strategies: Sequence[Strategy], rate: float, replicates: object, posterior: bool) -> None:
    """Every argument checked before anything runs (a bad one is one line, not the end of a long run)."""
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer) or replicates < 1:
        raise ArgumentError("replicates", replicates, "a whole number >= 1 (1: one run)")
    if posterior and not s.calibration:
        raise CalcsimInputError(
            f"scenario {s.name!r} was loaded without a calibration: no accepted parameter sets for --posterior"
        )
    end = s.cohort.model_end_age_years
    for st in strategies:
        if st.stop_age_years + max(st.intervals()) > end:
            raise ArgumentError(
                "strategies",
                st.name,
                f"stop age + longest interval ({st.stop_age_years + max(st.intervals()):g}) at most"
                f" cohort.model_end_age_years ({end:g}), so that interval cancers after the last screen are followed",
            )
    names = [st.name for st in strategies]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise ArgumentError("strategies", dup, "unique strategy names (the scenario's own programme is 'programme')")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1:
        raise ArgumentError("discount_rate", rate, "a yearly rate in [0, 1), e.g. 0.03", flag="--discount")


def harms_benefits(
    scenario: Scenario | str = "nl-biennial",
    women: int = 200_000,
    seed: int = 2026,
    strategies: Sequence[Strategy] | None = None,
    *,
    discount_rate: float | None = None,
    replicates: int = 1,
    posterior: bool = False,
    alpha: float = 0.05,
    map_fn: Callable | None = None,
) -> BenefitsResult:
    """Deaths averted, life-years gained, overdiagnosis and harms of screening strategies, on the same women.

    Parameters
    ----------
    scenario : Scenario or str
        The scenario (its biology, reading and survival); its own programme is always the first strategy,
        ``programme``.
    women : int
        Women in the cohort (every strategy runs on the same women).
    seed : int
        Seed: the same seed gives bit-identical results.
    strategies : sequence of Strategy, optional
        Strategies to compare with no screening (:func:`analysis.scenario.strategies.load_strategies`);
        default: the scenario's programme only.
    discount_rate : float, optional
        Yearly discount rate of life-years (default ``survival.discount_rate``).
    replicates : int
        Independent seeds to run (1: one run). With R >= 2 the R seeds spawned from ``seed`` are pooled
        (their integer sums add: the estimate and its paired interval are of R x ``women`` women), and
        ``replicate_mean``, ``replicate_lower``, ``replicate_upper`` give the replicate 95% CI of the pooled
        estimate (mean +/- t SD / sqrt(R)).
    posterior : bool
        Also run every accepted set of the calibration applied last (``Scenario.calibration[-1]``; the
        sets of a calibration it extends stay at their best draw): ``posterior_lower``/``posterior_upper``,
        the weighted ``alpha/2`` and ``1 - alpha/2`` quantiles. The ``[survival]`` parameters are not varied.
    alpha : float
        1 - coverage of the intervals.
    map_fn : callable, optional
        ``map_fn(fn, items)`` running tasks of blocks (and replicates, sets) in parallel, e.g. on Dask.

    Returns
    -------
    BenefitsResult
    """
    women, seed = check_women(women), check_seed(seed)
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    rate = s.survival.discount_rate if discount_rate is None else discount_rate
    runs = [programme_strategy(s), *(strategies or [])]
    _check(s, runs, rate, replicates, posterior)
    if replicates > 1:
        table, population_age = _replicated(s, runs, women, seed, int(replicates), float(rate), alpha, map_fn)
    else:
        sums, population_age = _sums(s, runs, women, seed, float(rate), map_fn)
        table = _table(sums, runs, alpha)
    if posterior:
        table = _with_posterior(table, s, runs, women, seed, float(rate), alpha, map_fn)
    strat = strategies_table(runs).rename(columns={"name": "strategy"})
    strat.insert(1, "default", strat["strategy"] == "programme")
    table.insert(0, "scenario", s.name)
    meta = {
        "scenario": s.name,
        "scenario_hash": s.hash,
        "calibration": s.calibration_label,
        "version": __version__,
        "women": int(women) * int(replicates),
        "replicates": int(replicates),
        "seed": int(seed),
        "population_age_years": float(population_age),
        "horizon_age_years": float(s.survival.horizon_age_years),
        "discount_age_years": float(s.survival.discount_age_years),
        "discount_rate": float(rate),
        "interval": f"paired {100 * (1 - alpha):g}% (woman-level linearisation; common random numbers)",
    }
    return BenefitsResult(table=table, strategies=strat, meta=meta)


def _replicated(
    s: Scenario, runs: Sequence[Strategy], women: int, seed: int, r: int, rate: float,
    alpha: float, map_fn: Callable | None,
) -> tuple[pd.DataFrame, float]:  # fmt: skip
    """R independent seeds pooled (the sums add), with ``replicate_mean`` and the replicate CI of the pooled estimate.

    ``replicate_lower``/``replicate_upper`` = mean +/- t(R'-1) SD / sqrt(R') over the R' replicates whose estimate is
    finite (a ratio with no deaths averted in one replicate has none).
    """
    from analysis.stats.uncertainty import replicate_seeds

    parts = [_sums(s, runs, women, rs, rate, map_fn) for rs in replicate_seeds(seed, r)]
    pooled = BenefitSums.zeros(len(runs))
    for p, _ in parts:
        pooled = pooled + p
    table = _table(pooled, runs, alpha)
    ests = np.vstack([_table(p, runs, alpha)["estimate"].to_numpy() for p, _ in parts])
    finite = np.isfinite(ests)
    k = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(k > 0, np.nansum(np.where(finite, ests, 0.0), axis=0) / np.maximum(k, 1), np.nan)
        dev = np.where(finite, ests - mean, 0.0)
        sd = np.sqrt((dev**2).sum(axis=0) / np.maximum(k - 1, 1))
        half = np.where(k > 1, stats.t.ppf(1 - alpha / 2, np.maximum(k - 1, 1)) * sd / np.sqrt(k), np.nan)
    table = table.assign(replicate_mean=mean, replicate_lower=mean - half, replicate_upper=mean + half)
    table.attrs["replicate_seeds"] = replicate_seeds(seed, r)
    return table, parts[0][1]


def _with_posterior(
    table: pd.DataFrame, s: Scenario, runs: Sequence[Strategy], women: int, seed: int, rate: float,
    alpha: float, map_fn: Callable | None,
) -> pd.DataFrame:  # fmt: skip
    """Add ``posterior_lower``/``posterior_upper``: weighted 2.5-97.5% over the accepted calibrated sets."""
    applied = s.calibration[-1]
    cal = read_calibration(applied.path, label=applied.file)
    acc = cal.accepted
    weights = acc["weight"].to_numpy(float) if "weight" in acc.columns else np.ones(len(acc))
    ests = []
    for _, row in acc.iterrows():
        sk = s.replace({k: float(row[k]) for k in cal.parameters}, origin="calibrated set")
        sk = dataclasses.replace(sk, calibration=s.calibration)
        ests.append(_table(_sums(sk, runs, women, seed, rate, map_fn)[0], runs, alpha)["estimate"].to_numpy())
    e = np.vstack(ests)
    qs = (alpha / 2, 1 - alpha / 2)
    lo, hi = (np.array([_weighted_quantile(e[:, j], weights, q) for j in range(e.shape[1])]) for q in qs)
    return table.assign(posterior_lower=lo, posterior_upper=hi)


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    ok = np.isfinite(x)
    if not ok.any():
        return float("nan")
    order = np.argsort(x[ok])
    xs, ws = x[ok][order], w[ok][order]
    cum = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return float(np.interp(q, cum, xs))
