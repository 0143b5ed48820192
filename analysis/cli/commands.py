"""The ``calcsim`` commands that run or inspect one scenario: ``run``, ``compare``, ``calc-only``,
``scenarios``, ``check``, ``table``, ``report`` and ``teach``.

Each ``cmd_*`` takes the parsed arguments and returns the exit code; bad input raises
:class:`~analysis.errors.CalcsimInputError` (``main()`` turns it into one line and exit code 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from analysis.cli.shared import check_counts, dask_client_for, load_cli_scenario, prepare_out, run_results
from analysis.cli.summary import format_summary, women_text
from analysis.errors import CalcsimInputError
from analysis.io.atomic import atomic_write_text


def check_run_options(args: argparse.Namespace) -> None:
    """The checks of ``calcsim run`` that need no simulation (one :class:`CalcsimInputError` each)."""
    check_counts(args)
    if args.screens and args.out is None:
        raise CalcsimInputError("--screens: needs --out DIR to write screens.parquet into")
    if args.screens and (args.replicates > 1 or args.posterior):
        raise CalcsimInputError("--screens: not available with --replicates or --posterior (write one run's screens)")
    if args.posterior and args.replicates > 1:
        raise CalcsimInputError("--posterior: not combined with --replicates (choose one kind of uncertainty)")
    if args.posterior and args.calibration == "none":
        raise CalcsimInputError("--posterior: runs the accepted calibrated sets; it cannot be combined with"
                                " --calibration none")
    if args.cohort_data is not None and not args.cohort_data.exists():
        raise CalcsimInputError(f"--cohort-data: {str(args.cohort_data)!r}: file not found")
    from analysis.model.results import check_strata

    check_strata(args.by)


def write_run_outputs(out: Path, results, doc: dict) -> None:
    """``estimates.csv`` (with a ``women`` column) and ``run.json`` in ``out``, each written atomically."""
    pooled = getattr(results, "pooled", results)
    table = results.estimates()
    table.insert(table.columns.get_loc("calibration") + 1, "women", pooled.women)
    atomic_write_text(out / "estimates.csv", table.to_csv(index=False))
    atomic_write_text(out / "run.json", json.dumps(doc, indent=2) + "\n")


def cmd_run(args: argparse.Namespace) -> int:
    """``calcsim run``."""
    scenario = load_cli_scenario(args, args.scenario)
    check_run_options(args)
    if args.out is not None:
        prepare_out(args.out)
    screens_tmp = None
    if args.screens:
        fd, screens_tmp = tempfile.mkstemp(dir=args.out, prefix=".screens.", suffix=".parquet.tmp")
        os.close(fd)
    try:
        with dask_client_for(args) as client:
            results = run_results(args, scenario, screens_path=screens_tmp,
                                  progress=sys.stderr.isatty() and not args.json, client=client)
        doc = results.to_json_dict()
        if args.out is not None:
            write_run_outputs(args.out, results, doc)
            if screens_tmp is not None:
                os.replace(screens_tmp, args.out / "screens.parquet")
                screens_tmp = None
    finally:
        if screens_tmp is not None:
            Path(screens_tmp).unlink(missing_ok=True)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(format_summary(results))
        if args.out is not None:
            print(f"\nwritten: {args.out / 'estimates.csv'}, {args.out / 'run.json'}"
                  + (f", {args.out / 'screens.parquet'}" if args.screens else ""))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``calcsim compare A B``."""
    from analysis.model.results import check_strata
    from analysis.stats.uncertainty import compare

    check_counts(args)
    check_strata(args.by)
    a = load_cli_scenario(args, args.scenario_a, option="scenario A")
    b = load_cli_scenario(args, args.scenario_b, option="scenario B")
    if args.out is not None:
        prepare_out(args.out)
    df = compare(a, b, args.women, args.seed, by=args.by, progress=sys.stderr.isatty() and not args.json)
    if args.out is not None:
        atomic_write_text(args.out / "comparison.csv", df.to_csv(index=False))
    if args.json:
        print(json.dumps({"a": a.name, "b": b.name, "a_hash": a.hash, "b_hash": b.hash, "seed": args.seed,
                          "women": args.women, "interval": df.attrs["interval"],
                          "differences": json.loads(df.to_json(orient="records"))}, indent=2))
        return 0
    print(f"{a.name} ({a.hash}) minus {b.name} ({b.hash}) | same {args.women:,} women, seed {args.seed}")
    print(f"Intervals: {df.attrs['interval']}. se_unpaired shows what ignoring the pairing would give.\n")
    header = f"{'measure':<36} {'stratum':<24} {'A':>10} {'B':>10} {'A - B':>10} {'95% interval':>24}"
    print(header)
    print("-" * len(header))
    for r in df.itertuples(index=False):
        print(f"{r.measure:<36} {r.stratum:<24} {r.estimate_a:>10.4g} {r.estimate_b:>10.4g} "
              f"{r.difference:>10.4g} {f'{r.lower:.4g} to {r.upper:.4g}':>24}")
    return 0


def cmd_calc_only(args: argparse.Namespace) -> int:
    """``calcsim calc-only``: the 12.7-41.2% question."""
    from analysis.stats.question import calc_only_question, format_question

    scenario = load_cli_scenario(args, args.scenario)
    check_counts(args)
    args.by, args.cohort_data = [], None
    with dask_client_for(args) as client:
        results = run_results(args, scenario, progress=sys.stderr.isatty() and not args.json, client=client)
    q = calc_only_question(results)
    if args.json:
        print(json.dumps({**q.attrs, "rows": json.loads(q.to_json(orient="records"))}, indent=2))
        return 0
    # format_question names the pooled total; replicates are shown as R × women per replicate
    total = f"{getattr(results, 'pooled', results).women:,} women"
    heading, newline, rest = format_question(q).partition("\n")
    print(heading.replace(total, women_text(results), 1) + newline + rest)
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    """``calcsim scenarios``."""
    from analysis.scenario import list_scenarios, load_scenario

    for name in list_scenarios():
        s = load_scenario(name)
        pg = s.programme
        print(f"{name:<20} {s.description}  [ages {pg.start_age_years:g}-{pg.stop_age_years:g}, "
              f"every {pg.interval_years:g} y, {s.reading.readers} reader(s), hash {s.hash}]")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """``calcsim check FILE``."""
    from analysis.scenario import references, undocumented_sources

    s = load_cli_scenario(args, args.file, option="check")
    missing = undocumented_sources(s, references())
    if missing:
        raise CalcsimInputError(f"{s.origin}: source: {missing[0]!r}: not a key of data/references.toml")
    counts = s.parameter_table()["status"].value_counts().to_dict()
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(f"{s.origin}: ok — scenario {s.name} ({s.hash}); parameters: {summary}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    """``calcsim table reading|parameters``."""
    import pandas as pd

    from analysis.model.programme import reading_table

    s = load_cli_scenario(args, args.scenario)
    df = reading_table(s) if args.which == "reading" else s.parameter_table()
    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.max_colwidth", 60):
        print(df.to_string(index=False))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``calcsim report``: execute the notebooks, write standalone HTML and an index."""
    from analysis.report import build_report

    check_counts(args)
    out = build_report(args.out, women=args.women, seed=args.seed, notebooks_dir=args.notebooks,
                       notebooks=args.only, progress=sys.stderr.isatty(), kernel_name=args.kernel)
    print(out / "index.html")
    return 0


def cmd_teach(args: argparse.Namespace) -> int:
    """``calcsim teach export``: one synthetic dataset per student and the instructor key."""
    from analysis.teach import export_coursework

    out = export_coursework(args.dir, args.students, args.seed, women=args.women, scenario=args.scenario,
                            overwrite=args.overwrite, progress=sys.stderr.isatty())
    print(out)
    return 0
