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

Blocks are independent given the seed (see :mod:`analysis.model.streams`), so any subset of
blocks can run anywhere and their integer counts add up to the same total.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from analysis import __version__
from analysis.errors import ArgumentError, check_seed, check_women
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
from analysis.scenario.schema import scheduled_rounds

#: Seed of the fixed reference population used to rescale the baseline incidence.
REFERENCE_SEED = 0
REFERENCE_WOMEN = 2**17

# What a run costs (check_capacity). Measured on the 2-CPU benchmark machine with `.venv/bin/python
# benchmarks/bench_simulate.py` (benchmarks/results/nl-biennial-2026-11-25.json): best one-core throughput
# (1,000,000 women) and peak RSS of a 10,000,000-woman run, flat in the number of women.
SCREENS_PER_SECOND = 5_617_765
RUN_PEAK_BYTES = int(211.1 * 2**20)
#: Screens table in memory: the item sizes of SCREEN_COLUMNS (coded columns have int8 codes) = 47 bytes per
#: row, as ``Results.screens.memory_usage(deep=True)`` gives. screens.parquet, measured at 100,000 women, seed
#: 1: 6.76 (nl-biennial), 6.84 (us-annual), 7.53 (england-triennial) bytes per row; per row group (one a
#: block) 6,575-6,628 footer bytes and 27,200-28,500 bytes of writer memory until closed (VmRSS over 10,000
#: row groups). The largest of each.
SCREEN_ROW_BYTES = sum(np.dtype(t).itemsize for t in SCREEN_COLUMNS.values())
PARQUET_ROW_BYTES, PARQUET_ROW_GROUP_BYTES, PARQUET_ROW_GROUP_MEMORY = 7.53, 6_628, 28_500
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


class BlockSizes(Sequence[int]):
    """Women in each block of a ``women``-woman run: full blocks of :data:`BLOCK_SIZE`, then the remainder.

    A lazy sequence (``len``, indexing, slicing, iteration; equal to a list of the same values) of
    ``[BLOCK_SIZE] * full + [rest]``: 10**13 women cost a few bytes, not a list of 3 * 10**8 entries.
    """

    __slots__ = ("women", "full", "rest")

    def __init__(self, women: int) -> None:
        self.women = int(women)
        self.full, self.rest = divmod(self.women, BLOCK_SIZE)

    def __len__(self) -> int:
        return self.full + (1 if self.rest else 0)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = int(index) + (len(self) if int(index) < 0 else 0)
        if not 0 <= i < len(self):
            raise IndexError(f"block {index} of a run of {len(self)} blocks")
        return BLOCK_SIZE if i < self.full else self.rest

    def __iter__(self) -> Iterator[int]:
        return (BLOCK_SIZE if i < self.full else self.rest for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BlockSizes):
            return self.women == other.women
        if isinstance(other, list | tuple):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        return f"BlockSizes({self.women}: {self.full} x {BLOCK_SIZE}" + (f" + {self.rest})" if self.rest else ")")


def block_sizes(women: int) -> BlockSizes:
    """Women in each block: full blocks of :data:`BLOCK_SIZE` and a remainder (a lazy :class:`BlockSizes`)."""
    return BlockSizes(women)


def simulate_block(model: Model, seed: int, block: int, n: int, detail: bool = True) -> Frame:
    """Simulate one block of ``n`` women; return its screens (columns of arrays).

    With ``detail=False`` only the columns the measures need are built (same counts).
    """
    s = model.scenario
    cohort = model.cohort(seed, block, n)
    history = draw_natural_history(s, model.hazards, cohort, seed, block)
    return screen_block(
        s, cohort, history, seed, block, model.density_grid, first_woman=block * BLOCK_SIZE, detail=detail
    )


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

    Returns
    -------
    Results
    """
    women, seed = check_women(women), check_seed(seed)
    by = check_strata(by)
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    sizes = block_sizes(women)
    todo = (
        range(len(sizes))
        if blocks is None
        else blocks
        if isinstance(blocks, range) and blocks.step > 0
        else sorted(set(blocks))
    )
    check_capacity(s, women if blocks is None else len(todo) * BLOCK_SIZE, keep_screens, screens_path)
    model = model or build_model(s, cohort_data)
    counts = None
    kept: list[pd.DataFrame] = []
    detail = keep_screens or screens_path is not None
    log = ProgressLog(s.name, len(todo), women if blocks is None else None) if progress == "log" else None
    from tqdm import tqdm

    with _ScreensWriter(screens_path) as writer:
        for b in tqdm(todo, desc=s.name, unit="block", disable=not progress or log is not None, leave=False):
            frame = simulate_block(model, seed, b, sizes[b], detail=detail)
            counts = add_counts(counts, count_screens(frame, by))
            if detail:
                df = screens_frame(frame)
                if keep_screens:
                    kept.append(df)
                writer.write(df)
            if log is not None:
                log.update(1, sizes[b])
    if counts is None:
        counts = count_screens(empty_screens(), by)
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
        },
    )


def _duration(seconds: float) -> str:
    """``0:04:05``, ``3 days 1:02:03``; ``?`` when not finite."""
    if not np.isfinite(seconds):
        return "?"
    days, rest = divmod(int(round(seconds)), 86_400)
    hours, rest = divmod(rest, 3_600)
    clock = f"{hours:d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days:,} day{'s' if days != 1 else ''} {clock}" if days else clock


def _bytes(n: float) -> str:
    """``211.1 MiB``, ``3.2 TiB`` ... (binary units)."""
    power = min(6, max(0, int(np.log2(max(n, 1)) // 10)))
    return f"{n / 1024**power:,.1f} {('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB')[power]}"


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
            f"{_duration(elapsed)}; about {_duration(left)} left"
        )


def _physical_memory() -> int | None:
    """This machine's physical memory in bytes (``os.sysconf``), or ``None`` where it cannot be read."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def check_capacity(
    scenario: Scenario, women: int, keep_screens: bool = False, screens_path: str | os.PathLike[str] | None = None
) -> None:
    """Refuse (:class:`ArgumentError` on ``women``), before it starts, a run whose screens table cannot fit.

    The table has at most ``women * scheduled rounds * attendance`` rows (fewer: women die, are
    diagnosed or miss rounds). Kept (``keep_screens``) it takes :data:`SCREEN_ROW_BYTES` per row twice
    (the blocks' frames and their concatenation); streamed (``screens_path``), :data:`PARQUET_ROW_BYTES`
    per row and :data:`PARQUET_ROW_GROUP_BYTES` per block of disk and :data:`PARQUET_ROW_GROUP_MEMORY` per
    block of memory; both on top of :data:`RUN_PEAK_BYTES`. Refused: more memory than the physical memory
    (``os.sysconf``; not checked where it cannot be read) or a file larger than its folder's free space.
    The message gives both figures, the largest cohort that fits and the time at :data:`SCREENS_PER_SECOND`.
    """
    if not keep_screens and screens_path is None or women < 1:
        return
    rows = women * scheduled_rounds(scenario.programme) * scenario.programme.attendance
    blocks = len(block_sizes(women))
    per_woman = (2 * SCREEN_ROW_BYTES * rows / women if keep_screens else 0.0) + (
        PARQUET_ROW_GROUP_MEMORY * blocks / women if screens_path is not None else 0.0
    )
    what = "keeping the screens table (keep_screens)" if keep_screens else "writing the screens table (--screens)"
    took = f"the run would take about {_duration(rows / SCREENS_PER_SECOND)} on one core"
    physical = _physical_memory()
    if physical is not None and RUN_PEAK_BYTES + per_woman * women > physical:
        fit = max(0, int((physical - RUN_PEAK_BYTES) / per_woman))
        raise ArgumentError(
            "women",
            women,
            f"{what} needs about {_bytes(RUN_PEAK_BYTES + per_woman * women)} of "
            f"memory, more than this machine's {_bytes(physical)}; at most about "
            f"{fit:,} women fit; {took}",
        )
    folder = Path(screens_path or ".").parent
    while not folder.exists() and folder != folder.parent:  # the filesystem the file will be on
        folder = folder.parent
    disk = rows * PARQUET_ROW_BYTES + blocks * PARQUET_ROW_GROUP_BYTES
    if screens_path is not None and disk > (free := shutil.disk_usage(folder).free):
        fit = int(free / (disk / women))
        raise ArgumentError(
            "women",
            women,
            f"{what} needs about {_bytes(disk)} of disk, more than the "
            f"{_bytes(free)} free in {str(folder)!r}; at most about {fit:,} "
            f"women fit; {took}",
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
