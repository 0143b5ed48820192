"""``calcsim teach grade``: every submitted notebook graded by nbgrader against its student's own key.

For each submission the grader builds a private nbgrader course of its own in a temporary folder: the
assignment's source as exported (``instructor/grading/coursework.ipynb``), the submitted notebook alone
(no other file of the submission, nothing outside it; a check cell the student deleted is put back) and
the course's copy of the student's data file. nbgrader replaces the check cells by the source's own
(hidden tests included), runs the notebook there and scores each check; the key of that student (from
``instructor/key.csv``) reaches the checks through :data:`~analysis.teach.checks.KEY_ENV`. Nothing is
written into the submissions folder or the course.

Writes ``OUT/grades.csv`` (one row per student of the course: status, points per check, automatic total,
points still to be marked by hand) and ``OUT/feedback/<student>.html`` (nbgrader's feedback page). A
submission that cannot be graded (not a notebook, two notebooks) gets its reason in the status column;
the others are graded all the same.

As with any notebook autograder, the submission's code runs in the kernel before the checks: a student
who sets out to could tamper with them; grading is a check of honest work, not a sandbox.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import ArgumentError, CalcsimInputError

__all__ = ["find_submissions", "grade_submissions"]

#: What ``calcsim teach grade`` writes into its output folder (the only entries ``overwrite`` replaces).
OUTPUTS = frozenset({"grades.csv", "feedback", "not_graded.txt"})


def _course(course: str | os.PathLike[str]) -> tuple[Path, pd.DataFrame]:
    root = Path(course).resolve()
    for rel in ("instructor/key.csv", "instructor/grading/coursework.ipynb"):
        if not (root / rel).is_file():
            raise ArgumentError(
                "course",
                str(root),
                f"a course folder written by `calcsim teach export` ({rel} is missing)",
                flag="--course",
            )
    try:
        keys = pd.read_csv(root / "instructor" / "key.csv", keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ArgumentError(
            "course", str(root), f"instructor/key.csv cannot be read ({exc})", flag="--course"
        ) from None
    if not {"student", "file"} <= set(keys.columns) or keys.empty:
        raise ArgumentError(
            "course", str(root), "instructor/key.csv is not a key of `calcsim teach export`", flag="--course"
        )
    for sid, file in zip(keys["student"], keys["file"], strict=True):
        if not (root / "students" / sid / file).is_file():
            raise ArgumentError(
                "course",
                str(root),
                f"students/{sid}/{file} is missing: grading needs each student's data file",
                flag="--course",
            )
    return root, keys


def _target(out: str | os.PathLike[str], overwrite: bool, protected: tuple[Path, ...]) -> Path:
    """The output folder: new, empty, or (``overwrite``) one holding only what this command writes."""
    target = Path(out).absolute()
    resolved = target.resolve()
    for p in protected:
        if resolved == p or p in resolved.parents or resolved in p.parents:
            raise ArgumentError(
                "out", str(target), f"must be outside {p} (the submissions and the course)", flag="--out"
            )
    if target.exists() and not target.is_dir():
        raise ArgumentError("out", str(target), "exists and is not a folder", flag="--out")
    if target.is_dir() and any(target.iterdir()):
        if not overwrite:
            raise ArgumentError(
                "out",
                str(target),
                "folder exists and is not empty; choose a new folder or add --overwrite",
                flag="--out",
            )
        others = sorted(p.name for p in target.iterdir() if p.name not in OUTPUTS)
        feedback = target / "feedback"
        if feedback.is_dir():
            others += sorted(
                f"feedback/{p.name}"
                for p in feedback.iterdir()
                if not (p.is_file() and p.name.startswith("student_") and p.suffix == ".html")
            )
        if others:
            raise ArgumentError(
                "out",
                str(target),
                f"holds files grading did not write ({', '.join(others[:3])}); not replaced",
                flag="--out",
            )
    return target


def find_submissions(submissions: Path, students: set[str]) -> tuple[dict[str, Path], dict[str, str], list[str]]:
    """Each student's notebook in ``submissions``; students whose submission cannot be graded (why); other entries.

    A student's submission is ``<student>/`` holding one notebook (``coursework.ipynb`` preferred) or
    ``<student>.ipynb``. Anything else is listed, never opened or run.
    """
    found: dict[str, Path] = {}
    problems: dict[str, str] = {}
    skipped: list[str] = []
    for entry in sorted(submissions.iterdir()):
        sid = entry.stem if entry.is_file() and entry.suffix == ".ipynb" else entry.name
        if sid not in students:
            if not entry.name.startswith("."):
                skipped.append(f"{entry.name} (not a student of this course: name it student_NN/ or student_NN.ipynb)")
            continue
        if entry.is_dir():
            nbs = sorted(p for p in entry.glob("*.ipynb") if p.is_file())
            chosen = [p for p in nbs if p.name == "coursework.ipynb"] or nbs
            if len(chosen) != 1:
                problems[sid] = f"not graded: {len(nbs)} notebooks in {entry.name}/, expected coursework.ipynb"
                continue
            entry = chosen[0]
        if sid in found:
            problems[sid] = "not graded: two submissions (a folder and a notebook)"
            found.pop(sid)
            continue
        found[sid] = entry
    return found, problems, skipped


def _submitted(path: Path, source: Any) -> Any:
    """The submitted notebook, validated, with any check cell the student deleted put back from ``source``."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    at = 0
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid in present:
            at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid) + 1
        elif meta.get("grade") and not meta.get("solution"):
            nb.cells.insert(at, copy.deepcopy(cell))
            at += 1
    return nb


def _key_json(key: dict[str, Any]) -> str:
    """The key row as JSON (empty fields, the values the export could not estimate, as null)."""
    return json.dumps({k: (None if v == "" else v) for k, v in key.items()})


def _grade_one(template: Path, sid: str, nb: Any, data: Path, key: dict[str, Any]) -> Path:
    """Autograde one notebook in a course folder of its own (a copy of ``template``); return that folder."""
    work = Path(tempfile.mkdtemp(prefix=f"calcsim-grade-{sid}-"))
    try:
        return _autograde(work, template, sid, nb, data, key)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _autograde(work: Path, template: Path, sid: str, nb: Any, data: Path, key: dict[str, Any]) -> Path:
    import nbformat

    from analysis.teach.assignment import ASSIGNMENT, nbgrader_api
    from analysis.teach.checks import KEY_ENV

    shutil.copytree(template, work / "course")
    folder = work / "course" / "submitted" / sid / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
    shutil.copyfile(data, folder / data.name)
    key_file = work / "key.json"
    key_file.write_text(_key_json(key), encoding="utf-8")
    old = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = str(key_file)
    try:
        with nbgrader_api(work / "course") as api:
            result = api.autograde(ASSIGNMENT, sid, force=True, create=True)
            if result["success"]:
                api.generate_feedback(ASSIGNMENT, sid, force=True)
    finally:
        if old is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = old
    if not result["success"]:
        lines = [ln.strip() for ln in (result.get("error") or result.get("log") or "").splitlines() if ln.strip()]
        raise RuntimeError(f"nbgrader could not run it ({lines[-1][:150] if lines else 'no reason given'})")
    return work / "course"


def _scores(course: Path, sid: str) -> dict[str, Any]:
    from nbgrader.api import Gradebook

    from analysis.teach.assignment import ASSIGNMENT

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, sid)
        row: dict[str, Any] = {}
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


def _failure(exc: Exception) -> str:
    """The status of a submission that could not be graded: the error's first line."""
    text = str(exc).strip().splitlines()
    return f"not graded: {type(exc).__name__}" + (f": {text[0][:200]}" if text else "")


def _grade_student(
    template: Path, source: Any, root: Path, notebook: Path, key: dict[str, Any], feedback: Path
) -> dict[str, Any]:
    """The grades row of one submission (its status says why when it could not be graded); its feedback page."""
    from analysis.teach.assignment import ASSIGNMENT

    sid = str(key["student"])
    graded = None
    try:
        try:
            nb = _submitted(notebook, source)
            graded = _grade_one(template, sid, nb, root / "students" / sid / str(key["file"]), key)
            row = {"status": "graded", **_scores(graded, sid)}
        except Exception as exc:  # one submission that cannot be graded does not stop the class
            return {"status": _failure(exc)}
        page = graded / "feedback" / sid / ASSIGNMENT / f"{ASSIGNMENT}.html"
        if page.is_file():  # writing the output is not the submission's fault: its errors stop the run
            shutil.copyfile(page, feedback / f"{sid}.html")
        return row
    finally:
        if graded is not None:
            shutil.rmtree(graded.parent, ignore_errors=True)


def _preflight(template: Path, source: Any, root: Path, key: dict[str, Any]) -> None:
    """Grade the assignment's own worked answers on the first student's data: full marks, or the grading
    environment (its ``python3`` kernel, calcsim in it) cannot run the checks — say so before grading anyone."""
    from analysis.teach.assignment import solution_notebook

    if key is None:  # no student's key has every checked value (a tiny cohort): nothing to compare with
        return
    sid = str(key["student"])
    nb = solution_notebook(str(key["file"]), source)
    for cell in nb.cells:  # the free-text answer stays unanswered; only the automatic checks count
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "markdown":
            cell.source = "YOUR ANSWER HERE"
    graded = None
    try:
        graded = _grade_one(template, sid, nb, root / "students" / sid / str(key["file"]), key)
        row = _scores(graded, sid)
    except Exception as exc:
        row = {"automatic_points": math.nan, "automatic_max": math.nan, "error": _failure(exc)}
    finally:
        if graded is not None:
            shutil.rmtree(graded.parent, ignore_errors=True)
    if not row["automatic_points"] == row["automatic_max"] > 0:
        got = (
            f"could not be graded ({row['error']})"
            if "error" in row
            else f"score {row['automatic_points']:g} of {row['automatic_max']:g} points"
        )
        raise CalcsimInputError(
            f"the grading environment cannot run the checks: the assignment's own worked answers {got};"
            " the notebooks' `python3` kernel must run a Python with calcsim and nbgrader installed"
        )


#: Key fields the checks compare with (a student whose key lacks one cannot serve as the preflight's).
_CHECKED = tuple(
    "recall_rate recall_rate_lower recall_first recall_subsequent calc_only_share_of_recalls"
    " calc_only_share_of_screen_detected bf12_cluster_or_crude bf12_cluster_or_crude_lower"
    " bf12_cluster_or_crude_independence bf12_cluster_or_crude_naive_lower".split()
)


def _preflight_key(keys: pd.DataFrame) -> dict[str, Any] | None:
    """The first student whose key has every value the checks compare with."""
    for key in keys.to_dict("records"):
        if all(str(key.get(c, "")).strip() not in ("", "nan") for c in _CHECKED):
            return key
    return None


def _template(source: Any) -> Path:
    """A course folder with the assignment registered (source, release, gradebook), copied per student."""
    from analysis.teach.assignment import generate_release

    folder = Path(tempfile.mkdtemp(prefix="calcsim-grade-template-"))
    try:
        generate_release(source, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


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
        Folder to create for ``grades.csv`` and ``feedback/`` (new or empty; with ``overwrite``, one that
        holds only what this command writes: ``grades.csv``, ``not_graded.txt``, ``feedback/student_*.html``).
        Must lie outside ``submissions`` and ``course``.
    overwrite : bool
        Replace the grades in a non-empty ``out``.
    progress : bool
        Progress bar on stderr.

    Returns
    -------
    pandas.DataFrame
        The grades table (also ``out/grades.csv``), one row per student of the course;
        ``attrs["skipped"]`` lists the entries of ``submissions`` that are not a student's.
    """
    import nbformat
    from tqdm import tqdm

    from analysis.io.atomic import staging_folder, swap_into_place
    from analysis.teach.assignment import ASSIGNMENT

    sub = Path(submissions).absolute()
    if not sub.is_dir():
        raise ArgumentError("submissions", str(sub), "an existing folder of submitted notebooks", flag="SUBMISSIONS")
    root, keys = _course(course)
    target = _target(out, overwrite, (sub.resolve(), root))
    found, problems, skipped = find_submissions(sub, set(keys["student"]))
    if not found:
        raise ArgumentError(
            "submissions", str(sub), "no submission of a student of this course in it", flag="SUBMISSIONS"
        )
    try:
        source = nbformat.read(root / "instructor" / "grading" / f"{ASSIGNMENT}.ipynb", as_version=4)
    except (OSError, ValueError) as exc:
        raise ArgumentError(
            "course", str(root), f"instructor/grading/{ASSIGNMENT}.ipynb cannot be read ({exc})", flag="--course"
        ) from None
    template = _template(source)
    rows = []
    try:
        with staging_folder(target, "grades") as stage, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbgrader's SQLAlchemy session warnings
            _preflight(template, source, root, _preflight_key(keys))
            (stage / "feedback").mkdir()
            for key in tqdm(keys.to_dict("records"), desc="grading", unit="student", disable=not progress):
                sid = str(key["student"])
                row = {"student": sid, "status": problems.get(sid, "no submission")}
                if sid in found:
                    row.update(_grade_student(template, source, root, found[sid], key, stage / "feedback"))
                rows.append(row)
            grades = pd.DataFrame(rows)
            grades.to_csv(stage / "grades.csv", index=False, lineterminator="\n")
            if skipped:
                (stage / "not_graded.txt").write_text("\n".join(skipped) + "\n", encoding="utf-8")
            _target(out, overwrite, (sub.resolve(), root))  # again: nothing was saved into it meanwhile
            swap_into_place(stage, target)
    finally:
        shutil.rmtree(template, ignore_errors=True)
    grades.attrs["skipped"] = skipped
    return grades
