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
STUDENTS, SEED, WOMEN = 8, 11, 3000
ROLES = {"student_01": None, "student_02": "wrong_denominator", "student_03": "unclustered_errors"}
ROLES |= {"student_04": "forgotten_stratum", "student_05": "empty"}
#: Beyond the mock class of five: correct work with the data renamed, correct work with a check cell deleted,
#: a file that is not a notebook (graded as "not graded", the others all the same).
ROLES |= {"student_06": "renamed", "student_07": "deleted_check", "student_08": "not_a_notebook"}


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
        out = subs / sid / "coursework.ipynb"
        submission(
            released,
            source,
            out,
            mistake=mistake,
            empty=role == "empty",
            rename_df=role == "renamed",
            delete="ex1_rate" if role == "deleted_check" else None,
        )
        if role == "not_a_notebook":
            out.write_text("{not json", encoding="utf-8")
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


@pytest.mark.parametrize("sid", ["student_01", "student_06", "student_07"])
def test_correct_work_scores_full_marks(graded, sid):
    """Also when the student named the data otherwise, or deleted a check cell (put back from the source)."""
    grades, *_ = graded
    row = grades.loc[sid]
    assert row["status"] == "graded" and row["automatic_max"] == 13 and row["automatic_points"] == 13
    assert row["ex5_denominator"] == "to mark" and row["points_to_mark_by_hand"] == 4 and row["total_max"] == 17


def test_a_file_that_is_not_a_notebook_is_reported_and_the_class_graded(graded):
    grades, *_ = graded
    assert grades.loc["student_08", "status"].startswith("not graded: ")
    assert (grades.drop(index="student_08")["status"] == "graded").all()


@pytest.mark.parametrize("sid", ["student_02", "student_03", "student_04"])
def test_a_typical_mistake_loses_exactly_its_points(graded, sid):
    grades, *_ = graded
    broken = MISTAKES[ROLES[sid]][3]
    row, full = grades.loc[sid], grades.loc["student_01"]
    checks = [c for c in grades.columns if c.startswith("ex") and c != "ex5_denominator"]
    assert row["status"] == "graded"
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
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [f"{sid}.html" for sid in ROLES][:-1]
    assert "is not what a correct analysis" not in (out / "feedback" / "student_01.html").read_text()
    assert "is not what a correct analysis" in (out / "feedback" / "student_02.html").read_text()
    skipped = (out / "not_graded.txt").read_text().splitlines()
    assert [line.split(" (")[0] for line in skipped] == ["notes", "stray.ipynb"]
    assert all("not a student of this course" in line for line in skipped)
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
    with pytest.raises(ArgumentError, match=r"^out=.*folder exists and is not empty"):
        grade_submissions(base / "submissions", base / "course", base / "grades")
    for inside in (base / "submissions", base / "course", base / "course" / "grades", base):
        with pytest.raises(ArgumentError, match=r"^out=.*must be outside"):
            grade_submissions(base / "submissions", base / "course", inside, overwrite=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "marks.xlsx").write_text("precious")
    with pytest.raises(ArgumentError, match=r"^out=.*holds files grading did not write \(marks.xlsx\)"):
        grade_submissions(base / "submissions", base / "course", mine, overwrite=True)
    assert (mine / "marks.xlsx").read_text() == "precious"
    import shutil

    old = tmp_path / "old-grades"
    shutil.copytree(base / "grades", old)
    (old / "feedback" / "student_01_comments.txt").write_text("my notes")
    with pytest.raises(ArgumentError, match=r"holds files grading did not write \(feedback/student_01_comments.txt\)"):
        grade_submissions(base / "submissions", base / "course", old, overwrite=True)
    assert (old / "feedback" / "student_01_comments.txt").read_text() == "my notes"

    broken = tmp_path / "course"
    shutil.copytree(base / "course" / "instructor", broken / "instructor")
    with pytest.raises(ArgumentError, match=r"^course=.*students/student_01/student_01.csv is missing"):
        grade_submissions(base / "submissions", broken, tmp_path / "g")


def test_a_grading_environment_that_cannot_run_the_checks_is_refused_before_anyone_is_graded(graded, tmp_path):
    """The assignment's own worked answers must score full marks first (here a check is broken)."""
    import shutil

    import nbformat

    from analysis.errors import CalcsimInputError

    _, base, *_ = graded
    course = tmp_path / "course"
    shutil.copytree(base / "course" / "instructor", course / "instructor")
    shutil.copytree(base / "course" / "students" / "student_01", course / "students" / "student_01")
    keys = pd.read_csv(course / "instructor" / "key.csv", keep_default_na=False)
    keys.head(1).to_csv(course / "instructor" / "key.csv", index=False)
    source = course / "instructor" / "grading" / "coursework.ipynb"
    nb = nbformat.read(source, as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1_rate"]
    cell.source = cell.source.replace("### END HIDDEN TESTS", "assert False, 'broken'\n### END HIDDEN TESTS")
    nbformat.write(nb, source)
    with pytest.raises(CalcsimInputError, match=r"^the grading environment cannot run the checks: .* score 12 of 13"):
        grade_submissions(base / "submissions", course, tmp_path / "g")
    assert not (tmp_path / "g").exists()
