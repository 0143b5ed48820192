"""The argument parser of ``calcsim``: one small function per subcommand.

Every subcommand has a one-line ``help`` (listed by ``calcsim --help``) and a ``description``
(shown by ``calcsim COMMAND --help``); every option says what it does and its default. Only
light modules are imported here, so that ``calcsim --help`` stays fast.

The options several subcommands share are in :mod:`analysis.cli.parser_options`, the subcommands
about the model's parameters (calibrate, fit, validate, sensitivity) in :mod:`analysis.cli.parser_model`;
their names are importable from here too.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis import __version__
from analysis.cli.parser_benefits import add_harms_benefits
from analysis.cli.parser_model import add_calibrate, add_fit, add_sensitivity, add_validate
from analysis.cli.parser_options import (
    STRATA_HELP,
    add_by,
    add_calibration,
    add_command,
    add_json,
    add_replicates,
    add_scaleout,
    add_scenario,
    add_seed,
    add_set,
    add_women,
)

__all__ = [
    "EPILOG",
    "STRATA_HELP",
    "SUBCOMMANDS",
    "add_by",
    "add_calc_only",
    "add_calibrate",
    "add_calibration",
    "add_check",
    "add_command",
    "add_compare",
    "add_fit",
    "add_json",
    "add_replicates",
    "add_report",
    "add_run",
    "add_scaleout",
    "add_scenario",
    "add_scenarios",
    "add_seed",
    "add_sensitivity",
    "add_set",
    "add_table",
    "add_teach",
    "add_validate",
    "add_women",
    "build_parser",
]

EPILOG = """\
examples:
  calcsim scenarios                              list the shipped scenarios
  calcsim run --women 20000                      simulate nl-biennial and print every measure
  calcsim run --scenario us-annual --by density  the same, split by breast density
  calcsim compare us-annual nl-biennial          paired differences on the same women
  calcsim COMMAND --help                         the options of one command
"""


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
    run.add_argument(
        "--no-screening",
        action="store_true",
        help="run the same women (same seed, same natural history) without the screening programme: no screens, "
        "cancers diagnosed only when they surface clinically; reports the incidence rates (invasive and DCIS "
        "per 100,000 woman-years) of that unscreened counterfactual (default: with the programme)",
    )
    add_scaleout(run)


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
    """``calcsim teach export`` and ``calcsim teach grade``."""
    teach = add_command(sub, "teach", "coursework: student folders, labs and the instructor key; grading")
    teach_sub = teach.add_subparsers(dest="teach_command", required=True)
    export = add_command(
        teach_sub, "export", "write a course: per student a dataset, notebook and exercise sheet; labs; the key"
    )
    export.add_argument("dir", type=Path, metavar="DIR", help="folder to create (must be new or empty)")
    export.add_argument("--students", type=int, required=True, metavar="N", help="number of students (required)")
    export.add_argument(
        "--seed",
        type=int,
        required=True,
        metavar="S",
        help="course seed; the same seed gives identical files (required)",
    )
    add_women(export, 10_000, "women per student (chosen by power: see instructor/power.md)")
    export.add_argument("--scenario", default="nl-biennial", help="base scenario (default: %(default)s)")
    export.add_argument(
        "--overwrite", action="store_true", help="replace an earlier export in DIR (default: refuse a non-empty DIR)"
    )
    grade = add_command(
        teach_sub,
        "grade",
        "grade submitted notebooks with nbgrader against each student's own key",
        "SUBMISSIONS holds student_NN/coursework.ipynb (or student_NN.ipynb) per student. Writes OUT/grades.csv"
        " and OUT/feedback/student_NN.html; free-text answers are left for marking by hand.",
    )
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS", help="folder of submitted notebooks")
    grade.add_argument(
        "--course", type=Path, required=True, metavar="DIR", help="the course folder `teach export` wrote (required)"
    )
    grade.add_argument(
        "--out", type=Path, required=True, metavar="OUT", help="folder to create for the grades (required)"
    )
    grade.add_argument(
        "--overwrite", action="store_true", help="replace earlier grades in OUT (default: refuse a non-empty OUT)"
    )


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
    add_harms_benefits,
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
