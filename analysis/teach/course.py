"""``calcsim teach export``: a course folder — the students' folders, the labs and the instructor's bundle.

::

    DIR/README.md                          for the instructor: what is where, how to hand out and grade
    DIR/students/student_01/               one folder per student, to hand out as it is
        student_01.csv                     their dataset (readable columns only, :data:`~analysis.teach.COLUMNS`)
        coursework.ipynb                   the assignment, reading student_01.csv (no answers, no hidden tests)
        exercises.md                       the exercise sheet: tasks, what to hand in, marking scheme, rubric
        README.md                          the columns of the dataset
    DIR/labs/                              the labs, student editions (no worked answers), and
        overdiagnosis/                     the overdiagnosis lab's screened and unscreened cohorts (CSV)
    DIR/instructor/                        never handed out
        key.csv, key.md                    per student: hidden parameters and what a correct analysis finds
        power.md                           the power of each exercise at this dataset size
        solutions/student_01.ipynb         the assignment with worked answers, reading the student's file
        labs/                              the labs with their worked answers; overdiagnosis_truth.csv
        grading/coursework.ipynb           the nbgrader source ``calcsim teach grade`` grades against
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import ArgumentError, check_seed, check_women
from analysis.teach.export import hidden_parameters, read_student_csv, student_seed, student_table

__all__ = ["DEFAULT_WOMEN", "LABS", "export_coursework"]

#: Women per student by default: what :func:`analysis.teach.power.choose_default_women` picks (the smallest
#: of 5k, 10k, 20k, 40k at which Exercise 2's direction has power >= 90% for every student and Exercise 4's
#: interval excludes 1 with power >= 90% at the published odds ratio; a test keeps the two equal).
DEFAULT_WOMEN = 10_000
#: The labs (notebook stems) exported with the course.
LABS = ("08_lab_denominators", "09_lab_lead_length_bias", "10_lab_overdiagnosis", "11_lab_ppv_prevalence")


def _check(students: int, seed: int, women: int) -> None:
    if isinstance(students, bool) or not isinstance(students, int | np.integer) or not 1 <= students <= 9999:
        raise ArgumentError("students", students, "a whole number between 1 and 9999")
    check_seed(seed)
    if check_women(women) < 100:
        raise ArgumentError(
            "women", women, "a whole number >= 100 (each student needs enough screens to estimate anything)"
        )


def export_files(students: list[str]) -> set[str]:
    """Every file an export of ``students`` writes, relative to its folder (what ``overwrite`` may replace)."""
    files = {"README.md", "instructor/key.csv", "instructor/key.md", "instructor/power.md"}
    files |= {"instructor/grading/coursework.ipynb", "instructor/labs/overdiagnosis_truth.csv"}
    files |= {f"labs/overdiagnosis/{n}" for n in ("README.md", "screened_cohort.csv", "unscreened_cohort.csv")}
    for stem in LABS:
        files |= {f"labs/{stem}.ipynb", f"instructor/labs/{stem}.ipynb"}
    for sid in students:
        files |= {f"students/{sid}/{n}" for n in (f"{sid}.csv", "coursework.ipynb", "exercises.md", "README.md")}
        files.add(f"instructor/solutions/{sid}.ipynb")
    return files


def _foreign_files(out: Path) -> list[str]:
    """Files in ``out`` that no export wrote (all of them when it is not an export: no readable key)."""
    try:
        students = [str(s) for s in pd.read_csv(out / "instructor" / "key.csv", keep_default_na=False)["student"]]
    except (OSError, ValueError, KeyError):
        students = []
    ours = export_files(students) if students else set()
    found = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if not p.is_dir())
    return [f for f in found if f not in ours] if ours else found or ["(no instructor/key.csv)"]


def check_out_dir(out_dir: str | os.PathLike[str], overwrite: bool, flag: str = "DIR") -> Path:
    """``out_dir`` as an absolute path: a new or empty folder, or (``overwrite``) an earlier export holding
    nothing but the files an export writes (:func:`export_files`)."""
    out = Path(out_dir).absolute()
    if out.exists() and not out.is_dir():
        raise ArgumentError("out_dir", str(out), "exists and is not a folder", flag=flag)
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ArgumentError(
                "out_dir",
                str(out),
                "folder exists and is not empty; choose a new folder, or replace an earlier export with "
                "overwrite=True (--overwrite on the command line)",
                flag=flag,
            )
        others = _foreign_files(out)
        if others:
            raise ArgumentError(
                "out_dir",
                str(out),
                f"holds files `calcsim teach export` did not write ({', '.join(others[:3])}); overwrite replaces"
                " only an earlier export as it was written",
                flag=flag,
            )
    return out


def _write_nb(nb: Any, path: Path) -> None:
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _export_student(stage: Path, base: Any, scenario: str, seed: int, k: int, women: int, width: int) -> dict[str, Any]:
    """Simulate student ``k``, write their folder into ``stage`` and return their row of the instructor key."""
    from analysis.model.simulation import simulate
    from analysis.scenario import load_scenario
    from analysis.teach.key import analyse_student_table

    hidden = hidden_parameters(base, seed, k)
    s = load_scenario(scenario, hidden)
    sim_seed = student_seed(seed, k)
    res = simulate(s, women=women, seed=sim_seed, keep_screens=True)
    sid = f"student_{k:0{width}d}"
    folder = stage / "students" / sid
    folder.mkdir(parents=True)
    student_table(res.screens).to_csv(folder / f"{sid}.csv", index=False, lineterminator="\n")
    est = analyse_student_table(read_student_csv(folder / f"{sid}.csv"))
    return {
        "student": sid,
        "file": f"{sid}.csv",
        "simulation_seed": sim_seed,
        "scenario": base.name,
        "student_scenario_hash": s.hash,
        **hidden,
        **est,
    }


def _notebooks(stage: Path, key: pd.DataFrame, scenario: str) -> None:
    """The assignment (students' release, instructor's solutions and nbgrader source) and the labs."""
    import nbformat

    from analysis.io.editions import student_edition
    from analysis.teach.assignment import (
        ASSIGNMENT,
        notebooks_folder,
        release_notebook,
        solution_notebook,
        source_notebook,
        student_notebook,
    )

    source = source_notebook()
    release = release_notebook(source)
    for sid, file in zip(key["student"], key["file"], strict=True):
        _write_nb(student_notebook(release, file), stage / "students" / sid / f"{ASSIGNMENT}.ipynb")
        _write_nb(
            solution_notebook(f"../../students/{sid}/{file}", source),
            stage / "instructor" / "solutions" / f"{sid}.ipynb",
        )
    _write_nb(source, stage / "instructor" / "grading" / f"{ASSIGNMENT}.ipynb")
    for stem in LABS:
        lab = nbformat.read(notebooks_folder() / f"{stem}.ipynb", as_version=4)
        _write_nb(student_edition(lab), stage / "labs" / f"{stem}.ipynb")
        _write_nb(lab, stage / "instructor" / "labs" / f"{stem}.ipynb")
    _overdiagnosis_files(stage, scenario)


def _overdiagnosis_files(stage: Path, scenario: str) -> None:
    """The overdiagnosis lab's two cohorts as CSV files (its own defaults), their README, and the truth."""
    from analysis.teach.lab_overdiagnosis import overdiagnosis_cohorts, write_overdiagnosis_cohorts
    from analysis.teach.texts import overdiagnosis_readme

    women, seed = 20_000, 2026  # the parameters cell of notebooks/10_lab_overdiagnosis.py
    folder = stage / "labs" / "overdiagnosis"
    write_overdiagnosis_cohorts(folder, scenario, women, seed)
    (folder / "README.md").write_text(overdiagnosis_readme(scenario, women, seed), encoding="utf-8")
    truth = overdiagnosis_cohorts(scenario, women, seed).truth.table()
    truth.to_csv(stage / "instructor" / "labs" / "overdiagnosis_truth.csv", index=False, lineterminator="\n")


def export_coursework(
    out_dir: str | os.PathLike[str],
    students: int,
    seed: int,
    *,
    women: int = DEFAULT_WOMEN,
    scenario: str = "nl-biennial",
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Write a course folder: one folder per student, the labs and the instructor's bundle (module doc).

    Parameters
    ----------
    out_dir : path
        Folder to create. An existing non-empty folder is refused unless ``overwrite=True`` and it holds
        nothing but an earlier export's files, which it then replaces as a whole (after everything has
        been written beside it).
    students : int
        Number of students (``student_01`` …; three digits from 100 students).
    seed : int
        Course seed: the same seed gives byte-identical data and keys.
    women : int
        Women simulated per student (:data:`DEFAULT_WOMEN`; about 8 screens each in ``nl-biennial``).
    scenario : str
        Base scenario (shipped name or TOML path); the hidden parameters are drawn around it.
    overwrite : bool
        Replace an earlier export in ``out_dir``.
    progress : bool
        Progress bar on stderr.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    CalcsimInputError
        One line: bad arguments (an :class:`ArgumentError` naming the argument, e.g. ``students=0``), a
        non-empty ``out_dir`` without ``overwrite``, a bad scenario.
    """
    from tqdm import tqdm

    from analysis.io.atomic import staging_folder, swap_into_place
    from analysis.scenario import load_scenario
    from analysis.teach.power import exercise_power
    from analysis.teach.texts import course_readme, exercise_sheet, instructor_markdown, power_markdown, student_readme

    _check(students, seed, women)
    out = check_out_dir(out_dir, overwrite)
    base = load_scenario(scenario)
    width = max(2, len(str(int(students))))
    with staging_folder(out, "coursework") as stage:
        done = tqdm(range(1, int(students) + 1), desc="coursework", unit="student", disable=not progress)
        key = pd.DataFrame([_export_student(stage, base, scenario, int(seed), k, int(women), width) for k in done])
        _notebooks(stage, key, str(scenario))
        sheet, readme = exercise_sheet(), student_readme(base, int(women))
        for sid in key["student"]:
            (stage / "students" / sid / "exercises.md").write_text(sheet, encoding="utf-8")
            (stage / "students" / sid / "README.md").write_text(readme, encoding="utf-8")
        instructor = stage / "instructor"
        key.to_csv(instructor / "key.csv", index=False, lineterminator="\n")
        md = instructor_markdown(key, str(scenario), base.hash, int(seed), int(women))
        (instructor / "key.md").write_text(md, encoding="utf-8")
        power = exercise_power(str(scenario), int(women), seed=int(seed), students=len(key))
        (instructor / "power.md").write_text(power_markdown(power), encoding="utf-8")
        (stage / "README.md").write_text(
            course_readme(len(key), int(seed), int(women), str(scenario)), encoding="utf-8"
        )
        check_out_dir(out_dir, overwrite)  # again: nothing was saved into it meanwhile
        swap_into_place(stage, out)
    return out
