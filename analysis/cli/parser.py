"""The argument parser of ``calcsim``: one small function per subcommand.

Every subcommand has a one-line ``help`` (listed by ``calcsim --help``) and a ``description``
(shown by ``calcsim COMMAND --help``); every option says what it does and its default. Only
light modules are imported here, so that ``calcsim --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis import __version__

#: Columns ``--by`` accepts (checked by :func:`analysis.model.results.check_strata` when a command runs).
STRATA_HELP = "round, age_group, menopause, family_history, brca, breastfeeding, density, parity"

EPILOG = """\
examples:
  calcsim scenarios                              list the shipped scenarios
  calcsim run --women 20000                      simulate nl-biennial and print every measure
  calcsim run --scenario us-annual --by density  the same, split by breast density
  calcsim compare us-annual nl-biennial          paired differences on the same women
  calcsim COMMAND --help                         the options of one command
"""


def add_command(sub: argparse._SubParsersAction, name: str, summary: str, details: str = "") -> argparse.ArgumentParser:
    """A subcommand whose one-line ``summary`` is listed by ``--help`` and opens its own help.

    ``summary`` goes through argparse's ``%`` formatting (write ``%%`` for a percent sign);
    ``details``, if given, is a second paragraph of the subcommand's own ``--help``.
    """
    text = summary.replace("%%", "%")
    description = text[0].upper() + text[1:] + "." + (f" {details}" if details else "")
    return sub.add_parser(name, help=summary, description=description)


def add_women(p: argparse.ArgumentParser, default: int, what: str = "women in the simulated cohort") -> None:
    """``--women N`` with its default in the help."""
    p.add_argument("--women", type=int, default=default, metavar="N", help=f"{what} (default: %(default)s)")


def add_seed(p: argparse.ArgumentParser, default: int, note: str = "") -> None:
    """``--seed S``: the same seed gives the same results."""
    p.add_argument(
        "--seed",
        type=int,
        default=default,
        metavar="S",
        help="random seed; the same seed gives the same results (default: %(default)s"
        + (f"; {note}" if note else "")
        + ")",
    )


def add_json(p: argparse.ArgumentParser, what: str = "the estimates") -> None:
    """``--json``: machine-readable output instead of the table."""
    p.add_argument(
        "--json", action="store_true", help=f"print {what} as JSON on stdout instead of the table (default: the table)"
    )


def add_by(p: argparse.ArgumentParser) -> None:
    """``--by COLUMN`` (repeatable)."""
    p.add_argument(
        "--by",
        action="append",
        default=[],
        metavar="COLUMN",
        help=f"also split every measure by this column (repeatable; default: no split, only the "
        f"'all' row): {STRATA_HELP}",
    )


def add_replicates(p: argparse.ArgumentParser) -> None:
    """``--replicates R``."""
    p.add_argument(
        "--replicates",
        type=int,
        default=1,
        metavar="R",
        help="run R independent replicates of --women each (their seeds derived from --seed) and add "
        "the spread across replicates to the interval of the pooled counts (default: %(default)s,"
        " one run)",
    )


def add_calibration(p: argparse.ArgumentParser) -> None:
    """``--calibration shipped|none|PATH``."""
    p.add_argument(
        "--calibration",
        default="shipped",
        metavar="shipped|none|PATH",
        help="calibrated values to apply: 'shipped' (the files in data/calibration/), 'none' (the "
        "values written in the scenario files) or the path of a file written by calcsim "
        "calibrate --out (default: %(default)s)",
    )


def add_scenario(p: argparse.ArgumentParser, default: str = "nl-biennial") -> None:
    """``--scenario``, ``--set`` and ``--calibration``: the scenario a command runs."""
    p.add_argument(
        "--scenario",
        default=default,
        help="shipped scenario name (see calcsim scenarios) or path to a TOML file (default: %(default)s)",
    )
    add_set(p)
    add_calibration(p)


def add_set(p: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable)."""
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one parameter of the scenario, e.g. --set programme.interval_years=3 "
        "(repeatable; default: no overrides)",
    )


def add_scaleout(p: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--scheduler``: where the simulations run."""
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="K",
        help="run the simulations in K worker processes on this machine, with Dask; at most its CPU "
        "cores (default: %(default)s, i.e. serially in this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the machines of an existing Dask scheduler, e.g. tcp://host:8786 "
        "(default: none, run on this machine)",
    )


def add_run(sub: argparse._SubParsersAction) -> None:
    """``calcsim run``."""
    run = add_command(
        sub,
        "run",
        "simulate a scenario; print every measure with its interval",
        "The table gives each measure (recall rate, cancer detection rate, the calcification "
        "shares ...) with its 95% interval, its numerator and its denominator.",
    )
    add_scenario(run)
    add_women(run, 100_000)
    add_seed(run, 2026)
    run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write estimates.csv and run.json into this folder (default: none, print only)",
    )
    run.add_argument(
        "--screens",
        action="store_true",
        help="with --out, also write screens.parquet, one row per screen (default: not written)",
    )
    add_json(run)
    add_by(run)
    run.add_argument(
        "--cohort-data",
        type=Path,
        metavar="FILE",
        help="draw the women's risk factors from this BCSC (Breast Cancer Surveillance Consortium) "
        "Risk Estimation Dataset file, risk.txt or its zip (default: the scenario's own cohort)",
    )
    add_replicates(run)
    run.add_argument(
        "--posterior",
        action="store_true",
        help="also run every accepted calibrated parameter set, so that the intervals include "
        "parameter uncertainty (default: only the shipped calibrated values)",
    )
    add_scaleout(run)


def add_calibrate(sub: argparse._SubParsersAction) -> None:
    """``calcsim calibrate``."""
    cal = add_command(
        sub,
        "calibrate",
        "fit a scenario's calibrated parameters to its targets",
        "Parameter sets are drawn by Latin hypercube sampling (an even spread over each "
        "parameter's range), each is simulated, and the sets closest to the targets are kept "
        "(approximate Bayesian computation). Progress is saved and resumed.",
    )
    cal.add_argument(
        "--scenario", default="nl-biennial", help="shipped scenario name or path to a TOML file (default: %(default)s)"
    )
    cal.add_argument(
        "--draws",
        type=int,
        default=200,
        metavar="N",
        help="parameter sets drawn by Latin hypercube sampling (default: %(default)s)",
    )
    add_women(cal, 50_000, "women simulated for each parameter set")
    add_seed(cal, 2026)
    cal.add_argument(
        "--params", nargs="+", metavar="KEY", help="calibrate only these calibrated parameters (default: all of them)"
    )
    cal.add_argument(
        "--rounds",
        type=int,
        default=3,
        metavar="N",
        help="sequential rounds; later rounds sample around the sets accepted so far (default: %(default)s)",
    )
    cal.add_argument(
        "--restart", action="store_true", help="discard saved progress instead of resuming (default: resume)"
    )
    cal.add_argument(
        "--out",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help="folder for <scenario>.csv (default: %(default)s/ in the working directory; copying it"
        " into data/calibration/ makes it the shipped calibration, see the README)",
    )
    add_scaleout(cal)


def add_fit(sub: argparse._SubParsersAction) -> None:
    """``calcsim fit``."""
    fit = add_command(
        sub,
        "fit",
        "calibration fit: each target beside the model's value",
        "Runs every accepted calibrated parameter set and prints each target with its published "
        "interval, the model's value and the model's range across the sets.",
    )
    add_scenario(fit)
    add_women(fit, 50_000, "women simulated for each parameter set")
    add_seed(fit, 7, "not the calibration's seed, so the fit is out of sample")
    fit.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write calibration_fit.csv and calibration_fit.png here (default: none, print only)",
    )
    add_scaleout(fit)


def add_validate(sub: argparse._SubParsersAction) -> None:
    """``calcsim validate``."""
    val = add_command(
        sub,
        "validate",
        "compare the model with held-out US screening data",
        "Recall and cancer detection by age group and breast density, beside the performance "
        "tables of the Breast Cancer Surveillance Consortium (BCSC), which the calibration does "
        "not use.",
    )
    add_scenario(val, default="us-annual")
    add_women(val, 200_000)
    add_seed(val, 7, "not the calibration's seed")
    val.add_argument(
        "--out", type=Path, metavar="DIR", help="write validation_bcsc.csv here (default: none, print only)"
    )
    add_scaleout(val)


def add_sensitivity(sub: argparse._SubParsersAction) -> None:
    """``calcsim sensitivity``."""
    sens = add_command(
        sub,
        "sensitivity",
        "how recall and calc-only shares depend on each parameter",
        "Method one-way: each parameter set to the ends of its range in turn (a tornado plot); "
        "method sobol: all parameters varied together, and the share of the output's variance "
        "due to each (Sobol indices).",
    )
    add_scenario(sens)
    sens.add_argument(
        "--method",
        choices=["one-way", "sobol", "both"],
        default="both",
        help="one-way, sobol or both (default: %(default)s)",
    )
    add_women(sens, 10_000, "women simulated for each run")
    add_seed(sens, 2026)
    sens.add_argument(
        "--samples", type=int, default=32, metavar="N", help="Sobol base samples, a power of 2 (default: %(default)s)"
    )
    sens.add_argument(
        "--params",
        nargs="+",
        metavar="KEY",
        help="parameters to vary (default: every parameter with a range; for Sobol the calibrated ones)",
    )
    sens.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write one_way.csv, sobol.csv and tornado PNGs here (default: none, print only)",
    )
    add_scaleout(sens)


def add_compare(sub: argparse._SubParsersAction) -> None:
    """``calcsim compare A B``."""
    cmp_ = add_command(
        sub,
        "compare",
        "paired differences of two scenarios on the same women",
        "Both scenarios use common random numbers (the same simulated women, with the same "
        "random draws), so the difference A - B has a much narrower interval than two separate "
        "runs would give.",
    )
    cmp_.add_argument("scenario_a", help="scenario A: shipped name or path to a TOML file")
    cmp_.add_argument("scenario_b", help="scenario B: shipped name or path to a TOML file")
    add_women(cmp_, 100_000, "women simulated, the same women in both scenarios")
    add_seed(cmp_, 2026)
    add_by(cmp_)
    add_json(cmp_, "the differences")
    cmp_.add_argument(
        "--out", type=Path, metavar="DIR", help="write comparison.csv into this folder (default: none, print only)"
    )
    add_calibration(cmp_)


def add_calc_only(sub: argparse._SubParsersAction) -> None:
    """``calcsim calc-only``."""
    q = add_command(
        sub,
        "calc-only",
        "the two calcification-only shares behind '12.7-41.2%%'",
        "The literature quotes 12.7-41.2% without a denominator; this prints the share of recalls "
        "and the share of screen-detected cancers with calcification as the only sign, with "
        "intervals and the programme targets.",
    )
    add_scenario(q)
    add_women(q, 100_000)
    add_seed(q, 2026)
    add_replicates(q)
    add_json(q, "the shares")
    add_scaleout(q)


def add_check(sub: argparse._SubParsersAction) -> None:
    """``calcsim check FILE``."""
    check = add_command(
        sub,
        "check",
        "validate a scenario file (one line: ok, or the problem)",
        "Checks every value, range, table and cited source; a problem names the file and the "
        "key, and the exit code is 2.",
    )
    check.add_argument("file", help="scenario TOML file (or shipped name)")
    add_set(check)


def add_table(sub: argparse._SubParsersAction) -> None:
    """``calcsim table reading|parameters``."""
    table = add_command(
        sub,
        "table",
        "print a scenario's reading table or parameter table",
        "reading: the recall probability by true state, breast density and round; parameters: "
        "every parameter with its value, source or status, range and meaning.",
    )
    table.add_argument(
        "which",
        choices=["reading", "parameters"],
        help="reading (recall probabilities) or parameters (values and sources)",
    )
    add_scenario(table)


def add_report(sub: argparse._SubParsersAction) -> None:
    """``calcsim report``."""
    rep = add_command(
        sub,
        "report",
        "run the notebooks; write the standalone HTML report",
        "Writes one HTML page per notebook and an index; prints the path of index.html.",
    )
    from analysis.report.defaults import DEFAULT_SEED, DEFAULT_WOMEN

    add_women(rep, DEFAULT_WOMEN, "women per notebook")
    rep.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        metavar="S",
        help="seed injected into every notebook (default: %(default)s)",
    )
    rep.add_argument(
        "--out", type=Path, default=Path("reports"), metavar="DIR", help="report folder (default: %(default)s/)"
    )
    rep.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of notebooks (default: notebooks/ of the calcsim checkout)",
    )
    rep.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="NAME",
        help="only this notebook, by file name or stem (repeatable; default: every notebook)",
    )
    rep.add_argument(
        "--kernel",
        default=None,
        metavar="NAME",
        help="an installed Jupyter kernel (default: a kernel running this Python)",
    )


def add_teach(sub: argparse._SubParsersAction) -> None:
    """``calcsim teach export``."""
    teach = add_command(sub, "teach", "coursework: student datasets and the instructor key")
    teach_sub = teach.add_subparsers(dest="teach_command", required=True)
    export = add_command(teach_sub, "export", "write one dataset per student, a README and the instructor key")
    export.add_argument("dir", type=Path, metavar="DIR", help="folder to create (must be new or empty)")
    export.add_argument("--students", type=int, required=True, metavar="N", help="number of students (required)")
    export.add_argument(
        "--seed",
        type=int,
        required=True,
        metavar="S",
        help="course seed; the same seed gives identical files (required)",
    )
    add_women(export, 5_000, "women per student")
    export.add_argument("--scenario", default="nl-biennial", help="base scenario (default: %(default)s)")
    export.add_argument("--overwrite", action="store_true", help="replace DIR if it is not empty (default: refuse)")


def add_scenarios(sub: argparse._SubParsersAction) -> None:
    """``calcsim scenarios``."""
    add_command(
        sub,
        "scenarios",
        "list the shipped scenarios",
        "One line each: description, screening ages, interval, readers and scenario hash.",
    )


#: One function per subcommand, in the order ``calcsim --help`` lists them.
SUBCOMMANDS = (
    add_run,
    add_calibrate,
    add_fit,
    add_validate,
    add_sensitivity,
    add_compare,
    add_calc_only,
    add_scenarios,
    add_check,
    add_report,
    add_teach,
    add_table,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``calcsim`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="calcsim",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Breast-screening microsimulation with calcification states: simulate\n"
        "screening programmes, calibrate them to published targets, and report\n"
        "recall, cancer detection and the calcification-only shares.",
    )
    parser.add_argument(
        "--version", action="version", version=f"calcsim {__version__}", help="print the calcsim version and exit"
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser
