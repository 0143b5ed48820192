"""Calibration throughput: draws per minute, serial and on a local Dask cluster.

    .venv/bin/python benchmarks/bench_calibration.py [--scenario nl-biennial] [--draws 48] [--women 30000]

Each draw simulates ``--women`` women and scores them against the scenario's targets;
the calibration is written to a temporary folder (the shipped files are untouched).
Writes ``benchmarks/results/calibration-<UTC date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from analysis.calibration.abc import calibrate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="nl-biennial")
    ap.add_argument("--draws", type=int, default=48)
    ap.add_argument("--women", type=int, default=30_000)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (1 = serial)")
    args = ap.parse_args()
    rows = []
    for workers in (int(w) for w in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            if workers == 1:
                calibrate(args.scenario, draws=args.draws, women=args.women, out_dir=tmp)
            else:
                from analysis.scaleout import dask_client, map_parameter_sets

                with dask_client(workers=workers) as client:
                    calibrate(
                        args.scenario,
                        draws=args.draws,
                        women=args.women,
                        out_dir=tmp,
                        map_fn=lambda fn, items, c=client: map_parameter_sets(c, fn, items),
                    )
            wall = time.perf_counter() - start
        rows.append(
            {
                "workers": workers,
                "draws": args.draws,
                "women_per_draw": args.women,
                "wall_s": round(wall, 2),
                "draws_per_minute": round(60 * args.draws / wall, 1),
            }
        )
        print(
            f"{workers} worker(s): {args.draws} draws of {args.women:,} women in {wall:.1f} s "
            f"= {60 * args.draws / wall:.0f} draws/minute"
        )
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    record = {
        "scenario": args.scenario,
        "commit": commit,
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": rows,
    }
    out = Path(__file__).parent / "results" / f"calibration-{dt.datetime.now(dt.UTC):%Y-%m-%d}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {out}")


if __name__ == "__main__":
    main()
