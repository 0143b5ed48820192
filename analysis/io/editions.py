"""Editions of a notebook with worked answers: what is an answer, and the students' copy without them.

A worked answer is a cell tagged :data:`SOLUTION_TAG`, or a ``<details>`` block in a markdown cell whose
summary says *answer* or *solution*. The report's student pages (:mod:`analysis.report.coursework`) and
the labs handed out by ``calcsim teach export`` (:mod:`analysis.teach`) are both made by
:func:`student_edition`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

__all__ = ["SOLUTION_TAG", "answer_blocks", "has_solutions", "is_solution", "strip_answer_blocks", "student_edition"]

#: Tag of the cells that hold a worked answer.
SOLUTION_TAG = "solution"
_DETAILS = re.compile(
    r"<details\b[^>]*>\s*<summary\b[^>]*>(?P<summary>.*?)</summary>(?P<body>.*?)</details>", re.IGNORECASE | re.DOTALL
)
_ANSWER = re.compile(r"answer|solution", re.IGNORECASE)


def is_solution(cell: Any) -> bool:
    """Whether ``cell`` is tagged :data:`SOLUTION_TAG`."""
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def has_solutions(nb: Any) -> bool:
    """Whether the notebook has worked answers (a cell tagged :data:`SOLUTION_TAG`)."""
    return any(is_solution(c) for c in nb.cells)


def answer_blocks(source: str) -> list[re.Match[str]]:
    """The ``<details>`` blocks of a markdown source whose summary says *answer* or *solution*."""
    return [m for m in _DETAILS.finditer(source) if _ANSWER.search(re.sub(r"<[^>]+>", "", m.group("summary")))]


def strip_answer_blocks(source: str) -> str:
    """``source`` without its :func:`answer_blocks`."""
    for m in reversed(answer_blocks(source)):
        source = source[: m.start()] + source[m.end() :]
    return source


def student_edition(nb: Any) -> Any:
    """A copy of the notebook without its worked answers: solution cells dropped, answer blocks cut out of
    the markdown (a markdown cell left empty is dropped)."""
    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        if is_solution(cell):
            continue
        if cell.cell_type == "markdown":
            cell.source = strip_answer_blocks(cell.source)
            if not cell.source.strip():
                continue
        cells.append(cell)
    out.cells = cells
    return out
