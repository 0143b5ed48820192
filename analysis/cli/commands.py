"""The ``calcsim`` commands that run or inspect one scenario: ``run``, ``compare``, ``calc-only``,
``scenarios``, ``check``, ``table``, ``report`` and ``teach``.

Each ``cmd_*`` takes the parsed arguments and returns the exit code; bad input raises
:class:`~analysis.errors.CalcsimInputError` (``main()`` turns it into one line and exit code 2).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from analysis.cli.shared import (
    check_counts,
    dask_client_for,
    load_cli_scenario,
    out_error,
    out_writes,
    prepare_out,
    progress_mode,
    run_results,
    write_outputs,
)
from analysis.cli.summary import format_summary, women_text
from analysis.errors import ArgumentError, CalcsimInputError
from analysis.io.atomic import AtomicGroup, fill

#: What ``calcsim run --out`` writes, and the temporary name the screens file had before it was written through
#: :class:`~analysis.io.atomic.AtomicGroup` (``.screens.<8 characters>.parquet.tmp``), which a killed run may have left.
RUN_OUTPUTS = ("estimates.csv", "run.json", "screens.parquet")
OLD_SCREENS_TEMPORARY = re.compile(r"\.screens\.[a-z0-9_]{8}\.parquet\.tmp")


def check_run_options(args: argparse.Namespace, scenario=None) -> None:
    """The checks of ``calcsim run`` that need no simulation (one :class:`CalcsimInputError` each).

    With the ``scenario``, a ``--screens`` table that cannot fit is refused here, before ``--out`` is created.
    """
    check_counts(args)
    if args.screens and args.out is None:
        raise CalcsimInputError("--screens: needs --out DIR to write screens.parquet into")
    if args.screens and (args.replicates > 1 or args.posterior):
        raise CalcsimInputError("--screens: not available with --replicates or --posterior (write one run's screens)")
    if args.posterior and args.replicates > 1:
        raise CalcsimInputError("--posterior: not combined with --replicates (choose one kind of uncertainty)")
    if getattr(args, "no_screening", False):
        if args.screens:
            raise CalcsimInputError("--screens: a run with --no-screening has no screens to write")
        if args.replicates > 1 or args.posterior:
            raise CalcsimInputError(
                "--no-screening: runs one simulation; not combined with --replicates or --posterior"
            )
    if args.posterior and args.calibration == "none":
        raise CalcsimInputError(
            "--posterior: runs the accepted calibrated sets; it cannot be combined with --calibration none"
        )
    if args.cohort_data is not None and not args.cohort_data.exists():
        raise CalcsimInputError(f"--cohort-data: {str(args.cohort_data)!r}: file not found")
    from analysis.model.results import check_strata

    check_strata(args.by)
    if args.screens and scenario is not None:
        from analysis.model.simulation import check_capacity

        check_capacity(scenario, args.women, screens_path=args.out / "screens.parquet")


def estimates_csv(results) -> str:
    """``estimates.csv``: the estimates with a ``women`` column after ``calibration``."""
    pooled = getattr(results, "pooled", results)
    table = results.estimates()
    table.insert(table.columns.get_loc("calibration") + 1, "women", pooled.women)
    return table.to_csv(index=False)


def run_into_out(args: argparse.Namespace, scenario):
    """``calcsim run --out``: the run, with its files written together (:class:`AtomicGroup`) or not at all.

    ``screens.parquet`` is streamed into its temporary file during the run; ``estimates.csv`` and
    ``run.json`` follow; then all are renamed into place. A failed, refused or interrupted run leaves
    none of them (and the files of an earlier run as they were).
    """
    out = args.out
    prepare_out(out, RUN_OUTPUTS, (OLD_SCREENS_TEMPORARY,))
    names = list(RUN_OUTPUTS if args.screens else RUN_OUTPUTS[:2])
    group = AtomicGroup([out / n for n in names])
    try:
        with out_writes(out, ", ".join(names)):
            tmp = dict(zip(names, group.open(), strict=True))
        try:
            with dask_client_for(args) as client:
                results = run_or_counterfactual(
                    args, scenario, screens_path=tmp.get("screens.parquet"), progress=progress_mode(args), client=client
                )
        except ArgumentError as exc:
            if exc.argument != "screens_path":
                raise
            raise out_error(out, "screens.parquet", exc.allowed) from None
        with out_writes(out, "estimates.csv, run.json"):
            fill(tmp["estimates.csv"], estimates_csv(results).encode("utf-8"))
            fill(tmp["run.json"], (json.dumps(results.to_json_dict(), indent=2) + "\n").encode("utf-8"))
            group.commit()
    finally:
        group.abort()
    return results


def run_or_counterfactual(args: argparse.Namespace, scenario, screens_path=None, progress=False, client=None):
    """The results of ``calcsim run``: :func:`run_results`, or with ``--no-screening`` one run without the programme."""
    if not getattr(args, "no_screening", False):
        return run_results(args, scenario, screens_path=screens_path, progress=progress, client=client)
    cohort_data = getattr(args, "cohort_data", None)
    if client is not None:
        from analysis.scaleout import simulate_distributed

        return simulate_distributed(
            client,
            scenario,
            args.women,
            args.seed,
            by=args.by,
            cohort_data=cohort_data,
            progress=progress,
            screening=False,
        )
    from analysis.model.simulation import simulate

    return simulate(
        scenario, args.women, args.seed, by=args.by, cohort_data=cohort_data, progress=progress, screening=False
    )


def cmd_run(args: argparse.Namespace) -> int:
    """``calcsim run``."""
    scenario = load_cli_scenario(args, args.scenario)
    check_run_options(args, scenario)
    if args.out is not None:
        results = run_into_out(args, scenario)
    else:
        with dask_client_for(args) as client:
            results = run_or_counterfactual(args, scenario, progress=progress_mode(args), client=client)
    doc = results.to_json_dict()
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(format_summary(results))
        if args.out is not None:
            print(
                f"\nwritten: {args.out / 'estimates.csv'}, {args.out / 'run.json'}"
                + (f", {args.out / 'screens.parquet'}" if args.screens else "")
            )
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``calcsim compare A B``."""
    from analysis.model.results import check_strata
    from analysis.stats.uncertainty import compare

    check_counts(args)
    check_strata(args.by)
    if args.calibration not in ("shipped", "none"):
        raise CalcsimInputError(
            f"--calibration: {args.calibration!r}: compare takes 'shipped' or 'none' (a calibration file belongs to"
            " one scenario; to compare your own calibration, write a scenario file per side or use the Python API)"
        )
    a = load_cli_scenario(args, args.scenario_a, option="scenario A")
    b = load_cli_scenario(args, args.scenario_b, option="scenario B")
    if args.out is not None:
        prepare_out(args.out, ["comparison.csv"])
    df = compare(a, b, args.women, args.seed, by=args.by, progress=progress_mode(args) is True)
    if args.out is not None:
        write_outputs(args.out, {"comparison.csv": df.to_csv(index=False)})
    if args.json:
        print(
            json.dumps(
                {
                    "a": a.name,
                    "b": b.name,
                    "a_hash": a.hash,
                    "b_hash": b.hash,
                    "a_calibration": a.calibration_label,
                    "b_calibration": b.calibration_label,
                    "seed": args.seed,
                    "women": args.women,
                    "interval": df.attrs["interval"],
                    "differences": json.loads(df.to_json(orient="records")),
                },
                indent=2,
            )
        )
        return 0
    print(f"{a.name} ({a.hash}) minus {b.name} ({b.hash}) | same {args.women:,} women, seed {args.seed}")
    print(f"Calibration: A {a.calibration_label}; B {b.calibration_label}")
    print(f"Intervals: {df.attrs['interval']}. se_unpaired shows what ignoring the pairing would give.\n")
    header = f"{'measure':<36} {'stratum':<24} {'A':>10} {'B':>10} {'A - B':>10} {'95% interval':>24}"
    print(header)
    print("-" * len(header))
    for r in df.itertuples(index=False):
        print(
            f"{r.measure:<36} {r.stratum:<24} {r.estimate_a:>10.4g} {r.estimate_b:>10.4g} "
            f"{r.difference:>10.4g} {f'{r.lower:.4g} to {r.upper:.4g}':>24}"
        )
    return 0


def cmd_calc_only(args: argparse.Namespace) -> int:
    """``calcsim calc-only``: the 12.7-41.2% question."""
    from analysis.stats.question import calc_only_question, format_question

    scenario = load_cli_scenario(args, args.scenario)
    check_counts(args)
    args.by, args.cohort_data = [], None
    with dask_client_for(args) as client:
        results = run_results(args, scenario, progress=progress_mode(args), client=client)
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
        try:
            s, note = load_scenario(name), ""
        except CalcsimInputError as exc:  # e.g. a stale shipped calibration: still list the scenario, say why
            s, note = load_scenario(name, calibration=None), f"  (shipped calibration refused: {exc})"
        pg = s.programme
        print(
            f"{name:<20} {s.description}  [ages {pg.start_age_years:g}-{pg.stop_age_years:g}, "
            f"every {pg.interval_years:g} y, {s.reading.readers} reader(s), hash {s.hash}]{note}"
        )
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
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
        print(df.to_string(index=False))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``calcsim report``: execute the notebooks, write standalone HTML and an index."""
    from analysis.report import build_report

    check_counts(args)
    out = build_report(
        args.out,
        women=args.women,
        seed=args.seed,
        notebooks_dir=args.notebooks,
        notebooks=args.only,
        progress=True,
        kernel_name=args.kernel,
    )  # bars, or plain lines
    print(out / "index.html")
    return 0


def cmd_teach(args: argparse.Namespace) -> int:
    """``calcsim teach export`` (a course folder) and ``calcsim teach grade`` (a grades table)."""
    if args.teach_command == "grade":
        from analysis.teach.grading import grade_submissions

        grades = grade_submissions(
            args.submissions, args.course, args.out, overwrite=args.overwrite, progress=sys.stderr.isatty()
        )
        for line in grades.attrs.get("skipped", []):
            print(f"not graded: {line}", file=sys.stderr)
        print(Path(args.out).absolute() / "grades.csv")
        return 0
    from analysis.teach import export_coursework

    out = export_coursework(
        args.dir,
        args.students,
        args.seed,
        women=args.women,
        scenario=args.scenario,
        overwrite=args.overwrite,
        progress=sys.stderr.isatty(),
    )
    print(out)
    return 0
