"""The texts of a coursework export: the students' README and the instructor's key in Markdown."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis import __version__
from analysis.teach.export import COLUMNS, HIDDEN

__all__ = ["course_readme", "exercise_sheet", "instructor_markdown", "power_markdown", "student_readme"]


def student_readme(base: Any, women: int) -> str:
    """The students' README: what the dataset is and what each column means (the same for everyone)."""
    rows = "\n".join(f"| `{c}` | {d} |" for c, d in COLUMNS.items())
    pg = base.programme
    return f"""# Screening coursework: your dataset

Your file `student_NN.csv` (NN = your number; the notebook `coursework.ipynb` beside it reads it) is a **synthetic**
dataset, simulated with calcsim {__version__}: the screening histories of the women, out of {women:,}
invited, who attended a mammography screening programme that invites women every {pg.interval_years:g} years
from age {pg.start_age_years:g} to {pg.stop_age_years:g} (setting: {base.description or base.name}). It contains
no real person.
Every student has a different dataset, simulated from slightly different assumptions, so your
numbers will differ from your neighbours'.

One row per screen a woman attended; a woman appears once per screen (use `woman_id` to group her
screens). Women who did not attend an invitation have no row for it.

| column | meaning |
|---|---|
{rows}

Notes

* A **recall** is a request to come back for further assessment (extra views, ultrasound, biopsy).
* A **screen-detected cancer** is a screen with `outcome` `DCIS` or `invasive`.
* **Repeated measures**: most women contribute several screens; screens of the same woman are not
  independent. Methods that ignore this give intervals that are too narrow.
* Read the file with missing values switched off for `recall_reason`, e.g. in pandas
  `pd.read_csv("student_NN.csv", keep_default_na=False)`, or in R
  `read.csv("student_NN.csv", na.strings = character(0))`, so that an empty reason stays an empty string.
"""


def _fmt_pct(est: float, lo: float, hi: float) -> str:
    if math.isnan(est):
        return "n/a"
    return f"{100 * est:.2f}% ({100 * lo:.2f}–{100 * hi:.2f}%)"


def _fmt_range(lo: float, hi: float) -> str:
    return "n/a" if math.isnan(lo) else f"{lo:.3f}–{hi:.3f}"


def _fmt_or(est: float, lo: float, hi: float) -> str:
    return "n/a" if math.isnan(est) else f"{est:.3f} ({lo:.3f}–{hi:.3f})"


def instructor_markdown(key: pd.DataFrame, scenario: str, scenario_hash: str, seed: int, women: int) -> str:
    """The instructor's key as a Markdown page (per student: hidden parameters and the correct estimates)."""
    hidden = "\n".join(f"* `{h.key}` — {h.doc}" for h in HIDDEN)
    lines = [
        "# Coursework — instructor key",
        "",
        f"calcsim {__version__}; base scenario `{scenario}` (scenario_hash `{scenario_hash}`); seed {seed};"
        f" {women:,} women per student. Regenerate with `calcsim teach export --students {len(key)}"
        f" --seed {seed} --women {women} --scenario {scenario} DIR` (byte-identical files).",
        "",
        "## Hidden parameters (drawn per student)",
        "",
        hidden,
        "",
        "## What a correct analysis finds",
        "",
        "Computed from each student's CSV as written. Proportions: Wilson 95% intervals. Odds ratios:"
        ' logistic GEE on postmenopausal screens (`menopausal_status == "postmenopausal"`), outcome'
        " `microcalcification_cluster`, exposure `breastfeeding_months > 12`, groups `woman_id`,"
        " exchangeable working correlation, robust 95% Wald interval; *adjusted* adds (age − 60)/10,"
        " dense (density c/d), family history ≥ 1 and parity (births, linear). *Naive*: the model-based"
        " interval of a logistic regression on the same screens that ignores that a woman has several; the"
        " grader gives the clustered-interval marks to an interval closer in width to the GEE's than to it.",
        "",
        "| student | threshold shift (logit) | cluster prev. at 50 | true cluster OR (bf > 12 m) | recall rate |"
        " recall first / subsequent | calc-only / recalls | calc-only / screen-detected | GEE OR crude |"
        " naive interval | GEE OR adjusted |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    records = key.to_dict("records")
    for d in records:
        lines.append(
            f"| {d['student']} | {d['reading.threshold_logit_shift']:+.3f} |"
            f" {d['calcifications.cluster_prevalence_age50']:.4f} |"
            f" {d['calcifications.cluster_or_breastfeeding_over_12_months_postmenopausal']:.3f} |"
            f" {_fmt_pct(d['recall_rate'], d['recall_rate_lower'], d['recall_rate_upper'])} |"
            f" {_fmt_pct(d['recall_first'], d['recall_first_lower'], d['recall_first_upper'])} /"
            f" {_fmt_pct(d['recall_subsequent'], d['recall_subsequent_lower'], d['recall_subsequent_upper'])} |"
            f" {_fmt_pct(d['calc_only_share_of_recalls'], d['calc_only_share_of_recalls_lower'], d['calc_only_share_of_recalls_upper'])}"  # noqa: E501
            f" ({d['calc_only_share_of_recalls_numerator']}/{d['calc_only_share_of_recalls_n']}) |"
            f" {_fmt_pct(d['calc_only_share_of_screen_detected'], d['calc_only_share_of_screen_detected_lower'], d['calc_only_share_of_screen_detected_upper'])}"  # noqa: E501
            f" ({d['calc_only_share_of_screen_detected_numerator']}/{d['calc_only_share_of_screen_detected_n']}) |"
            f" {_fmt_or(d['bf12_cluster_or_crude'], d['bf12_cluster_or_crude_lower'], d['bf12_cluster_or_crude_upper'])} |"  # noqa: E501
            f" {_fmt_range(d['bf12_cluster_or_crude_naive_lower'], d['bf12_cluster_or_crude_naive_upper'])} |"
            f" {_fmt_or(d['bf12_cluster_or_adjusted'], d['bf12_cluster_or_adjusted_lower'], d['bf12_cluster_or_adjusted_upper'])} |"  # noqa: E501
        )
    notes = [
        f"* student {d['student']}: {label} OR {d[f'bf12_cluster_or_{label}_note']}"
        for label in ("crude", "adjusted")
        for d in records
        if d[f"bf12_cluster_or_{label}_note"]
    ]
    lines += [
        "",
        "The true cluster OR is the simulator's conditional (woman-level) odds ratio; the GEE"
        " estimates a population-averaged odds ratio of a persistent (running-maximum) state, so"
        " it need not cover the true value — grade against the estimate, not the truth.",
        "",
    ]
    if notes:
        lines += ["## Not estimable", "", *notes, ""]
    lines += ["Full precision: `key.csv`.", ""]
    return "\n".join(lines)


#: What each graded cell of the coursework checks (the marking scheme; points come from the notebook).
MARKING: dict[str, str] = {
    "ex1_rate": "`recall_rate` lies inside the 95% Wilson interval of a correct analysis of your data",
    "ex1_interval": "both bounds of `recall_rate_ci` within 5% of the interval's width of the correct 95% bounds",
    "ex2_first": "`recall_first` inside the 95% Wilson interval of the correct first-screen rate",
    "ex2_subsequent": "`recall_subsequent` inside the 95% Wilson interval of the correct subsequent-screen rate",
    "ex2_direction": "`first_higher` is the conclusion a correct analysis of your data draws (or the one your own"
    " two rates imply: a wrong rate is not marked down twice)",
    "ex3_recalls": "`share_of_recalls` inside the 95% Wilson interval of the correct share of recalls",
    "ex3_screen_detected": "`share_of_screen_detected` inside the 95% Wilson interval of the correct share of"
    " screen-detected cancers",
    "ex4_estimate": "`or_breastfeeding` within one standard error of the correct log odds ratio",
    "ex4_clustered_interval": "`or_breastfeeding_ci` allows for repeated screens: its log-width is closer to the"
    " robust (clustered) interval than to that of a regression treating screens as independent",
    "ex5_denominator": "marked by hand with the rubric under Exercise 5",
}


def _graded_cells(nb: Any) -> list[tuple[str, float, bool]]:
    """(grade_id, points, marked by hand) of the notebook's graded cells, in order."""
    out = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            out.append((meta["grade_id"], float(meta.get("points", 0)), bool(meta.get("solution"))))
    return out


def exercise_sheet(nb: Any = None) -> str:
    """The exercise sheet of the coursework: the tasks, what to hand in, the marking scheme and the rubric."""
    from analysis.io.editions import strip_answer_blocks
    from analysis.teach.assignment import source_notebook

    nb = source_notebook() if nb is None else nb
    tasks = [
        strip_answer_blocks(c.source).strip()
        for c in nb.cells
        if c.cell_type == "markdown" and c.source.lstrip().startswith("## Exercise")
    ]
    graded = _graded_cells(nb)
    auto = sum(p for _, p, manual in graded if not manual)
    manual = sum(p for _, p, m in graded if m)
    rows = "\n".join(
        f"| `{gid}` | {p:g} | {'by hand' if m else 'automatic'} | {MARKING[gid]} |" for gid, p, m in graded
    )
    return (
        "\n\n".join(
            [
                "# Coursework: exercise sheet",
                "Work in `coursework.ipynb`, beside your data file; it reads your file for you. Each exercise says"
                " which variables to set. Free-text answers go in the cells marked *YOUR ANSWER HERE*.",
                "## What to hand in\n\nYour `coursework.ipynb`, saved after *Restart kernel and run all cells*, with"
                " every answer cell filled in and nothing else renamed. Do not change the cell that names your"
                " data file, and do not delete or edit the check cells (they are replaced by the grader's own).",
                *tasks,
                f"## Marking scheme\n\n{auto:g} points are marked automatically against a correct analysis of"
                f" *your own* data, {manual:g} by hand; {auto + manual:g} in all. A check either passes (all its"
                " points) or fails (none).\n\n| check | points | marked | passes when |\n|---|---|---|---|\n" + rows,
            ]
        )
        + "\n"
    )


def power_markdown(power: dict[str, Any]) -> str:
    """The instructor's page on the power of each exercise at the export's dataset size."""
    from analysis.teach.power import power_table

    def pct(x: float) -> str:
        return "—" if math.isnan(x) else f"{x:.1f}"

    lines = "\n".join(
        "| " + " | ".join([r["exercise"], *(pct(float(v)) for k, v in r.items() if k != "exercise")]) + " |"
        for r in power_table(power).to_dict("records")
    )
    d, o = power["first_higher"], power["bf12_or_excludes_1"]
    return f"""# Power of a correct analysis at {power["women"]:,} women per student

Computed by `analysis.teach.power.exercise_power` from a pilot dataset of {power["pilot_women"]:,} women at the
scenario's own values: standard errors scaled by √(pilot / women) and by each student's cluster prevalence, the
odds ratio as the GEE estimates it (the pilot's attenuation), for the hidden effects of this class's
{power["students"]} students (method: the module's docstring).

| exercise | power, mean over the students (%) | power, lowest student (%) | power at the scenario's value (%) |
|---|---|---|---|
{lines}

Exercise 2 asks a direction; the standard error of the difference is {100 * d["se_at_women"]:.2f} percentage
points at this size. Exercise 4 asks for an estimate and its interval (standard error of the log odds ratio
{o["se_at_women"]:.3f}; the pilot's GEE estimate {o["pilot_or"]:.3f} against the scenario's {o["scenario_or"]:.2f}).
Whether a student's interval excludes 1 is a question of power: a student whose drawn odds ratio lies near
the lower end of its stated range will often see an interval that includes 1 — a correct answer, and a point
worth making in class.
"""


def course_readme(students: int, seed: int, women: int, scenario: str) -> str:
    """The course folder's README for the instructor: what is where, and how to hand out and grade."""
    return f"""# Screening coursework: course folder

Made by calcsim {__version__} with `calcsim teach export --students {students} --seed {seed} --women {women}
--scenario {scenario} DIR` (the same command writes byte-identical data and keys).

* `students/` — one folder per student; hand out each folder as it is (data file, `coursework.ipynb`,
  `exercises.md`, `README.md`). Nothing in it contains an answer or a hidden parameter.
* `labs/` — the labs for students (no worked answers), and `labs/overdiagnosis/` the screened and
  unscreened cohorts of the overdiagnosis lab as CSV files (without the truth).
* `instructor/` — never hand out: `key.csv` / `key.md` (hidden parameters and what a correct analysis of
  each student's file finds), `power.md`, `solutions/` (each student's notebook with the worked answers),
  `labs/` (with worked answers), `grading/coursework.ipynb` (the nbgrader source the grader uses).

Grading: collect the submitted notebooks as `SUBMISSIONS/student_NN/coursework.ipynb` (or
`SUBMISSIONS/student_NN.ipynb`), then

    calcsim teach grade SUBMISSIONS --course DIR --out GRADES

writes `GRADES/grades.csv` (one row per student, points per check) and `GRADES/feedback/student_NN.html`.
Free-text answers are marked by hand with the rubric in `exercises.md`; the table lists their points as
pending.
"""


def overdiagnosis_readme(scenario: str, women: int, seed: int) -> str:
    """The README of the overdiagnosis lab's cohort files: what they are and what each column means."""
    return f"""# Overdiagnosis lab: the two cohorts

`screened_cohort.csv` and `unscreened_cohort.csv` are the two cohorts of notebook 10 (*Overdiagnosis*) at
its defaults — scenario `{scenario}`, {women:,} women simulated, seed {seed} — written by calcsim
{__version__}: the same women followed from the programme's start age to death, once invited to the
programme and once not, as two registers would hold them. Synthetic; no real person. Women are numbered
independently in the two files (like two arms of a trial), so rows of the two files are not the same
woman. The true number of overdiagnosed cancers is not in these files.

| column | meaning |
|---|---|
| `woman_id` | number of the woman within the file |
| `entry_age` | age at entry (the programme's start age; alive and free of diagnosed breast cancer then), years |
| `exit_age` | age at death or end of follow-up, whichever comes first, years |
| `exit_reason` | `death from breast cancer`, `death from other causes` or `end of follow-up` |
| `screens` | screens attended (0 in the unscreened cohort) |
| `diagnosis_age` | age at the first breast-cancer diagnosis before exit, years (empty: none) |
| `diagnosis_type` | `DCIS`, `invasive`, or empty |
| `diagnosis_mode` | `screen-detected`, `interval` (within the interval after a screen), `clinical`, or empty |
"""
