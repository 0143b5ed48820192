"""The ``calcsim harms-benefits`` subcommand's options (its command is :mod:`analysis.cli.commands_benefits`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.cli.parser_options import add_command, add_scaleout, add_scenario, add_seed, add_women


def add_harms_benefits(sub: argparse._SubParsersAction) -> None:
    """``calcsim harms-benefits``."""
    p = add_command(
        sub,
        "harms-benefits",
        "breast-cancer deaths averted, life-years gained, overdiagnosis and harms of screening strategies",
        "Follows the same women over their lifetime without screening and under the scenario's programme "
        "(and each strategy of --strategies): deaths averted, life-years gained, overdiagnosed cancers, "
        "false positives, benign biopsies, short-interval follow-ups per 1,000 women invited and screened, "
        "with paired 95% intervals; marks the efficient strategies (life-years gained against screens and "
        "against false positives).",
    )
    add_scenario(p)
    p.add_argument(
        "--strategies",
        metavar="FILE",
        help="CSV of strategies to compare (columns of data/strategies/default.csv), or 'default' for the "
        "shipped grid of 20 (default: none, only the scenario's own programme)",
    )
    add_women(p, 200_000, "women in the cohort (every strategy runs on the same women)")
    add_seed(p, 2026)
    p.add_argument(
        "--discount",
        type=float,
        metavar="RATE",
        help="yearly discount rate of life-years, e.g. 0.03 (default: the scenario's survival.discount_rate)",
    )
    p.add_argument(
        "--replicates",
        type=int,
        default=1,
        metavar="R",
        help="run R independent seeds (derived from --seed) and add the replicate 95%% CI of each measure"
        " (default: %(default)s, one run)",
    )
    p.add_argument(
        "--posterior",
        action="store_true",
        help="also run every accepted calibrated parameter set and add their 95%% range (default: off)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write harms_benefits.csv, strategies.csv and the figures here (default: none, print only)",
    )
    add_scaleout(p)
