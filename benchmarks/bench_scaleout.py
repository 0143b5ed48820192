"""Benchmark scale-out: wall time and peak memory of one run, serial vs a local Dask cluster.

Run from the repository root::

    .venv/bin/python benchmarks/bench_scaleout.py                         # 10 M women, 1 and 2 workers
    .venv/bin/python benchmarks/bench_scaleout.py --women 1000000 --workers 1,2

Each worker count runs in a fresh child process (``--child`` mode), so its peak
memory (``VmHWM`` of ``/proc/self/status``) is its own. ``1`` is the serial run
(:func:`analysis.model.simulation.simulate` in the child); ``K > 1`` starts a
``LocalCluster`` of K worker processes (one thread each) from the child, runs
:func:`analysis.scaleout.simulate_distributed` and reads every worker's ``VmHWM``
with ``client.run``. The counts of every run are hashed and compared with the
serial run's. A JSON record goes to ``benchmarks/results/scaleout-<UTC date>.json``.
See ``benchmarks/README.md``.
"""

# One BLAS/OpenMP thread per process: must happen before numpy is loaded (Dask's
# worker processes get the same from distributed's ``pre-spawn-environ``).
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):  # run as a plain script from anywhere; bench_simulate next to it
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench_simulate import _proc_status_mib, machine_facts  # noqa: E402


def process_memory() -> dict[str, Any]:
    """This process's pid, peak RSS (``VmHWM``) and current RSS (``VmRSS``) in MiB.

    Top-level so that ``client.run`` can call it on every worker.
    """
    return {"pid": os.getpid(), "peak_rss_mib": _proc_status_mib("VmHWM"), "rss_mib": _proc_status_mib("VmRSS")}


def counts_digest(counts: Any) -> str:
    """SHA-256 of a count table (labels and integers): equal digests, identical counts."""
    h = hashlib.sha256()
    for col in ("stratum", "measure"):
        h.update("\x1f".join(map(str, counts[col])).encode())
    for col in ("numerator", "n"):
        h.update(counts[col].to_numpy(dtype="int64").tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------- one run (child)
def child_main(args: argparse.Namespace) -> None:
    """``--child``: one run with ``--workers K`` in this fresh process; print one JSON line."""
    import analysis.scaleout as scaleout
    from analysis.model.simulation import block_sizes, simulate
    from analysis.scenario import load_scenario

    workers = int(args.workers[0])
    if workers > 1:
        import distributed  # noqa: F401  (imported before the baseline figure, like numpy and pandas)
    rss_import = _proc_status_mib("VmRSS")
    out: dict[str, Any] = {
        "workers": workers,
        "women": args.women,
        "seed": args.seed,
        "blocks": len(block_sizes(args.women)),
        "rss_after_import_mib": rss_import,
    }
    t0 = time.perf_counter()
    s = load_scenario(args.scenario)
    if workers == 1:
        t1 = time.perf_counter()
        res = simulate(s, args.women, args.seed)
        t2 = time.perf_counter()
        t3 = time.perf_counter()
        out.update(mode="serial", chunks=None, worker_memory=[])
    else:
        with scaleout.dask_client(workers=workers) as client:
            t1 = time.perf_counter()
            threads = scaleout.client_threads(client)
            chunks = scaleout.chunk_blocks_for(out["blocks"], threads, args.chunk_blocks)
            res = scaleout.simulate_distributed(client, s, args.women, args.seed, chunk_blocks=args.chunk_blocks)
            t2 = time.perf_counter()
            worker_memory = sorted(client.run(process_memory).values(), key=lambda r: r["pid"])
        t3 = time.perf_counter()
        out.update(
            mode="LocalCluster",
            threads=threads,
            chunks=len(chunks),
            chunk_blocks=max(len(c) for c in chunks),
            worker_memory=worker_memory,
        )
    counts = res.counts
    row = counts[(counts["measure"] == "recall_rate") & (counts["stratum"] == "all")]
    screens = int(row["denominator_count"].iloc[0])
    wall = t3 - t0
    me = process_memory()
    out.update(
        {
            "screens": screens,
            "wall_s": wall,
            "setup_s": t1 - t0,
            "run_s": t2 - t1,
            "shutdown_s": t3 - t2,
            "screens_per_s": screens / wall,
            "run_screens_per_s": screens / (t2 - t1),
            "counts_sha256": counts_digest(counts),
            "scenario_hash": res.scenario_hash,
            "main_peak_rss_mib": me["peak_rss_mib"],
            "main_pid": me["pid"],
            "workers_peak_rss_mib": sum(w["peak_rss_mib"] or 0.0 for w in out["worker_memory"]),
        }
    )
    # Upper bound on the total resident peak (the processes' peaks need not coincide).
    out["total_peak_rss_mib"] = out["main_peak_rss_mib"] + out["workers_peak_rss_mib"]
    print(json.dumps(out))


# ----------------------------------------------------------------------------- parent
def _busy_cpu_s() -> float | None:
    """CPU seconds all processes of the machine have used since boot (``/proc/stat``, non-idle time)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    except (OSError, ValueError, IndexError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children and their descendants (the runs and their workers)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def wait_for_idle(max_wait_s: float, busy_cpus: float = 0.25, sample_s: float = 2.0) -> dict[str, Any]:
    """Wait (up to ``max_wait_s``) until the machine's other load drops below ``busy_cpus`` CPUs.

    On a shared machine other processes steal cores from a run (``other_cpu_s``); this
    waits for a quiet moment instead. Returns how long it waited and the last load seen.
    """
    t0 = time.perf_counter()
    load = None
    while True:
        b0 = _busy_cpu_s()
        if b0 is None:
            return {"waited_s": 0.0, "busy_cpus": None}
        time.sleep(sample_s)
        load = (_busy_cpu_s() - b0) / sample_s
        waited = time.perf_counter() - t0
        if load < busy_cpus or waited >= max_wait_s:
            return {"waited_s": waited, "busy_cpus": load}


def run_child(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--scenario",
        args.scenario,
        "--women",
        str(args.women),
        "--seed",
        str(args.seed),
        "--workers",
        str(workers),
    ]
    if args.chunk_blocks is not None:
        cmd += ["--chunk-blocks", str(args.chunk_blocks)]
    idle = wait_for_idle(args.wait_idle) if args.wait_idle > 0 else None
    print(f"  {args.women:,} women, {workers} worker(s), in a child process ...", file=sys.stderr)
    load_before = os.getloadavg()
    busy0, ours0 = _busy_cpu_s(), _children_cpu_s()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    busy1, ours1 = _busy_cpu_s(), _children_cpu_s()
    if proc.returncode != 0:
        raise SystemExit(f"child with {workers} worker(s) failed ({proc.returncode}):\n{proc.stderr}")
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    rec["process_s"] = elapsed
    # Other processes on the machine compete for the cores: the 1-minute load average, before and after.
    rec["loadavg_1min_before_after"] = [load_before[0], os.getloadavg()[0]]
    rec["wait_idle"] = idle
    rec["run_cpu_s"] = ours1 - ours0  # the child and its worker processes
    # CPU seconds used by everything else on the machine meanwhile (0 = the run had the machine to itself).
    rec["other_cpu_s"] = None if busy0 is None or busy1 is None else max(0.0, (busy1 - busy0) - (ours1 - ours0))
    rec["stderr_lines"] = len(proc.stderr.splitlines())  # cluster chatter that got through, if any
    return rec


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per worker count: best (shortest wall) run, median wall and run time, largest peaks."""
    out = []
    for k in dict.fromkeys(r["workers"] for r in runs):
        rs = [r for r in runs if r["workers"] == k]
        best = min(rs, key=lambda r: r["wall_s"])
        out.append(
            {
                "workers": k,
                "mode": best["mode"],
                "repeats": len(rs),
                "best": best,
                "wall_s_best": best["wall_s"],
                "wall_s_median": statistics.median(r["wall_s"] for r in rs),
                "run_s_best": min(r["run_s"] for r in rs),
                "run_s_median": statistics.median(r["run_s"] for r in rs),
                "main_peak_rss_mib_max": max(r["main_peak_rss_mib"] for r in rs),
                "worker_peak_rss_mib_max": max(
                    (w["peak_rss_mib"] for r in rs for w in r["worker_memory"]), default=None
                ),
                "total_peak_rss_mib_max": max(r["total_peak_rss_mib"] for r in rs),
                "other_cpu_s_of_best": best.get("other_cpu_s"),
            }
        )
    base = next((x for x in out if x["workers"] == 1), None)
    for x in out:
        x["speedup_wall_best"] = base["wall_s_best"] / x["wall_s_best"] if base else None
        x["speedup_run_best"] = base["run_s_best"] / x["run_s_best"] if base else None
    return out


def print_table(rec: dict[str, Any]) -> None:
    m = rec["machine"]
    print(
        f"\ncalcsim scale-out: {rec['scenario']}, {rec['women']:,} women, seed {rec['seed']}, "
        f"{rec['repeat']} run(s) each  ({rec['timestamp_utc']}, commit {m['git_commit']}"
        f"{' +dirty' if m['git_dirty'] else ''}, {m['cpu_count']} CPUs)"
    )
    print("\nruns (in order):")
    print(
        f"  {'workers':>7}{'wall s':>9}{'setup s':>9}{'run s':>8}{'close s':>9}{'M screens/s':>13}"
        f"{'main MiB':>10}{'workers MiB':>13}{'sum MiB':>9}{'other CPU s':>13}  identical"
    )
    for r in rec["runs"]:
        per = "+".join(f"{w['peak_rss_mib']:.0f}" for w in r["worker_memory"]) or "-"
        same = {True: "yes", False: "NO", None: "-"}[r.get("identical_to_serial")]
        other = r.get("other_cpu_s")
        print(
            f"  {r['workers']:>7}{r['wall_s']:>9.2f}{r['setup_s']:>9.2f}{r['run_s']:>8.2f}"
            f"{r['shutdown_s']:>9.2f}{r['screens_per_s'] / 1e6:>13.2f}"
            f"{r['main_peak_rss_mib']:>10.1f}{per:>13}{r['total_peak_rss_mib']:>9.1f}"
            f"{other if other is not None else float('nan'):>13.1f}  {same}"
        )
    print("\nsummary (best = shortest wall time; speed-up vs 1 worker):")
    print(
        f"  {'workers':>7}{'mode':>14}{'wall best':>11}{'wall median':>13}{'run best':>10}{'speed-up wall':>15}"
        f"{'speed-up run':>14}{'peak MiB sum':>14}"
    )
    for x in rec["summary"]:
        su, sr = x["speedup_wall_best"], x["speedup_run_best"]
        print(
            f"  {x['workers']:>7}{x['mode']:>14}{x['wall_s_best']:>11.2f}{x['wall_s_median']:>13.2f}"
            f"{x['run_s_best']:>10.2f}{su if su else float('nan'):>15.2f}{sr if sr else float('nan'):>14.2f}"
            f"{x['total_peak_rss_mib_max']:>14.1f}"
        )


def _workers(text: str) -> list[int]:
    try:
        ks = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated whole numbers") from None
    if not ks or any(k < 1 for k in ks):
        raise argparse.ArgumentTypeError(f"{text!r}: worker counts must be >= 1")
    return ks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--scenario", default="nl-biennial", help="scenario name or path")
    p.add_argument("--women", type=int, default=10_000_000, help="women in each run")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument(
        "--workers",
        type=_workers,
        default=[1, 2],
        help="comma-separated worker counts (1 = serial, K > 1 = LocalCluster of K processes)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per worker count, interleaved (1, 2, 1, 2, ...); best and median reported",
    )
    p.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        help="before each run, wait up to this many seconds for the machine's other load to drop "
        "below 0.25 CPU (shared machines)",
    )
    p.add_argument("--chunk-blocks", type=int, default=None, help="blocks per task (default: ~4 tasks per worker)")
    p.add_argument(
        "--out", type=Path, default=None, help="JSON output (default benchmarks/results/scaleout-<UTC date>.json)"
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.women < 1 or args.repeat < 1 or (args.chunk_blocks is not None and args.chunk_blocks < 1):
        p.error("--women, --repeat and --chunk-blocks must be >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    now = datetime.now(UTC)
    rec: dict[str, Any] = {
        "benchmark": "bench_scaleout",
        "scenario": args.scenario,
        "women": args.women,
        "seed": args.seed,
        "chunk_blocks": args.chunk_blocks,
        "repeat": args.repeat,
        "timestamp_utc": now.isoformat(timespec="seconds"),
        "machine": machine_facts(affinity),
    }
    try:
        import dask
        import distributed

        rec["machine"].update(dask=dask.__version__, distributed=distributed.__version__)
    except ImportError:
        pass
    rec["runs"] = [run_child(args, k) for _ in range(args.repeat) for k in args.workers]
    base = next((r for r in rec["runs"] if r["workers"] == 1), None)
    for r in rec["runs"]:
        r["identical_to_serial"] = None if base is None else r["counts_sha256"] == base["counts_sha256"]
    if len({r["scenario_hash"] for r in rec["runs"]}) > 1:  # the scenario's files changed during the benchmark
        raise SystemExit(f"scenario changed between runs: hashes {sorted({r['scenario_hash'] for r in rec['runs']})}")
    rec["summary"] = summarise(rec["runs"])
    out = args.out or HERE / "results" / f"scaleout-{now:%Y-%m-%d}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rec, indent=2) + "\n")
    print_table(rec)
    print(f"\nwritten: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if base is not None and not all(r["identical_to_serial"] for r in rec["runs"]):
        raise SystemExit("counts differ from the serial run")


if __name__ == "__main__":
    main()
