"""Coursework export: one dataset per student, a key a correct analysis reproduces, determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import load_scenario
from analysis.errors import ArgumentError
from analysis.model.results import SCREEN_COLUMNS
from analysis.stats.regression import fit_odds_ratios
from analysis.teach import COLUMNS, DEFAULT_WOMEN, HIDDEN, LABS, export_coursework
from analysis.teach.texts import MARKING

STUDENTS, SEED, WOMEN = 3, 5, 2000
HIDDEN_TRUTH = {
    "cancer_present",
    "cancer_type",
    "presentation",
    "benign_cluster",
    "malignant_calc",
    "brca",
    "nonsuspicious_calc",
    "calc_morphology",
    "calc_distribution",
    "calc_compact",
    "false_positive",
    "screen_detected",
    "cfp_eligible",
    "cfp_event",
    "workup",
    "biopsy_method",
    "pathology",
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    out = tmp_path_factory.mktemp("teach") / "course"
    return export_coursework(out, STUDENTS, SEED, women=WOMEN)


def files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def sids(n=STUDENTS):
    return [f"student_{k:02d}" for k in range(1, n + 1)]


def read_key(course):
    return pd.read_csv(course / "instructor" / "key.csv", keep_default_na=False)


def test_the_course_folder(course):
    assert sorted(p.name for p in course.iterdir()) == ["README.md", "instructor", "labs", "students"]
    assert sorted(p.name for p in (course / "students").iterdir()) == sids()
    for sid in sids():
        names = sorted(p.name for p in (course / "students" / sid).iterdir())
        assert names == ["README.md", "coursework.ipynb", "exercises.md", f"{sid}.csv"]
    assert sorted(p.stem for p in (course / "labs").iterdir()) == sorted([*LABS, "overdiagnosis"])
    cohorts = sorted(p.name for p in (course / "labs" / "overdiagnosis").iterdir())
    assert cohorts == ["README.md", "screened_cohort.csv", "unscreened_cohort.csv"]
    assert (course / "instructor" / "labs" / "overdiagnosis_truth.csv").is_file()
    instructor = sorted(p.relative_to(course / "instructor").as_posix() for p in (course / "instructor").rglob("*"))
    assert {"key.csv", "key.md", "power.md", "grading/coursework.ipynb"} <= set(instructor)
    assert {f"solutions/{sid}.ipynb" for sid in sids()} | {f"labs/{lab}.ipynb" for lab in LABS} <= set(instructor)
    key = read_key(course)
    assert list(key["student"]) == sids()
    assert list(key["file"]) == [f"{sid}.csv" for sid in sids()]
    md = (course / "instructor" / "key.md").read_text()
    assert all(f"| {sid} |" in md for sid in sids())
    assert "calcsim teach grade SUBMISSIONS --course DIR --out GRADES" in (course / "README.md").read_text()


def _student_texts(course):
    """Everything a student receives, as text: their folders and the labs."""
    for folder in (course / "students", course / "labs"):
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                yield p, p.read_text(encoding="utf-8")


def test_nothing_a_student_receives_holds_an_answer_or_the_hidden_truth(course):
    import nbformat

    key = read_key(course)
    secrets = [h.key for h in HIDDEN] + [h.key.split(".")[-1] for h in HIDDEN]
    secrets += ["BEGIN SOLUTION", "HIDDEN TESTS", "checks.check_", "student_key", "<summary><b>Worked answer"]
    source = nbformat.read(course / "instructor" / "grading" / "coursework.ipynb", as_version=4)
    answers = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(answers) == 5
    for cell in answers:  # a line of every worked answer
        lines = [ln for ln in cell.source.splitlines() if len(ln) > 30 and "SOLUTION" not in ln]
        secrets.append(lines[1])
    values = []
    for col in key.columns:
        if col.endswith(("_lower", "_upper")) or col in ("recall_rate", "bf12_cluster_or_crude") or "." in col:
            values += [f"{float(v):.6f}" for v in key[col] if isinstance(v, float) and math.isfinite(v)]
    checked = 0
    for path, text in _student_texts(course):
        for secret in secrets:
            assert secret not in text, f"{path.relative_to(course)} holds {secret!r}"
        if path.suffix != ".csv":
            for v in values:
                assert v not in text, f"{path.relative_to(course)} holds the key value {v}"
        checked += 1
    assert checked == STUDENTS * 4 + len(LABS) + 3
    nb = nbformat.read(course / "students" / "student_02" / "coursework.ipynb", as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "data_file = 'student_02.csv'" in params[0].source
    stubs = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert [c.source for c in stubs[:4]] == ["# YOUR CODE HERE\nraise NotImplementedError()"] * 4
    assert stubs[4].source == "YOUR ANSWER HERE"


def test_exercise_sheet_and_power(course):
    sheet = (course / "students" / "student_01" / "exercises.md").read_text()
    for gid in MARKING:
        assert f"`{gid}`" in sheet
    assert "13 points are marked automatically" in sheet and "4 by hand; 17 in all" in sheet
    assert "## What to hand in" in sheet and "Rubric (4 points)" in sheet
    power = (course / "instructor" / "power.md").read_text()
    assert f"# Power of a correct analysis at {WOMEN:,} women per student" in power
    assert "2: first-screen recall higher than subsequent" in power


@pytest.mark.slow
def test_the_default_size_is_the_one_the_power_rule_picks():
    """The default is computed: the smallest size at which the exercises reach 90% power (power.py's rule)."""
    from analysis.cli.parser import build_parser
    from analysis.teach.power import choose_default_women

    chosen, table = choose_default_women()
    assert chosen == DEFAULT_WOMEN, table
    row = table.set_index("women per student").loc[chosen]
    assert row["Ex. 2 direction, lowest student (%)"] >= 90 and row["Ex. 4 excludes 1 at the scenario's OR (%)"] >= 90
    smaller = table[table["women per student"] < chosen]
    assert (smaller["Ex. 4 excludes 1 at the scenario's OR (%)"] < 90).all()  # a smaller size would not do
    args = build_parser().parse_args(["teach", "export", "x", "--students", "1", "--seed", "1"])
    assert args.women == DEFAULT_WOMEN


def test_students_see_readable_columns_and_no_hidden_truth(course):
    readme = (course / "students" / "student_01" / "README.md").read_text()
    for sid in sids():
        df = pd.read_csv(course / "students" / sid / f"{sid}.csv", keep_default_na=False, dtype={"family_history": str})
        assert list(df.columns) == list(COLUMNS)
        assert not HIDDEN_TRUTH & set(df.columns)
        assert set(df["round"]) == {"first", "subsequent"}
        assert set(df["density"]) <= set("abcd") and set(df["family_history"]) <= {"0", "1", ">=2"}
        assert set(df["menopausal_status"]) == {"premenopausal", "postmenopausal"}
        assert set(df["outcome"]) <= {"none", "benign", "high-risk", "DCIS", "invasive"}
        assert {"DCIS", "invasive", "benign"} <= set(df["outcome"])  # the events the key relies on happened
        reasons = df["recall_reason"]
        assert set(reasons) == {"", "calcification only", "calcification + other", "other"}
        assert ((reasons != "") == (df["recalled"] == 1)).all()
        assert ((df["outcome"] != "none") == (df["biopsy"] == 1)).all()
        assert (df.loc[df["biopsy"] == 1, "recalled"] == 1).all()
        assert df.groupby("woman_id")["screen_number"].apply(lambda s: list(s) == list(range(1, len(s) + 1))).all()
    for c in COLUMNS:
        assert f"`{c}`" in readme
    for h in HIDDEN:  # nothing about the hidden parameters leaks into the students' README
        assert h.key not in readme and h.key.split(".")[-1] not in readme


def test_hidden_parameters_differ_between_students_and_stay_in_range(course):
    key = read_key(course)
    base = load_scenario("nl-biennial")
    for h in HIDDEN:
        values = key[h.key].to_numpy(dtype=float)
        assert len(set(values)) == STUDENTS, h.key
        lo, hi = base.provenance[h.key].range
        assert np.all((values >= lo) & (values <= hi)), h.key
    shift = key["reading.threshold_logit_shift"].to_numpy() - base.reading.threshold_logit_shift
    assert np.all(np.abs(shift) <= 0.5 + 1e-6)
    assert key["simulation_seed"].nunique() == STUDENTS
    assert key["recall_rate"].nunique() == STUDENTS


def _wilson(k, n):
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return k / n, lo, hi


def test_key_equals_a_correct_analysis_of_each_student_file(course):
    """Recompute every key estimate from the student's CSV alone, as a student would."""
    key = read_key(course)
    for row in key.to_dict("records"):
        df = pd.read_csv(
            course / "students" / row["student"] / row["file"], keep_default_na=False, dtype={"family_history": str}
        )
        recalled = df["recalled"] == 1
        calc_only = df["recall_reason"] == "calcification only"
        detected = df["outcome"].isin(["DCIS", "invasive"])
        checks = {
            "recall_rate": (recalled.sum(), len(df)),
            "recall_first": ((recalled & (df["round"] == "first")).sum(), (df["round"] == "first").sum()),
            "recall_subsequent": ((recalled & (df["round"] != "first")).sum(), (df["round"] != "first").sum()),
            "calc_only_share_of_recalls": ((calc_only & recalled).sum(), recalled.sum()),
            "calc_only_share_of_screen_detected": ((calc_only & detected).sum(), detected.sum()),
        }
        for name, (k, n) in checks.items():
            assert (row[f"{name}_numerator"], row[f"{name}_n"]) == (k, n), name
            assert n > 30 and 0 < k < n, f"{name}: too few events to test anything"
            est, lo, hi = _wilson(k, n)
            assert row[name] == pytest.approx(est, rel=1e-12)
            assert (row[f"{name}_lower"], row[f"{name}_upper"]) == pytest.approx((lo, hi), rel=1e-12)
        # the student's GEE: postmenopausal screens, cluster ~ breastfeeding > 12 months (+ adjustment)
        screens = pd.DataFrame(
            {
                "woman": df["woman_id"],
                "age_years": df["age"].astype(float),
                "breastfeeding_months": df["breastfeeding_months"],
                "births": df["parity"],
                "density": df["density"].map(dict(zip("abcd", range(4), strict=True))),
                "family_history": df["family_history"].map({"0": 0, "1": 1, ">=2": 2}),
                "postmenopausal": df["menopausal_status"] == "postmenopausal",
                "any_cluster": df["microcalcification_cluster"] == 1,
            }
        )
        post = screens["postmenopausal"].to_numpy()
        for label, covs in (
            ("crude", ["breastfeeding_over_12_months"]),
            ("adjusted", ["breastfeeding_over_12_months", "age_per_decade", "dense", "family_history_any", "births"]),
        ):
            fit = fit_odds_ratios(screens, "any_cluster", method="gee", covariates=covs, subset=post)
            r = fit.set_index("term").loc["breastfeeding_over_12_months"]
            prefix = f"bf12_cluster_or_{label}"
            assert row[f"{prefix}_note"] == ""
            assert row[prefix] == pytest.approx(r["odds_ratio"], rel=1e-10)
            assert (row[f"{prefix}_lower"], row[f"{prefix}_upper"]) == pytest.approx(
                (r["lower"], r["upper"]), rel=1e-10
            )
            assert row[f"{prefix}_screens"] == fit.attrs["n_obs"] == post.sum()
            assert math.isfinite(row[prefix]) and row[f"{prefix}_lower"] < row[prefix] < row[f"{prefix}_upper"]


def test_same_seed_identical_files_and_more_students_keep_the_first(course, tmp_path):
    again = export_coursework(tmp_path / "again", STUDENTS, SEED, women=WOMEN)
    assert files(again) == files(course)
    fewer = export_coursework(tmp_path / "fewer", 2, SEED, women=WOMEN)
    for sid in sids(2):
        for name in (
            f"students/{sid}/{sid}.csv",
            f"students/{sid}/coursework.ipynb",
            f"instructor/solutions/{sid}.ipynb",
        ):
            assert files(fewer)[name] == files(course)[name]
    other = export_coursework(tmp_path / "other", 1, SEED + 1, women=WOMEN)
    csv = "students/student_01/student_01.csv"
    assert files(other)[csv] != files(course)[csv]


def test_refuses_to_overwrite_a_non_empty_folder(tmp_path):
    out = tmp_path / "course"
    out.mkdir()
    (out / "marks.xlsx").write_text("precious")
    with pytest.raises(ArgumentError, match=r"^out_dir='.*': folder exists and is not empty.*overwrite=True") as info:
        export_coursework(out, 1, 1, women=500)
    assert "\n" not in str(info.value)
    assert info.value.cli_message().startswith(f"DIR: {str(out)!r}: folder exists and is not empty")
    assert "--overwrite" in info.value.cli_message()
    assert (out / "marks.xlsx").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course"], "no temporary folder left behind"
    with pytest.raises(ArgumentError, match=r"holds files `calcsim teach export` did not write \(marks.xlsx\)"):
        export_coursework(out, 1, 1, women=500, overwrite=True)  # overwrite replaces only an earlier export
    assert (out / "marks.xlsx").read_text() == "precious"
    empty = tmp_path / "empty"
    empty.mkdir()
    export_coursework(empty, 1, 1, women=500)  # an empty folder is fine
    export_coursework(empty, 1, 2, women=500, overwrite=True)  # and an earlier export is replaced
    assert sorted(p.name for p in empty.iterdir()) == ["README.md", "instructor", "labs", "students"]
    assert "--seed 2 " in (empty / "README.md").read_text()
    (empty / "students" / "student_01" / "answers_collected.ipynb").write_text("{}")  # the instructor's own file
    with pytest.raises(ArgumentError, match=r"did not write \(students/student_01/answers_collected.ipynb\)"):
        export_coursework(empty, 1, 3, women=500, overwrite=True)
    assert (empty / "students" / "student_01" / "answers_collected.ipynb").read_text() == "{}"
    for bad in ({"students": 0}, {"students": 1.5}, {"seed": -1}, {"women": 10}):
        args = {"students": 1, "seed": 1, "women": 500, **bad}
        ((name, value),) = bad.items()
        with pytest.raises(ArgumentError, match=f"^{name}={value!r}: ") as info:
            export_coursework(tmp_path / "bad", args.pop("students"), args.pop("seed"), **args)
        assert info.value.cli_message().startswith(f"--{name}: {value!r}: ")


def test_command_line_errors_name_the_flag(tmp_path, capsys):
    from analysis import cli

    rc = cli.main(["teach", "export", str(tmp_path / "c"), "--students", "0", "--seed", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and err == "calcsim: error: --students: 0: a whole number between 1 and 9999\n", err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "marks.xlsx").write_text("precious")
    rc = cli.main(["teach", "export", str(tmp_path / "full"), "--students", "1", "--seed", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"calcsim: error: DIR: {str(tmp_path / 'full')!r}: folder exists"), err
    assert "--overwrite" in err and "\n" not in err[:-1]


def test_columns_are_documented_against_the_screens_table():
    # every hidden-truth name is a real screens column, so the check above is not vacuous
    assert HIDDEN_TRUTH <= set(SCREEN_COLUMNS)
