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
    "unclustered_errors": (
        "ex4_answer",
        'or_breastfeeding_ci = tuple(np.exp(gee.conf_int().loc["bf12"]))',
        'or_breastfeeding_ci = tuple(np.exp(smf.logit("microcalcification_cluster ~ bf12", data=post)'
        '.fit(disp=0).conf_int().loc["bf12"]))',
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


def submission(student_nb: Path, source_nb: Path, out: Path, mistake: str | None = None, empty: bool = False) -> Path:
    """The student's release notebook with the worked answers filled in (one ``mistake`` of :data:`MISTAKES`)."""
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
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out
