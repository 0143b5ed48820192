"""Benchmark the calcsim simulator: throughput, peak memory and a profile.

Run from the repository root::

    .venv/bin/python benchmarks/bench_simulate.py                      # throughput + memory
    .venv/bin/python benchmarks/bench_simulate.py --repeat 2 --memory-sizes 1000000
    .venv/bin/python benchmarks/bench_simulate.py --profile            # where the time goes

Throughput runs in this process on one core (BLAS/OpenMP threads set to 1 below,
before numpy is imported, and the process pinned to one CPU unless ``--no-pin``).
Peak memory is measured per size in a fresh child process (``--child`` mode), so
one size's allocations do not leak into the next one's figure. A JSON record goes
to ``benchmarks/results/<scenario>-<UTC date>.json``. See ``benchmarks/README.md``.
"""

# One core: must happen before numpy (or anything that imports it) is loaded.
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
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
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

#: Targets (see README.md).
TARGET_SCREENS_PER_S = 5_000_000
TARGET_PEAK_MIB_10M = 1.5 * 1024
MIB_PER_KIB = 1 / 1024


def _maxrss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """``ru_maxrss`` in MiB (KiB on Linux).

    Caution: Linux carries the parent's high-water mark over fork + exec into the
    child's ``ru_maxrss`` (and so into the parent's ``RUSAGE_CHILDREN``): a child
    started from a 500 MiB parent reports >= 500 MiB. Hence :func:`_proc_status_mib`.
    """
    return resource.getrusage(who).ru_maxrss * MIB_PER_KIB


def _proc_status_mib(field: str) -> float | None:
    """``VmHWM`` (peak RSS of this process image, reset at exec) or ``VmRSS`` in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * MIB_PER_KIB  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _peak_mib() -> tuple[float, str]:
    """This process's peak RSS in MiB and where the figure came from."""
    hwm = _proc_status_mib("VmHWM")
    return (hwm, "VmHWM") if hwm is not None else (_maxrss_mib(), "ru_maxrss")


# ----------------------------------------------------------------------------- one run
def timed_run(scenario: str, women: int, seed: int) -> dict[str, Any]:
    """One full simulation, timed in phases; screens counted from the estimates."""
    from analysis.model.simulation import block_sizes, build_model, simulate
    from analysis.scenario import load_scenario

    t0 = time.perf_counter()
    s = load_scenario(scenario)
    t1 = time.perf_counter()
    model = build_model(s)
    t2 = time.perf_counter()
    res = simulate(s, women, seed, model=model)
    t3 = time.perf_counter()
    est = res.estimates()
    t4 = time.perf_counter()
    row = est[(est["measure"] == "recall_rate") & (est["stratum"] == "all")]
    screens = int(row["denominator_count"].iloc[0])
    wall = t4 - t0
    loop = t3 - t2
    return {
        "women": women,
        "blocks": len(block_sizes(women)),
        "screens": screens,
        "wall_s": wall,
        "load_scenario_s": t1 - t0,
        "build_model_s": t2 - t1,
        "block_loop_s": loop,
        "estimates_s": t4 - t3,
        "screens_per_s": screens / wall,
        "women_per_s": women / wall,
        "loop_screens_per_s": screens / loop,
        "loop_women_per_s": women / loop,
        "recall_rate": float(row["estimate"].iloc[0]),
    }


def child_main(args: argparse.Namespace) -> None:
    """``--child``: one run in a fresh process; print one JSON line with its peak RSS."""
    import numpy  # noqa: F401  (baseline: interpreter + numpy/pandas/statsmodels)

    import analysis.model.simulation  # noqa: F401

    base, _ = _peak_mib()
    rss_import = _proc_status_mib("VmRSS")
    out = timed_run(args.scenario, args.women, args.seed)
    out["peak_rss_mib"], out["peak_rss_source"] = _peak_mib()
    out["peak_rss_after_import_mib"] = base
    out["rss_after_import_mib"] = rss_import
    out["ru_maxrss_mib"] = _maxrss_mib()  # may include the parent's peak (see _maxrss_mib)
    print(json.dumps(out))


# ----------------------------------------------------------------------------- parts
def measure_throughput(args: argparse.Namespace) -> dict[str, Any]:
    """``--repeat`` timed runs in this process; best and median of each figure."""
    if not args.no_warmup:  # first-call imports (tqdm, statsmodels internals) and caches
        from analysis.model.streams import BLOCK_SIZE

        timed_run(args.scenario, BLOCK_SIZE, args.seed)
    runs = []
    for i in range(args.repeat):
        r = timed_run(args.scenario, args.women, args.seed)
        runs.append(r)
        print(
            f"  run {i + 1}/{args.repeat}: {r['wall_s']:.3f} s, {r['screens_per_s'] / 1e6:.3f} M screens/s",
            file=sys.stderr,
        )
    best = min(runs, key=lambda r: r["wall_s"])

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    median = {
        k: med(k)
        for k in (
            "wall_s",
            "build_model_s",
            "block_loop_s",
            "estimates_s",
            "load_scenario_s",
            "screens_per_s",
            "women_per_s",
            "loop_screens_per_s",
            "loop_women_per_s",
        )
    }
    return {
        "women": args.women,
        "seed": args.seed,
        "repeat": args.repeat,
        "screens": best["screens"],
        "blocks": best["blocks"],
        "best": best,
        "median": median,
        "runs": runs,
        "meets_target": best["screens_per_s"] >= TARGET_SCREENS_PER_S,
    }


def measure_memory(args: argparse.Namespace, sizes: list[int]) -> list[dict[str, Any]]:
    """Peak RSS per size, each in a fresh child process running this script."""
    out = []
    for n in sizes:
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "--scenario",
            args.scenario,
            "--women",
            str(n),
            "--seed",
            str(args.seed),
        ]
        print(f"  memory: {n:,} women in a child process ...", file=sys.stderr)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"child for {n} women failed ({proc.returncode}):\n{proc.stderr}")
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
        rec["process_s"] = elapsed
        if n == 10_000_000:
            rec["meets_target"] = rec["peak_rss_mib"] < TARGET_PEAK_MIB_10M
        out.append(rec)
    return out


def run_profile(args: argparse.Namespace) -> None:
    """Run ``--profile-women`` women under cProfile; print the top functions."""
    from analysis.model.simulation import simulate

    simulate(args.scenario, 1000, args.seed)  # warm-up: imports out of the profile
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    res = simulate(args.scenario, args.profile_women, args.seed)
    prof.disable()
    wall = time.perf_counter() - t0
    e = res.estimates()
    screens = int(e.loc[(e["measure"] == "recall_rate") & (e["stratum"] == "all"), "denominator_count"].iloc[0])
    print(
        f"profile: {args.scenario}, {args.profile_women:,} women, {screens:,} screens, "
        f"{wall:.2f} s under cProfile (profiling overhead included)"
    )
    if args.profile_out:
        prof.dump_stats(args.profile_out)
        print(f"stats written to {args.profile_out} (open with snakeviz or pstats)")
    for key, title in (("cumulative", "cumulative time"), ("tottime", "total (own) time")):
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key)
        stats.print_stats(args.profile_top)
        text = buf.getvalue()
        start = text.find("   ncalls")  # drop pstats' preamble, keep the table
        print(f"\n=== top {args.profile_top} by {title} ===")
        print(text[start:].rstrip() if start >= 0 else text.rstrip())


# ----------------------------------------------------------------------------- facts
def _git(*cmd: str) -> str | None:
    try:
        p = subprocess.run(["git", *cmd], capture_output=True, text=True, cwd=ROOT, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.rstrip() if p.returncode == 0 else None  # keep porcelain's leading " M"


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_facts(affinity_before_pin: list[int] | None) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    import analysis

    try:
        mem_total_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        mem_total_mib = None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "calcsim": analysis.__version__,
        "cpu_count": os.cpu_count(),
        "sched_getaffinity": affinity_before_pin,
        "mem_total_mib": mem_total_mib,
        "threads_env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        # Uncommitted edits to tracked files: the figures describe HEAD plus these.
        "git_dirty_files": None if status is None else [ln[3:] for ln in status.splitlines()],
    }


# ----------------------------------------------------------------------------- report
def print_table(rec: dict[str, Any]) -> None:
    m = rec["machine"]
    print(
        f"\ncalcsim benchmark: {rec['scenario']}  ({rec['timestamp_utc']}, commit {m['git_commit']}"
        f"{' +dirty' if m['git_dirty'] else ''}, {m['cpu_count']} CPUs, pinned to {rec['pinned_cpu']})"
    )
    t = rec.get("throughput")
    if t:
        b, md = t["best"], t["median"]
        print(f"\nthroughput: {t['women']:,} women, {t['screens']:,} screens, {t['blocks']} blocks, {t['repeat']} runs")
        print(f"  {'':28}{'best':>14}{'median':>14}")
        rows = [
            ("wall time (s)", "wall_s", 3),
            ("  load_scenario (s)", "load_scenario_s", 3),
            ("  build_model (s)", "build_model_s", 3),
            ("  block loop (s)", "block_loop_s", 3),
            ("  estimates (s)", "estimates_s", 3),
        ]
        for label, key, nd in rows:
            print(f"  {label:28}{b[key]:>14.{nd}f}{md[key]:>14.{nd}f}")
        for label, key in (
            ("screens/s (wall)", "screens_per_s"),
            ("women/s (wall)", "women_per_s"),
            ("screens/s (block loop)", "loop_screens_per_s"),
            ("women/s (block loop)", "loop_women_per_s"),
        ):
            print(f"  {label:28}{b[key]:>14,.0f}{md[key]:>14,.0f}")
        verdict = "MET" if t["meets_target"] else "NOT MET"
        print(f"  target >= {TARGET_SCREENS_PER_S:,} screens/s (best, wall): {verdict}")
    mem = rec.get("memory")
    if mem:
        print("\npeak memory (fresh child process per size):")
        print(f"  {'women':>12}{'screens':>14}{'peak RSS MiB':>14}{'RSS after import':>18}{'wall s':>9}")
        for r in mem:
            imp = r["rss_after_import_mib"]
            print(
                f"  {r['women']:>12,}{r['screens']:>14,}{r['peak_rss_mib']:>14.1f}"
                f"{imp if imp is not None else float('nan'):>18.1f}{r['wall_s']:>9.1f}"
            )
            if "meets_target" in r:
                verdict = "MET" if r["meets_target"] else "NOT MET"
                print(f"  target < {TARGET_PEAK_MIB_10M:.0f} MiB at 10 M women: {verdict}")


# ----------------------------------------------------------------------------- main
def _sizes(text: str) -> list[int]:
    text = text.strip()
    if not text:
        return []
    try:
        sizes = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated whole numbers") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be >= 1")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--scenario", default="nl-biennial", help="scenario name or path")
    p.add_argument("--women", type=int, default=1_000_000, help="women in each throughput run")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--repeat", type=int, default=3, help="throughput runs (best and median reported)")
    p.add_argument(
        "--memory-sizes",
        type=_sizes,
        default=[1_000_000, 10_000_000],
        help="comma-separated cohort sizes for peak memory ('' to skip)",
    )
    p.add_argument("--skip-throughput", action="store_true", help="only measure memory")
    p.add_argument("--no-warmup", action="store_true", help="no untimed one-block run first")
    p.add_argument("--no-pin", action="store_true", help="do not pin this process to one CPU")
    p.add_argument(
        "--out", type=Path, default=None, help="JSON output (default benchmarks/results/<scenario>-<UTC date>.json)"
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="only profile a --profile-women run under cProfile and print the top functions",
    )
    p.add_argument("--profile-women", type=int, default=200_000)
    p.add_argument("--profile-top", type=int, default=25)
    p.add_argument("--profile-out", type=Path, default=None, help="also dump the pstats file here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.women < 1 or args.repeat < 1 or args.profile_women < 1:
        p.error("--women, --repeat and --profile-women must be >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    pinned = None
    if not args.no_pin and affinity:
        pinned = affinity[0]
        os.sched_setaffinity(0, {pinned})  # children inherit the pin: memory runs are one-core too
    if args.profile:
        run_profile(args)
        return
    now = datetime.now(UTC)
    rec: dict[str, Any] = {
        "benchmark": "bench_simulate",
        "scenario": args.scenario,
        "timestamp_utc": now.isoformat(timespec="seconds"),
        "pinned_cpu": pinned,
        "machine": machine_facts(affinity),
        "targets": {"screens_per_s_1M_one_core": TARGET_SCREENS_PER_S, "peak_rss_mib_10M": TARGET_PEAK_MIB_10M},
    }
    if not args.skip_throughput:
        print(f"throughput: {args.scenario}, {args.women:,} women x {args.repeat} ...", file=sys.stderr)
        rec["throughput"] = measure_throughput(args)
    if args.memory_sizes:
        rec["memory"] = measure_memory(args, args.memory_sizes)
    out = args.out or HERE / "results" / f"{Path(args.scenario).stem}-{now:%Y-%m-%d}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rec, indent=2) + "\n")
    print_table(rec)
    print(f"\nwritten: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
