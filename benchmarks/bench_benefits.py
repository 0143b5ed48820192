"""Benchmark the benefits-and-harms runs: a lifetime run (screened + unscreened) and a strategy frontier.

Run from the repository root::

    .venv/bin/python benchmarks/bench_benefits.py                       # 1 M women, then 20 strategies x 200k
    .venv/bin/python benchmarks/bench_benefits.py --women 200000 --frontier-women 50000

Each case runs in a fresh child process (``--child``), one core (BLAS threads 1), and reports its wall time
and peak resident memory (``VmHWM``). A JSON record goes to ``benchmarks/results/benefits-<UTC date>.json``.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _peak_mib() -> float | None:
    """Peak resident memory of this process (``VmHWM``, MiB)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def child(case: str, scenario: str, women: int, seed: int) -> dict:
    """One case in this process: its wall time, peak memory and a few figures of the result."""
    from analysis import load_scenario
    from analysis.scenario.strategies import load_strategies
    from analysis.stats.harms_benefits import harms_benefits

    s = load_scenario(scenario)
    grid = load_strategies() if case == "frontier" else []
    t0 = time.perf_counter()
    r = harms_benefits(s, women, seed, grid)
    wall = time.perf_counter() - t0
    runs = 1 + len(grid)
    return {
        "case": case,
        "scenario": scenario,
        "women": women,
        "strategies": runs,
        "wall_s": round(wall, 2),
        "women_strategy_runs_per_s": round(women * runs / wall),
        "peak_mib": _peak_mib(),
        "deaths_averted_per_1000_screened": r.estimate("bc_deaths_averted_per_1000_screened"),
        "efficient_strategies": int(r.wide()["efficient_screens"].sum()) if grid else None,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="nl-biennial")
    p.add_argument("--women", type=int, default=1_000_000, help="women of the lifetime run (default: 1,000,000)")
    p.add_argument("--frontier-women", type=int, default=200_000, help="women per strategy of the frontier")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--child", nargs=2, metavar=("CASE", "WOMEN"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], a.scenario, int(a.child[1]), a.seed)))
        return
    records = []
    for case, women in (("lifetime", a.women), ("frontier", a.frontier_women)):
        cmd = [sys.executable, __file__, "--scenario", a.scenario, "--seed", str(a.seed), "--child", case, str(women)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        rec = json.loads(out.strip().splitlines()[-1])
        records.append(rec)
        print(
            f"{case}: {rec['women']:,} women x {rec['strategies']} strategies in {rec['wall_s']:.1f} s "
            f"({rec['women_strategy_runs_per_s']:,} woman-strategy runs/s), peak {rec['peak_mib']:.0f} MiB"
        )
    doc = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "records": records,
    }
    path = HERE / "results" / f"benefits-{datetime.now(UTC):%Y-%m-%d}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"written: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
