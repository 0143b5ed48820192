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
