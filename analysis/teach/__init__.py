"""Coursework: one synthetic screening dataset and notebook per student, the labs, the key and the grader.

::

    export_coursework("course/", students=30, seed=7)      # calcsim teach export --students 30 --seed 7 course/
    grade_submissions("submitted/", course="course/", out="grades/")   # calcsim teach grade ...

:mod:`analysis.teach.course` writes the course folder (students' folders with their data, notebook and
exercise sheet; the labs; the instructor's key, power, solutions and grading source). Each student's
dataset comes from the scenario with three parameters drawn per student (:data:`HIDDEN`) and its own
simulation seed; everything depends only on ``(seed, student number, women, scenario)``.

The student's CSV holds only what a programme records (:data:`COLUMNS`) — never the hidden truth. The
key (:func:`analyse_student_table`) is computed from the CSV as written, so a correct analysis matches
it exactly: Wilson 95% intervals for proportions (recall rate, by round, the calcification-only shares
of recalls and of screen-detected cancers); the odds ratio of a microcalcification cluster for
breastfeeding > 12 months among postmenopausal screens by logistic GEE (groups = woman, exchangeable,
robust errors; crude and adjusted for :data:`ADJUSTED_COVARIATES`), beside the narrower interval of a
logistic regression that ignores the repeated screens.

Grading (:mod:`analysis.teach.grading`) runs nbgrader's autograder on each submission with the checks
of :mod:`analysis.teach.checks`, against that student's own key.
"""

from analysis.teach.course import DEFAULT_WOMEN, LABS, export_coursework
from analysis.teach.export import (
    ADJUSTED_COVARIATES,
    COLUMNS,
    HIDDEN,
    hidden_parameters,
    read_student_csv,
    screens_from_student_table,
    student_seed,
    student_table,
)
from analysis.teach.key import analyse_student_table, demo_student_table

__all__ = [
    "ADJUSTED_COVARIATES",
    "COLUMNS",
    "DEFAULT_WOMEN",
    "HIDDEN",
    "LABS",
    "analyse_student_table",
    "demo_student_table",
    "export_coursework",
    "hidden_parameters",
    "read_student_csv",
    "screens_from_student_table",
    "student_seed",
    "student_table",
]
