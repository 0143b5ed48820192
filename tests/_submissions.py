"""Mock submissions of the coursework: a correct one, typical mistakes, an empty one (for the grading tests)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION\n?", re.DOTALL)

#: Typical mistakes: (answer cell, text replaced, replacement) and the check that must fail because of it.
MISTAKES = {
    "wrong_denominator": (
        "ex3_answer",
        "share_of_recalls = (calc_only & recalled).sum() / recalled.sum()",
        "share_of_recalls = (calc_only & recalled).sum() / len(df)",
        "ex3_recalls",
    ),
    "unclustered_errors": (  # a plain logistic regression on all screens, for the estimate and its interval
        "ex4_answer",
        'gee = smf.gee("microcalcification_cluster ~ bf12", groups="woman_id", data=post, '
        "family=sm.families.Binomial(),\n              cov_struct=sm.cov_struct.Exchangeable()).fit()",
        'gee = smf.logit("microcalcification_cluster ~ bf12", data=post).fit(disp=0)',
        "ex4_clustered_interval",
    ),
    "forgotten_stratum": (
        "ex2_answer",
        'recall_first = first["recalled"].mean()',
        'recall_first = df["recalled"].mean()',
        "ex2_first",
    ),
}


def _answers(source_nb) -> dict[str, str]:
    out = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            out[meta["grade_id"]] = "".join(m.group(1) for m in _REGION.finditer(cell.source))
    return out


def submission(
    student_nb: Path,
    source_nb: Path,
    out: Path,
    mistake: str | None = None,
    empty: bool = False,
    rename_df: bool = False,
    delete: str | None = None,
) -> Path:
    """The student's release notebook with the worked answers filled in (one ``mistake`` of :data:`MISTAKES`).

    ``rename_df``: the student calls the data ``data`` instead of ``df``; ``delete``: the student deleted the
    check cell with that grade id.
    """
    nb = nbformat.read(student_nb, as_version=4)
    if not empty:
        answers = _answers(nbformat.read(source_nb, as_version=4))
        if mistake:
            cell_id, old, new, _ = MISTAKES[mistake]
            assert old in answers[cell_id], (mistake, answers[cell_id])
            answers[cell_id] = answers[cell_id].replace(old, new)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in answers:
                cell.source = answers[gid]
            elif gid == "ex5_denominator":
                cell.source = "The first share uses recalls, the second screen-detected cancers."
        if rename_df:
            for cell in nb.cells:
                if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade"):
                    cell.source = re.sub(r"\bdf\b", "data", cell.source)
        if delete:
            nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != delete]
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out
