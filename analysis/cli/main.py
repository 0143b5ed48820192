"""The ``calcsim`` command line.

``calcsim run`` simulates a scenario and prints a summary table (or JSON);
``calcsim scenarios`` lists the shipped scenarios; ``calcsim check FILE``
validates a scenario file; ``calcsim table reading`` prints a reading table.
Bad input is one line on stderr and exit code 2; outputs are written atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analysis import __version__
from analysis.errors import ArgumentError, CalcsimInputError, check_seed, check_women
from analysis.io.atomic import atomic_write_text

EXIT_INPUT = 2


def _add_calibration_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--calibration", default="shipped", metavar="shipped|none|PATH",
                   help="calibrated values to apply: 'shipped' (data/calibration, the default), 'none' (the values"
                        " written in the scenario files) or the path of a file written by calcsim calibrate --out")


def _add_scenario_args(p: argparse.ArgumentParser, default: str = "nl-biennial") -> None:
    p.add_argument("--scenario", default=default,
                   help=f"shipped scenario name or path to a TOML file (default: {default})")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter, e.g. --set programme.interval_years=3 (repeatable)")
    _add_calibration_arg(p)


def _add_scaleout_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=1, metavar="K",
                   help="run on a local Dask cluster of K worker processes (default 1: serial)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask scheduler, e.g. tcp://host:8786")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="calcsim",
        description="Breast-screening microsimulation with calcification states.")
    parser.add_argument("--version", action="version", version=f"calcsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a scenario and report every measure")
    _add_scenario_args(run)
    run.add_argument("--women", type=int, default=100_000, help="women in the cohort (default 100000)")
    run.add_argument("--seed", type=int, default=2026, help="run seed (default 2026)")
    run.add_argument("--out", type=Path, help="write estimates.csv and run.json into this folder")
    run.add_argument("--screens", action="store_true",
                     help="with --out, also write screens.parquet (one row per screen)")
    run.add_argument("--json", action="store_true", help="print the estimates as JSON on stdout")
    run.add_argument("--by", action="append", default=[], metavar="COLUMN",
                     help="stratify by a column (repeatable): round, age_group, menopause, "
                          "family_history, brca, breastfeeding, density, parity")
    run.add_argument("--cohort-data", type=Path,
                     help="BCSC Risk Estimation Dataset file (risk.txt or its zip) to resample women from")
    run.add_argument("--replicates", type=int, default=1, metavar="R",
                     help="run R independent replicates (seeds spawned from --seed) and report the "
                          "across-replicate range and replicate CI beside the pooled Wilson interval")
    run.add_argument("--posterior", action="store_true",
                     help="also run every accepted calibrated parameter set and report intervals that "
                          "include parameter uncertainty")
    _add_scaleout_args(run)

    cal = sub.add_parser("calibrate", help="calibrate a scenario's free parameters to its targets (LHS + ABC)")
    cal.add_argument("--scenario", default="nl-biennial")
    cal.add_argument("--draws", type=int, default=200, help="Latin hypercube draws (default 200)")
    cal.add_argument("--women", type=int, default=50_000, help="women per draw (default 50000)")
    cal.add_argument("--seed", type=int, default=2026)
    cal.add_argument("--params", nargs="+", metavar="KEY", help="calibrate only these calibrated parameters")
    cal.add_argument("--rounds", type=int, default=3,
                     help="sequential rounds; later rounds sample around the draws accepted so far (default 3)")
    cal.add_argument("--restart", action="store_true", help="discard saved progress instead of resuming")
    cal.add_argument("--out", type=Path, default=Path("calibration"),
                     help="folder for <scenario>.csv (default: calibration/ in the working directory; copying it"
                          " into data/calibration/ makes it the shipped calibration, see the README)")
    _add_scaleout_args(cal)

    fit = sub.add_parser("fit", help="calibration fit: each target against the model, with both intervals")
    _add_scenario_args(fit)
    fit.add_argument("--women", type=int, default=50_000)
    fit.add_argument("--seed", type=int, default=7,
                     help="run seed (default 7: not the calibration's seed, so the fit is out of sample)")
    fit.add_argument("--out", type=Path, help="write calibration_fit.csv and calibration_fit.png here")
    _add_scaleout_args(fit)

    val = sub.add_parser("validate", help="held-out validation: model vs BCSC by age group and density")
    _add_scenario_args(val, default="us-annual")
    val.add_argument("--women", type=int, default=200_000)
    val.add_argument("--seed", type=int, default=7, help="run seed (default 7: not the calibration's seed)")
    val.add_argument("--out", type=Path, help="write validation_bcsc.csv here")
    _add_scaleout_args(val)

    sens = sub.add_parser("sensitivity", help="one-way (tornado) and Sobol sensitivity of recall and calc-only shares")
    _add_scenario_args(sens)
    sens.add_argument("--method", choices=["one-way", "sobol", "both"], default="both")
    sens.add_argument("--women", type=int, default=10_000, help="women per run (default 10000)")
    sens.add_argument("--seed", type=int, default=2026)
    sens.add_argument("--samples", type=int, default=32, help="Sobol base samples, a power of 2 (default 32)")
    sens.add_argument("--params", nargs="+", metavar="KEY", help="parameters to vary (default: all with ranges; "
                      "for Sobol the calibrated ones)")
    sens.add_argument("--out", type=Path, help="write one_way.csv, sobol.csv and tornado PNGs here")
    _add_scaleout_args(sens)

    cmp_ = sub.add_parser("compare", help="paired differences between two scenarios on the same women (CRN)")
    cmp_.add_argument("scenario_a", help="scenario A (name or TOML path)")
    cmp_.add_argument("scenario_b", help="scenario B (name or TOML path)")
    cmp_.add_argument("--women", type=int, default=100_000)
    cmp_.add_argument("--seed", type=int, default=2026)
    cmp_.add_argument("--by", action="append", default=[], metavar="COLUMN")
    cmp_.add_argument("--json", action="store_true")
    cmp_.add_argument("--out", type=Path, help="write comparison.csv into this folder")
    _add_calibration_arg(cmp_)

    q = sub.add_parser("calc-only", help="the 12.7-41.2%% question: both calcification-only shares with intervals")
    _add_scenario_args(q)
    q.add_argument("--women", type=int, default=100_000)
    q.add_argument("--seed", type=int, default=2026)
    q.add_argument("--replicates", type=int, default=1, metavar="R")
    q.add_argument("--json", action="store_true")
    _add_scaleout_args(q)

    sub.add_parser("scenarios", help="list the shipped scenarios")

    check = sub.add_parser("check", help="validate a scenario file")
    check.add_argument("file", help="scenario TOML file (or shipped name)")
    check.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    rep = sub.add_parser("report", help="execute the notebooks and write the standalone HTML report")
    rep.add_argument("--women", type=int, default=20_000, help="women per notebook (default 20000)")
    rep.add_argument("--seed", type=int, default=2026, help="seed injected into every notebook (default 2026)")
    rep.add_argument("--out", type=Path, default=Path("reports"), help="report folder (default reports/)")
    rep.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                     help="folder of notebooks (default: notebooks/ of the calcsim checkout)")
    rep.add_argument("--only", action="append", default=None, metavar="NAME",
                     help="only this notebook (file name or stem; repeatable)")
    rep.add_argument("--kernel", default=None, metavar="NAME",
                     help="an installed Jupyter kernel (default: a kernel running this Python)")

    teach = sub.add_parser("teach", help="coursework: synthetic datasets for students and the instructor key")
    teach_sub = teach.add_subparsers(dest="teach_command", required=True)
    export = teach_sub.add_parser("export", help="one dataset per student, a README and the instructor key")
    export.add_argument("dir", type=Path, metavar="DIR", help="folder to create (must be new or empty)")
    export.add_argument("--students", type=int, required=True, help="number of students")
    export.add_argument("--seed", type=int, required=True, help="course seed (same seed, identical files)")
    export.add_argument("--women", type=int, default=5_000, help="women per student (default 5000)")
    export.add_argument("--scenario", default="nl-biennial", help="base scenario (default nl-biennial)")
    export.add_argument("--overwrite", action="store_true", help="replace DIR if it is not empty")

    table = sub.add_parser("table", help="print a model table")
    table.add_argument("which", choices=["reading", "parameters"])
    _add_scenario_args(table)
    return parser


def _scenario(args: argparse.Namespace, name: str, option: str = "--scenario"):
    from analysis.scenario import load_scenario, parse_set_option

    overrides = dict(parse_set_option(o) for o in getattr(args, "overrides", []))
    calibration = getattr(args, "calibration", "shipped")
    return load_scenario(name, overrides, option=option, calibration=None if calibration == "none" else calibration)


def _format_summary(results) -> str:
    e = results.estimates()
    pooled = getattr(results, "pooled", results)
    replicated = "replicate_lower" in e.columns
    posterior = "posterior_lower" in e.columns
    lines = [f"calcsim {pooled.version} | scenario {pooled.scenario} ({pooled.scenario_hash}) | "
             f"seed {pooled.seed} | {pooled.women:,} women"
             + (f" in {len(results.replicates)} replicates" if replicated else "")]
    if replicated:
        lines += ["Intervals: 'Wilson 95%' of the pooled counts; 'replicate range' = 2.5-97.5% of the",
                  "single-replicate estimates; 'replicate CI' = mean +/- t SD/sqrt(R) (does not assume",
                  "independent screens)."]
    elif posterior:
        lines += [f"Intervals: 'Wilson 95%' of the default (nearest accepted) parameter set; 'posterior 95%' = "
                  f"weighted 2.5-97.5% across {e.attrs.get('parameter_sets')} accepted calibrated sets",
                  "(parameter uncertainty + Monte Carlo noise of one run)."]
    else:
        lines += ["Intervals: Wilson 95% (binomial, within this run)."]
    lines.append("")
    header = f"{'measure':<36} {'stratum':<28} {'estimate':>10} {'Wilson 95%':>20}"
    if replicated:
        header += f" {'replicate range':>20} {'replicate CI':>20}"
    elif posterior:
        header += f" {'posterior 95%':>20}"
    else:
        header += f" {'numerator / n':>24}"
    lines += [header, "-" * len(header)]
    for r in e.itertuples(index=False):
        per = "‰" if r.measure.endswith("per_1000") else "%"
        scale = 1.0 if per == "‰" else 100.0

        def ci(lo: float, hi: float, scale: float = scale, per: str = per) -> str:
            return "—" if np.isnan(lo) else f"{lo * scale:.2f}–{hi * scale:.2f}{per}"

        est = "—" if r.denominator_count == 0 else f"{r.estimate * scale:.2f}{per}"
        line = f"{r.measure:<36} {r.stratum:<28} {est:>10} {ci(r.lower, r.upper):>20}"
        if replicated:
            line += (f" {ci(r.replicate_lower, r.replicate_upper):>20}"
                     f" {ci(r.replicate_ci_lower, r.replicate_ci_upper):>20}")
        elif posterior:
            line += f" {ci(r.posterior_lower, r.posterior_upper):>20}"
        else:
            line += f" {f'{r.numerator_count:,} / {r.denominator_count:,}':>24}"
        lines.append(line)
    return "\n".join(lines)


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CalcsimInputError(f"--out: {str(out)!r}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CalcsimInputError(f"--out: {str(out)!r}: cannot create folder ({exc.strerror})") from None


def _check_counts(args: argparse.Namespace) -> None:
    check_women(args.women)
    check_seed(args.seed)
    if getattr(args, "replicates", 1) < 1:
        raise CalcsimInputError(f"--replicates: {args.replicates}: a whole number >= 1")


def _run_results(args: argparse.Namespace, scenario, screens_path=None, progress=False, client=None):
    """A single run, R replicates (``--replicates``) or the accepted parameter sets (``--posterior``)."""
    from analysis.model.simulation import simulate
    from analysis.stats.uncertainty import run_replicates

    cohort_data = getattr(args, "cohort_data", None)
    by = getattr(args, "by", [])
    if getattr(args, "posterior", False):
        from analysis.calibration.posterior import run_posterior

        return run_posterior(scenario, args.women, args.seed, by=by, map_fn=_mapper(client),
                             progress=progress, cohort_data=cohort_data)
    if args.replicates > 1:
        return run_replicates(scenario, args.women, args.seed, args.replicates, by=by,
                              cohort_data=cohort_data, progress=progress, map_fn=_mapper(client))
    if client is not None and screens_path is None:
        from analysis.scaleout import simulate_distributed

        return simulate_distributed(client, scenario, args.women, args.seed, by=by, cohort_data=cohort_data,
                                    progress=progress)
    return simulate(scenario, women=args.women, seed=args.seed, by=by, cohort_data=cohort_data,
                    screens_path=screens_path, progress=progress)


def _mapper(client):
    """``map_fn(fn, items)`` running on the Dask client, or serially."""
    if client is None:
        return None
    from analysis.scaleout import map_parameter_sets

    return lambda fn, items: map_parameter_sets(client, fn, items)


def _client(args: argparse.Namespace):
    """Context manager: a Dask client for ``--workers``/``--scheduler``, or ``None`` (serial)."""
    import contextlib

    if getattr(args, "workers", 1) == 1 and getattr(args, "scheduler", None) is None:
        return contextlib.nullcontext(None)
    from analysis.scaleout import dask_client

    return dask_client(workers=args.workers, scheduler=args.scheduler)


def cmd_run(args: argparse.Namespace) -> int:
    """``calcsim run``."""
    scenario = _scenario(args, args.scenario)
    _check_counts(args)
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
    if args.out is not None:
        _prepare_out(args.out)
    screens_tmp = None
    if args.screens:
        fd, screens_tmp = tempfile.mkstemp(dir=args.out, prefix=".screens.", suffix=".parquet.tmp")
        os.close(fd)
    try:
        with _client(args) as client:
            results = _run_results(args, scenario, screens_path=screens_tmp,
                                   progress=sys.stderr.isatty() and not args.json, client=client)
        doc = results.to_json_dict()
        if args.out is not None:
            pooled = getattr(results, "pooled", results)
            table = results.estimates()
            table.insert(table.columns.get_loc("calibration") + 1, "women", pooled.women)
            atomic_write_text(args.out / "estimates.csv", table.to_csv(index=False))
            atomic_write_text(args.out / "run.json", json.dumps(doc, indent=2) + "\n")
            if screens_tmp is not None:
                os.replace(screens_tmp, args.out / "screens.parquet")
                screens_tmp = None
    finally:
        if screens_tmp is not None:
            Path(screens_tmp).unlink(missing_ok=True)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(_format_summary(results))
        if args.out is not None:
            print(f"\nwritten: {args.out / 'estimates.csv'}, {args.out / 'run.json'}"
                  + (f", {args.out / 'screens.parquet'}" if args.screens else ""))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``calcsim compare A B``."""
    from analysis.model.results import check_strata
    from analysis.stats.uncertainty import compare

    _check_counts(args)
    check_strata(args.by)
    a = _scenario(args, args.scenario_a, option="scenario A")
    b = _scenario(args, args.scenario_b, option="scenario B")
    if args.out is not None:
        _prepare_out(args.out)
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

    scenario = _scenario(args, args.scenario)
    _check_counts(args)
    args.by, args.cohort_data = [], None
    with _client(args) as client:
        results = _run_results(args, scenario, progress=sys.stderr.isatty() and not args.json, client=client)
    q = calc_only_question(results)
    if args.json:
        print(json.dumps({**q.attrs, "rows": json.loads(q.to_json(orient="records"))}, indent=2))
    else:
        print(format_question(q))
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

    s = _scenario(args, args.file, option="check")
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

    s = _scenario(args, args.scenario)
    df = reading_table(s) if args.which == "reading" else s.parameter_table()
    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.max_colwidth", 60):
        print(df.to_string(index=False))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``calcsim calibrate``."""
    from analysis.calibration.abc import calibrate

    if args.draws < 2:
        raise CalcsimInputError(f"--draws: {args.draws}: a whole number >= 2")
    _check_counts(args)
    with _client(args) as client:
        df = calibrate(args.scenario, draws=args.draws, women=args.women, seed=args.seed, out_dir=args.out,
                       map_fn=_mapper(client), progress=sys.stderr.isatty(), restart=args.restart,
                       params=args.params, rounds=args.rounds)
    acc = df[df["accepted"]]
    print(f"calibrated {df.attrs['scenario']}: {len(df)} draws, {len(acc)} accepted ({df.attrs['acceptance']}; "
          f"distance <= {float(df.attrs['tolerance']):.4g}); best distance {df['distance'].min():.4g}")
    keys = df.attrs["parameters"].split()
    for k in keys:
        print(f"  {k:<58} accepted range {acc[k].min():.4g} – {acc[k].max():.4g}")
    out = args.out / f"{df.attrs['scenario']}.csv"
    print(f"written: {out}\nuse it: calcsim run --scenario {args.scenario} --calibration {out}")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    """``calcsim fit``: the calibration-fit table (and figure)."""
    from analysis.calibration.posterior import calibration_fit, run_posterior

    _check_counts(args)
    with _client(args) as client:
        post = run_posterior(_scenario(args, args.scenario), args.women, args.seed, map_fn=_mapper(client))
    fit = calibration_fit(post)
    if args.out is not None:
        from analysis.figures import calibration_fit as fit_figure

        _prepare_out(args.out)
        atomic_write_text(args.out / "calibration_fit.csv", fit.to_csv(index=False))
        fit_figure(fit).savefig(args.out / "calibration_fit.png")
    import pandas as pd

    print(f"Calibration fit — {fit.attrs['scenario']}: {fit.attrs['parameter_sets']} accepted parameter sets; "
          f"model range = {fit.attrs['posterior_interval']}")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(fit[["target", "measure", "target_value", "target_lower", "target_upper", "model",
                   "posterior_lower", "posterior_upper", "within"]].to_string(index=False))
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``calcsim sensitivity``."""
    import pandas as pd

    from analysis.calibration.abc import calibrated_parameters
    from analysis.calibration.sensitivity import OUTPUTS, one_way, sobol

    scenario = _scenario(args, args.scenario)
    _check_counts(args)
    if args.out is not None:
        _prepare_out(args.out)
    results = {}
    with _client(args) as client:
        if args.method in ("one-way", "both"):
            results["one_way"] = one_way(scenario, args.women, args.seed, params=args.params,
                                         map_fn=_mapper(client))
        if args.method in ("sobol", "both"):
            keys = args.params or [k for k, _, _ in calibrated_parameters(scenario)]
            results["sobol"] = sobol(scenario, args.women, args.seed, samples=args.samples, params=keys,
                                     map_fn=_mapper(client))
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        if "one_way" in results:
            ow = results["one_way"]
            print(f"One-way sensitivity ({scenario.name}, {args.women:,} women per run, seed {args.seed}):")
            for out in OUTPUTS:
                print(ow[ow["output"] == out].head(8)[["output", "parameter", "low_value", "high_value", "at_low",
                                                         "at_high", "swing"]].to_string(index=False))
        if "sobol" in results:
            so = results["sobol"]
            print(f"\nSobol indices ({so.attrs['runs']} runs; conf = 95% bootstrap half-width):")
            print(so.to_string(index=False))
    if args.out is not None:
        from analysis.figures import tornado

        for name, df in results.items():
            atomic_write_text(args.out / f"{name}.csv", df.to_csv(index=False))
        if "one_way" in results:
            for out in OUTPUTS:
                tornado(results["one_way"], out).savefig(args.out / f"tornado_{out}.png")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``calcsim validate``: held-out BCSC comparison."""
    import pandas as pd

    from analysis.calibration.validation import bcsc_validation
    from analysis.model.simulation import simulate

    _check_counts(args)
    s = _scenario(args, args.scenario)
    by = ["round", "age_group", "density"]
    with _client(args) as client:
        if client is None:
            results = simulate(s, women=args.women, seed=args.seed, by=by, progress=sys.stderr.isatty())
        else:
            from analysis.scaleout import simulate_distributed

            results = simulate_distributed(client, s, args.women, args.seed, by=by)
    v = bcsc_validation(results)
    if args.out is not None:
        _prepare_out(args.out)
        atomic_write_text(args.out / "validation_bcsc.csv", v.to_csv(index=False))
    print(f"Validation ({s.name}, {args.women:,} women, seed {args.seed}): {v.attrs['comparison']}; held out "
          f"from calibration ({v.attrs['note']}). Wilson 95% intervals.")
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(v[["age_group", "density", "measure", "observed", "observed_lower", "observed_upper", "model",
                 "model_lower", "model_upper", "ratio"]].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``calcsim report``: execute the notebooks, write standalone HTML and an index."""
    from analysis.report import build_report

    _check_counts(args)
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


COMMANDS = {"run": cmd_run, "scenarios": cmd_scenarios, "check": cmd_check, "table": cmd_table,
            "compare": cmd_compare, "calc-only": cmd_calc_only, "calibrate": cmd_calibrate, "fit": cmd_fit,
            "sensitivity": cmd_sensitivity, "validate": cmd_validate, "report": cmd_report,
            "teach": cmd_teach}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``calcsim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ArgumentError as exc:
        print(f"calcsim: error: {exc.cli_message()}", file=sys.stderr)
        return EXIT_INPUT
    except CalcsimInputError as exc:
        print(f"calcsim: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # e.g. `calcsim table reading | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("calcsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
