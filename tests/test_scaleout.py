"""Scale-out: Dask runs are bit-identical to serial ones; cluster errors are one line and quick."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from analysis import load_scenario
from analysis.errors import ArgumentError, CalcsimInputError
from analysis.model.simulation import block_sizes, simulate
from analysis.model.streams import BLOCK_SIZE
from analysis.scaleout import chunk_blocks_for, chunk_ranges, dask_client, map_parameter_sets, simulate_distributed

#: Three blocks (two full, one partial): more blocks than workers, a remainder block.
WOMEN = 2 * BLOCK_SIZE + 5_000
SEED = 11


@pytest.fixture(scope="module")
def client():
    """One local cluster of two worker processes for the whole module."""
    with dask_client(workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("nl-biennial")


@pytest.fixture(scope="module")
def serial(scenario):
    return simulate(scenario, WOMEN, SEED, by=["round"])


def _assert_same_run(a, b):
    pd.testing.assert_frame_equal(a.counts, b.counts)
    assert (a.scenario, a.scenario_hash, a.version, a.seed, a.women) == (
        b.scenario,
        b.scenario_hash,
        b.version,
        b.seed,
        b.women,
    )
    assert a.meta == b.meta
    pd.testing.assert_frame_equal(a.estimates(), b.estimates())


def test_scenario_pickles(scenario):
    import pickle

    back = pickle.loads(pickle.dumps(scenario))
    assert back.hash == scenario.hash and back.name == scenario.name


@pytest.mark.parametrize("chunk_blocks", [None, 1, 2])
def test_local_cluster_counts_identical_to_serial(client, scenario, serial, chunk_blocks):
    assert len(block_sizes(WOMEN)) == 3
    res = simulate_distributed(client, scenario, WOMEN, SEED, by=["round"], chunk_blocks=chunk_blocks)
    _assert_same_run(res, serial)
    assert res.screens is None


def test_scenario_by_name_and_existing_scheduler_address(client, serial):
    """Connecting to a running scheduler (here the fixture's) gives the same counts."""
    with dask_client(scheduler=client.scheduler.address, timeout_s=5) as other:
        res = simulate_distributed(other, "nl-biennial", WOMEN, SEED, by=["round"])
    _assert_same_run(res, serial)


def worker_environment() -> dict:
    import os

    return {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")}


def test_workers_environment_and_ours_untouched(client):
    """One BLAS thread per worker; no MALLOC_TRIM_THRESHOLD_ (it slows the block loop); our env unchanged."""
    ours = worker_environment()
    for env in client.run(worker_environment).values():
        assert env == {
            "MALLOC_TRIM_THRESHOLD_": ours["MALLOC_TRIM_THRESHOLD_"],
            "OMP_NUM_THREADS": ours["OMP_NUM_THREADS"] or "1",
        }
    assert worker_environment() == ours


def test_no_client_runs_serially(serial):
    with dask_client(workers=1) as c:
        assert c is None
        _assert_same_run(simulate_distributed(c, "nl-biennial", WOMEN, SEED, by=["round"]), serial)


def test_distributed_run_checks_its_arguments(client):
    with pytest.raises(CalcsimInputError, match="^women=0: "):
        simulate_distributed(client, "nl-biennial", 0, SEED)
    with pytest.raises(CalcsimInputError, match="^by='rounds': "):
        simulate_distributed(client, "nl-biennial", 10, SEED, by=["rounds"])
    with pytest.raises(ArgumentError, match="^chunk_blocks=0: a whole number >= 1$"):
        simulate_distributed(client, "nl-biennial", 10, SEED, chunk_blocks=0)


def test_distributed_progress_log(client, serial, monkeypatch, capsys):
    """progress="log": a line as chunks finish (here after every one), and the same counts."""
    import analysis.model.simulation as sim

    monkeypatch.setattr(sim, "PROGRESS_LOG_SECONDS", 0.0)
    res = simulate_distributed(client, "nl-biennial", WOMEN, SEED, by=["round"], chunk_blocks=1, progress="log")
    _assert_same_run(res, serial)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith("calcsim: progress: nl-biennial: ") for line in lines)
    assert lines[-1].startswith(f"calcsim: progress: nl-biennial: 3 of 3 blocks ({WOMEN:,} of {WOMEN:,} women) in ")


def test_chunk_ranges_are_small_whatever_the_run():
    chunks = chunk_ranges(305_175_782, threads=2)  # 10**13 women
    assert len(chunks) == 8 and all(isinstance(c, range) for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].stop == 305_175_782
    assert all(a.stop == b.start for a, b in zip(chunks, chunks[1:], strict=False))


def test_chunks_cover_blocks_in_order():
    assert chunk_blocks_for(5, threads=1, chunk_blocks=2) == [[0, 1], [2, 3], [4]]
    for n, threads in [(1, 2), (3, 2), (306, 2), (306, 16)]:
        chunks = chunk_blocks_for(n, threads)
        assert [b for c in chunks for b in c] == list(range(n))
        assert len(chunks) <= max(1, 4 * threads) and all(chunks)


# ----------------------------------------------------------------------------- parameter sets
def slow_square(x: int) -> int:
    """Earlier items finish later, so completion order differs from input order."""
    time.sleep(0.02 * (5 - x % 6))
    return x * x


def recall_counts(overrides: dict) -> tuple[int, int]:
    """One small run of an overridden scenario (a stand-in for a calibration draw)."""
    res = simulate(load_scenario("nl-biennial", overrides), 4_000, 3)
    row = res.counts[(res.counts["measure"] == "recall_rate") & (res.counts["stratum"] == "all")]
    return int(row["numerator"].iloc[0]), int(row["n"].iloc[0])


def test_map_parameter_sets_keeps_order_and_equals_serial(client):
    items = list(range(12))
    assert map_parameter_sets(client, slow_square, items) == [x * x for x in items]
    assert map_parameter_sets(client, slow_square, []) == []
    draws = [{"programme.interval_years": v} for v in (3, 1, 2)]
    assert (
        map_parameter_sets(client, recall_counts, draws, progress=True)
        == map_parameter_sets(None, recall_counts, draws)
        == [recall_counts(d) for d in draws]
    )


def test_map_parameter_sets_raises_the_task_error(client):
    draws = [{"programme.interval_years": 2}, {"programme.interval_years": -1}]
    with pytest.raises(CalcsimInputError, match="interval_years"):
        map_parameter_sets(client, recall_counts, draws)


# ----------------------------------------------------------------------------- errors
def test_unreachable_scheduler_is_a_quick_one_line_error():
    address = "tcp://127.0.0.1:1"  # loopback, nothing listens on port 1
    t0 = time.perf_counter()
    with pytest.raises(ArgumentError) as err:
        with dask_client(scheduler=address):
            pass
    elapsed = time.perf_counter() - t0
    assert elapsed < 10
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"scheduler={address!r}: no Dask scheduler reachable within 5s (")
    assert err.value.cli_message().startswith(f"--scheduler: {address!r}: no Dask scheduler reachable within 5s (")


@pytest.mark.parametrize(
    ("kwargs", "match", "flag"),
    [
        ({"workers": 0}, "^workers=0: a whole number >= 1", "--workers: 0: "),
        ({"workers": -2}, "^workers=-2: ", "--workers: -2: "),
        ({"workers": 2.5}, "^workers=2.5: ", "--workers: 2.5: "),
        ({"workers": 10_000}, "^workers=10000: at most .* scheduler", "--workers: 10000: at most "),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "^workers=2: .*one or the other", "--workers: 2: "),
        (
            {"scheduler": "nonsense://127.0.0.1:1"},
            "^scheduler='nonsense://127.0.0.1:1': not a Dask scheduler address",
            "--scheduler: 'nonsense://",
        ),
        (
            {"scheduler": "tcp://127.0.0.1:notaport"},
            "^scheduler='tcp://127.0.0.1:notaport': not a Dask scheduler address",
            "--scheduler: 'tcp://",
        ),
        ({"scheduler": ""}, "^scheduler='': a Dask scheduler address", "--scheduler: '': "),
        ({"timeout_s": 0}, "^timeout_s=0: a number of seconds > 0", "--timeout-s: 0: "),
    ],
)
def test_bad_cluster_options_are_one_line_errors(kwargs, match, flag):
    """From Python the error names the argument (``workers=0: ...``); on the command line, the flag."""
    t0 = time.perf_counter()
    with pytest.raises(ArgumentError, match=match) as err:
        with dask_client(**kwargs):
            pass
    assert "\n" not in str(err.value)
    assert err.value.cli_message().startswith(flag)
    assert time.perf_counter() - t0 < 2


def test_several_groupings_on_the_cluster_equal_serial(client, scenario):
    groups = [["density"], ["round", "age_group"]]
    serial = simulate(scenario, WOMEN, SEED, by=groups)
    _assert_same_run(simulate_distributed(client, scenario, WOMEN, SEED, by=groups), serial)
    assert serial.counts["stratum"].str.startswith("density=").any()
    assert serial.counts["stratum"].str.contains("; age_group=").any()


def test_harms_benefits_as_dask_tasks_identical_to_serial(client):
    """Strategies x blocks as Dask tasks: the same integer sums, so the same table, bit for bit."""
    from analysis.scenario.strategies import Strategy
    from analysis.stats.harms_benefits import harms_benefits

    s = load_scenario("nl-biennial", calibration=None)
    grid = [Strategy("50-69_3y", 50, 69, 3)]
    serial = harms_benefits(s, WOMEN, SEED, grid)
    dask = harms_benefits(s, WOMEN, SEED, grid, map_fn=lambda fn, items: map_parameter_sets(client, fn, items))
    pd.testing.assert_frame_equal(serial.table, dask.table)
    assert serial.estimate("bc_deaths_averted_per_1000_invited") > 0
