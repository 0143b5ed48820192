"""Faults and hostile input end in one clear line (``calcsim: error: ...``, exit code 2), never a
traceback, a hang or a half-written file; Ctrl-C still exits with 130.

Each test names the fault it reproduces. Where the fault cannot be produced for real here (a full
disk; a read-only folder when the tests run as root, who ignores permission bits) the operating
system's error is raised by a monkeypatched call at the point where the real one would come, and
the test asserts that the patched call was reached.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import math
import os
import socket
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import cli, load_scenario
from analysis.errors import ArgumentError, CalcsimInputError
from analysis.io import atomic, bcsc
from analysis.io.bcsc import common, risk
from analysis.model import simulation
from analysis.model.measures import SCREEN_COLUMNS
from analysis.model.simulation import block_sizes, check_capacity, simulate
from analysis.model.streams import BLOCK_SIZE
from analysis.scaleout import available_cores, dask_client

GOOD_ROWS = [  # valid rows of risk.txt (as in tests/test_bcsc.py)
    "0  4 1 1 0 1 0 0 0 0 9 9 0 0 1      4",
    "1  4 2 1 0 1 2 1 0 9 1 1 0 0 0      2",
    "1  4 3 2 9 2 1 2 1 1 0 0 1 1 1      3",
]
ROWS = ("\r\n".join(GOOD_ROWS) + "\r\n").encode()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line(rc: int, err: str, *fragments: str) -> str:
    """Exit code 2 and exactly one line on stderr, ``calcsim: error: ...``, mentioning every fragment."""
    assert rc == 2, err
    assert err.startswith("calcsim: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    missing = [f for f in fragments if f not in err]
    assert not missing, f"{missing} not in: {err}"
    return err


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ----------------------------------------------------------------------------- 1. --out cannot be written
def test_read_only_out_folder_is_one_line(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    denied = []
    if os.geteuid() == 0:
        # root ignores permission bits: refuse every file creation inside `out` as the kernel would for a user
        real_open = os.open

        def no_create(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and Path(os.fsdecode(path)).parent == out:
                denied.append(path)
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", no_create)
    else:
        out.chmod(0o555)
    try:
        rc, stdout, err = run(capsys, "run", "--women", "200", "--out", str(out), "--screens")
    finally:
        out.chmod(0o755)
    assert_one_line(rc, err, f"--out: {str(out)!r}: cannot write", "Permission denied", "expected a folder")
    assert stdout == "" and list(out.iterdir()) == []
    assert os.geteuid() != 0 or denied  # as root, the refusal really came from the patched os.open


class FullDisk:
    """A file whose ``write`` stores half of the data, then fails as a full disk does (ENOSPC)."""

    def __init__(self, fh) -> None:
        self.fh = fh

    def write(self, data: bytes) -> int:
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


def test_full_disk_is_one_line_and_keeps_the_old_outputs(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert run(capsys, "run", "--women", "300", "--seed", "1", "--out", str(out))[0] == 0
    before = files(out)
    assert set(before) == {"estimates.csv", "run.json"}
    writes = []
    real_open = open

    def full_open(path, mode="r", *args, **kwargs):
        fh = real_open(path, mode, *args, **kwargs)
        if "w" in mode:
            writes.append(path)
            return FullDisk(fh)
        return fh

    monkeypatch.setattr(atomic, "open", full_open, raising=False)  # the module's open(): every output's write
    rc, _, err = run(capsys, "run", "--women", "300", "--seed", "2", "--out", str(out))
    assert_one_line(
        rc, err, f"--out: {str(out)!r}: cannot write estimates.csv, run.json there", "No space left on device"
    )
    assert writes  # the failing write was reached
    assert files(out) == before  # the old run's files as they were, no half-written new one, no temporary file


def test_full_disk_while_streaming_screens_is_one_line(tmp_path, monkeypatch, capsys):
    import pyarrow.parquet as pq

    calls = []

    def full(self, table, *args, **kwargs):
        calls.append(table.num_rows)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    out = tmp_path / "out"
    rc, _, err = run(capsys, "run", "--women", "300", "--out", str(out), "--screens")
    assert_one_line(rc, err, f"--out: {str(out)!r}: cannot write screens.parquet there", "No space left on device")
    assert calls and list(out.iterdir()) == []


@pytest.mark.parametrize("where", ["simulation", "writing"])
def test_ctrl_c_exits_130_and_leaves_nothing(tmp_path, monkeypatch, capsys, where):
    if where == "simulation":
        real_block, seen = simulation.run_block, []

        def interrupted(*args, **kwargs):
            seen.append(1)
            if len(seen) == 2:
                raise KeyboardInterrupt
            return real_block(*args, **kwargs)

        monkeypatch.setattr(simulation, "run_block", interrupted)
    else:

        def interrupted(tmp, data):
            seen.append(1)
            raise KeyboardInterrupt

        seen = []
        monkeypatch.setattr(atomic, "fill", interrupted)
        monkeypatch.setattr("analysis.cli.commands.fill", interrupted)
    out = tmp_path / "out"
    rc, _, err = run(capsys, "run", "--women", str(2 * BLOCK_SIZE), "--out", str(out), "--screens")
    assert rc == 130 and err == "calcsim: interrupted\n"
    assert seen and list(out.iterdir()) == []


# ----------------------------------------------------------------------------- 2. a scheduler that is not Dask
@contextlib.contextmanager
def tcp_server(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """A server on a free localhost port running ``handle(connection)``; closed (and joined) on exit."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.close()


def http_banner(conn: socket.socket) -> None:
    """Answers at once, as a web server answering garbage does (read as a Dask frame: a 3 EiB length)."""
    with contextlib.suppress(OSError):
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        conn.recv(4096)


def echo(conn: socket.socket) -> None:
    """Sends back whatever it gets (so the Dask handshake itself succeeds)."""
    with contextlib.suppress(OSError):
        while data := conn.recv(65536):
            conn.sendall(data)


def silent(conn: socket.socket) -> None:
    """Accepts, reads, never answers."""
    with contextlib.suppress(OSError):
        while conn.recv(65536):
            pass


@pytest.mark.parametrize("server", [http_banner, echo], ids=["http", "echo"])
def test_scheduler_that_is_not_dask_is_one_line(capsys, server):
    with tcp_server(server) as address:
        t0 = time.perf_counter()
        rc, _, err = run(capsys, "run", "--women", "100", "--scheduler", address)
        elapsed = time.perf_counter() - t0
    assert_one_line(
        rc,
        err,
        f"--scheduler: {address!r}: something answers there, but not a Dask scheduler",
        "expected the address of a running `dask scheduler`",
    )
    assert elapsed < 5 + 3  # within the probe's 5 s timeout (plus start-up)


def test_scheduler_that_never_answers_times_out_in_time():
    with tcp_server(silent) as address:
        t0 = time.perf_counter()
        with pytest.raises(ArgumentError) as err:
            with dask_client(scheduler=address, timeout_s=1):
                pass
        elapsed = time.perf_counter() - t0
    assert str(err.value).startswith(f"scheduler={address!r}: no Dask scheduler reachable within 1s (")
    assert err.value.cli_message().startswith(f"--scheduler: {address!r}: no Dask scheduler reachable within 1s (")
    assert elapsed < 1 + 2  # the timeout bounds the whole probe, handshake included


def test_a_real_scheduler_passes_the_identity_check():
    from distributed import LocalCluster

    from analysis.scaleout import probe_scheduler

    with LocalCluster(
        n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:
        probe_scheduler(cluster.scheduler_address, timeout_s=5)  # raises if the reply were not a Scheduler's


# ----------------------------------------------------------------------------- 3. huge cohorts
@pytest.mark.parametrize("women", [1, 5, BLOCK_SIZE, BLOCK_SIZE + 1, 3 * BLOCK_SIZE + 17])
def test_block_sizes_has_the_values_of_the_list(women):
    full, rest = divmod(women, BLOCK_SIZE)
    expected = [BLOCK_SIZE] * full + ([rest] if rest else [])
    sizes = block_sizes(women)
    assert len(sizes) == len(expected) and list(sizes) == expected and sizes == expected
    assert [sizes[i] for i in range(-len(expected), len(expected))] == expected + expected
    assert sizes[1:] == expected[1:] and sum(sizes) == women
    with pytest.raises(IndexError):
        sizes[len(expected)]


def test_block_sizes_of_ten_trillion_women_costs_nothing():
    tracemalloc.start()
    try:
        sizes = block_sizes(10**13)
        n, last = len(sizes), sizes[-1]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == math.ceil(10**13 / BLOCK_SIZE) and last == 10**13 % BLOCK_SIZE
    assert peak < 100_000  # bytes; the list it was took 2.4 GB


def test_huge_run_starts_at_once_and_logs_progress_when_stderr_is_not_a_terminal(monkeypatch, capsys):
    real_block, seen = simulation.run_block, []

    def two_blocks_then_ctrl_c(*args, **kwargs):
        seen.append(args[2])
        if len(seen) == 3:
            raise KeyboardInterrupt
        return real_block(*args, **kwargs)

    monkeypatch.setattr(simulation, "run_block", two_blocks_then_ctrl_c)
    monkeypatch.setattr(simulation, "PROGRESS_LOG_SECONDS", 0.0, raising=False)  # a line a block, not every 30 s
    rc, _, err = run(capsys, "run", "--women", str(10**13))
    assert rc == 130 and seen == [0, 1, 2]
    lines = err.splitlines()
    assert lines[-1] == "calcsim: interrupted" and len(lines) == 3
    blocks = math.ceil(10**13 / BLOCK_SIZE)
    for done, line in enumerate(lines[:2], start=1):
        assert line.startswith(
            f"calcsim: progress: nl-biennial: {done} of {blocks:,} blocks "
            f"({done * BLOCK_SIZE:,} of {10**13:,} women) in 0:00:"
        )
        assert line.endswith(" left") and "about " in line and "days" in line  # time left: many days


def test_progress_log_lines(monkeypatch, capsys):
    women = 2 * BLOCK_SIZE + 100
    simulate("nl-biennial", women, 3, progress="log")
    assert capsys.readouterr().err == ""  # a short run: no line before the first 30 s
    monkeypatch.setattr(simulation, "PROGRESS_LOG_SECONDS", 0.0)
    simulate("nl-biennial", women, 3, progress="log")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert lines[-1].startswith(f"calcsim: progress: nl-biennial: 3 of 3 blocks ({women:,} of {women:,} women) in ")
    assert lines[-1].endswith("; about 0:00:00 left")


def test_short_cli_run_prints_no_progress_on_a_pipe(capsys):
    rc, out, err = run(capsys, "run", "--women", "500")
    assert rc == 0 and out and err == ""


def test_screens_of_a_cohort_that_cannot_fit_are_refused(tmp_path, capsys):
    out = tmp_path / "out"
    rc, _, err = run(capsys, "run", "--women", str(10**13), "--out", str(out), "--screens")
    assert_one_line(
        rc,
        err,
        f"--women: {10**13}: writing the screens table (--screens) needs about ",
        "of memory, more than this machine's",
        "women fit",
        "the run would take about ",
        "days",
    )
    assert not out.exists()  # refused before the folder is made


def test_keep_screens_of_a_cohort_that_cannot_fit_is_refused():
    with pytest.raises(
        ArgumentError,
        match=r"^women=1000000000000: keeping the screens table \(keep_screens\)"
        r" needs about [\d.,]+ TiB of memory",
    ):
        simulate("nl-biennial", 10**12, 1, keep_screens=True)


def test_capacity_rule_against_a_small_machine(monkeypatch):
    """1 GiB of physical memory: the largest cohort the message names fits, a larger one does not."""
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 2**30 // 4096}
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    s = load_scenario("nl-biennial")
    with pytest.raises(ArgumentError) as err:
        check_capacity(s, 2_000_000, keep_screens=True)
    fit = int(err.value.allowed.split("at most about ")[1].split(" women fit")[0].replace(",", ""))
    rows_per_woman = 13 * s.programme.attendance  # 13 rounds, ages 50-74 every 2 years
    row_bytes = sum(np.dtype(v).itemsize for v in SCREEN_COLUMNS.values())  # 53: coded columns are int8
    assert row_bytes == 53
    assert fit == int((2**30 - simulation.RUN_PEAK_BYTES) / (2 * row_bytes * rows_per_woman))
    check_capacity(s, fit, keep_screens=True)  # fits: no error
    with pytest.raises(ArgumentError):
        check_capacity(s, fit + 1000, keep_screens=True)


def test_screens_larger_than_the_free_disk_are_refused(tmp_path, monkeypatch, capsys):
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 10**6, 10**6))
    out = tmp_path / "out"
    rc, _, err = run(capsys, "run", "--women", "100000", "--out", str(out), "--screens")
    assert_one_line(
        rc,
        err,
        "--women: 100000: writing the screens table (--screens) needs about ",
        f"MiB of disk, more than the 976.6 KiB free in {str(tmp_path)!r}",
        "women fit",
    )
    assert not out.exists()


# ----------------------------------------------------------------------------- 4. --workers beyond the cores
def test_more_workers_than_cores_are_refused_before_any_process(monkeypatch, capsys):
    import distributed

    started = []
    monkeypatch.setattr(distributed, "LocalCluster", lambda *a, **k: started.append(k) or pytest.fail("started"))
    cores = available_cores()
    assert cores == len(os.sched_getaffinity(0))
    rc, _, err = run(capsys, "run", "--women", "100", "--workers", "1000")
    assert_one_line(rc, err, f"--workers: 1000: at most {cores}, the CPU cores available", "--scheduler")
    assert started == []


# ----------------------------------------------------------------------------- 5. programme.interval_years
@pytest.mark.parametrize("value", [0.00001, 0.49])
def test_interval_below_half_a_year_is_refused(value, capsys):
    with pytest.raises(
        CalcsimInputError,
        match=rf"^--set: programme.interval_years = {value}: a number of years "
        r">= 0.5 \(no programme screens more often than yearly",
    ):
        load_scenario("nl-biennial", {"programme.interval_years": value})
    rc, _, err = run(capsys, "run", "--women", "100", "--set", f"programme.interval_years={value}")
    assert_one_line(rc, err, f"programme.interval_years = {value}", ">= 0.5")


def test_half_a_year_is_accepted_and_documented():
    s = load_scenario("nl-biennial", {"programme.interval_years": 0.5})
    assert s.programme.interval_years == 0.5
    meaning = s.parameter_table().set_index("parameter").loc["programme.interval_years", "meaning"]
    assert ">= 0.5" in meaning


# ----------------------------------------------------------------------------- 6. a zip bomb as --cohort-data
def bomb(path: Path, uncompressed: int) -> Path:
    """A zip whose risk.txt is ``uncompressed`` bytes of valid rows (it compresses about 300-fold)."""
    chunk = ROWS * 4096
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("risk.txt", "w") as fh:
        written = 0
        while written < uncompressed:
            fh.write(chunk[: uncompressed - written])
            written += min(len(chunk), uncompressed - written)
    return path


def test_zip_bomb_is_refused_by_its_declared_size(tmp_path, capsys):
    """At the real limit (64 MiB): a 0.25 MB zip of 70 MiB of valid rows, refused before it is expanded."""
    path = bomb(tmp_path / "risk_dataset.zip", risk.MAX_RISK_TEXT_BYTES + 2**20)
    assert path.stat().st_size < 2**20
    t0 = time.perf_counter()
    rc, _, err = run(capsys, "run", "--women", "100", "--cohort-data", str(path))
    assert_one_line(
        rc,
        err,
        f"{path} [risk.txt]: uncompressed size (declared in the zip) = "
        f"'{risk.MAX_RISK_TEXT_BYTES + 2**20:,} bytes': at most 67,108,864 bytes",
    )
    assert time.perf_counter() - t0 < 5


def test_lowered_limit_for_txt_and_zip(tmp_path):
    """The limit is a parameter (default MAX_RISK_TEXT_BYTES): 10 kB here, so that the files stay small."""
    txt = tmp_path / "risk.txt"
    txt.write_bytes(ROWS * 200)
    zipped = bomb(tmp_path / "r.zip", len(ROWS) * 200)
    assert len(bcsc.read_risk_estimation(txt)) == len(bcsc.read_risk_estimation(zipped)) == 600  # under 64 MiB
    with pytest.raises(CalcsimInputError, match=rf"file size = '{len(ROWS) * 200:,} bytes': at most 10,000 bytes"):
        bcsc.read_risk_estimation(txt, max_bytes=10_000)
    with pytest.raises(
        CalcsimInputError,
        match=r"\[risk.txt\]: uncompressed size \(declared in the zip\) = "
        rf"'{len(ROWS) * 200:,} bytes': at most 10,000 bytes",
    ):
        bcsc.read_risk_estimation(zipped, max_bytes=10_000)


def test_txt_above_the_limit_is_refused_from_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(risk, "MAX_RISK_TEXT_BYTES", 10_000)  # looked up at each call
    txt = tmp_path / "risk.txt"
    txt.write_bytes(ROWS * 200)
    rc, _, err = run(capsys, "run", "--women", "100", "--cohort-data", str(txt))
    assert_one_line(rc, err, f"{txt}: file size = '{len(ROWS) * 200:,} bytes': at most 10,000 bytes")


def test_zip_with_a_lying_header_is_read_no_further_than_declared(tmp_path):
    """Central directory and local header say 1,000 bytes; 23,400 are there: no more is expanded, one line."""
    path = bomb(tmp_path / "liar.zip", len(ROWS) * 200)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed-size field of each header
        at = data.index(signature) + offset
        assert int.from_bytes(data[at : at + 4], "little") == len(ROWS) * 200
        data[at : at + 4] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(CalcsimInputError) as err:
        bcsc.read_risk_estimation(path, max_bytes=10_000)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_bounded_reader_guards_the_bytes_actually_read():
    stream = io.BufferedReader(common.BoundedReader(io.BytesIO(ROWS * 200), 10_000))
    with pytest.raises(common.ReadLimitExceeded, match="more than 10,000 bytes"):
        pd.read_csv(stream, sep=r"\s+", header=None, engine="c")
    small = io.BufferedReader(common.BoundedReader(io.BytesIO(ROWS * 2), 10_000))
    assert len(pd.read_csv(small, sep=r"\s+", header=None, engine="c")) == 6


# ----------------------------------------------------------------------------- 7. stale temporaries, permissions
STALE = [
    ".screens.abcd1234.parquet.tmp",  # the screens file of calcsim before this change
    ".estimates.csv.abcd1234.tmp",
    ".run.json.zz_9yy88.tmp",
    ".screens.parquet.k3j4h5g6.tmp",
    ".calcsim-write-check.aaaaaaaa.tmp",
]
KEPT = [
    "notes.txt",
    ".estimates.csv.ABCD1234.tmp",
    ".estimates.csv.abc.tmp",
    ".other.csv.abcd1234.tmp",
    ".screens.abcd1234.parquet.tmp.bak",
    "estimates.csv.abcd1234.tmp",
    ".run.json.abcd12345.tmp",
]


def test_next_run_removes_only_stale_temporaries_of_its_own(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    for name in STALE + KEPT:
        (out / name).write_bytes(b"left over")
    (out / ".run.json.dirdirdi.tmp").mkdir()  # a folder of that name: not a file calcsim wrote
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    (out / ".run.json.linklink.tmp").symlink_to(outside)  # a link: neither it nor its target is touched
    live = out / ".estimates.csv.livelive.tmp"  # being written by a running calcsim: it holds the lock
    live.write_bytes(b"in progress")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert run(capsys, "run", "--women", "300", "--out", str(out), "--screens")[0] == 0
    names = {p.name for p in out.iterdir()}
    assert names == {
        "estimates.csv",
        "run.json",
        "screens.parquet",
        *KEPT,
        ".run.json.dirdirdi.tmp",
        ".run.json.linklink.tmp",
        live.name,
    }
    assert outside.read_text() == "keep" and live.read_bytes() == b"in progress"


def test_temporaries_of_a_killed_run_are_removed_by_the_next_and_not_while_it_runs(tmp_path, capsys):
    """A real run in another process: its temporary files are locked while it runs (a clean-up leaves them),
    and once it is killed (SIGKILL: no clean-up of its own) the next run into the folder removes them."""
    import signal
    import subprocess
    import sys

    from analysis.cli.commands import RUN_OUTPUTS

    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "analysis.cli", "run", "--women", "5000000", "--out", str(out), "--screens"],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(
            p.name.startswith(".screens.parquet.") and p.stat().st_size > 0
            for p in (out.iterdir() if out.exists() else ())
        ):
            assert child.poll() is None and time.monotonic() < deadline, "the run did not start writing"
            time.sleep(0.1)
        temporaries = sorted(p.name for p in out.iterdir())
        assert len(temporaries) == 3 and all(n.endswith(".tmp") for n in temporaries)
        assert atomic.remove_stale_temporaries(out, RUN_OUTPUTS) == []  # held by the running calcsim
        assert sorted(p.name for p in out.iterdir()) == temporaries
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    assert sorted(p.name for p in out.iterdir()) == temporaries  # what a kill leaves behind
    assert run(capsys, "run", "--women", "300", "--out", str(out))[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["estimates.csv", "run.json"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_get_the_usual_permissions(tmp_path, capsys, umask, mode):
    old = os.umask(umask)
    try:
        out = tmp_path / "out"
        assert run(capsys, "run", "--women", "300", "--out", str(out), "--screens")[0] == 0
    finally:
        os.umask(old)
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()} == {
        "estimates.csv": mode,
        "run.json": mode,
        "screens.parquet": mode,
    }


def test_figures_are_written_through_a_temporary_file(tmp_path, monkeypatch, capsys):
    """fit --out: the PNG goes through AtomicGroup like the CSV (a failure leaves neither)."""
    opened = []
    real = atomic.AtomicGroup.open

    def spy(self):
        opened.extend(t.name for t in self.targets)
        return real(self)

    monkeypatch.setattr(atomic.AtomicGroup, "open", spy)
    out = tmp_path / "fit"
    assert run(capsys, "fit", "--women", "1000", "--out", str(out))[0] == 0
    assert opened == ["calibration_fit.csv", "identifiability.csv", "calibration_fit.png"]
    assert {p.name for p in out.iterdir()} == {"calibration_fit.csv", "identifiability.csv", "calibration_fit.png"}
    assert (out / "calibration_fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- 8. messages name given options
@pytest.mark.parametrize(
    "argv",
    [
        ["fit", "--scenario", "england-triennial", "--women", "1000"],
        ["fit", "--calibration", "none", "--women", "1000"],
        ["run", "--posterior", "--calibration", "none"],
    ],
)
def test_an_error_starts_with_an_option_only_if_it_was_given(capsys, argv):
    rc, _, err = run(capsys, *argv)
    if rc == 0:
        assert err == ""
        return
    first = assert_one_line(rc, err).removeprefix("calcsim: error: ").split()[0].rstrip(":")
    assert not first.startswith("--") or first in argv, err


def test_an_impossible_incidence_is_one_line(capsys):
    """An incidence_scale that asks for more cancers than women at risk: exit 2, the field named, no traceback."""
    rc, _, err = run(capsys, "run", "--set", "cancer.incidence_scale=50", "--women", "500")
    assert_one_line(rc, err, "cancer.incidence_scale=50.0: ", "than there are women at risk", "allowed:")
