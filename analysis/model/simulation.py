"""The pipeline, top to bottom.

::

    scenario = load_scenario("nl-biennial")           # validated, cited parameters
    model = build_model(scenario)                     # baseline rescaling, tables
    for each block of BLOCK_SIZE women:
        cohort = draw_cohort(...)                     # risk factors
        history = draw_natural_history(...)           # death, cancer, calcifications
        screens = screen_block(...)                   # rounds: attend, read, work up
        counts += count_screens(screens)              # integer counts per measure
    Results(counts).estimates()                        # proportions, Wilson intervals

Blocks are independent given the seed (see :mod:`analysis.model.streams`), so any
subset of blocks can run anywhere and their integer counts add up to the same
total.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import __version__
from analysis.errors import check_seed, check_women
from analysis.model.cohort import Cohort, density_grid, draw_cohort, draw_cohort_bcsc
from analysis.model.natural_history import HazardModel, draw_natural_history, hazard_model
from analysis.model.programme import screen_block
from analysis.model.results import (
    SCREEN_COLUMNS,
    Frame,
    Results,
    add_counts,
    check_strata,
    count_screens,
    empty_screens,
)
from analysis.model.streams import BLOCK_SIZE
from analysis.scenario import Scenario, load_scenario
from analysis.scenario.codings import CODINGS

#: Seed of the fixed reference population used to rescale the baseline incidence.
REFERENCE_SEED = 0
REFERENCE_WOMEN = 2**17


@dataclass(frozen=True, eq=False)
class Model:
    """Everything derived from a scenario that all blocks share."""

    scenario: Scenario
    hazards: HazardModel
    density_grid: np.ndarray
    profiles: pd.DataFrame | None = None
    reference_age: float = 0.0

    def cohort(self, seed: int, block: int, n: int) -> Cohort:
        """Draw the women of one block."""
        return _draw_cohort(self.scenario, self.profiles, self.reference_age, seed, block, n)


def build_model(scenario: Scenario, cohort_data: str | os.PathLike[str] | None = None) -> Model:
    """Prepare a scenario for simulation.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    cohort_data : path, optional
        A BCSC Risk Estimation Dataset file (``risk.txt`` or its zip) to resample
        risk-factor profiles from, instead of the parametric cohort.
    """
    grid = density_grid(scenario.tables["density"])
    profiles, ref_age = None, 0.0
    if cohort_data is not None:
        from analysis.io.bcsc import read_risk_estimation, risk_profiles

        start = scenario.programme.start_age_years
        lower = int(5 * ((start - 35) // 5) + 35)
        profiles = risk_profiles(read_risk_estimation(cohort_data), lower, lower + 4)
        ref_age = lower + 2.5
    reference = _draw_cohort(scenario, profiles, ref_age, REFERENCE_SEED, 0, REFERENCE_WOMEN)
    return Model(scenario, hazards=hazard_model(scenario, reference), density_grid=grid,
                 profiles=profiles, reference_age=ref_age)


def _draw_cohort(s: Scenario, profiles: pd.DataFrame | None, reference_age: float, seed: int, block: int,
                 n: int) -> Cohort:
    """Parametric cohort, or BCSC-resampled when profiles are given."""
    if profiles is None:
        return draw_cohort(s, seed, block, n)
    return draw_cohort_bcsc(s, profiles, reference_age, seed, block, n)


def block_sizes(women: int) -> list[int]:
    """Women in each block: full blocks of :data:`BLOCK_SIZE` and a remainder."""
    full, rest = divmod(women, BLOCK_SIZE)
    return [BLOCK_SIZE] * full + ([rest] if rest else [])


def simulate_block(model: Model, seed: int, block: int, n: int, detail: bool = True) -> Frame:
    """Simulate one block of ``n`` women; return its screens (columns of arrays).

    With ``detail=False`` only the columns the measures need are built (same counts).
    """
    s = model.scenario
    cohort = model.cohort(seed, block, n)
    history = draw_natural_history(s, model.hazards, cohort, seed, block)
    return screen_block(s, cohort, history, seed, block, model.density_grid,
                        first_woman=block * BLOCK_SIZE, detail=detail)


def screens_frame(frame: Frame) -> pd.DataFrame:
    """A screens frame (dict of arrays) as a DataFrame with the documented dtypes.

    Coded columns (density, family history, BRCA, cancer type, presentation, calcification
    morphology and distribution, work-up, pathology, biopsy method) become pandas Categoricals
    with the labels of :data:`analysis.scenario.codings.CODINGS`.
    """
    return pd.DataFrame({k: CODINGS[k].categorical(frame[k]) if k in CODINGS else frame[k].astype(v, copy=False)
                         for k, v in SCREEN_COLUMNS.items()})


def simulate(
    scenario: Scenario | str = "nl-biennial",
    women: int = 100_000,
    seed: int = 2026,
    *,
    by: Sequence[str] | Sequence[Sequence[str]] = (),
    cohort_data: str | os.PathLike[str] | None = None,
    keep_screens: bool = False,
    screens_path: str | os.PathLike[str] | None = None,
    blocks: Iterable[int] | None = None,
    progress: bool = False,
    model: Model | None = None,
) -> Results:
    """Simulate a screening programme and count every measure.

    Parameters
    ----------
    scenario : Scenario or str
        A scenario or the name/path of one.
    women : int
        Women in the cohort.
    seed : int
        Run seed: the same seed gives bit-identical results.
    by : sequence of str, or sequence of sequences of str
        Stratify the counts (columns of :data:`analysis.model.results.STRATA`): one grouping
        (``["density", "round"]``, their cross-classification) or several counted in the same run
        (``[["age_group"], ["density"], ["round", "density"]]``).
    cohort_data : path, optional
        BCSC Risk Estimation Dataset file to resample the cohort from.
    keep_screens : bool
        Keep the screens table in ``Results.screens`` (memory grows with women).
    screens_path : path, optional
        Stream the screens table to this Parquet file, block by block.
    blocks : iterable of int, optional
        Simulate only these block indices (for scale-out); counts from disjoint
        block sets add up to the full run's.
    progress : bool
        Show a progress bar (tqdm) on stderr.
    model : Model, optional
        A prepared model (skips :func:`build_model`).

    Returns
    -------
    Results
    """
    women, seed = check_women(women), check_seed(seed)
    by = check_strata(by)
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    model = model or build_model(s, cohort_data)
    sizes = block_sizes(int(women))
    todo = list(range(len(sizes))) if blocks is None else sorted(set(blocks))
    counts = None
    kept: list[pd.DataFrame] = []
    detail = keep_screens or screens_path is not None
    from tqdm import tqdm

    with _ScreensWriter(screens_path) as writer:
        for b in tqdm(todo, desc=s.name, unit="block", disable=not progress, leave=False):
            frame = simulate_block(model, seed, b, sizes[b], detail=detail)
            counts = add_counts(counts, count_screens(frame, by))
            if detail:
                df = screens_frame(frame)
                if keep_screens:
                    kept.append(df)
                writer.write(df)
    if counts is None:
        counts = count_screens(empty_screens(), by)
    return Results(
        scenario=s.name, scenario_hash=s.hash, version=__version__, seed=int(seed), women=int(women),
        calibration=s.calibration_label,
        counts=counts, screens=pd.concat(kept, ignore_index=True) if keep_screens and kept else None,
        meta={"blocks": todo, "block_size": BLOCK_SIZE, "by": [list(g) for g in by],
              "cohort": "bcsc" if cohort_data is not None else "parametric"},
    )


class _ScreensWriter:
    """Stream screens frames to one Parquet file, block by block (nothing when ``path`` is None)."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path, self.writer = path, None

    def __enter__(self) -> _ScreensWriter:
        return self

    def write(self, df: pd.DataFrame) -> None:
        if self.path is None:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(Path(self.path), table.schema)
        self.writer.write_table(table)

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()
