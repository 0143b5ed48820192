"""The graded notebook: the nbgrader source, the students' release and the instructor's solution copies.

The source is the package's own coursework notebook (``notebooks/06_coursework.ipynb``), written for
nbgrader: answer cells hold the worked answer between ``### BEGIN SOLUTION`` / ``### END SOLUTION``,
test cells check the form of an answer and, between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN
TESTS``, its value (:mod:`analysis.teach.checks`). nbgrader's ``generate_assignment`` makes the release:
solutions replaced by ``# YOUR CODE HERE`` / *YOUR ANSWER HERE*, hidden tests removed; calcsim then
cuts the folded *Worked answer* explanations out of the markdown and points the parameters cell at the
student's own file.
"""

from __future__ import annotations

import copy
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from analysis.io.editions import strip_answer_blocks

__all__ = [
    "ASSIGNMENT",
    "CODE_STUB",
    "notebooks_folder",
    "nbgrader_api",
    "parameters_source",
    "release_notebook",
    "solution_notebook",
    "source_notebook",
    "student_notebook",
]

#: nbgrader's assignment id (and the notebook's name in a student's folder).
ASSIGNMENT = "coursework"
#: What replaces a code solution in the release.
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
_SOURCE_STEM = "06_coursework"


def notebooks_folder() -> Path:
    """The package's notebooks: the checkout's ``notebooks/``, else the copy installed in the wheel."""
    from analysis.errors import CalcsimInputError
    from analysis.io.paths import notebook_dirs

    for folder in notebook_dirs():
        if folder.is_dir():
            return folder
    raise CalcsimInputError(f"no notebooks folder: neither {' nor '.join(map(str, notebook_dirs()))} exists")


def source_notebook() -> Any:
    """The nbgrader source of the coursework (``06_coursework.ipynb``), as a notebook node."""
    import nbformat

    return nbformat.read(notebooks_folder() / f"{_SOURCE_STEM}.ipynb", as_version=4)


def parameters_source(data_file: str) -> str:
    """The parameters cell of a student's or a solution notebook: their data file."""
    return (
        "# Your data file, set by `calcsim teach export` (keep this line as it is).\n"
        f"data_file = {data_file!r}\n"
        "women = 10_000  # used only when data_file is empty (a demo dataset)\n"
        "seed = 2026\n"
        'scenario = "nl-biennial"\n'
    )


def _set_parameters(nb: Any, data_file: str) -> Any:
    out = copy.deepcopy(nb)
    (cell,) = [c for c in out.cells if "parameters" in c.metadata.get("tags", [])]
    cell.source = parameters_source(data_file).rstrip("\n")
    return out


@contextmanager
def nbgrader_api(root: Path) -> Iterator[Any]:
    """An ``NbGraderAPI`` on the course folder ``root``; nbgrader's helper commands found beside this Python."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.ExecutePreprocessor.timeout = 120  # seconds per cell: the slowest worked answer takes about 10 s
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), old_path])  # nbgrader runs `alembic`
    try:
        yield NbGraderAPI(config=config)
    finally:
        os.environ["PATH"] = old_path


def generate_release(source: Any, root: Path) -> Any:
    """Register ``source`` in the course folder ``root`` and return nbgrader's release of it."""
    import nbformat

    from analysis.errors import CalcsimInputError

    folder = root / "source" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(source, folder / f"{ASSIGNMENT}.ipynb")
    with nbgrader_api(root) as api:
        result = api.generate_assignment(ASSIGNMENT, force=True, create=True)
    if not result["success"]:
        last = (result.get("error") or result.get("log") or "").strip().splitlines()[-1:]
        raise CalcsimInputError(f"nbgrader could not generate the assignment: {' '.join(last)}")
    return nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def release_notebook(source: Any | None = None) -> Any:
    """The students' release of ``source`` (default :func:`source_notebook`): no solutions, no hidden tests."""
    src = source_notebook() if source is None else source
    root = Path(tempfile.mkdtemp(prefix="calcsim-release-"))
    try:
        nb = generate_release(src, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for cell in nb.cells:
        cell.metadata.pop("jupyter", None)  # students see every cell
        tags = [t for t in cell.metadata.get("tags", []) if t not in ("solution", "remove-cell")]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        if cell.cell_type == "markdown":
            cell.source = strip_answer_blocks(cell.source).rstrip()
    nb.cells = [c for c in nb.cells if c.source.strip() or c.cell_type == "code"]
    return nb


def student_notebook(release: Any, data_file: str) -> Any:
    """A student's notebook: the release with its parameters cell pointing at ``data_file``."""
    return _set_parameters(release, data_file)


def solution_notebook(data_file: str, source: Any | None = None) -> Any:
    """The instructor's copy: the source, worked answers and hidden tests included, reading ``data_file``."""
    return _set_parameters(source_notebook() if source is None else source, data_file)
