"""Dask clients for calcsim: a local cluster of worker processes, or an existing scheduler.

``distributed`` is imported only when a cluster is used; serial runs never need it. An
unreachable scheduler, or an address that answers but is not a Dask scheduler, is a one-line
error within ``timeout_s`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.errors import ArgumentError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["available_cores", "client_threads", "dask_client", "one_line", "probe_scheduler"]


def one_line(exc: BaseException, limit: int = 200) -> str:
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


def available_cores() -> int:
    """The CPU cores this process may run on: ``len(os.sched_getaffinity(0))``, else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on this platform (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def _check_workers(workers: object, local: bool = True) -> int:
    """A whole number >= 1; for a local cluster at most :func:`available_cores` (more would only compete)."""
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ArgumentError("workers", workers, "a whole number >= 1 (1 runs serially)")
    cores = available_cores()
    if local and workers > cores:
        raise ArgumentError(
            "workers",
            int(workers),
            f"at most {cores}, the CPU cores available to this process on this machine; to use more, "
            "start a Dask cluster on more machines and pass its scheduler's address as scheduler "
            "(--scheduler on the command line)",
        )
    return int(workers)


def _check_timeout(timeout_s: object) -> float:
    if (
        isinstance(timeout_s, bool)
        or not isinstance(timeout_s, int | float | np.integer | np.floating)
        or not math.isfinite(timeout_s)
        or timeout_s <= 0
    ):
        raise ArgumentError("timeout_s", timeout_s, "a number of seconds > 0")
    return float(timeout_s)


def _check_address(address: object, argument: str = "address") -> str:
    """The address, or :class:`ArgumentError` unless it parses as a Dask address (scheme, host and port)."""
    from distributed.comm.addressing import get_address_host_port, parse_address
    from distributed.comm.registry import get_backend

    if not isinstance(address, str) or not address.strip():
        raise ArgumentError(argument, address, "a Dask scheduler address such as tcp://host:8786", flag="--scheduler")
    try:
        scheme, _ = parse_address(address)
        get_backend(scheme)
        if scheme != "inproc":  # in-process addresses have no host and port
            get_address_host_port(address)
    except (ValueError, TypeError) as exc:
        raise ArgumentError(
            argument,
            address,
            f"not a Dask scheduler address ({one_line(exc)}); expected e.g. tcp://host:8786",
            flag="--scheduler",
        ) from None
    return address


class _NotAScheduler(Exception):
    """Something answered at the address, but not as a Dask scheduler does."""


def probe_scheduler(address: str, timeout_s: float = 5.0) -> None:
    """Check that a Dask scheduler answers at ``address`` within ``timeout_s`` seconds.

    Opens one comm (with the Dask handshake), asks for the peer's ``identity`` and checks that it
    is a ``Scheduler``, then closes it, all within ``timeout_s``, in a throw-away event loop on a
    helper thread, so it works from inside a running event loop too and leaves no half-built
    :class:`distributed.Client` behind (a failed ``Client`` spends another ``2 * timeout`` seconds
    closing itself when collected). A server that answers but is not Dask (a web server, an echo
    server) fails the handshake or the identity check, whatever it sends.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``tcp://127.0.0.1:8786`` or ``host:8786``.
    timeout_s : float
        Seconds to keep trying.

    Raises
    ------
    ArgumentError
        One line naming ``address`` (``--scheduler`` on the command line): the address is
        malformed, nothing answered in time, or what answered is not a Dask scheduler.
    """
    _probe_scheduler(address, timeout_s, "address")


def _probe_scheduler(address: str, timeout_s: float, argument: str) -> None:
    """:func:`probe_scheduler`, its errors naming the Python argument ``argument``."""
    from distributed.comm import connect
    from distributed.security import Security

    timeout_s = _check_timeout(timeout_s)
    address = _check_address(address, argument)

    async def _probe() -> None:
        # TLS settings, if any, from the Dask configuration, as a Client would use them
        comm = await connect(address, timeout=timeout_s, **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            reply = await comm.read()
        finally:
            comm.abort()
        if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
            text = " ".join(repr(reply).split())
            raise _NotAScheduler(f"its reply to 'identity' is {text[:80]}{'...' if len(text) > 80 else ''}")

    failure: list[BaseException] = []

    def _run() -> None:
        try:
            asyncio.run(asyncio.wait_for(_probe(), timeout_s))
        except BaseException as exc:  # handed to the calling thread
            failure.append(exc)

    # a daemon thread: even a resolver stuck beyond the timeout cannot hold up the caller or the exit
    thread = threading.Thread(target=_run, name="calcsim-probe-scheduler", daemon=True)
    thread.start()
    thread.join(timeout_s + 5.0)
    if thread.is_alive():
        failure.append(TimeoutError(f"no answer after {timeout_s:g} s"))
    if failure:
        raise _probe_failure(failure[0], address, timeout_s, argument)


def _probe_failure(exc: BaseException, address: str, timeout_s: float, argument: str) -> BaseException:
    """The error to raise for a failed probe: a one-line :class:`ArgumentError`, else ``exc`` itself."""
    if isinstance(exc, TimeoutError) and not str(exc):  # asyncio.wait_for: connected or not, no full answer
        exc = TimeoutError(f"no complete answer after {timeout_s:g} s")
    if isinstance(exc, OSError | TimeoutError):
        return ArgumentError(
            argument,
            address,
            f"no Dask scheduler reachable within {timeout_s:g}s ({one_line(exc)})",
            flag="--scheduler",
        )
    if isinstance(exc, Exception):  # garbage read as a message (e.g. a 3 EiB frame length), a wrong reply ...
        reason = str(exc) if isinstance(exc, _NotAScheduler) else f"{type(exc).__name__}: {one_line(exc, 120)}"
        return ArgumentError(
            argument,
            address,
            f"something answers there, but not a Dask scheduler ({reason}); expected the address of a "
            "running `dask scheduler`, e.g. tcp://host:8786",
            flag="--scheduler",
        )
    return exc


@contextlib.contextmanager
def _quiet_distributed(level: int = logging.ERROR) -> Iterator[None]:
    """Raise the level of distributed's loggers (start-up and shutdown chatter) for the duration."""
    loggers = [
        logging.getLogger(name)
        for name in (
            "distributed",
            "distributed.nanny",
            "distributed.scheduler",
            "distributed.worker",
            "distributed.core",
            "distributed.http.proxy",
            "distributed.deploy",
        )
    ]
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
            return cls(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            )
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
    ArgumentError
        One line naming the argument (``workers=...``; ``--workers`` on the command line):
        ``workers < 1`` or more than :func:`available_cores` (for a local cluster),
        both ``workers > 1`` and ``scheduler``, a malformed address, no scheduler reachable
        within ``timeout_s``, something else than a Dask scheduler at the address, or a
        scheduler without workers.

    Notes
    -----
    The local cluster and the client are always closed on leaving the block.
    Worker processes are spawned, so a script using this needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    workers = _check_workers(workers, local=scheduler is None)
    timeout_s = _check_timeout(timeout_s)
    if scheduler is not None and workers > 1:
        raise ArgumentError(
            "workers",
            workers,
            f"1 with a scheduler ({scheduler!r}): give one or the other "
            "(the scheduler's cluster decides the number of workers)",
        )
    if scheduler is None and workers == 1:
        yield None
        return
    _require_distributed(workers, scheduler)
    if scheduler is not None:
        with _scheduler_client(scheduler, timeout_s) as client:
            yield client
    else:
        with _local_client(workers) as client:
            yield client


def _require_distributed(workers: int, scheduler: str | None) -> None:
    """:class:`ArgumentError` (naming ``scheduler``, else ``workers``) unless ``distributed`` imports."""
    try:
        from distributed import Client, LocalCluster  # noqa: F401
    except ImportError as exc:
        argument, value = ("scheduler", scheduler) if scheduler is not None else ("workers", workers)
        raise ArgumentError(
            argument,
            value,
            f"needs Dask's distributed scheduler, which is not installed ({one_line(exc)}); "
            "install the 'distributed' package",
        ) from None


@contextlib.contextmanager
def _scheduler_client(scheduler: str, timeout_s: float) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler`` with at least one worker; closed on leaving."""
    from distributed import Client

    _probe_scheduler(scheduler, timeout_s, "scheduler")
    try:
        client = Client(scheduler, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ArgumentError(
            "scheduler", scheduler, f"no Dask scheduler reachable within {timeout_s:g}s ({one_line(exc)})"
        ) from None
    try:
        if not client.nthreads():
            try:
                client.wait_for_workers(1, timeout=timeout_s)
            except (TimeoutError, OSError):
                raise ArgumentError(
                    "scheduler",
                    scheduler,
                    f"the scheduler has no workers (waited {timeout_s:g}s); start some with `dask worker {scheduler}`",
                ) from None
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def _local_client(workers: int) -> Iterator[Client]:
    """A client of a new local cluster of ``workers`` processes; both closed on leaving."""
    from distributed import Client, LocalCluster

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
