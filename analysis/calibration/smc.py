"""Sequential Monte Carlo ABC: population Monte Carlo (Beaumont et al. 2009; Toni et al. 2009).

The parameters have independent uniform priors on their ranges; the algorithm works on the unit
cube (each parameter scaled by its range). A population is ``N`` particles (parameter sets) with
normalised weights.

* Generation 0 is a Latin hypercube sample of ``N`` sets from the prior (equal weights; sets the
  model refuses, with an infinite distance, are dropped).
* Generation ``t >= 1`` has tolerance ``eps_t = max(q_alpha(d_{t-1}), eps_final)``: the
  ``alpha``-quantile of the previous population's distances, never below the final tolerance. A
  proposal draws a particle ``theta_j`` of population ``t-1`` by weight and perturbs it with a
  Gaussian kernel whose covariance is twice the weighted covariance of that population; a
  proposal outside the prior is discarded and both steps are repeated (so the proposal density
  is the kernel mixture restricted to the prior, up to one constant). Proposals are simulated in
  order until ``N`` have distance ``<= eps_t``; they get the weights
  ``w_i = prior(theta_i) / sum_j W_j K(theta_i | theta_j)``, normalised.
* It stops when a population at the final tolerance is complete (``tolerance reached``) or when
  the draw budget is spent (the result is then the last complete population, and says so).

Proposal ``k`` of generation ``t`` uses its own random stream (``seed, t, k``), and a generation
keeps exactly the proposals up to its ``N``-th acceptance, so the result does not depend on how
proposals are batched (serial or parallel) and a run can be replayed from its saved draws
(:meth:`SMC.replay`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import qmc

from analysis.errors import CalcsimInputError

__all__ = ["SMC", "Generation", "Proposal", "SMCSettings", "ess", "kernel_covariance", "run_smc", "smc_weights"]

#: Proposals outside the prior tried before giving up (a kernel that cannot hit the prior).
MAX_TRIES = 100_000


@dataclass(frozen=True)
class SMCSettings:
    """Population size, quantile, draw budget, final tolerance and seed of an ABC-SMC run."""

    population: int = 150
    alpha: float = 0.5
    draws: int = 3000
    final_tolerance: float = np.inf
    seed: int = 2026


@dataclass(frozen=True)
class Proposal:
    """Proposal ``index`` of ``generation``: parameter values (prior units) and unit-cube position."""

    generation: int
    index: int
    values: np.ndarray
    unit: np.ndarray


@dataclass
class Generation:
    """One generation: its tolerance, the proposals simulated and the particles accepted."""

    index: int
    tolerance: float
    proposals: int = 0
    rows: list[int] = field(default_factory=list)  # record positions of the accepted particles
    unit: list[np.ndarray] = field(default_factory=list)
    distance: list[float] = field(default_factory=list)
    weights: np.ndarray | None = None
    complete: bool = False

    @property
    def accepted(self) -> int:
        """Particles accepted so far."""
        return len(self.rows)


def ess(weights: np.ndarray) -> float:
    """Effective sample size ``1 / sum(w^2)`` of normalised weights."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    return float(1.0 / np.sum(w * w))


def kernel_covariance(unit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Twice the weighted covariance of a population (Beaumont et al. 2009), kept positive definite."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    mean = w @ unit
    dev = unit - mean
    cov = 2.0 * (dev * w[:, None]).T @ dev
    floor = 1e-10 * np.eye(unit.shape[1])  # a population with no spread in some direction
    return cov + floor


def smc_weights(
    new: np.ndarray, previous: np.ndarray, previous_weights: np.ndarray, covariance: np.ndarray
) -> np.ndarray:
    """Normalised weights ``1 / sum_j W_j K(theta_i | theta_j)`` (uniform prior, Gaussian kernel).

    Parameters
    ----------
    new : ndarray (M, d)
        Accepted particles of this generation (unit cube).
    previous, previous_weights : ndarray (N, d), (N,)
        The previous population and its normalised weights.
    covariance : ndarray (d, d)
        The kernel covariance the proposals were drawn with.
    """
    chol = np.linalg.cholesky(covariance)
    diff = new[:, None, :] - previous[None, :, :]
    sol = np.linalg.solve(chol, diff.reshape(-1, diff.shape[-1]).T).T.reshape(diff.shape)
    log_k = -0.5 * np.sum(sol * sol, axis=-1)  # log kernel up to a constant shared by all pairs
    with np.errstate(divide="ignore"):
        log_den = logsumexp(log_k + np.log(previous_weights)[None, :], axis=1)
    log_w = -log_den
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


class SMC:
    """The state of an ABC-SMC run: generations, the proposals to simulate next, the final population."""

    def __init__(self, bounds: Sequence[tuple[str, float, float]], settings: SMCSettings) -> None:
        self.keys = [b[0] for b in bounds]
        self.lo = np.array([b[1] for b in bounds], dtype=float)
        self.hi = np.array([b[2] for b in bounds], dtype=float)
        self.settings = settings
        self.n = int(min(settings.population, settings.draws))
        sampler = qmc.LatinHypercube(d=len(self.keys), seed=np.random.default_rng([settings.seed, 0]))
        self.design = sampler.random(self.n)
        self.generations = [Generation(0, np.inf)]
        self.recorded = 0
        self.reached = False
        self._chol: np.ndarray | None = None
        self._kernel: np.ndarray | None = None

    @property
    def current(self) -> Generation:
        """The generation being filled."""
        return self.generations[-1]

    @property
    def finished(self) -> bool:
        """Tolerance reached, or the draw budget spent."""
        return self.reached or self.recorded >= self.settings.draws

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Unit-cube positions in parameter units."""
        return self.lo + unit * (self.hi - self.lo)

    def proposal(self, generation: int, index: int) -> Proposal:
        """Proposal ``index`` of ``generation`` (deterministic: its own random stream)."""
        if generation == 0:
            u = self.design[index]
            return Proposal(0, index, self.values(u), u)
        prev = self.generations[generation - 1]
        cum = np.cumsum(prev.weights)
        rng = np.random.default_rng([self.settings.seed, generation, index])
        for _ in range(MAX_TRIES):
            j = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), len(cum) - 1)
            u = prev.unit[j] + self._chol @ rng.standard_normal(len(self.keys))
            if np.all((u >= 0.0) & (u <= 1.0)):
                return Proposal(generation, index, self.values(u), u)
        raise RuntimeError(f"ABC-SMC generation {generation}: no proposal inside the prior in {MAX_TRIES} tries")

    def propose(self, k: int) -> list[Proposal]:
        """The next ``k`` proposals of the current generation (fewer when the budget or design ends)."""
        g = self.current
        k = min(k, self.settings.draws - self.recorded)
        if g.index == 0:
            k = min(k, self.n - g.proposals)
        return [self.proposal(g.index, g.proposals + i) for i in range(max(k, 0))]

    def record(self, p: Proposal, distance: float) -> bool:
        """Record a simulated proposal; ``False`` (dropped) when its generation was completed before it."""
        g = self.current
        if self.finished or p.generation != g.index or p.index != g.proposals:
            return False
        g.proposals += 1
        position = self.recorded
        self.recorded += 1
        if np.isfinite(distance) and distance <= g.tolerance:
            g.rows.append(position)
            g.unit.append(p.unit)
            g.distance.append(float(distance))
        if (g.index == 0 and g.proposals == self.n) or (g.index > 0 and g.accepted == self.n):
            self._complete(g)
        return True

    def _complete(self, g: Generation) -> None:
        """Weights of a full generation; the next generation's tolerance and kernel (or: reached)."""
        if g.index == 0:
            if g.accepted < 2:
                raise CalcsimInputError(
                    f"ABC-SMC: only {g.accepted} of {self.n} prior draws could be simulated; nothing to calibrate"
                )
            g.weights = np.full(g.accepted, 1.0 / g.accepted)
        else:
            prev = self.generations[g.index - 1]
            g.weights = smc_weights(np.array(g.unit), np.array(prev.unit), prev.weights, self._kernel)
        g.complete = True
        final = self.settings.final_tolerance
        d = np.array(g.distance)
        if (g.index == 0 and d.max() <= final) or (g.index > 0 and g.tolerance <= final):
            self.reached = True
            return
        self._kernel = kernel_covariance(np.array(g.unit), g.weights)
        self._chol = np.linalg.cholesky(self._kernel)
        self.generations.append(Generation(g.index + 1, float(max(np.quantile(d, self.settings.alpha), final))))

    def final(self) -> Generation:
        """The last complete generation (the result)."""
        return next(g for g in reversed(self.generations) if g.complete)

    def replay(self, saved: pd.DataFrame) -> None:
        """Re-record saved draws (columns ``generation``, ``proposal``, parameters, ``distance``), in order.

        Raises
        ------
        CalcsimInputError
            A saved draw is not the proposal this run would make (different settings or an edited file).
        """
        values = saved[self.keys].to_numpy(dtype=float)
        meta = saved[["draw", "generation", "proposal"]].to_numpy(dtype=np.int64)
        for (draw, gen, index), x, d in zip(meta, values, saved["distance"].to_numpy(dtype=float), strict=True):
            p = None if self.finished else self.proposal(self.current.index, self.current.proposals)
            if p is None or (gen, index) != (p.generation, p.index) or not np.allclose(x, p.values, 1e-9, 1e-12):
                raise CalcsimInputError(
                    f"saved draw {draw} (generation {gen}, proposal {index}) is not the proposal this"
                    " calibration makes next; rerun with --restart to discard the saved progress"
                )
            self.record(p, float(d))

    def summary(self) -> pd.DataFrame:
        """One row per generation: tolerance, proposals, accepted, acceptance rate, ESS, complete."""
        return pd.DataFrame(
            [
                {
                    "generation": g.index,
                    "tolerance": g.tolerance,
                    "proposals": g.proposals,
                    "accepted": g.accepted,
                    "acceptance_rate": g.accepted / g.proposals if g.proposals else np.nan,
                    "ess": ess(g.weights) if g.weights is not None else np.nan,
                    "complete": g.complete,
                }
                for g in self.generations
            ]
        )


def run_smc(
    smc: SMC,
    evaluate: Callable[[list[Proposal]], list[dict]],
    *,
    batch: int = 1,
    stop_after: int | None = None,
    on_batch: Callable[[list[tuple[Proposal, dict]]], None] | None = None,
) -> int:
    """Simulate proposals in batches until the run is finished (or ``stop_after`` new draws).

    Parameters
    ----------
    smc : SMC
        The run (possibly replayed from saved draws).
    evaluate : callable
        ``evaluate(proposals) -> results``: one dict per proposal, in order, with its ``distance``
        (and whatever else the caller saves); it may simulate them in parallel.
    batch : int
        Proposals simulated together; the result does not depend on it.
    stop_after : int, optional
        Stop after this many new recorded draws.
    on_batch : callable, optional
        Called with ``[(proposal, result), ...]`` of the recorded proposals of each batch (to save them).

    Returns
    -------
    int
        New draws recorded.
    """
    new = 0
    while not smc.finished:
        k = batch if stop_after is None else min(batch, stop_after - new)
        props = smc.propose(k) if k > 0 else []
        if not props:
            break
        results = evaluate(props)
        used = [(p, r) for p, r in zip(props, results, strict=True) if smc.record(p, float(r["distance"]))]
        if on_batch is not None:
            on_batch(used)
        new += len(used)
    return new
