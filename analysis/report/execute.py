"""Running one notebook with papermill, and turning its failure into one line."""

from __future__ import annotations

import contextlib
import copy
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analysis.io.atomic import atomic_write_bytes
from analysis.report.errors import ReportError, first_line
from analysis.report.headline import headline_cell, take_headline
from analysis.report.kernel import KERNEL_NAME, kernel_manager_class
from analysis.report.notebooks import Notebook, parameters_cell


def source_cell_index(nb: Any, executed_index: int) -> int | None:
    """Index in the notebook as written of the cell papermill reports at ``executed_index``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook before execution.
    executed_index : int
        A cell index in the executed notebook, which has papermill's injected-parameters cell
        after the ``parameters`` cell (or at the top when there is none).

    Returns
    -------
    int or None
        The 0-based index in ``nb``, or None for the injected cell itself.
    """
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    if any("injected-parameters" in t for t in tags):
        return executed_index  # papermill replaces an existing injected cell: no shift
    p = parameters_cell(nb)
    injected = 0 if p is None else p + 1
    if executed_index == injected:
        return None  # the injected parameters cell itself
    return executed_index - 1 if executed_index > injected else executed_index


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    import logging

    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _failed_where(note: Notebook, executed_index: int) -> tuple[int | None, str]:
    idx = source_cell_index(note.nb, executed_index)
    if idx is None:
        return None, "the injected parameters cell"
    if idx >= len(note.nb.cells):
        return None, "the headline cell the report appends (analysis.report.headline)"
    return idx, f"cell {idx + 1} (index {idx})"


def _keep_copy(out: Path, executed_dir: Path | None) -> None:
    """Copy papermill's output to ``executed_dir`` as the notebook ran, without the report's own cell."""
    if executed_dir is None or not out.is_file():
        return
    import nbformat

    try:
        nb = nbformat.read(out, as_version=4)
        take_headline(nb)
        data = nbformat.writes(nb).encode("utf-8")
    except Exception:  # noqa: BLE001 - a torn output file: keep it as it is, for inspection
        data = out.read_bytes()
    atomic_write_bytes(executed_dir / out.name, data)


def _papermill(
    note: Notebook, src: Path, out: Path, parameters: dict[str, Any], kernel_name: str | None, bar: Any
) -> None:
    """papermill's ``execute_notebook`` in the notebook's folder; its failures as one-line :class:`ReportError`."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        with warnings.catch_warnings(), _quiet_logger("papermill"):
            # papermill logs "Unable to parse line" for parameter lines it cannot type-infer; it does not
            # affect the injected values (which are checked against the parameters cell beforehand)
            warnings.simplefilter("ignore")
            pm.execute_notebook(
                str(src),
                str(out),
                parameters=parameters,
                kernel_name=kernel_name or KERNEL_NAME,
                language="python",
                cwd=str(note.source.parent),
                progress_bar=bar,
                request_save_on_cell_execute=False,
                log_output=False,
                start_timeout=180,
                kernel_manager_class=kernel_manager_class(),
            )
    except PapermillExecutionError as exc:
        idx, where = _failed_where(note, exc.cell_index)
        line, evalue = first_line(exc.source, 80), first_line(exc.evalue, 300)
        raise ReportError(
            f"{note.source}: failed in {where}, first line {line!r}: {exc.ename}: {evalue}",
            notebook=str(note.source),
            cell=idx,
            source=exc.source,
            ename=exc.ename,
            evalue=evalue,
        ) from None
    except Exception as exc:  # kernel died or would not start, timeout, missing kernel spec, ...
        msg = first_line(str(exc), 300) or type(exc).__name__
        raise ReportError(
            f"{note.source}: could not be executed ({type(exc).__name__}: {msg})",
            notebook=str(note.source),
            ename=type(exc).__name__,
            evalue=msg,
        ) from None


def execute_notebook(
    note: Notebook,
    work: Path,
    women: int,
    seed: int,
    kernel_name: str | None,
    cell_bar: bool,
    executed_dir: Path | None = None,
) -> tuple[Any, list[dict[str, Any]]]:
    """Run one notebook with papermill in its own folder.

    The notebook runs with the report's headline cell appended (:func:`~analysis.report.headline.headline_cell`);
    the executed notebook returned, and the copy kept in ``executed_dir``, are without it.

    Parameters
    ----------
    note : Notebook
        The notebook (as read) and its extra parameters.
    work : Path
        Scratch folder for papermill's input and output files.
    women, seed : int
        Injected after the ``parameters`` cell, with ``note.parameters``.
    kernel_name : str or None
        An installed kernel, or None for the built-in :data:`~analysis.report.kernel.KERNEL_NAME`.
    cell_bar : bool
        papermill's progress bar over the cells, on stderr (meant for a terminal).
    executed_dir : Path, optional
        Also write the executed notebook here as ``<stem>.ipynb`` — a failed one too, with its
        error output, when papermill got as far as writing it.

    Returns
    -------
    (nbformat.NotebookNode, list of dict)
        The executed notebook and the runs its headline cell reported.

    Raises
    ------
    ReportError
        One line naming the notebook, the failing cell (number, index, first line) and the exception.
    """
    import nbformat

    src = work / f"{note.stem}.input.ipynb"
    out = work / f"{note.stem}.ipynb"
    nb = copy.deepcopy(note.nb)
    nb.cells.append(headline_cell())
    nbformat.write(nb, src)
    bar = {"desc": f"  {note.source.name}", "leave": False, "file": sys.stderr, "position": 1} if cell_bar else False
    try:
        _papermill(note, src, out, {"women": int(women), "seed": int(seed), **note.parameters}, kernel_name, bar)
    finally:
        _keep_copy(out, executed_dir)
    executed = nbformat.read(out, as_version=4)
    return executed, take_headline(executed)
