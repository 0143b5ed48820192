"""The subcommands of ``calcsim`` about the model's parameters: ``calibrate``, ``fit``, ``validate`` and
``sensitivity`` (their commands are in :mod:`analysis.cli.commands_model`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.cli.parser_options import add_command, add_scaleout, add_scenario, add_seed, add_women


def add_calibrate(sub: argparse._SubParsersAction) -> None:
    """``calcsim calibrate``."""
    cal = add_command(
        sub,
        "calibrate",
        "fit a scenario's calibrated parameters to its targets",
        "Approximate Bayesian computation by sequential Monte Carlo (the default): a "
        "population of parameter sets is moved through shrinking tolerances down to the chi-square "
        "95% point of the targets, or until the draw budget is spent; the output says whether the "
        "tolerance was reached. Every set is simulated on the same women. Progress is saved and "
        "resumed; rerunning with a larger --draws continues a finished run.",
    )
    cal.add_argument(
        "--scenario", default="nl-biennial", help="shipped scenario name or path to a TOML file (default: %(default)s)"
    )
    cal.add_argument(
        "--method",
        choices=["smc", "rounds"],
        default="smc",
        help="smc: sequential Monte Carlo; rounds: Latin hypercube rounds with a rejection step (default: %(default)s)",
    )
    cal.add_argument(
        "--draws",
        type=int,
        default=3000,
        metavar="N",
        help="simulation budget (smc: stop earlier when the tolerance is reached; rounds: exactly N)"
        " (default: %(default)s)",
    )
    cal.add_argument(
        "--population",
        type=int,
        default=150,
        metavar="N",
        help="smc: parameter sets per generation (default: %(default)s)",
    )
    cal.add_argument(
        "--alpha",
        type=float,
        default=0.5,
        metavar="Q",
        help="smc: each next tolerance is this quantile of the current distances (default: %(default)s)",
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
        help="rounds: sequential rounds; later rounds sample around the sets accepted so far (default: %(default)s)",
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
        "Runs every accepted calibrated parameter set and prints each target with its interval, the "
        "model's value at the best set and its 95% range across the sets, z (with the calibration's "
        "SD, model discrepancy included) and a verdict; stratified targets as age x density grids; "
        "then how well each parameter is identified (posterior vs prior width, correlations).",
    )
    add_scenario(fit)
    add_women(fit, 50_000, "women simulated for each parameter set")
    add_seed(fit, 7, "not the calibration's seed, so the fit is out of sample")
    fit.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write calibration_fit.csv, identifiability.csv and calibration_fit.png here (default: none, print only)",
    )
    add_scaleout(fit)


def add_validate(sub: argparse._SubParsersAction) -> None:
    """``calcsim validate``."""
    val = add_command(
        sub,
        "validate",
        "compare the model with US screening data by age and density",
        "Recall, cancer detection and sensitivity by age group and breast density, beside the "
        "performance tables of the Breast Cancer Surveillance Consortium (BCSC). us-annual is "
        "calibrated to these tables, so this shows the fit cell by cell; other scenarios are not.",
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
