"""Blocks of women and parameter sets as Dask tasks (see :mod:`analysis.scaleout` for the guarantees)."""

from __future__ import annotations

import math
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from analysis import __version__
from analysis.errors import ArgumentError, check_seed, check_women
from analysis.model.results import Results, add_counts, check_strata
from analysis.model.simulation import Model, ProgressLog, block_sizes, build_model, check_screening, run_meta, simulate
from analysis.model.streams import BLOCK_SIZE
from analysis.scaleout.cluster import client_threads
from analysis.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = [
    "CHUNKS_PER_THREAD",
    "chunk_blocks_for",
    "chunk_ranges",
    "map_parameter_sets",
    "simulate_chunk",
    "simulate_distributed",
]

T = TypeVar("T")
R = TypeVar("R")

#: Default number of chunks per worker thread: small enough to keep the per-task
#: overhead negligible, large enough to balance the load when workers differ in speed.
CHUNKS_PER_THREAD = 4


# ----------------------------------------------------------------------------- blocks on workers
#: Models built on this (worker) process, by run token; a few runs at most.
_MODELS: OrderedDict[tuple[str, str | None], Model] = OrderedDict()
_MODELS_LOCK = threading.Lock()
_MODELS_KEEP = 4


def _worker_model(token: str, scenario: Scenario, cohort_data: str | None) -> Model:
    """The run's model on this process: built once per run token (``build_model`` is deterministic)."""
    key = (token, cohort_data)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = build_model(scenario, cohort_data)
            _MODELS[key] = model
            while len(_MODELS) > _MODELS_KEEP:
                _MODELS.popitem(last=False)
        else:
            _MODELS.move_to_end(key)
        return model


def simulate_chunk(
    token: str,
    scenario: Scenario,
    women: int,
    seed: int,
    by: Sequence[str],
    cohort_data: str | None,
    blocks: Sequence[int],
    screening: bool = True,
) -> pd.DataFrame:
    """Worker task: the counts of ``blocks`` of a ``women``-woman run (see :func:`simulate_distributed`).

    Parameters
    ----------
    token : str
        Run token: the model is built once per token and worker process.
    scenario : Scenario
        The scenario (pickled to the worker).
    women, seed, by, cohort_data
        As for :func:`analysis.model.simulation.simulate`.
    blocks : sequence of int
        Block indices to simulate.
    screening : bool
        As for :func:`analysis.model.simulation.simulate` (``False``: the same women without the programme).

    Returns
    -------
    pandas.DataFrame
        The count table of these blocks (:func:`analysis.model.results.count_screens`).
    """
    model = _worker_model(token, scenario, cohort_data)
    return simulate(scenario, women, seed, by=by, blocks=blocks, model=model, screening=screening).counts


def chunk_ranges(n_blocks: int, threads: int, chunk_blocks: int | None = None) -> list[range]:
    """Split ``range(n_blocks)`` into ranges of consecutive blocks (a few bytes each, however many blocks).

    Parameters
    ----------
    n_blocks : int
        Blocks in the run.
    threads : int
        Worker threads; by default about :data:`CHUNKS_PER_THREAD` chunks per thread.
    chunk_blocks : int, optional
        Blocks per chunk (the last may be shorter).
    """
    if chunk_blocks is None:
        chunk_blocks = max(1, math.ceil(n_blocks / (CHUNKS_PER_THREAD * max(1, threads))))
    elif isinstance(chunk_blocks, bool) or not isinstance(chunk_blocks, int | np.integer) or chunk_blocks < 1:
        raise ArgumentError("chunk_blocks", chunk_blocks, "a whole number >= 1")
    step = int(chunk_blocks)
    return [range(i, min(i + step, n_blocks)) for i in range(0, n_blocks, step)]


def chunk_blocks_for(n_blocks: int, threads: int, chunk_blocks: int | None = None) -> list[list[int]]:
    """:func:`chunk_ranges` as lists of block indices."""
    return [list(r) for r in chunk_ranges(n_blocks, threads, chunk_blocks)]


def _progress_bar(total: int, desc: str, unit: str, enabled: bool | str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled or enabled == "log", leave=False)


def _gather_in_order(
    client: Client,
    futures: list[Future],
    weights: Sequence[int],
    desc: str,
    unit: str,
    progress: bool | str,
    women: Sequence[int] | None = None,
) -> list[Any]:
    """Wait for ``futures`` (progress as they finish), fail fast on the first error, return results in order.

    ``progress="log"`` logs a line now and then (:class:`~analysis.model.simulation.ProgressLog`), counting
    ``weights`` blocks and ``women`` women per future.
    """
    from distributed import as_completed

    log = ProgressLog(desc, sum(weights), sum(women) if women else None) if progress == "log" else None
    try:
        with _progress_bar(sum(weights), desc, unit, progress) as bar:
            index = {f.key: i for i, f in enumerate(futures)}
            for fut in as_completed(futures, loop=client.loop):
                if fut.status == "error":
                    fut.result()  # raises the task's exception here, with its type
                i = index[fut.key]
                bar.update(weights[i])
                if log is not None:
                    log.update(weights[i], women[i] if women else 0)
        return client.gather(futures)
    finally:
        client.cancel([f for f in futures if not f.done()])


def simulate_distributed(
    client: Client | None,
    scenario: Scenario | str,
    women: int,
    seed: int,
    *,
    by: Sequence[str] = (),
    cohort_data: str | os.PathLike[str] | None = None,
    chunk_blocks: int | None = None,
    progress: bool | str = False,
    screening: bool = True,
) -> Results:
    """Simulate a run with its blocks spread over a Dask cluster; bit-identical to the serial run.

    The blocks are split into chunks of consecutive blocks (default: about
    :data:`CHUNKS_PER_THREAD` chunks per worker thread); one task per chunk builds
    the model on its worker and returns the chunk's integer counts, which are
    summed here in block order. Their sum is exactly the serial run's counts.

    Parameters
    ----------
    client : distributed.Client or None
        From :func:`dask_client`; ``None`` runs :func:`analysis.model.simulation.simulate` here.
    scenario : Scenario or str
        A scenario or the name/path of one (loaded and validated here, then pickled
        to the workers).
    women : int
        Women in the cohort.
    seed : int
        Run seed.
    by : sequence of str
        Stratify the counts (see :data:`analysis.model.results.STRATA`).
    cohort_data : path, optional
        BCSC Risk Estimation Dataset file; must be readable at this path by every worker.
    chunk_blocks : int, optional
        Blocks per task (results do not depend on it).
    progress : bool or "log"
        ``True``: a progress bar (tqdm, in blocks) on stderr; ``"log"``: a line now and then (blocks and
        women done, time left), as :func:`analysis.model.simulation.simulate` does.
    screening : bool
        ``False``: the same women without the programme (as :func:`~analysis.model.simulation.simulate`).

    Returns
    -------
    Results
        Equal to ``simulate(scenario, women, seed, by=by, cohort_data=cohort_data, screening=screening)``:
        same counts (``pandas.testing.assert_frame_equal``) and metadata. The
        screens table is not available (``screens`` is ``None``).
    """
    women, seed = check_women(women), check_seed(seed)
    by, screening = check_strata(by), check_screening(screening)
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    if client is None:
        return simulate(s, women, seed, by=by, cohort_data=cohort_data, progress=progress, screening=screening)
    n_blocks = len(block_sizes(int(women)))
    chunks = chunk_ranges(n_blocks, client_threads(client), chunk_blocks)
    data = None if cohort_data is None else os.fspath(os.path.abspath(cohort_data))
    futures = _submit_chunks(client, s, int(women), int(seed), tuple(by), data, chunks, screening)
    chunk_women = [min(c.stop * BLOCK_SIZE, int(women)) - c.start * BLOCK_SIZE for c in chunks]
    parts = _gather_in_order(client, futures, [len(c) for c in chunks], s.name, "block", progress, chunk_women)
    counts = None
    for part in parts:
        counts = add_counts(counts, part)
    return _chunked_results(s, int(women), int(seed), by, counts, n_blocks, cohort_data is not None, screening)


def _submit_chunks(
    client: Client,
    scenario: Scenario,
    women: int,
    seed: int,
    by: tuple[str, ...],
    cohort_data: str | None,
    chunks: Sequence[range],
    screening: bool = True,
) -> list[Future]:
    """One :func:`simulate_chunk` task per chunk, all with a new run token."""
    token = uuid.uuid4().hex
    return [
        client.submit(
            simulate_chunk,
            token,
            scenario,
            women,
            seed,
            by,
            cohort_data,
            chunk,
            screening,
            key=f"calcsim-blocks-{chunk[0]}-{chunk[-1]}-{token}",
            pure=False,
        )
        for chunk in chunks
    ]


def _chunked_results(
    s: Scenario,
    women: int,
    seed: int,
    by: Sequence[Any],
    counts: pd.DataFrame,
    n_blocks: int,
    bcsc: bool,
    screening: bool = True,
) -> Results:
    """The :class:`Results` of a run summed from its chunks (metadata as :func:`simulate` gives)."""
    return Results(
        scenario=s.name,
        scenario_hash=s.hash,
        version=__version__,
        seed=seed,
        women=women,
        counts=counts,
        screens=None,
        calibration=s.calibration_label,
        meta={
            "blocks": range(n_blocks),
            "block_size": BLOCK_SIZE,
            "by": [list(g) for g in by],
            "cohort": "bcsc" if bcsc else "parametric",
            **run_meta(s, screening),
        },
    )


# ----------------------------------------------------------------------------- parameter sets
def map_parameter_sets(
    client: Client | None,
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    progress: bool = False,
    desc: str = "parameter sets",
) -> list[R]:
    """``[fn(item) for item in items]``, one Dask task per item; results in input order.

    For calibration draws, sensitivity runs and replicates: each item is one
    complete, independent computation.

    Parameters
    ----------
    client : distributed.Client or None
        From :func:`dask_client`; ``None`` runs serially in this process.
    fn : callable
        A top-level (importable, picklable) function of one argument. It runs in
        a worker process: it must not rely on state of this process.
    items : iterable
        Its arguments (each pickled to a worker).
    progress : bool
        Show a progress bar (tqdm) on stderr.
    desc : str
        Label of the progress bar.

    Returns
    -------
    list
        ``fn(item)`` for each item, in the order of ``items``. The first task to
        fail raises its exception here and the others are cancelled.
    """
    items = list(items)
    if client is None:
        with _progress_bar(len(items), desc, "set", progress) as bar:
            out = []
            for item in items:
                out.append(fn(item))
                bar.update(1)
            return out
    if not items:
        return []
    token = uuid.uuid4().hex
    name = getattr(fn, "__name__", "fn")
    futures = client.map(fn, items, key=[f"calcsim-{name}-{i}-{token}" for i in range(len(items))], pure=False)
    return _gather_in_order(client, futures, [1] * len(items), desc, "set", progress)
