"""Errors that users see.

Every error raised for bad input is a :class:`CalcsimInputError`: its message is
one line naming where the problem is (file, key or column), the offending value
and what is allowed. The command line prints that line and exits with code 2;
no traceback from deep inside numpy or pandas ever reaches a user.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CalcsimInputError(ValueError):
    """Bad input from a user: a scenario, a data file, a command-line value."""

    def __init__(self, message: str) -> None:
        # one line, always: collapse any embedded newlines
        super().__init__(" ".join(str(message).split()))


def did_you_mean(name: str, allowed: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest allowed name, or ``""``."""
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def input_error(where: str, key: str, value: object, allowed: str) -> CalcsimInputError:
    """Build the standard one-line error: ``where: key = value: allowed``.

    Parameters
    ----------
    where : str
        The file or source (e.g. ``data/scenarios/x.toml`` or ``--set``).
    key : str
        The dotted key or column name.
    value : object
        The offending value (shown with ``repr``).
    allowed : str
        What would have been accepted.
    """
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()  # show numpy scalars as plain numbers
    elif isinstance(value, list):
        value = [v.item() if hasattr(v, "item") and getattr(v, "ndim", 1) == 0 else v for v in value]
    return CalcsimInputError(f"{where}: {key} = {value!r}: {allowed}")


def _flag(argument: str) -> str:
    """The command-line flag of a Python argument: ``cohort_data`` -> ``--cohort-data``."""
    return "--" + argument.replace("_", "-")


class ArgumentError(CalcsimInputError):
    """Bad value of a named argument; says ``women=`` from Python and ``--women`` on the command line.

    Parameters
    ----------
    argument : str
        The Python argument name (``women``, ``cohort_data``).
    value : object
        The offending value.
    allowed : str
        What would have been accepted.
    flag : str, optional
        The command-line flag, when it is not ``--`` + the argument with ``-`` for ``_``.
    """

    def __init__(self, argument: str, value: object, allowed: str, flag: str | None = None) -> None:
        self.argument, self.value, self.allowed = argument, value, allowed
        self.flag = flag or _flag(argument)
        super().__init__(f"{argument}={value!r}: {allowed}")

    def cli_message(self) -> str:
        """The same message, naming the command-line flag instead of the Python argument."""
        return " ".join(f"{self.flag}: {self.value!r}: {self.allowed}".split())


def check_women(women: object, argument: str = "women") -> int:
    """A cohort size: a whole number >= 1 (not a bool); else :class:`ArgumentError`."""
    if isinstance(women, bool) or not isinstance(women, int) and not _is_numpy_int(women) or int(women) < 1:
        raise ArgumentError(argument, women, "a whole number >= 1")
    return int(women)


def check_seed(seed: object, argument: str = "seed") -> int:
    """A run seed: a whole number in [0, 2**63); else :class:`ArgumentError`."""
    if isinstance(seed, bool) or not isinstance(seed, int) and not _is_numpy_int(seed) or not 0 <= int(seed) < 2**63:
        raise ArgumentError(argument, seed, "a whole number between 0 and 2**63 - 1")
    return int(seed)


def _is_numpy_int(value: object) -> bool:
    import numpy as np

    return isinstance(value, np.integer)
