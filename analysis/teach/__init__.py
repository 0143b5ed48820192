"""Coursework: one synthetic screening dataset per student, and the instructor's key.

::

    export_coursework("course/", students=30, seed=7)

writes

* ``student_01.csv`` … one row per attended screen, readable columns only (:data:`COLUMNS`): what a
  screening programme records — never the hidden truth (preclinical cancer, benign vs malignant
  cluster, BRCA status, presentation, morphology);
* ``README.md`` for the students: the columns and what they mean (the same for everyone);
* ``instructor_key.csv`` and ``instructor_key.md``: per student, the hidden parameter values the
  dataset was simulated from and the estimates a correct analysis of *that* dataset finds.

Each student's dataset comes from the scenario with three parameters drawn per student
(:data:`HIDDEN`), and from its own simulation seed, so no two students have the same women or the
same answers. Everything a student's file contains depends only on ``(seed, student number, women,
scenario)``: the same call gives byte-identical files, and exporting more students leaves the
first ones unchanged.

The key is computed from the CSV file as written (values rounded as the student sees them), with
the package's own tools, so a student who does the analysis right matches it exactly:

* recall rate = recalled screens / screens, Wilson 95% interval;
* share of recalls for calcification only = ``recall_reason == "calcification only"`` / recalls;
* share of screen-detected cancers (``outcome`` DCIS or invasive) recalled for calcification only;
* odds ratio of ``microcalcification_cluster`` for ``breastfeeding_months > 12`` among
  postmenopausal screens: logistic GEE, groups = ``woman_id``, exchangeable working correlation,
  robust 95% Wald interval (:func:`analysis.stats.regression.fit_odds_ratios`), crude and adjusted for
  age per decade ((age − 60)/10), dense breasts (c/d), family history (≥ 1 relative) and parity
  (births, linear).
"""

from analysis.teach.export import (
    ADJUSTED_COVARIATES,
    COLUMNS,
    HIDDEN,
    analyse_student_table,
    export_coursework,
    hidden_parameters,
    read_student_csv,
    screens_from_student_table,
    student_seed,
    student_table,
)

__all__ = [
    "ADJUSTED_COVARIATES",
    "COLUMNS",
    "HIDDEN",
    "analyse_student_table",
    "export_coursework",
    "hidden_parameters",
    "read_student_csv",
    "screens_from_student_table",
    "student_seed",
    "student_table",
]
