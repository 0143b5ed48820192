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

from analysis.scaleout.cluster import available_cores, client_threads, dask_client, probe_scheduler
from analysis.scaleout.tasks import (
    CHUNKS_PER_THREAD,
    chunk_blocks_for,
    chunk_ranges,
    map_parameter_sets,
    simulate_distributed,
)

__all__ = [
    "CHUNKS_PER_THREAD",
    "available_cores",
    "chunk_blocks_for",
    "chunk_ranges",
    "client_threads",
    "dask_client",
    "map_parameter_sets",
    "probe_scheduler",
    "simulate_distributed",
]
