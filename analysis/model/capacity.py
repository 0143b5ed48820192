"""What a run costs, before it starts: its blocks, the memory and disk of its screens table, its time.

:func:`check_capacity` refuses a run whose screens table cannot fit; :class:`BlockSizes` lists the
women of each block without building the list (10**13 women cost a few bytes).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.errors import ArgumentError
from analysis.model.measures import SCREEN_COLUMNS
from analysis.model.streams import BLOCK_SIZE
from analysis.scenario import Scenario
from analysis.scenario.schema import scheduled_rounds

# What a run costs (check_capacity). Measured on the 2-CPU benchmark machine with `.venv/bin/python
# benchmarks/bench_simulate.py` (benchmarks/results/nl-biennial-2026-11-25.json): best one-core throughput
# (1,000,000 women) and peak RSS of a 10,000,000-woman run, flat in the number of women.
SCREENS_PER_SECOND = 5_617_765
RUN_PEAK_BYTES = int(211.1 * 2**20)
#: Screens table in memory: the item sizes of SCREEN_COLUMNS (coded columns have int8 codes) = 53 bytes per
#: row, as ``Results.screens.memory_usage(deep=True)`` gives. screens.parquet (before issue 10), 100,000 women, seed
#: 1: 6.76 (nl-biennial), 6.84 (us-annual), 7.53 (england-triennial) bytes per row; per row group (one a
#: block) 6,575-6,628 footer bytes and 27,200-28,500 bytes of writer memory until closed (VmRSS over 10,000
#: row groups). The largest of each.
SCREEN_ROW_BYTES = sum(np.dtype(t).itemsize for t in SCREEN_COLUMNS.values())
PARQUET_ROW_BYTES, PARQUET_ROW_GROUP_BYTES, PARQUET_ROW_GROUP_MEMORY = 7.53, 6_628, 28_500


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


def format_duration(seconds: float) -> str:
    """``0:04:05``, ``3 days 1:02:03``; ``?`` when not finite."""
    if not np.isfinite(seconds):
        return "?"
    days, rest = divmod(int(round(seconds)), 86_400)
    hours, rest = divmod(rest, 3_600)
    clock = f"{hours:d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days:,} day{'s' if days != 1 else ''} {clock}" if days else clock


def format_bytes(n: float) -> str:
    """``211.1 MiB``, ``3.2 TiB`` ... (binary units)."""
    power = min(6, max(0, int(np.log2(max(n, 1)) // 10)))
    return f"{n / 1024**power:,.1f} {('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB')[power]}"


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
    took = f"the run would take about {format_duration(rows / SCREENS_PER_SECOND)} on one core"
    physical = _physical_memory()
    if physical is not None and RUN_PEAK_BYTES + per_woman * women > physical:
        fit = max(0, int((physical - RUN_PEAK_BYTES) / per_woman))
        raise ArgumentError(
            "women",
            women,
            f"{what} needs about {format_bytes(RUN_PEAK_BYTES + per_woman * women)} of "
            f"memory, more than this machine's {format_bytes(physical)}; at most about "
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
            f"{what} needs about {format_bytes(disk)} of disk, more than the "
            f"{format_bytes(free)} free in {str(folder)!r}; at most about {fit:,} "
            f"women fit; {took}",
        )
