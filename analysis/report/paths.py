"""Local paths out of what a report shows: the project's folder, the home and temporary folders, the Python.

A report is meant to be read (and passed on) elsewhere, so what its pages, index and manifest say
must not depend on where it was built. :func:`path_scrubber` returns a function that rewrites, in any
text, every absolute path that starts with one of these folders:

========================================  =======================================================
``<checkout>/data/x.csv`` (the project)   ``data/x.csv`` (relative to the project; ``.`` for itself)
``<site-packages>/analysis/...`` (wheel)  ``site-packages/analysis/...``
``$HOME/notes/x.csv``                     ``~/notes/x.csv``
``/tmp/pytest-3/run/x.csv`` (temporary)   ``x.csv`` (the file name only; ``$TMPDIR`` for the folder)
``sys.executable`` (outside the above)    its file name, e.g. ``python3``
========================================  =======================================================

The longest matching folder wins (a checkout inside the home folder becomes relative, not ``~/…``).
A folder only matches at the start of a path (``/home/u/tmp/x`` is not a temporary path).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: Characters that end a path inside running text, HTML or a repr.
_PATH_REST = r"(?:/[^\s'\"<>`()\[\]{},;:&|]*)?"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ANSI_SPLIT = re.compile(r"(\x1b\[[0-9;]*[A-Za-z])")


def _variants(folder: str | os.PathLike[str] | None) -> list[str]:
    """``folder`` as given and with its symlinks resolved (``/tmp`` is ``/private/tmp`` on macOS)."""
    if not folder:
        return []
    given = str(folder).rstrip("/")
    out = [given]
    try:
        real = str(Path(given).resolve()).rstrip("/")
    except OSError:
        real = given
    if real != given:
        out.append(real)
    return [f for f in out if f and f != "/"]


def _temp_dirs() -> list[str]:
    dirs: list[str] = []
    for d in (tempfile.gettempdir(), os.environ.get("TMPDIR"), "/tmp", "/var/tmp"):
        dirs += _variants(d)
    return list(dict.fromkeys(dirs))


def _rules(project: Path | None, installed: Path | None) -> list[tuple[str, Callable[[str], str]]]:
    """``(folder, rewrite of the rest of the path)``, longest folder first."""
    rules: list[tuple[str, Callable[[str], str]]] = []
    for f in _variants(project):
        rules.append((f, lambda rest: rest.lstrip("/") or "."))
    for f in _variants(installed):
        name = Path(f).name
        rules.append((f, lambda rest, name=name: name + rest))
    for f in _variants(Path.home()):
        rules.append((f, lambda rest: "~" + rest))
    for f in _temp_dirs():
        rules.append((f, lambda rest: Path(rest).name if rest.strip("/") else "$TMPDIR"))
    rules.sort(key=lambda r: len(r[0]), reverse=True)
    return rules


def _compile(rules: Iterable[tuple[str, Callable[[str], str]]]) -> tuple[re.Pattern[str], dict[str, Any]]:
    rules = list(rules)
    by_prefix = dict(rules)
    alternation = "|".join(re.escape(p) for p, _ in rules) or r"(?!x)x"
    pattern = re.compile(rf"(?<![\w.~$-])(?P<prefix>{alternation})(?P<rest>{_PATH_REST})(?![\w.-])")
    return pattern, by_prefix


def path_scrubber(
    project: Path | None, installed: Path | None = None, executable: str | None = None
) -> Callable[[str], str]:
    """A function ``text -> text`` with the local paths of this machine rewritten (see the module doc).

    Parameters
    ----------
    project : Path or None
        The project's folder (calcsim's checkout); paths inside it become relative.
    installed : Path, optional
        The folder holding an installed ``analysis`` package (``site-packages``); its paths keep
        only its name.
    executable : str, optional
        The Python to hide (default ``sys.executable``): rewritten like any path when it lies in
        one of the folders above, else reduced to its file name.
    """
    pattern, by_prefix = _compile(_rules(project, installed))

    def paths(text: str) -> str:
        return pattern.sub(lambda m: by_prefix[m.group("prefix")](m.group("rest")), text)

    exe = executable if executable is not None else sys.executable
    exes = [(e, paths(e) if paths(e) != e else Path(e).name) for e in _variants(exe)]

    def scrub(text: str) -> str:
        for e, shown in exes:
            text = text.replace(e, shown)
        if "\x1b" not in text:
            return paths(text)
        # a coloured traceback: the colour codes end in a letter that would hide the start of a path
        return "".join(part if _ANSI.fullmatch(part) else paths(part) for part in _ANSI_SPLIT.split(text))

    return scrub


def scrub_value(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` (a JSON-like value: str, list, dict, number ...) with every string scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_value(v, scrub) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_value(v, scrub) for v in value)
    return value


def scrub_outputs(nb: Any, scrub: Callable[[str], str]) -> None:
    """Scrub, in place, the text outputs of an executed notebook (streams, text/* data, errors).

    Images and other binary outputs are left as they are; cell sources too (they are the
    notebook as written, and code is not shown in a report).
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                out["text"] = scrub_value(out.get("text", ""), scrub)
            elif kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                for mime in [m for m in data if m.startswith("text/") or m.endswith("json")]:
                    data[mime] = scrub_value(data[mime], scrub)
            elif kind == "error":
                out["evalue"] = scrub(out.get("evalue", ""))
                out["traceback"] = [scrub(t) for t in out.get("traceback", [])]
