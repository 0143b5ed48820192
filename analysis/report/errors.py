"""The report's error: a notebook failed, or a page would not render offline."""

from __future__ import annotations

import re

from analysis.errors import CalcsimInputError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ReportError(CalcsimInputError):
    """A notebook failed (or a page would not render offline); the previous report is untouched.

    Attributes
    ----------
    notebook : str
        Path of the notebook that failed.
    cell : int or None
        0-based index of the failing cell in the notebook as written (markdown cells count;
        papermill's injected-parameters cell does not), or None when not known.
    source : str
        Source of the failing cell ("" when not known).
    ename, evalue : str
        Exception name and message raised in the notebook.
    """

    def __init__(
        self,
        message: str,
        *,
        notebook: str = "",
        cell: int | None = None,
        source: str = "",
        ename: str = "",
        evalue: str = "",
    ) -> None:
        super().__init__(message)
        self.notebook, self.cell, self.source, self.ename, self.evalue = notebook, cell, source, ename, evalue


def first_line(text: str, width: int = 100) -> str:
    """The first non-blank line of ``text`` without ANSI colour codes, cut to ``width`` characters.

    Parameters
    ----------
    text : str
        Any text, e.g. a traceback or a cell's source.
    width : int
        Longest line returned; a longer one ends with ``…``.

    Returns
    -------
    str
        The line ("" when ``text`` is blank).
    """
    lines = [ln.strip() for ln in _ANSI.sub("", str(text)).splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= width else line[: width - 1] + "…"
