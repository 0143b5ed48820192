"""Grading: a mock class of five graded by nbgrader, each against the student's own key.

Correct work scores full marks, each typical mistake loses exactly the points of the check it breaks,
an empty submission scores zero, and grading runs nothing but the submitted notebooks (in a private
copy: nothing outside a submission, nothing written into the submissions folder).
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from _submissions import MISTAKES, submission

from analysis.errors import ArgumentError
from analysis.teach import export_coursework
from analysis.teach.grading import grade_submissions

pytestmark = pytest.mark.slow
STUDENTS, SEED, WOMEN = 5, 11, 3000
ROLES = {"student_01": None, "student_02": "wrong_denominator", "student_03": "unclustered_errors"}
ROLES |= {"student_04": "forgotten_stratum", "student_05": "empty"}


def _tree(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    course = export_coursework(base / "course", STUDENTS, SEED, women=WOMEN)
    subs = base / "submissions"
    source = course / "instructor" / "grading" / "coursework.ipynb"
    for sid, role in ROLES.items():
        released = course / "students" / sid / "coursework.ipynb"
        mistake = role if role in MISTAKES else None
        submission(released, source, subs / sid / "coursework.ipynb", mistake=mistake, empty=role == "empty")
    marker = base / "executed-outside.txt"
    stray = submission(course / "students" / "student_01" / "coursework.ipynb", source, subs / "stray.ipynb")
    _touching(stray, marker)
    _touching(
        submission(course / "students" / "student_01" / "coursework.ipynb", source, subs / "notes" / "x.ipynb"), marker
    )
    before = _tree(subs)
    grades = grade_submissions(subs, course, base / "grades")
    return grades.set_index("student"), base, before, marker


def _touching(path, marker):
    """Make the notebook at ``path`` write ``marker`` when it runs."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"open({str(marker)!r}, 'w').write('ran')"))
    nbformat.write(nb, path)


def test_correct_work_scores_full_marks(graded):
    grades, *_ = graded
    row = grades.loc["student_01"]
    assert row["automatic_max"] == 13 and row["automatic_points"] == 13
    assert row["ex5_denominator"] == "to mark" and row["points_to_mark_by_hand"] == 4 and row["total_max"] == 17


@pytest.mark.parametrize("sid", ["student_02", "student_03", "student_04"])
def test_a_typical_mistake_loses_exactly_its_points(graded, sid):
    grades, *_ = graded
    broken = MISTAKES[ROLES[sid]][3]
    row, full = grades.loc[sid], grades.loc["student_01"]
    checks = [c for c in grades.columns if c.startswith("ex") and c != "ex5_denominator"]
    assert [c for c in checks if row[c] != full[c]] == [broken]
    assert row[broken] == 0 and row["automatic_points"] == 13 - float(full[broken])


def test_an_empty_submission_scores_zero(graded):
    grades, *_ = graded
    row = grades.loc["student_05"]
    assert row["automatic_points"] == 0 and row["ex5_denominator"] == 0  # an untouched answer is not to be marked
    assert row["points_to_mark_by_hand"] == 0


def test_outputs_and_nothing_run_outside_the_submissions(graded):
    grades, base, before, marker = graded
    out = base / "grades"
    table = pd.read_csv(out / "grades.csv", keep_default_na=False)
    assert list(table["student"]) == list(ROLES)
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [f"{sid}.html" for sid in ROLES]
    assert "not a correct analysis" not in (out / "feedback" / "student_01.html").read_text()
    assert "outside the 95% interval" in (out / "feedback" / "student_02.html").read_text()
    skipped = (out / "not_graded.txt").read_text().splitlines()
    assert skipped == ["notes (not a student of this course)", "stray.ipynb (not a student of this course)"]
    assert not marker.exists(), "a notebook outside the students' submissions was run"
    assert _tree(base / "submissions") == before, "grading wrote into the submissions folder"


def test_bad_arguments_are_one_line_errors(graded, tmp_path):
    _, base, *_ = graded
    with pytest.raises(ArgumentError, match=r"^course=.*instructor/key.csv is missing"):
        grade_submissions(base / "submissions", tmp_path, tmp_path / "g")
    with pytest.raises(ArgumentError, match=r"^submissions=.*an existing folder"):
        grade_submissions(tmp_path / "none", base / "course", tmp_path / "g")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArgumentError, match=r"no submission of a student of this course"):
        grade_submissions(tmp_path / "empty", base / "course", tmp_path / "g")
    with pytest.raises(ArgumentError, match=r"^out_dir=.*folder exists and is not empty"):
        grade_submissions(base / "submissions", base / "course", base / "grades")
