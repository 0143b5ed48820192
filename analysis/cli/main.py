"""The ``calcsim`` command line: :func:`main`, the entry point of the console script.

``calcsim run`` simulates a scenario and prints a summary table (or JSON); ``calcsim scenarios``
lists the shipped scenarios; ``calcsim check FILE`` validates a scenario file; ``calcsim table
reading`` prints a reading table; ``calcsim --help`` lists the rest. Bad input is one line on
stderr and exit code 2; an interrupted command exits with 130; outputs are written atomically.

The package: :mod:`analysis.cli.parser` (the options), :mod:`analysis.cli.commands` and
:mod:`analysis.cli.commands_model` (one ``cmd_*`` per subcommand), :mod:`analysis.cli.shared`
(what the commands share) and :mod:`analysis.cli.summary` (the table ``calcsim run`` prints).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from analysis.cli.commands import (
    cmd_calc_only,
    cmd_check,
    cmd_compare,
    cmd_report,
    cmd_run,
    cmd_scenarios,
    cmd_table,
    cmd_teach,
)
from analysis.cli.commands_benefits import cmd_harms_benefits
from analysis.cli.commands_model import cmd_calibrate, cmd_fit, cmd_sensitivity, cmd_validate
from analysis.cli.parser import build_parser
from analysis.errors import ArgumentError, CalcsimInputError

#: Exit codes: success, bad input (one line on stderr), interrupted (Ctrl-C).
EXIT_OK, EXIT_INPUT, EXIT_INTERRUPTED = 0, 2, 130

COMMANDS = {
    "run": cmd_run,
    "scenarios": cmd_scenarios,
    "check": cmd_check,
    "table": cmd_table,
    "compare": cmd_compare,
    "harms-benefits": cmd_harms_benefits,
    "calc-only": cmd_calc_only,
    "calibrate": cmd_calibrate,
    "fit": cmd_fit,
    "sensitivity": cmd_sensitivity,
    "validate": cmd_validate,
    "report": cmd_report,
    "teach": cmd_teach,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``calcsim`` console script; returns the exit code."""
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
        return EXIT_OK
    except KeyboardInterrupt:
        print("calcsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


__all__ = ["COMMANDS", "EXIT_INPUT", "EXIT_INTERRUPTED", "EXIT_OK", "build_parser", "main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
