"""``calcsim teach grade``: every submitted notebook graded by nbgrader against its student's own key.

For each submission the grader builds a private nbgrader course in a temporary folder: the assignment's
source as exported (``instructor/grading/coursework.ipynb``), the submitted notebook alone (no other
file of the submission, nothing outside it) and the instructor's copy of the student's data file. nbgrader
replaces the check cells by the source's own (hidden tests included), runs the notebook there, and scores
each check; the key of that student (from ``instructor/key.csv``) reaches the checks through
:data:`~analysis.teach.checks.KEY_ENV`. Nothing is written into the submissions folder.

Writes ``OUT/grades.csv`` (one row per student: points per check, automatic total, points still to be
marked by hand) and ``OUT/feedback/<student>.html`` (nbgrader's feedback page).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import ArgumentError, CalcsimInputError

__all__ = ["find_submissions", "grade_submissions"]


def _course(course: str | os.PathLike[str]) -> tuple[Path, pd.DataFrame]:
    root = Path(course).absolute()
    key_file, source = root / "instructor" / "key.csv", root / "instructor" / "grading" / "coursework.ipynb"
    if not (key_file.is_file() and source.is_file()):
        raise ArgumentError(
            "course",
            str(root),
            "a course folder written by `calcsim teach export` (instructor/key.csv is missing)",
            flag="--course",
        )
    return root, pd.read_csv(key_file, keep_default_na=False)


def find_submissions(submissions: Path, students: set[str]) -> tuple[dict[str, Path], list[str]]:
    """The notebook of each student in ``submissions``, and the entries that are not graded (with why).

    A student's submission is ``<student>/`` holding one notebook (``coursework.ipynb`` preferred) or
    ``<student>.ipynb``. Anything else is listed, never opened or run.
    """
    found: dict[str, Path] = {}
    skipped: list[str] = []
    for entry in sorted(submissions.iterdir()):
        sid = entry.stem if entry.is_file() and entry.suffix == ".ipynb" else entry.name
        if sid not in students:
            if not entry.name.startswith("."):
                skipped.append(f"{entry.name} (not a student of this course)")
            continue
        if entry.is_dir():
            nbs = sorted(p for p in entry.glob("*.ipynb") if p.is_file())
            chosen = [p for p in nbs if p.name == "coursework.ipynb"] or nbs
            if len(chosen) != 1:
                skipped.append(f"{entry.name}/ ({len(nbs)} notebooks; expected coursework.ipynb)")
                continue
            entry = chosen[0]
        if sid in found:
            skipped.append(f"{entry.name} (a second submission of {sid})")
            continue
        found[sid] = entry
    return found, skipped


def _grade_one(api: Any, work: Path, sid: str, notebook: Path, data: Path, key: dict[str, Any]) -> None:
    from analysis.teach.assignment import ASSIGNMENT
    from analysis.teach.checks import KEY_ENV

    folder = work / "submitted" / sid / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copyfile(notebook, folder / f"{ASSIGNMENT}.ipynb")
    shutil.copyfile(data, folder / data.name)
    key_file = work / "keys" / f"{sid}.json"
    key_file.parent.mkdir(exist_ok=True)
    key_file.write_text(json.dumps(key), encoding="utf-8")
    old = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = str(key_file)
    try:
        result = api.autograde(ASSIGNMENT, sid, force=True, create=True)
    finally:
        if old is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = old
    if not result["success"]:
        raise CalcsimInputError(f"nbgrader could not grade {sid}: {(result.get('error') or '').strip()[-300:]}")
    api.generate_feedback(ASSIGNMENT, sid, force=True)


def _scores(work: Path, sid: str) -> dict[str, Any]:
    from nbgrader.api import Gradebook

    from analysis.teach.assignment import ASSIGNMENT

    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, sid)
        row: dict[str, Any] = {"student": sid}
        auto = auto_max = pending = 0.0
        for g in sorted(nb.grades, key=lambda g: g.name):
            if g.needs_manual_grade:
                row[g.name] = "to mark"
                pending += g.max_score
                continue
            score = float(g.manual_score if g.manual_score is not None else g.auto_score or 0.0)
            row[g.name] = score
            if g.cell.cell_type == "code":
                auto, auto_max = auto + score, auto_max + g.max_score
        row.update({"automatic_points": auto, "automatic_max": auto_max, "points_to_mark_by_hand": pending})
        row["total_max"] = float(nb.max_score)
    return row


def grade_submissions(
    submissions: str | os.PathLike[str],
    course: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Grade every submission of ``submissions`` against its student's key (see the module doc).

    Parameters
    ----------
    submissions : path
        Folder of submissions: ``<student>/coursework.ipynb`` or ``<student>.ipynb`` per student.
    course : path
        The course folder ``calcsim teach export`` wrote.
    out : path
        Folder to create for ``grades.csv`` and ``feedback/`` (new or empty; ``overwrite`` replaces it).
    overwrite : bool
        Replace a non-empty ``out``.
    progress : bool
        Progress bar on stderr.

    Returns
    -------
    pandas.DataFrame
        The grades table (also ``out/grades.csv``); ``attrs["skipped"]`` lists what was not graded.
    """
    from tqdm import tqdm

    from analysis.io.atomic import staging_folder, swap_into_place
    from analysis.teach.assignment import ASSIGNMENT, generate_release, nbgrader_api
    from analysis.teach.course import check_out_dir

    sub = Path(submissions).absolute()
    if not sub.is_dir():
        raise ArgumentError("submissions", str(sub), "an existing folder of submitted notebooks", flag="SUBMISSIONS")
    root, keys = _course(course)
    target = check_out_dir(out, overwrite, flag="--out")
    found, skipped = find_submissions(sub, set(keys["student"]))
    if not found:
        raise ArgumentError(
            "submissions", str(sub), "no submission of a student of this course in it", flag="SUBMISSIONS"
        )
    import nbformat

    source = nbformat.read(root / "instructor" / "grading" / f"{ASSIGNMENT}.ipynb", as_version=4)
    rows = []
    work = Path(tempfile.mkdtemp(prefix="calcsim-grade-"))
    try:
        generate_release(source, work)
        with staging_folder(target, "grades") as stage, nbgrader_api(work) as api:
            (stage / "feedback").mkdir()
            for sid in tqdm(sorted(found), desc="grading", unit="notebook", disable=not progress):
                key = keys.loc[keys["student"] == sid].iloc[0].to_dict()
                data = root / "students" / sid / str(key["file"])
                _grade_one(api, work, sid, found[sid], data, key)
                rows.append(_scores(work, sid))
                page = work / "feedback" / sid / ASSIGNMENT / f"{ASSIGNMENT}.html"
                if page.is_file():
                    shutil.copyfile(page, stage / "feedback" / f"{sid}.html")
            grades = pd.DataFrame(rows)
            grades.to_csv(stage / "grades.csv", index=False, lineterminator="\n")
            if skipped:
                (stage / "not_graded.txt").write_text("\n".join(skipped) + "\n", encoding="utf-8")
            swap_into_place(stage, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    grades.attrs["skipped"] = skipped
    return grades
