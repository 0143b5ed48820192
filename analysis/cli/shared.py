"""What several ``calcsim`` commands share: the scenario they run, checks of counts and ``--out``,
and where the simulations run (serially or on Dask). Heavy modules are imported inside the functions."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from analysis.errors import CalcsimInputError, check_seed, check_women


def load_cli_scenario(args: argparse.Namespace, name: str, option: str = "--scenario"):
    """The scenario ``name`` with the command's ``--set`` overrides and ``--calibration`` applied.

    ``option`` names the argument in error messages (``--scenario``, ``scenario A``, ``check``).
    """
    from analysis.scenario import load_scenario, parse_set_option

    overrides = dict(parse_set_option(o) for o in getattr(args, "overrides", []))
    calibration = getattr(args, "calibration", "shipped")
    return load_scenario(name, overrides, option=option, calibration=None if calibration == "none" else calibration)


def prepare_out(out: Path) -> None:
    """Create the ``--out`` folder, or raise :class:`CalcsimInputError` naming ``--out``."""
    if out.exists() and not out.is_dir():
        raise CalcsimInputError(f"--out: {str(out)!r}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CalcsimInputError(f"--out: {str(out)!r}: cannot create folder ({exc.strerror})") from None


def check_counts(args: argparse.Namespace) -> None:
    """Check ``--women``, ``--seed`` and (when the command has it) ``--replicates``."""
    check_women(args.women)
    check_seed(args.seed)
    if getattr(args, "replicates", 1) < 1:
        raise CalcsimInputError(f"--replicates: {args.replicates}: a whole number >= 1")


def run_results(args: argparse.Namespace, scenario, screens_path=None, progress=False, client=None):
    """A single run, R replicates (``--replicates``) or the accepted parameter sets (``--posterior``)."""
    from analysis.model.simulation import simulate
    from analysis.stats.uncertainty import run_replicates

    cohort_data = getattr(args, "cohort_data", None)
    by = getattr(args, "by", [])
    if getattr(args, "posterior", False):
        from analysis.calibration.posterior import run_posterior

        return run_posterior(scenario, args.women, args.seed, by=by, map_fn=mapper(client),
                             progress=progress, cohort_data=cohort_data)
    if args.replicates > 1:
        return run_replicates(scenario, args.women, args.seed, args.replicates, by=by,
                              cohort_data=cohort_data, progress=progress, map_fn=mapper(client))
    if client is not None and screens_path is None:
        from analysis.scaleout import simulate_distributed

        return simulate_distributed(client, scenario, args.women, args.seed, by=by, cohort_data=cohort_data,
                                    progress=progress)
    return simulate(scenario, women=args.women, seed=args.seed, by=by, cohort_data=cohort_data,
                    screens_path=screens_path, progress=progress)


def mapper(client):
    """``map_fn(fn, items)`` running on the Dask client, or ``None`` (serial) without one."""
    if client is None:
        return None
    from analysis.scaleout import map_parameter_sets

    return lambda fn, items: map_parameter_sets(client, fn, items)


def dask_client_for(args: argparse.Namespace):
    """Context manager: a Dask client for ``--workers``/``--scheduler``, or ``None`` (serial)."""
    if getattr(args, "workers", 1) == 1 and getattr(args, "scheduler", None) is None:
        return contextlib.nullcontext(None)
    from analysis.scaleout import dask_client

    return dask_client(workers=args.workers, scheduler=args.scheduler)
