"""The texts of a coursework export: the students' README and the instructor's key in Markdown."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis import __version__
from analysis.teach.export import COLUMNS, HIDDEN

__all__ = ["instructor_markdown", "student_readme"]


def student_readme(base: Any, women: int, width: int) -> str:
    rows = "\n".join(f"| `{c}` | {d} |" for c, d in COLUMNS.items())
    pg = base.programme
    return f"""# Screening coursework: your dataset

Your file `student_NN.csv` (NN = your number, e.g. `student_{1:0{width}d}.csv`) is a **synthetic**
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


def _fmt_or(est: float, lo: float, hi: float) -> str:
    return "n/a" if math.isnan(est) else f"{est:.3f} ({lo:.3f}–{hi:.3f})"


def instructor_markdown(key: pd.DataFrame, scenario: str, scenario_hash: str, seed: int, women: int) -> str:
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
        " dense (density c/d), family history ≥ 1 and parity (births, linear). A GLM that ignores"
        " repeated screens gives a similar odds ratio with a narrower interval.",
        "",
        "| student | threshold shift (logit) | cluster prev. at 50 | true cluster OR (bf > 12 m) | recall rate |"
        " calc-only / recalls | calc-only / screen-detected | GEE OR crude | GEE OR adjusted |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    records = key.to_dict("records")
    for d in records:
        lines.append(
            f"| {d['student']} | {d['reading.threshold_logit_shift']:+.3f} |"
            f" {d['calcifications.cluster_prevalence_age50']:.4f} |"
            f" {d['calcifications.cluster_or_breastfeeding_over_12_months_postmenopausal']:.3f} |"
            f" {_fmt_pct(d['recall_rate'], d['recall_rate_lower'], d['recall_rate_upper'])} |"
            f" {_fmt_pct(d['calc_only_share_of_recalls'], d['calc_only_share_of_recalls_lower'], d['calc_only_share_of_recalls_upper'])}"  # noqa: E501
            f" ({d['calc_only_share_of_recalls_numerator']}/{d['calc_only_share_of_recalls_n']}) |"
            f" {_fmt_pct(d['calc_only_share_of_screen_detected'], d['calc_only_share_of_screen_detected_lower'], d['calc_only_share_of_screen_detected_upper'])}"  # noqa: E501
            f" ({d['calc_only_share_of_screen_detected_numerator']}/{d['calc_only_share_of_screen_detected_n']}) |"
            f" {_fmt_or(d['bf12_cluster_or_crude'], d['bf12_cluster_or_crude_lower'], d['bf12_cluster_or_crude_upper'])} |"  # noqa: E501
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
    lines += ["Full precision: `instructor_key.csv`.", ""]
    return "\n".join(lines)
