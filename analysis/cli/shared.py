"""What several ``calcsim`` commands share: the scenario they run, checks of counts, the ``--out``
folder and its files, progress, and where the simulations run (serially or on Dask). Heavy modules
are imported inside the functions."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from analysis.errors import CalcsimInputError, check_seed, check_women
from analysis.io.atomic import AtomicGroup, check_writable, fill, remove_stale_temporaries

#: What one output is made of: its text, its bytes, or a function that writes it to the path it is given.
Content = str | bytes | Callable[[Path], object]


def load_cli_scenario(args: argparse.Namespace, name: str, option: str = "--scenario"):
    """The scenario ``name`` with the command's ``--set`` overrides and ``--calibration`` applied.

    ``option`` names the argument in error messages (``--scenario``, ``scenario A``, ``check``).
    """
    from analysis.scenario import load_scenario, parse_set_option

    overrides = dict(parse_set_option(o) for o in getattr(args, "overrides", []))
    calibration = getattr(args, "calibration", "shipped")
    if calibration not in ("shipped", "none") and not Path(calibration).is_file():
        raise CalcsimInputError(
            f"--calibration: {calibration!r}: 'shipped', 'none' or the path of a calibration file"
            " (calcsim calibrate --out DIR writes DIR/<scenario>.csv): file not found"
        )
    return load_scenario(
        name,
        overrides,
        option=option,
        calibration=None if calibration == "none" else Path(calibration) if calibration != "shipped" else "shipped",
    )


def out_error(out: Path, what: str, reason: str) -> CalcsimInputError:
    """``--out: 'DIR': cannot write WHAT there (REASON); expected ...``: the one line for a failed write."""
    return CalcsimInputError(
        f"--out: {str(out)!r}: cannot write {what} there ({reason}); expected a folder this "
        "user can write to, with free space for the outputs"
    )


@contextlib.contextmanager
def out_writes(out: Path, what: str = "the outputs") -> Iterator[None]:
    """Turn an :class:`OSError` (permission denied, disk full ...) of the block into :func:`out_error`."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
        raise out_error(out, what, reason) from None


def prepare_out(out: Path, outputs: Sequence[str] = (), patterns: Sequence[re.Pattern[str]] = ()) -> None:
    """Create the ``--out`` folder, check that a file can be created in it, remove stale temporary files.

    Stale: the temporary files of ``outputs`` (and names matching ``patterns``) that a killed run left
    and no running calcsim holds (:func:`analysis.io.atomic.remove_stale_temporaries`); nothing else
    is touched. Any problem is a :class:`CalcsimInputError` naming ``--out``.
    """
    if out.exists() and not out.is_dir():
        raise CalcsimInputError(f"--out: {str(out)!r}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CalcsimInputError(f"--out: {str(out)!r}: cannot create folder ({exc.strerror})") from None
    with out_writes(out, "files"):
        check_writable(out)
        remove_stale_temporaries(out, outputs, patterns)


def write_outputs(out: Path, outputs: Mapping[str, Content]) -> None:
    """Write ``outputs`` (name -> :data:`Content`) into ``out`` together: every file to a temporary name
    first, then all renamed into place (:class:`analysis.io.atomic.AtomicGroup`), so a failure leaves
    none of them half-written and the old ones as they were; a failure is one line naming ``--out``."""
    group = AtomicGroup([out / name for name in outputs])
    try:
        with out_writes(out, ", ".join(outputs)):
            for tmp, content in zip(group.open(), outputs.values(), strict=True):
                if callable(content):
                    content(tmp)
                else:
                    fill(tmp, content.encode("utf-8") if isinstance(content, str) else content)
            group.commit()
    finally:
        group.abort()


def png(figure) -> Callable[[Path], object]:
    """The :data:`Content` of a matplotlib figure as PNG (the temporary name has no ``.png`` to go by)."""
    return lambda tmp: figure.savefig(tmp, format="png")


def progress_mode(args: argparse.Namespace) -> bool | str:
    """``True`` (a progress bar) when stderr is a terminal, unless ``--json``; ``"log"`` (a line every
    30 s: blocks, women, time left) when it is not, e.g. in a batch job."""
    if sys.stderr.isatty():
        return not getattr(args, "json", False)
    return "log"


def check_counts(args: argparse.Namespace) -> None:
    """Check ``--women``, ``--seed`` and (when the command has it) ``--replicates``."""
    check_women(args.women)
    check_seed(args.seed)
    if getattr(args, "replicates", 1) < 1:
        raise CalcsimInputError(f"--replicates: {args.replicates}: a whole number >= 1")


def run_results(args: argparse.Namespace, scenario, screens_path=None, progress=False, client=None):
    """A single run, R replicates (``--replicates``) or the accepted parameter sets (``--posterior``).

    ``progress`` is :func:`progress_mode`'s; replicates and parameter sets show a bar or nothing.
    """
    from analysis.model.simulation import simulate
    from analysis.stats.uncertainty import run_replicates

    cohort_data = getattr(args, "cohort_data", None)
    by = getattr(args, "by", [])
    if getattr(args, "posterior", False):
        from analysis.calibration.posterior import run_posterior

        return run_posterior(
            scenario,
            args.women,
            args.seed,
            by=by,
            map_fn=mapper(client),
            progress=progress is True,
            cohort_data=cohort_data,
        )
    if args.replicates > 1:
        return run_replicates(
            scenario,
            args.women,
            args.seed,
            args.replicates,
            by=by,
            cohort_data=cohort_data,
            progress=progress is True,
            map_fn=mapper(client),
        )
    if client is not None and screens_path is None:
        from analysis.scaleout import simulate_distributed

        return simulate_distributed(
            client, scenario, args.women, args.seed, by=by, cohort_data=cohort_data, progress=progress
        )
    return simulate(
        scenario,
        women=args.women,
        seed=args.seed,
        by=by,
        cohort_data=cohort_data,
        screens_path=screens_path,
        progress=progress,
    )


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
