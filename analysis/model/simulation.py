"""The pipeline, top to bottom.

::

    scenario = load_scenario("nl-biennial")           # validated, cited parameters
    model = build_model(scenario)                     # baseline rescaling, tables
    for each block of BLOCK_SIZE women:
        cohort = draw_cohort(...)                     # risk factors
        history = draw_natural_history(...)           # death, cancer, calcifications
        outcome = run_programme(...)                  # rounds: attend, read, work up (unless screening=False)
        diagnoses = first_diagnoses(history, outcome) # screen-detected or clinical, first of each woman
        counts += count_screens(outcome.screens)      # integer counts per measure
        counts += count_incidence(diagnoses, ...)     # diagnoses and woman-months
    Results(counts).estimates()                        # proportions (Wilson), rates (exact Poisson)

Blocks are independent given the seed (see :mod:`analysis.model.streams`), so any subset of
blocks can run anywhere and their integer counts add up to the same total. The cohort and the natural
history are the same draws with and without screening (common random numbers), so a run with
``screening=False`` is the same women without the programme: no screens, clinical diagnoses only.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from analysis import __version__
from analysis.errors import ArgumentError, check_seed, check_women
from analysis.model.capacity import PARQUET_ROW_BYTES as PARQUET_ROW_BYTES
from analysis.model.capacity import PARQUET_ROW_GROUP_BYTES as PARQUET_ROW_GROUP_BYTES
from analysis.model.capacity import PARQUET_ROW_GROUP_MEMORY as PARQUET_ROW_GROUP_MEMORY
from analysis.model.capacity import RUN_PEAK_BYTES as RUN_PEAK_BYTES
from analysis.model.capacity import SCREEN_ROW_BYTES as SCREEN_ROW_BYTES
from analysis.model.capacity import SCREENS_PER_SECOND as SCREENS_PER_SECOND
from analysis.model.capacity import BlockSizes as BlockSizes
from analysis.model.capacity import block_sizes, check_capacity, format_duration
from analysis.model.cohort import Cohort, density_grid, draw_cohort, draw_cohort_bcsc
from analysis.model.diagnoses import BlockOutcome, Diagnoses, block_counts, first_diagnoses
from analysis.model.measures import (
    SCREEN_COLUMNS,
    Frame,
    Groupings,
    add_counts,
    check_strata,
    empty_screens,
)
from analysis.model.natural_history import HazardModel, draw_natural_history, hazard_model
from analysis.model.programme import run_programme
from analysis.model.results import Results
from analysis.model.streams import BLOCK_SIZE
from analysis.scenario import Scenario, load_scenario
from analysis.scenario.codings import CODINGS

#: Seed of the fixed reference population used to rescale the baseline incidence.
REFERENCE_SEED = 0
REFERENCE_WOMEN = 2**17

#: Seconds between two progress lines when ``progress="log"`` (stderr not a terminal): a design choice,
#: often enough to show that a long run is alive, 120 lines an hour at most.
PROGRESS_LOG_SECONDS = 30.0


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
    return Model(
        scenario, hazards=hazard_model(scenario, reference), density_grid=grid, profiles=profiles, reference_age=ref_age
    )


def _draw_cohort(
    s: Scenario, profiles: pd.DataFrame | None, reference_age: float, seed: int, block: int, n: int
) -> Cohort:
    """Parametric cohort, or BCSC-resampled when profiles are given."""
    if profiles is None:
        return draw_cohort(s, seed, block, n)
    return draw_cohort_bcsc(s, profiles, reference_age, seed, block, n)


def run_block(model: Model, seed: int, block: int, n: int, detail: bool = True, screening: bool = True) -> BlockOutcome:
    """Simulate one block of ``n`` women: women, natural history, screens (none without screening), diagnoses.

    The women and their natural history do not depend on ``screening`` (common random numbers).
    """
    s = model.scenario
    cohort = model.cohort(seed, block, n)
    history = draw_natural_history(s, model.hazards, cohort, seed, block)
    end = s.cohort.model_end_age_years
    if not screening:
        return BlockOutcome(cohort, history, empty_screens(), first_diagnoses(history, end))
    outcome = run_programme(
        s, cohort, history, seed, block, model.density_grid, first_woman=block * BLOCK_SIZE, detail=detail
    )
    return BlockOutcome(cohort, history, outcome.screens, first_diagnoses(history, end, outcome))


def simulate_block(model: Model, seed: int, block: int, n: int, detail: bool = True, screening: bool = True) -> Frame:
    """Simulate one block of ``n`` women; return its screens (columns of arrays; none when ``screening=False``).

    With ``detail=False`` only the columns the measures need are built (same counts).
    """
    return run_block(model, seed, block, n, detail=detail, screening=screening).screens


def screens_frame(frame: Frame) -> pd.DataFrame:
    """A screens frame (dict of arrays) as a DataFrame with the documented dtypes.

    Coded columns (density, family history, BRCA, cancer type, presentation, calcification
    morphology and distribution, work-up, pathology, biopsy method) become pandas Categoricals
    with the labels of :data:`analysis.scenario.codings.CODINGS`.
    """
    return pd.DataFrame(
        {
            k: CODINGS[k].categorical(frame[k]) if k in CODINGS else frame[k].astype(v, copy=False)
            for k, v in SCREEN_COLUMNS.items()
        }
    )


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
    progress: bool | str = False,
    model: Model | None = None,
    screening: bool = True,
) -> Results:
    """Simulate a screening programme and count every measure, incidence included.

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
        (``[["age_group"], ["density"], ["round", "density"]]``). The incidence measures are stratified only by
        groupings of woman-level strata (:data:`analysis.model.diagnoses.INCIDENCE_STRATA`).
    cohort_data : path, optional
        BCSC Risk Estimation Dataset file to resample the cohort from.
    keep_screens : bool
        Keep the screens table in ``Results.screens`` (a run that cannot fit is refused: :func:`check_capacity`).
    screens_path : path, optional
        Stream the screens table to this Parquet file, block by block (checked likewise).
    blocks : iterable of int, optional
        Simulate only these block indices (for scale-out); counts from disjoint block sets add up.
    progress : bool or "log"
        ``True``: a progress bar (tqdm) on stderr; ``"log"``: a line every :data:`PROGRESS_LOG_SECONDS`
        (blocks and women done, time left), for a stderr that is not a terminal.
    model : Model, optional
        A prepared model (skips :func:`build_model`).
    screening : bool
        ``False``: the same women (same seed, same natural history) without the programme: no screens (the
        screen measures have ``n = 0``), diagnoses at clinical surfacing only; for the incidence measures.

    Returns
    -------
    Results
    """
    women, seed = check_women(women), check_seed(seed)
    by, screening = check_strata(by), check_screening(screening)
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    sizes = block_sizes(women)
    todo = _blocks_to_run(len(sizes), blocks)
    check_capacity(s, women if blocks is None else len(todo) * BLOCK_SIZE, keep_screens, screens_path)
    model = model or build_model(s, cohort_data)
    log = ProgressLog(s.name, len(todo), women if blocks is None else None) if progress == "log" else None
    counts, kept = _count_blocks(
        model, seed, sizes, todo, by, keep=keep_screens, path=screens_path, log=log, bar=progress, screening=screening
    )
    return Results(
        scenario=s.name,
        scenario_hash=s.hash,
        version=__version__,
        seed=int(seed),
        women=int(women),
        calibration=s.calibration_label,
        counts=counts,
        screens=pd.concat(kept, ignore_index=True) if keep_screens and kept else None,
        meta={
            "blocks": todo,
            "block_size": BLOCK_SIZE,
            "by": [list(g) for g in by],
            "cohort": "bcsc" if cohort_data is not None else "parametric",
            **run_meta(s, screening),
        },
    )


def check_screening(screening: object) -> bool:
    """``simulate``'s ``screening`` as a bool; anything but True/False is an :class:`ArgumentError`."""
    if not isinstance(screening, bool | np.bool_):
        raise ArgumentError("screening", screening, "True or False")
    return bool(screening)


def run_meta(s: Scenario, screening: bool) -> dict[str, object]:
    """The metadata of a run that :class:`Results` reads: ``screening`` and the ages of its woman-time."""
    co = s.cohort
    return {"screening": screening, "woman_time_ages": [co.model_start_age_years, co.model_end_age_years]}


def _blocks_to_run(n_blocks: int, blocks: Iterable[int] | None) -> Sequence[int]:
    """Every block of the run; or those given: a forward range as it is, anything else sorted, once each."""
    if blocks is None:
        return range(n_blocks)
    return blocks if isinstance(blocks, range) and blocks.step > 0 else sorted(set(blocks))


def _count_blocks(
    model: Model,
    seed: int,
    sizes: BlockSizes,
    todo: Sequence[int],
    by: Groupings,
    *,
    keep: bool,
    path: str | os.PathLike[str] | None,
    log: ProgressLog | None,
    bar: bool | str,
    screening: bool = True,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Simulate the blocks ``todo`` in order: their summed count table and (``keep``) their screens.

    The screens are built only when kept or streamed to the Parquet file ``path``; an empty run counts no screens
    and no woman-time.
    Progress: a line now and then on ``log``, else a tqdm bar when ``bar`` (``simulate``'s ``progress``) is set.
    """
    counts = None
    kept: list[pd.DataFrame] = []
    detail = keep or path is not None
    from tqdm import tqdm

    with _ScreensWriter(path) as writer:
        for b in tqdm(todo, desc=model.scenario.name, unit="block", disable=not bar or log is not None, leave=False):
            block = run_block(model, seed, b, sizes[b], detail=detail, screening=screening)
            counts = add_counts(counts, block.counts(model.scenario, by))
            if detail:
                df = screens_frame(block.screens)
                if keep:
                    kept.append(df)
                writer.write(df)
            if log is not None:
                log.update(1, sizes[b])
    if counts is None:
        counts = block_counts(model.scenario, empty_screens(), Diagnoses.none(), None, np.zeros(0), by)
    return counts, kept


class ProgressLog:
    """One line on stderr every :data:`PROGRESS_LOG_SECONDS`: blocks and women done, time so far and left.

    With ``women=None`` (a subset of blocks) the time left is reckoned in blocks.
    """

    def __init__(self, desc: str, blocks: int, women: int | None, stream: TextIO | None = None) -> None:
        self.desc, self.blocks, self.women, self.stream, self.every = desc, blocks, women, stream, PROGRESS_LOG_SECONDS
        self.done_blocks = self.done_women = 0
        self.start = self.last = time.monotonic()

    def update(self, blocks: int = 1, women: int = 0) -> None:
        """Count ``blocks`` (holding ``women``) as done; print a line if the interval has passed."""
        self.done_blocks += int(blocks)
        self.done_women += int(women)
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            print(self.line(now), file=self.stream or sys.stderr, flush=True)

    def line(self, now: float) -> str:
        """The progress line at time ``now`` (:func:`time.monotonic`)."""
        elapsed = now - self.start
        done, total = (self.done_women, self.women) if self.women else (self.done_blocks, self.blocks)
        left = elapsed * (total - done) / done if done else float("nan")
        women = f" ({self.done_women:,} of {self.women:,} women)" if self.women else ""
        return (
            f"calcsim: progress: {self.desc}: {self.done_blocks:,} of {self.blocks:,} blocks{women} in "
            f"{format_duration(elapsed)}; about {format_duration(left)} left"
        )


class _ScreensWriter:
    """Stream screens frames to one Parquet file, block by block (nothing when ``path`` is None).

    A failure to write (a full disk ...) is an :class:`ArgumentError` naming ``screens_path`` and the reason.
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path, self.writer = path, None

    def __enter__(self) -> _ScreensWriter:
        return self

    def _error(self, exc: OSError) -> ArgumentError:
        reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
        return ArgumentError(
            "screens_path",
            os.fspath(self.path),
            f"cannot write the screens table there ({reason}); expected a writable folder with free space",
            flag="--screens",
        )

    def write(self, df: pd.DataFrame) -> None:
        if self.path is None:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        try:
            if self.writer is None:
                self.writer = pq.ParquetWriter(Path(self.path), table.schema)
            self.writer.write_table(table)
        except OSError as exc:
            raise self._error(exc) from None

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self.writer is None:
            return
        try:
            self.writer.close()
        except OSError as err:
            if exc_type is None:  # else the exception already on its way (e.g. Ctrl-C) is the one to report
                raise self._error(err) from None
