"""Running one notebook with papermill, and turning its failure into one line."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analysis.io.atomic import atomic_write_bytes
from analysis.report.errors import ReportError, first_line
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


def execute_notebook(note: Notebook, work: Path, women: int, seed: int, kernel_name: str | None,
                     progress: bool, executed_dir: Path | None = None) -> Any:
    """Run one notebook with papermill in its own folder; return the executed notebook node.

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
    progress : bool
        A progress bar over the cells on stderr.
    executed_dir : Path, optional
        Also write the executed notebook here as ``<stem>.ipynb`` — a failed one too, with its
        error output, when papermill got as far as writing it.

    Raises
    ------
    ReportError
        One line naming the notebook, the failing cell (number, index, first line) and the exception.
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src = work / f"{note.stem}.input.ipynb"
    out = work / f"{note.stem}.ipynb"
    nbformat.write(note.nb, src)
    kwargs: dict[str, Any] = {}
    if kernel_name is None:
        kwargs["kernel_manager_class"] = kernel_manager_class()
    bar = {"desc": f"  {note.source.name}", "leave": False, "file": sys.stderr, "position": 1} if progress else False
    try:
        with warnings.catch_warnings(), _quiet_logger("papermill"):
            # papermill logs "Unable to parse line" for parameter lines it cannot type-infer; it does not
            # affect the injected values (which are checked against the parameters cell beforehand)
            warnings.simplefilter("ignore")
            pm.execute_notebook(
                str(src), str(out), parameters={"women": int(women), "seed": int(seed), **note.parameters},
                kernel_name=kernel_name or KERNEL_NAME, language="python", cwd=str(note.source.parent),
                progress_bar=bar, request_save_on_cell_execute=False, log_output=False, start_timeout=180,
                **kwargs)
    except PapermillExecutionError as exc:
        idx = source_cell_index(note.nb, exc.cell_index)
        where = "the injected parameters cell" if idx is None else f"cell {idx + 1} (index {idx})"
        line = first_line(exc.source, 80)
        evalue = first_line(exc.evalue, 300)
        raise ReportError(
            f"{note.source}: failed in {where}, first line {line!r}: {exc.ename}: {evalue}",
            notebook=str(note.source), cell=idx, source=exc.source, ename=exc.ename, evalue=evalue) from None
    except Exception as exc:  # kernel died or would not start, timeout, missing kernel spec, ...
        msg = first_line(str(exc), 300) or type(exc).__name__
        raise ReportError(f"{note.source}: could not be executed ({type(exc).__name__}: {msg})",
                          notebook=str(note.source), ename=type(exc).__name__, evalue=msg) from None
    finally:
        if executed_dir is not None and out.is_file():
            atomic_write_bytes(executed_dir / out.name, out.read_bytes())
    return nbformat.read(out, as_version=4)
