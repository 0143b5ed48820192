"""Scale-out: blocks of women and parameter sets as Dask tasks.

::

    with dask_client(workers=4) as client:            # local cluster, 4 processes
        res = simulate_distributed(client, "nl-biennial", 10_000_000, seed=2026)

    with dask_client(scheduler="tcp://10.0.0.5:8786") as client:   # an existing cluster
        out = map_parameter_sets(client, run_one_draw, draws)

Blocks are independent given the seed (:mod:`analysis.model.streams`), so a run split
into chunks of consecutive blocks, simulated on any workers in any order, gives
integer counts that add up to exactly the serial run's: the results are
bit-identical to :func:`analysis.model.simulation.simulate`.

Each chunk builds its model *on the worker* (from the pickled :class:`Scenario`,
which carries its tables), once per run and worker process. Workers must run the
same calcsim, numpy and pandas versions as the client (a local cluster does), and
a ``cohort_data`` path must be readable by every worker.

``distributed`` is imported only when a cluster is used; serial runs never need it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from analysis import __version__
from analysis.errors import CalcsimInputError, check_seed, check_women
from analysis.model.results import Results, add_counts, check_strata
from analysis.model.simulation import Model, block_sizes, build_model, simulate
from analysis.model.streams import BLOCK_SIZE
from analysis.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from distributed import Client, Future

T = TypeVar("T")
R = TypeVar("R")

#: Default number of chunks per worker thread: small enough to keep the per-task
#: overhead negligible, large enough to balance the load when workers differ in speed.
CHUNKS_PER_THREAD = 4


# ----------------------------------------------------------------------------- the client
def _one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception as a short one-line reason: its root cause (e.g. ``ConnectionRefusedError: ...``) if any."""
    root, seen = exc, {id(exc)}
    while (nxt := root.__cause__ or root.__context__) is not None and id(nxt) not in seen:
        root = nxt
        seen.add(id(root))
    text = " ".join(str(root).split())
    if root is not exc:
        text = f"{type(root).__name__}: {text}" if text else type(root).__name__
    text = text or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise CalcsimInputError(f"--workers: {workers!r}: a whole number >= 1 (1 runs serially)")
    return int(workers)


def _check_timeout(timeout_s: object) -> float:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float | np.integer | np.floating) \
            or not math.isfinite(timeout_s) or timeout_s <= 0:
        raise CalcsimInputError(f"timeout_s: {timeout_s!r}: a number of seconds > 0")
    return float(timeout_s)


def probe_scheduler(address: str, timeout_s: float = 5.0) -> None:
    """Check that a Dask scheduler answers at ``address`` within ``timeout_s`` seconds.

    Opens one comm (with the Dask handshake) and closes it, in a throw-away event
    loop on a helper thread, so it works from inside a running event loop too and
    leaves no half-built :class:`distributed.Client` behind (a failed ``Client``
    spends another ``2 * timeout`` seconds closing itself when collected).

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``tcp://127.0.0.1:8786`` or ``host:8786``.
    timeout_s : float
        Seconds to keep trying.

    Raises
    ------
    CalcsimInputError
        One line: the address is malformed, or nothing answered in time.
    """
    from distributed.comm import connect
    from distributed.security import Security

    timeout_s = _check_timeout(timeout_s)
    if not isinstance(address, str) or not address.strip():
        raise CalcsimInputError(f"--scheduler: {address!r}: a Dask scheduler address such as tcp://host:8786")

    async def _probe() -> None:
        # TLS settings, if any, from the Dask configuration, as a Client would use them
        comm = await connect(address, timeout=timeout_s, **Security().get_connection_args("client"))
        await comm.close()

    failure: list[BaseException] = []

    def _run() -> None:
        try:
            asyncio.run(_probe())
        except BaseException as exc:  # handed to the calling thread
            failure.append(exc)

    # a daemon thread: even a resolver stuck beyond the timeout cannot hold up the caller or the exit
    thread = threading.Thread(target=_run, name="calcsim-probe-scheduler", daemon=True)
    thread.start()
    thread.join(timeout_s + 5.0)
    if thread.is_alive():
        failure.append(TimeoutError(f"no answer after {timeout_s:g} s"))
    if not failure:
        return
    exc = failure[0]
    if isinstance(exc, ValueError | TypeError):
        raise CalcsimInputError(f"--scheduler: {address!r}: not a Dask scheduler address ({_one_line(exc)});"
                                " expected e.g. tcp://host:8786")
    if isinstance(exc, OSError | TimeoutError):
        raise CalcsimInputError(f"--scheduler: {address!r}: no Dask scheduler reachable within "
                                f"{timeout_s:g}s ({_one_line(exc)})")
    raise exc


@contextlib.contextmanager
def _quiet_distributed(level: int = logging.ERROR) -> Iterator[None]:
    """Raise the level of distributed's loggers (start-up and shutdown chatter) for the duration."""
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.nanny", "distributed.scheduler",
                                                     "distributed.worker", "distributed.core",
                                                     "distributed.http.proxy", "distributed.deploy")]
    old = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(level, lg.getEffectiveLevel()))
    try:
        yield
    finally:
        for lg, lev in zip(loggers, old, strict=True):
            lg.setLevel(lev)


#: Environment of local worker processes, on top of distributed's ``pre-spawn-environ`` (which keeps
#: one BLAS/OpenMP thread per worker). Its ``MALLOC_TRIM_THRESHOLD_=65536`` is dropped: any such setting
#: freezes glibc's mmap threshold at 128 KiB, so every block-sized array (32,768 x 8 bytes = 256 KiB) is
#: mmapped, page-faulted and unmapped afresh, which made the block loop 20-35 % slower on the benchmark
#: machine. Memory stays flat without it (blocks are reduced to counts one at a time).
WORKER_ENV_CONFIG: dict[str, Any] = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def _local_cluster(cls: Any, workers: int) -> Any:
    """Start a ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1, no dashboard.

    Leaves this process's environment as it found it: distributed's nannies write
    their ``pre-spawn-environ`` into ``os.environ`` of the process that starts them.
    """
    import dask

    saved = dict(os.environ)
    try:
        with dask.config.set(WORKER_ENV_CONFIG):
            return cls(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                       dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    finally:
        if dict(os.environ) != saved:
            os.environ.clear()
            os.environ.update(saved)


@contextlib.contextmanager
def dask_client(workers: int = 1, scheduler: str | None = None, timeout_s: float = 5.0) -> Iterator[Client | None]:
    """A Dask client for the duration of a ``with`` block, or ``None`` for a serial run.

    Parameters
    ----------
    workers : int
        ``1`` (default): serial, yields ``None`` (unless ``scheduler`` is given).
        ``K > 1``: start a local cluster of ``K`` worker processes, one thread each,
        listening on 127.0.0.1 only, without a dashboard, its logging silenced.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); connect to it
        instead of starting a cluster. Its workers need calcsim installed.
    timeout_s : float
        Seconds to wait for the scheduler to answer, and then for it to have at
        least one worker.

    Yields
    ------
    distributed.Client or None

    Raises
    ------
    CalcsimInputError
        One line: ``workers < 1``, both ``workers > 1`` and ``scheduler``, a malformed
        address, no scheduler reachable within ``timeout_s``, or a scheduler without
        workers.

    Notes
    -----
    The local cluster and the client are always closed on leaving the block.
    Worker processes are spawned, so a script using this needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    workers = _check_workers(workers)
    timeout_s = _check_timeout(timeout_s)
    if scheduler is not None and workers > 1:
        raise CalcsimInputError(f"--workers {workers} and --scheduler {scheduler!r}: give one or the other "
                                "(the scheduler's cluster decides the number of workers)")
    if scheduler is None and workers == 1:
        yield None
        return

    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        option = "--scheduler" if scheduler is not None else "--workers"
        raise CalcsimInputError(f"{option}: needs Dask's distributed scheduler, which is not installed "
                                f"({_one_line(exc)}); install the 'distributed' package") from None

    if scheduler is not None:
        probe_scheduler(scheduler, timeout_s)
        try:
            client = Client(scheduler, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise CalcsimInputError(f"--scheduler: {scheduler!r}: no Dask scheduler reachable within "
                                    f"{timeout_s:g}s ({_one_line(exc)})") from None
        try:
            if not client.nthreads():
                try:
                    client.wait_for_workers(1, timeout=timeout_s)
                except (TimeoutError, OSError):
                    raise CalcsimInputError(f"--scheduler: {scheduler!r}: the scheduler has no workers (waited "
                                            f"{timeout_s:g}s); start some with `dask worker {scheduler}`") from None
            yield client
        finally:
            client.close()
        return

    with _quiet_distributed():
        cluster = _local_cluster(LocalCluster, workers)
        try:
            client = Client(cluster, set_as_default=False)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()


def client_threads(client: Client) -> int:
    """Total worker threads of a client's cluster (at least 1)."""
    return max(1, sum(client.nthreads().values()))


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


def simulate_chunk(token: str, scenario: Scenario, women: int, seed: int, by: Sequence[str],
                   cohort_data: str | None, blocks: Sequence[int]) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        The count table of these blocks (:func:`analysis.model.results.count_screens`).
    """
    model = _worker_model(token, scenario, cohort_data)
    return simulate(scenario, women, seed, by=by, blocks=blocks, model=model).counts


def chunk_blocks_for(n_blocks: int, threads: int, chunk_blocks: int | None = None) -> list[list[int]]:
    """Split ``range(n_blocks)`` into runs of consecutive blocks.

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
        raise CalcsimInputError(f"chunk_blocks: {chunk_blocks!r}: a whole number >= 1")
    step = int(chunk_blocks)
    return [list(range(i, min(i + step, n_blocks))) for i in range(0, n_blocks, step)]


def _progress_bar(total: int, desc: str, unit: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False)


def _gather_in_order(client: Client, futures: list[Future], weights: Sequence[int], desc: str, unit: str,
                     progress: bool) -> list[Any]:
    """Wait for ``futures`` (progress as they finish), fail fast on the first error, return results in order."""
    from distributed import as_completed

    try:
        with _progress_bar(sum(weights), desc, unit, progress) as bar:
            index = {f.key: i for i, f in enumerate(futures)}
            for fut in as_completed(futures, loop=client.loop):
                if fut.status == "error":
                    fut.result()  # raises the task's exception here, with its type
                bar.update(weights[index[fut.key]])
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
    progress: bool = False,
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
    progress : bool
        Show a progress bar (tqdm, in blocks) on stderr.

    Returns
    -------
    Results
        Equal to ``simulate(scenario, women, seed, by=by, cohort_data=cohort_data)``:
        same counts (``pandas.testing.assert_frame_equal``) and metadata. The
        screens table is not available (``screens`` is ``None``).
    """
    women, seed = check_women(women), check_seed(seed)
    by = check_strata(by)
    s = load_scenario(scenario) if isinstance(scenario, str) else scenario
    if client is None:
        return simulate(s, women, seed, by=by, cohort_data=cohort_data, progress=progress)
    n_blocks = len(block_sizes(int(women)))
    chunks = chunk_blocks_for(n_blocks, client_threads(client), chunk_blocks)
    data = None if cohort_data is None else os.fspath(os.path.abspath(cohort_data))
    token = uuid.uuid4().hex
    futures = [client.submit(simulate_chunk, token, s, int(women), int(seed), tuple(by), data, chunk,
                             key=f"calcsim-blocks-{chunk[0]}-{chunk[-1]}-{token}", pure=False)
               for chunk in chunks]
    parts = _gather_in_order(client, futures, [len(c) for c in chunks], s.name, "block", progress)
    counts = None
    for part in parts:
        counts = add_counts(counts, part)
    return Results(
        scenario=s.name, scenario_hash=s.hash, version=__version__, seed=int(seed), women=int(women),
        counts=counts, screens=None, calibration=s.calibration_label,
        meta={"blocks": list(range(n_blocks)), "block_size": BLOCK_SIZE, "by": [list(g) for g in by],
              "cohort": "bcsc" if cohort_data is not None else "parametric"},
    )


# ----------------------------------------------------------------------------- parameter sets
def map_parameter_sets(client: Client | None, fn: Callable[[T], R], items: Iterable[T], *,
                       progress: bool = False, desc: str = "parameter sets") -> list[R]:
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
