"""Monte Carlo uncertainty: independent replicates, and paired comparisons of scenarios.

Two kinds of interval sit beside the within-run Wilson interval:

* **Replicates** (:func:`run_replicates`): R runs on independent seeds spawned from
  the run seed. Reported: the pooled estimate with its Wilson interval (all
  replicates' counts together), the **spread of single-replicate estimates**
  (2.5–97.5% percentiles: how much one run of this size moves), and a **replicate
  95% CI of the pooled estimate** (mean ± t(R−1) · SD/√R). The last does not assume
  that screens are independent, so it stays honest when a woman's screens are
  correlated (persistent clusters, attendance propensity), where Wilson is too
  narrow.
* **Paired differences** (:func:`compare`): two scenarios run on the same seed share
  their women and their draws (common random numbers). The difference of two
  ratio estimates ``R = sum(x_i) / sum(y_i)`` (``x_i``, ``y_i``: woman *i*'s numerator
  and denominator counts) is linearised per woman,
  ``z_i = (x_ai − R_a y_ai) / Y_a − (x_bi − R_b y_bi) / Y_b``, and its variance
  estimated as ``N / (N − 1) · Σ z_i²`` with the woman as the unit — the covariance
  between the two scenarios, which CRN makes large, is thereby used. Integer sums of
  products are accumulated block by block, so the result is exact whatever the
  grouping of blocks and the memory stays flat.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis import __version__
from analysis.errors import ArgumentError, check_seed, check_women
from analysis.model.results import MEASURES, Results, check_strata, estimates_from_counts, stratum_codes
from analysis.model.simulation import Model, block_sizes, build_model, simulate, simulate_block
from analysis.model.streams import BLOCK_SIZE
from analysis.scenario import Scenario, load_scenario

REPLICATE_COLUMNS = ("replicate_lower", "replicate_upper", "replicate_mean", "replicate_ci_lower", "replicate_ci_upper")
INTERVALS = {
    "lower/upper": "Wilson 95% of the pooled counts (binomial; treats screens as independent)",
    "replicate_lower/replicate_upper": "2.5-97.5% range of the single-replicate estimates (spread of one run)",
    "replicate_ci_lower/replicate_ci_upper": "replicate 95% CI of the pooled estimate: mean +/- t(R-1) SD/sqrt(R)",
}


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """Independent seeds for ``replicates`` runs, spawned from ``seed`` (numpy ``SeedSequence.spawn``)."""
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer) or replicates < 1:
        raise ArgumentError("replicates", replicates, "a whole number >= 1")
    children = np.random.SeedSequence(seed).spawn(int(replicates))
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


@dataclass
class ReplicateResults:
    """Results of R independent replicates and their pooled counts."""

    replicates: list[Results]
    pooled: Results
    meta: dict = field(default_factory=dict)

    def estimates(self, alpha: float = 0.05) -> pd.DataFrame:
        """Pooled estimates (Wilson) with the across-replicate spread and replicate CI."""
        out = estimates_from_counts(
            self.pooled.counts,
            alpha,
            provenance=self.pooled.provenance,
            woman_time_ages=self.pooled.meta.get("woman_time_ages"),
        )
        per = np.vstack([r.estimates(alpha)["estimate"].to_numpy() for r in self.replicates])
        r = per.shape[0]
        with warnings.catch_warnings():  # strata with no denominator in some replicates
            warnings.simplefilter("ignore", RuntimeWarning)
            out["replicate_lower"] = np.nanpercentile(per, 2.5, axis=0)
            out["replicate_upper"] = np.nanpercentile(per, 97.5, axis=0)
            mean = np.nanmean(per, axis=0)
            sd = np.nanstd(per, axis=0, ddof=1) if r > 1 else np.full(per.shape[1], np.nan)
        half = stats.t.ppf(1 - alpha / 2, r - 1) * sd / np.sqrt(r) if r > 1 else np.nan
        out["replicate_mean"] = mean
        out["replicate_ci_lower"] = mean - half
        out["replicate_ci_upper"] = mean + half
        out["interval"] = "wilson95 (pooled); replicate range and CI: see replicate_* columns"
        out.attrs["intervals"] = INTERVALS
        out.attrs["replicates"] = r
        return out

    def to_json_dict(self) -> dict:
        """The ``--json`` document for a replicated run."""
        e = self.estimates()
        doc = self.pooled.to_json_dict()
        for rec, row in zip(doc["estimates"], e.itertuples(index=False), strict=True):
            for col in REPLICATE_COLUMNS:
                v = getattr(row, col)
                rec[col] = None if np.isnan(v) else float(v)
        doc["replicates"] = len(self.replicates)
        doc["replicate_seeds"] = [r.seed for r in self.replicates]
        doc["intervals"] = INTERVALS
        doc.pop("interval", None)
        return doc


def run_replicates(
    scenario: Scenario | str,
    women: int,
    seed: int,
    replicates: int,
    *,
    by: Sequence[str] = (),
    cohort_data: str | os.PathLike[str] | None = None,
    model: Model | None = None,
    progress: bool = False,
    map_fn=None,
) -> ReplicateResults:
    """Run ``replicates`` independent replicates of ``women`` women each.

    Parameters
    ----------
    scenario : Scenario or str
        The scenario.
    women : int
        Women per replicate.
    seed : int
        Run seed; replicate seeds are spawned from it (:func:`replicate_seeds`).
    replicates : int
        Number of replicates (R >= 2 for the replicate CI).
    by, cohort_data, model, progress
        As for :func:`analysis.model.simulation.simulate`.
    map_fn : callable, optional
        ``map_fn(fn, items)`` running the replicates in parallel (e.g. on Dask); the
        results are the same as serial.
    """
    women, seed = check_women(women), check_seed(seed)
    seeds = replicate_seeds(seed, replicates)
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    if map_fn is not None:
        runs = map_fn(_replicate, [(s, women, rs, check_strata(by), cohort_data) for rs in seeds])
    else:
        model = model or build_model(s, cohort_data)
        runs = [simulate(s, women=women, seed=rs, by=by, model=model, progress=progress) for rs in seeds]
    counts = runs[0].counts.copy()
    counts["numerator"] = np.sum([r.counts["numerator"].to_numpy() for r in runs], axis=0)
    counts["n"] = np.sum([r.counts["n"].to_numpy() for r in runs], axis=0)
    pooled = Results(
        scenario=s.name,
        scenario_hash=s.hash,
        version=__version__,
        seed=int(seed),
        women=int(women) * len(runs),
        counts=counts,
        calibration=s.calibration_label,
        meta={"replicates": len(runs), "women_per_replicate": int(women)},
    )
    return ReplicateResults(replicates=runs, pooled=pooled, meta={"seeds": seeds})


def _replicate(item: tuple) -> Results:
    s, women, seed, by, cohort_data = item
    return simulate(s, women=women, seed=seed, by=by, cohort_data=cohort_data)


# ----------------------------------------------------------------------------- paired comparison
_SUMS = ("xa", "ya", "xb", "yb", "xa2", "ya2", "xaya", "xb2", "yb2", "xbyb", "xaxb", "xayb", "yaxb", "yayb")


def _woman_counts(mask: np.ndarray, cells: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(cells[mask], minlength=size).astype(np.int64)


def compare(
    a: Scenario | str,
    b: Scenario | str,
    women: int,
    seed: int,
    *,
    by: Sequence[str] = (),
    cohort_data: str | os.PathLike[str] | None = None,
    alpha: float = 0.05,
    progress: bool = False,
) -> pd.DataFrame:
    """Paired differences ``a − b`` of every measure, with intervals that use the pairing.

    Both scenarios run on the same seed, so they share their random numbers (common
    random numbers): where their cohort and natural-history parameters agree, the same
    women have the same cancers and calcifications, and only the programme differs.
    Where they differ (e.g. ``us-annual`` has US family-history and menopause figures),
    the same random numbers give each woman the risk factors of her setting, and the
    difference includes that population difference. See the module docstring for
    the variance estimator.

    Returns
    -------
    pandas.DataFrame
        ``measure, stratum, estimate_a, estimate_b, difference, lower, upper,
        se_paired, se_unpaired, women``; ``se_unpaired`` ignores the pairing (for
        comparison: how much common random numbers gained).
    """
    women, seed = check_women(women), check_seed(seed)
    by = check_strata(by)
    sa = load_scenario(a) if isinstance(a, str) else a
    sb = load_scenario(b) if isinstance(b, str) else b
    acc, labels_by_group = _paired_sums(sa, sb, int(women), int(seed), [(), *by], cohort_data, progress)
    rows = _paired_rows(acc, labels_by_group, int(women), stats.norm.ppf(1 - alpha / 2))
    out = pd.DataFrame(rows)
    out.attrs.update(
        {
            "a": sa.name,
            "b": sb.name,
            "a_hash": sa.hash,
            "b_hash": sb.hash,
            "a_calibration": sa.calibration_label,
            "b_calibration": sb.calibration_label,
            "seed": int(seed),
            "interval": "paired 95% (woman-level linearisation; common random numbers)",
        }
    )
    return out


def _paired_sums(
    sa: Scenario,
    sb: Scenario,
    women: int,
    seed: int,
    groups: list[tuple[str, ...]],
    cohort_data: str | os.PathLike[str] | None,
    progress: bool,
) -> tuple[dict[tuple[str, int], dict[str, np.ndarray]], list[list[str]]]:
    """Woman-level sums of products of both scenarios' numerators and denominators, per measure and stratum."""
    ma, mb = build_model(sa, cohort_data), build_model(sb, cohort_data)
    sizes = block_sizes(women)
    acc: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    labels_by_group: list[list[str]] = []
    from tqdm import tqdm

    for blk in tqdm(range(len(sizes)), desc=f"{sa.name} vs {sb.name}", unit="block", disable=not progress, leave=False):
        n = sizes[blk]
        fa = simulate_block(ma, seed, blk, n, detail=False)
        fb = simulate_block(mb, seed, blk, n, detail=False)
        labels_by_group = []
        for gi, group in enumerate(groups):
            codes_a, labels = stratum_codes(fa, group)
            codes_b, _ = stratum_codes(fb, group)
            labels_by_group.append(labels)
            k = len(labels)
            cells_a = (fa["woman"] - blk * BLOCK_SIZE) * k + codes_a
            cells_b = (fb["woman"] - blk * BLOCK_SIZE) * k + codes_b
            for m in MEASURES:
                sums = _measure_sums(m, fa, fb, cells_a, cells_b, n, k)
                key = (m.name, gi)
                acc[key] = sums if key not in acc else {name: acc[key][name] + sums[name] for name in _SUMS}
    return acc, labels_by_group


def _measure_sums(m, fa, fb, cells_a: np.ndarray, cells_b: np.ndarray, n: int, k: int) -> dict[str, np.ndarray]:
    """One block's sums for one measure: numerators x and denominators y of A and B per woman and stratum."""
    size = n * k
    den_a, den_b = m.den(fa), m.den(fb)
    xa = _woman_counts(m.num(fa) & den_a, cells_a, size).reshape(n, k)
    ya = _woman_counts(den_a, cells_a, size).reshape(n, k)
    xb = _woman_counts(m.num(fb) & den_b, cells_b, size).reshape(n, k)
    yb = _woman_counts(den_b, cells_b, size).reshape(n, k)
    return {
        "xa": xa.sum(0),
        "ya": ya.sum(0),
        "xb": xb.sum(0),
        "yb": yb.sum(0),
        "xa2": (xa * xa).sum(0),
        "ya2": (ya * ya).sum(0),
        "xaya": (xa * ya).sum(0),
        "xb2": (xb * xb).sum(0),
        "yb2": (yb * yb).sum(0),
        "xbyb": (xb * yb).sum(0),
        "xaxb": (xa * xb).sum(0),
        "xayb": (xa * yb).sum(0),
        "yaxb": (ya * xb).sum(0),
        "yayb": (ya * yb).sum(0),
    }


def _paired_rows(
    acc: dict[tuple[str, int], dict[str, np.ndarray]], labels_by_group: list[list[str]], n_women: int, z: float
) -> list[dict]:
    """Differences of the two ratio estimates with their linearised paired and unpaired standard errors."""
    rows = []
    for gi, labels in enumerate(labels_by_group):
        for m in MEASURES:
            t = {name: v.astype(float) for name, v in acc[(m.name, gi)].items()}
            with np.errstate(invalid="ignore", divide="ignore"):
                ra, rb = t["xa"] / t["ya"], t["xb"] / t["yb"]
                va = (t["xa2"] - 2 * ra * t["xaya"] + ra**2 * t["ya2"]) / t["ya"] ** 2
                vb = (t["xb2"] - 2 * rb * t["xbyb"] + rb**2 * t["yb2"]) / t["yb"] ** 2
                cov = (t["xaxb"] - rb * t["xayb"] - ra * t["yaxb"] + ra * rb * t["yayb"]) / (t["ya"] * t["yb"])
                factor = n_women / max(n_women - 1, 1)
                var_paired = np.maximum(factor * (va + vb - 2 * cov), 0.0)
                var_unpaired = np.maximum(factor * (va + vb), 0.0)
            d = ra - rb
            se = np.sqrt(var_paired)
            for j, label in enumerate(labels):
                rows.append(
                    {
                        "measure": m.name,
                        "stratum": label,
                        "estimate_a": ra[j] * m.per,
                        "estimate_b": rb[j] * m.per,
                        "difference": d[j] * m.per,
                        "lower": (d[j] - z * se[j]) * m.per,
                        "upper": (d[j] + z * se[j]) * m.per,
                        "se_paired": se[j] * m.per,
                        "se_unpaired": np.sqrt(var_unpaired[j]) * m.per,
                        "women": n_women,
                    }
                )
    return rows
