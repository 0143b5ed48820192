"""Student and instructor pages of a notebook with worked answers.

A notebook has worked answers when some of its cells are tagged :data:`SOLUTION_TAG` (in the jupytext
``.py``: ``# %% tags=["solution"]``, usually with ``jupyter={"source_hidden": true}`` so that JupyterLab
shows them collapsed). Their explanations are in markdown cells as a folded block,
``<details><summary>Worked answer</summary> … </details>``, just before the answer's code.

Such a notebook is executed once and becomes two pages:

* the **student page** (``<stem>.html``, the page of the notebook in the report): every cell tagged
  ``solution`` removed, and every ``<details>`` block whose summary says *answer* or *solution* cut out
  of the markdown — nothing of the answers reaches the HTML;
* the **instructor page** (``instructor/<stem>.html``): each worked answer folded inside one
  ``<details>`` element — the explanation, then the answer's code (highlighted) and its output — so that
  the page opens with every answer closed.

nbconvert's markdown renderer closes a ``<details>`` written in markdown before its first paragraph
(the toggle opens onto nothing, and the answer shows anyway), so the fold is not left to it: the
explanation is taken out of its ``<details>`` and the page template (``pages.py``) opens and closes
the element around the cells, from the :data:`FOLD_OPEN` / :data:`FOLD_CLOSE` metadata set here.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from analysis.io.editions import SOLUTION_TAG, answer_blocks, has_solutions, is_solution, student_edition

__all__ = ["FOLD_CLOSE", "FOLD_OPEN", "INSTRUCTOR_DIR", "REMOVED_TAGS", "SOLUTION_TAG", "has_solutions",
           "instructor_edition", "is_solution", "student_edition"]  # fmt: skip

#: Folder (inside the report) of the instructor pages.
INSTRUCTOR_DIR = "instructor"
#: Tags of cells that no page shows (as in the page exporter's configuration).
REMOVED_TAGS = frozenset({"remove-cell", "remove_cell"})
#: Cell metadata read by the page template: open a fold before the cell (value: the summary's HTML) ...
FOLD_OPEN = "calcsim_fold_open"
#: ... and close it after the cell.
FOLD_CLOSE = "calcsim_fold_close"

#: nbgrader's solution markers (``### BEGIN SOLUTION`` / ``### END SOLUTION``), not shown on a page.
_MARKERS = re.compile(r"^[ \t]*#+[ \t]*(?:BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _markdown(source: str, **metadata: Any) -> Any:
    from nbformat.v4 import new_markdown_cell

    return new_markdown_cell(source, metadata=metadata)


def _shown_code(cell: Any) -> Any:
    """A markdown cell showing the code of ``cell`` (code is hidden everywhere else in a report)."""
    return _markdown(f"```python\n{cell.source.rstrip()}\n```")


def _split(cell: Any) -> tuple[list[Any], str | None]:
    """The markdown ``cell`` cut at its last answer block: cells before and the block's opening fold.

    Returns the cells to emit and the fold's summary when the block ends the cell (then the answer's
    code cells that follow go inside the same fold); ``None`` when there is nothing to fold.
    """
    blocks = answer_blocks(cell.source)
    if not blocks:
        return [cell], None
    out, pos = [], 0
    for i, m in enumerate(blocks):
        before = cell.source[pos : m.start()]
        if before.strip():
            out.append(_markdown(before.strip()))
        body = _markdown(m.group("body").strip() or "&nbsp;", **{FOLD_OPEN: m.group("summary").strip()})
        out.append(body)
        pos = m.end()
        last = i == len(blocks) - 1
        if not last or cell.source[pos:].strip():  # not at the end of the cell: fold only the explanation
            body.metadata[FOLD_CLOSE] = True
    rest = cell.source[pos:].strip()
    if rest:
        out.append(_markdown(rest))
        return out, None
    return out, "open"


def instructor_edition(nb: Any) -> Any:
    """A copy of the executed notebook with each worked answer folded (see the module doc)."""
    out = copy.deepcopy(nb)
    cells: list[Any] = []
    open_fold = False  # the last emitted cell opened a fold that the next answer cells go into
    for cell in out.cells:
        if set(_tags(cell)) & REMOVED_TAGS:
            continue  # removed from the page anyway: it must not carry a fold's start or end
        if is_solution(cell):
            cell.source = _MARKERS.sub("", cell.source)
            answer = [_shown_code(cell), cell] if cell.cell_type == "code" else [cell]
            if not open_fold:
                answer[0].metadata[FOLD_OPEN] = "<b>Worked answer</b>"
            cells += answer
            open_fold = True
            continue
        if open_fold:
            cells[-1].metadata[FOLD_CLOSE] = True
            open_fold = False
        if cell.cell_type == "markdown":
            parts, fold = _split(cell)
            cells += parts
            open_fold = fold is not None
        else:
            cells.append(cell)
    if open_fold:
        cells[-1].metadata[FOLD_CLOSE] = True
    out.cells = cells
    return out
