"""The options several ``calcsim`` subcommands share: ``--women``, ``--seed``, ``--scenario`` ...

Each ``add_*`` adds one option (or one group of options) to a subcommand's parser, with its
default in the help; :func:`add_command` makes the subcommand itself. Only light modules are
imported here, so that ``calcsim --help`` stays fast.
"""

from __future__ import annotations

import argparse

#: Columns ``--by`` accepts (checked by :func:`analysis.model.results.check_strata` when a command runs).
STRATA_HELP = "round, age_group, menopause, family_history, brca, breastfeeding, density, parity"


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
