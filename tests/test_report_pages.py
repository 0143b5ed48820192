"""The report as people read it: formatted tables, sentences computed from the numbers, readable figures.

Unit tests of the table formatter (:mod:`analysis.figures.tables`, :mod:`analysis.figures.cells`) and
of the figure objects, then checks of the generated HTML pages of the real notebooks (the session
fixture ``real_report`` of ``tests/conftest.py`` builds them once): every table is the formatter's,
with no ``NaN``, no ``…``, no ``0.000`` p-value and intervals in one format; wide tables stay inside
the page (headless Chromium); the directions printed on a page agree with the numbers in its tables;
the text names only what the code has.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _paths import REPO
from matplotlib.text import Text

from analysis.figures import STYLE, calc_only_shares, sobol_indices, tornado
from analysis.figures import tables as T
from analysis.figures.question import QUESTION_LABELS
from analysis.model.results import MEASURES

PAGES = [
    "01_cohort",
    "02_recalls_and_calcifications",
    "03_programmes_compared",
    "04_calibration",
    "05_sensitivity",
    "06_coursework",
    "07_benefits_and_harms",
    "08_lab_denominators",
    "09_lab_lead_length_bias",
    "10_lab_overdiagnosis",
    "11_lab_ppv_prevalence",
]
_NUM = r"[−-]?\d[\d,]*(?:\.(\d+))?"
#: An interval cell: "24.0% (22.5–25.5)", "6.21 (5.80–6.65) per 1,000 screens", "1.13 (0.94–1.35)",
#: "−0.6 (−6.2 to 5.0) pp".
INTERVAL = re.compile(rf"^({_NUM})(%?) \(({_NUM})(?:–| to )({_NUM})\)( per 1,000 [a-z -]+| pp)?$")
#: What a cell holding an interval looks like (a number, then a parenthesis opening on a number range).
LOOKS_LIKE_INTERVAL = re.compile(r"\d[^()]*\(\s*[−-]?\d[\d.,]*(?:–| to )")


# ----------------------------------------------------------------------------- cells
def test_intervals_have_one_format_and_the_same_digits():
    assert T.format_interval(0.2401, 0.2251, 0.2549) == "24.0% (22.5–25.5)"
    assert T.format_interval(6.2134, 5.8, 6.6521, unit="per 1,000 screens") == "6.21 (5.80–6.65) per 1,000 screens"
    assert T.format_interval(1.1281, 0.944, 1.349, unit="ratio") == "1.13 (0.94–1.35)"
    assert T.format_interval(-0.0063, -0.062, 0.0495, unit="pp") == "−0.6 (−6.2 to 5.0) pp"
    assert T.format_interval(0.0046, 0.0036, 0.0058, digits=2) == "0.46% (0.36–0.58)"
    assert T.format_interval(0.07, np.nan, 0.07) == "≤7.0%"  # an upper bound, not "7.0% (nan–7.0)"
    assert T.format_interval(np.nan, 0.1, 0.2) == T.DASH
    assert T.format_range(0.1411, 0.3127) == "14.1–31.3%"
    assert T.format_range(0.001, 0.1, unit="number") == "0.001–0.1"
    assert T.format_range(-3, 3, unit="number") == "−3 to 3"
    assert T.percent_digits([0.24, 0.018]) == 1 and T.percent_digits([0.24, 0.0046, np.nan]) == 2
    assert T.format_measure("cancer_detection_rate_per_1000", 5.4355) == "5.44 per 1,000 screens"
    assert T.format_measure("recall_rate", 0.0826, difference=True) == "8.3 pp"


def test_p_values_counts_numbers_and_missing_cells():
    assert [T.format_p_value(p) for p in (0.0, 0.00049, 0.0421, 0.6481, np.nan)] == [
        "<0.001",
        "<0.001",
        "0.042",
        "0.648",
        T.DASH,
    ]
    assert T.format_count(15454) == "15,454" and T.format_count(np.int64(7)) == "7"
    assert T.format_number(0.06) == "0.0600" and T.format_number(-1.6703) == "−1.67" and T.format_number(2.0) == "2"
    assert all(T.is_missing(x) for x in (None, np.nan, pd.NA, pd.NaT, float("inf"), "", "  ", "NaN"))
    assert not any(T.is_missing(x) for x in (0, 0.0, "none", "0", False))  # "none" is a level (no breastfeeding)


def test_stratum_and_term_labels_read_as_words():
    assert T.stratum_label("parity=>=3") == "parity ≥3"
    assert T.stratum_label("density=d") == "density d"
    assert T.stratum_label("density=c; round=first") == "density c, first round"
    assert T.stratum_label("age_group=50-54") == "age 50–54"
    assert T.stratum_label("family_history=>=2") == "family history ≥2"
    assert T.stratum_label("all") == "all"
    fit = pd.DataFrame(
        {
            "term": ["age_per_decade", "parity=>=3", "density=d"],
            "odds_ratio": [1.3219, 0.908, 1.18],
            "lower": [1.2011, 0.5991, 0.706],
            "upper": [1.4542, 1.375, 1.981],
            "p_value": [1e-9, 0.6481, 0.5249],
        }
    )
    fit.attrs.update(
        {
            "references": {"parity": "0", "density": "b"},
            "outcome": "recalled",
            "method": "gee",
            "n_obs": 15454,
            "n_women": 1873,
        }
    )
    cells = T.format_odds_ratios(fit).data
    assert cells.to_dict("list") == {
        "Term": ["age per decade", "parity ≥3 (vs 0)", "density d (vs b)"],
        "Odds ratio (95% CI)": ["1.32 (1.20–1.45)", "0.91 (0.60–1.38)", "1.18 (0.71–1.98)"],
        "p-value": ["<0.001", "0.648", "0.525"],
    }


# ----------------------------------------------------------------------------- format_table
def test_format_table_drops_a_meaningless_index_and_never_shows_nan():
    long = "share with >=2 affected relatives among those with >=1, " * 4  # 220 characters: never cut
    df = pd.DataFrame(
        {
            "parameter": ["a", "b", "c", "d"],
            "value": [0.5, np.nan, 2.25, 10.0],
            "source": ["x2001", "", None, "y"],
            "meaning": [long, "b", "<6 months", "d"],
            "p_value": [0.0, 0.04, np.nan, 0.5],
            "ok": [True, False, True, False],
        }
    ).iloc[[0, 2, 3]]
    st = T.format_table(df, columns={"p_value": "p_value"}, headers={"p_value": "p-value"})
    cells = st.data
    assert list(cells.columns) == ["Parameter", "Value", "Source", "Meaning", "p-value", "Ok"]
    assert cells["Value"].tolist() == ["0.50", "2.25", "10.00"]  # one number of decimals down the column
    assert cells["Source"].tolist() == ["x2001", T.DASH, "y"]
    assert cells["p-value"].tolist() == ["<0.001", T.DASH, "0.500"]
    assert cells["Ok"].tolist() == ["yes", "yes", "no"]
    html = st.to_html()
    assert not re.search(r"\bnan\b", html, re.IGNORECASE)
    assert 'class="row_heading' not in html and 'class="blank' not in html  # the gapped 0, 2, 3 index is gone
    assert long.replace(">=", "≥").strip() in html.replace("&gt;", ">")  # whole, with the ≥ typeset
    assert "&lt;6 months" in html  # escaped, not an HTML tag
    assert "…" not in html and "..." not in html
    assert re.search(r"#T_\w+\s*\{[^}]*overflow-x: auto;[^}]*max-width: 100%;", html)  # wide: scrolls in the page


def test_format_table_shows_a_named_index_once_per_group_and_merges_intervals():
    idx = pd.MultiIndex.from_tuples(
        [("Density", "a"), ("Density", "b"), ("Parity", ">=3")], names=["characteristic", "level"]
    )
    t1 = pd.DataFrame({"n (%)": ["1 (50.0%)", "1 (50.0%)", "2 (100.0%)"]}, index=idx)
    cells = T.format_table(t1).data
    assert cells.to_dict("list") == {
        "Characteristic": ["Density", "", "Parity"],
        "Level": ["a", "b", "≥3"],
        "N (%)": ["1 (50.0%)", "1 (50.0%)", "2 (100.0%)"],
    }
    targets = pd.DataFrame(
        {
            "measure": ["recall_rate", "cancer_detection_rate_per_1000", "first_round_recall_rate"],
            "value": [0.0214, 6.34, 0.07],
            "lo": [0.0172, 5.0974, np.nan],
            "hi": [0.0256, 7.5826, 0.07],
        }
    )
    cells = T.format_table(
        targets,
        measure="measure",
        columns={"measure": "measure"},
        intervals={"Target": ("value", "lo", "hi", "by_measure")},
    ).data
    assert cells["Target"].tolist() == ["2.1% (1.7–2.6)", "6.34 (5.10–7.58) per 1,000 screens", "≤7.0%"]
    assert cells["Measure"].tolist() == ["Recall rate", "Cancer detection rate", "First-round recall rate"]


def _estimates() -> pd.DataFrame:
    rows = [
        ("nl", "recall_rate", "density=a", 0.0148, 0.0099, 0.0222, "proportion", 23, 1552, "screens"),
        ("nl", "recall_rate", "density=d", 0.0205, 0.0128, 0.0326, "proportion", 17, 831, "screens"),
        ("nl", "recall_rate", "parity=>=3", 0.0176, 0.0150, 0.0205, "proportion", 100, 5681, "screens"),
        (
            "nl",
            "cancer_detection_rate_per_1000",
            "all",
            6.2134,
            5.8012,
            6.6521,
            "per 1,000 screens",
            84,
            15454,
            "screens",
        ),
    ]
    e = pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "measure",
            "stratum",
            "estimate",
            "lower",
            "upper",
            "unit",
            "numerator_count",
            "denominator_count",
            "denominator_label",
        ],
    )
    return e.assign(interval="wilson95")


def test_format_estimates_units_counts_and_strata():
    cells = T.format_estimates(_estimates()).data
    assert list(cells.columns) == [
        "Measure",
        "Stratum",
        "Estimate (Wilson 95% interval)",
        "Count (numerator / denominator)",
        "Denominator",
    ]
    assert cells["Stratum"].tolist() == ["density a", "density d", "parity ≥3", "all"]
    assert cells["Estimate (Wilson 95% interval)"].tolist() == [
        "1.5% (1.0–2.2)",
        "2.1% (1.3–3.3)",
        "1.8% (1.5–2.1)",
        "6.21 (5.80–6.65) per 1,000 screens",
    ]
    assert cells["Count (numerator / denominator)"].iloc[3] == "84 / 15,454"
    one = T.format_estimates(_estimates().iloc[:2])  # one measure: its name is the caption, the unit the header
    assert "Estimate, % of screens (Wilson 95% interval)" in one.data.columns and "Recall rate" in one.to_html()
    two = pd.concat([_estimates(), _estimates().assign(scenario="us", estimate=0.1)])
    wide = T.format_estimates(two, by="scenario").data
    assert list(wide.columns) == ["Measure", "Stratum", "Denominator", "nl", "us"] and len(wide) == 4


def test_extremes_sentence_states_what_the_rows_show():
    e = _estimates().iloc[:2]
    assert T.extremes_sentence(e, "Recall") == (
        "Recall is highest in density d (2.1%) and lowest in density a (1.5%); their 95% intervals overlap."
    )
    apart = e.assign(lower=[0.010, 0.030], upper=[0.020, 0.040], estimate=[0.015, 0.035])
    assert T.extremes_sentence(apart, "Recall").endswith("do not overlap.")
    assert "every stratum" in T.extremes_sentence(e.assign(estimate=0.02), "Recall")


# ----------------------------------------------------------------------------- figures
def _drawn_texts(fig) -> list[Text]:
    fig.savefig(io.BytesIO(), format="png")  # lay the figure out, so that every tick label exists
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _sobol_table() -> pd.DataFrame:
    params = [
        "reading.p_recall_benign_cluster",
        "reading.threshold_logit_shift",
        "calcifications.cluster_prevalence_age50",
        "cancer.dcis_precursor_share",
    ]
    outputs = ["calc_only_share_of_recalls", "calc_only_share_of_screen_detected", "recall_rate"]
    so = pd.DataFrame([(o, p) for o in outputs for p in params], columns=["output", "parameter"])
    rng = np.random.default_rng(1)
    so = so.assign(
        S1=rng.uniform(-0.1, 1.0, len(so)),
        S1_conf=rng.uniform(0, 2, len(so)),
        ST=rng.uniform(0, 1.0, len(so)),
        ST_conf=rng.uniform(0, 2, len(so)),
    )
    so.attrs.update({"runs": 24, "women": 2000})
    return so


def test_sobol_panels_use_the_styles_font_sizes_at_page_width():
    fig = sobol_indices(_sobol_table())
    small = {(t.get_text()[:40], t.get_fontsize()) for t in _drawn_texts(fig) if t.get_fontsize() < STYLE["font.size"]}
    assert not small, f"texts smaller than the base font size {STYLE['font.size']}: {sorted(small)}"
    # no wider than the other figures, so that a page shows it unscaled (a scaled-down figure has tiny fonts)
    assert fig.get_figwidth() <= STYLE["figure.figsize"][0]
    assert len(fig.axes) == 3 and all(ax.get_yticklabels()[0].get_text() for ax in fig.axes)


def _calc_only_one_way(output: str) -> pd.DataFrame:
    """The calc-only one-way rows of the report's run (2,000 women), long parameter names included."""
    ow = pd.DataFrame(
        {
            "parameter": [
                "reading.p_recall_other_benign",
                "calcifications.cluster_prevalence_age50",
                "reading.p_recall_benign_cluster",
                "reading.threshold_logit_shift",
                "cancer.dcis_precursor_share",
                "calcifications.cluster_or_breastfeeding_over_12_months_postmenopausal",
            ],
            "low_value": [0.001, 0.01, 0.005, -3.0, 0.1, 1.03],
            "high_value": [0.1, 0.15, 0.2, 3.0, 0.4, 1.46],
            "at_low": [0.4928, 0.1687, 0.1229, 0.2576, 0.2415, 0.2301],
            "at_high": [0.0804, 0.5660, 0.3965, 0.0545, 0.3675, 0.2596],
        }
    ).assign(output=output, base=0.2445)
    return ow.assign(swing=(ow["at_high"] - ow["at_low"]).abs())


@pytest.mark.parametrize("output", ["calc_only_share_of_recalls", "calc_only_share_of_screen_detected"])
def test_calc_only_tornado_has_a_readable_value_axis(output):
    fig = tornado(_calc_only_one_way(output), output)
    _drawn_texts(fig)
    ax = fig.axes[0]
    lo, hi = sorted(ax.get_xlim())
    ticks = [x for x in ax.get_xticks() if lo - 1e-12 <= x <= hi + 1e-12]
    assert len(ticks) >= 4, f"{len(ticks)} x ticks: {ticks}"
    assert all(t.get_fontsize() >= STYLE["font.size"] for t in ax.get_yticklabels())


def test_each_row_of_the_question_figure_names_its_own_denominator():
    denominators = {m.name: m.denominator for m in MEASURES}
    q = pd.DataFrame(
        {
            "measure": list(QUESTION_LABELS),
            "estimate": [0.245, 0.262, 0.238],
            "lower": [0.197, 0.180, 0.160],
            "upper": [0.299, 0.365, 0.339],
            "literature_lower": 0.127,
            "literature_upper": 0.412,
        }
    )
    fig = calc_only_shares(q)
    ax = fig.axes[0]
    rows = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], strict=True), reverse=True)
    labels = [label for _, label in rows]  # from the top row down: the table's order
    assert len(labels) == 3
    for measure, label in zip(q["measure"], labels, strict=True):
        den = denominators[measure]
        assert f"% of all {den}" in label.replace("\n", " "), (measure, label)
        others = {d for d in denominators.values() if d in ("recalls", "screen-detected cancers")} - {den}
        assert not any(f"of all {d}" in label.replace("\n", " ") for d in others), (measure, label)
    xlabel = ax.get_xlabel()
    assert not any(d in xlabel for d in ("recall", "cancer")), xlabel  # the axis names no single denominator


# ----------------------------------------------------------------------------- the pages
def _page(real_report, stem: str):
    from bs4 import BeautifulSoup

    if real_report.site is None:
        pytest.fail(f"the report of the real notebooks failed: {real_report.errors}")
    return BeautifulSoup((real_report.site / f"{stem}.html").read_text(encoding="utf-8"), "html.parser")


def _output_tables(soup) -> list:
    return [t for out in soup.select(".jp-OutputArea-output") for t in out.find_all("table")]


def _rows(table) -> tuple[list[str], list[list[str]]]:
    head = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    body = [[td.get_text(" ", strip=True) for td in tr.find_all(["td", "th"])] for tr in table.select("tbody tr")]
    return head, body


def _check_interval(cell: str) -> str | None:
    """What is wrong with an interval cell (None when it has the report's format)."""
    m = INTERVAL.match(cell)
    if not m:
        return "not in the format '24.0% (22.5–25.5)' / '6.21 (5.80–6.65) per 1,000 screens'"
    decimals = {len(m.group(i) or "") for i in (2, 5, 7)}
    if len(decimals) != 1:
        return "its three numbers have different decimals"
    if (m.group(8) or "").startswith(" per 1,000") and decimals != {2}:
        return "a rate per 1,000 with other than two decimals"
    if m.group(3) == "%" and decimals - {1, 2}:
        return "a percentage with other than one or two decimals"
    return None


@pytest.mark.parametrize("stem", PAGES)
def test_every_table_on_the_page_is_formatted(real_report, stem):
    tables = _output_tables(_page(real_report, stem))
    assert tables, f"{stem}: no table"
    problems = []
    for table in tables:
        name = (table.find("caption").get_text(strip=True) if table.find("caption") else table.get("id"))[:60]
        if not str(table.get("id", "")).startswith("T_"):
            problems.append(f"{name}: not made by analysis.figures.tables (a raw DataFrame)")
        if table.select("th.row_heading, th.blank, th.index_name"):
            problems.append(f"{name}: shows a row index")
        head, body = _rows(table)
        p_cols = [j for j, h in enumerate(head) if "p-value" in h.lower() or "p_value" in h.lower()]
        for row in body:
            for j, cell in enumerate(row):
                if cell in ("NaN", "nan", "None", "<NA>", "NaT") or "NaN" in cell:
                    problems.append(f"{name}: cell {cell!r}")
                if "…" in cell or "..." in cell:
                    problems.append(f"{name}: cut text {cell!r}")
                if cell == "0.000" or (j in p_cols and not re.fullmatch(r"<0\.001|[01]\.\d{3}|—", cell)):
                    problems.append(f"{name}: p-value {cell!r}")
                if LOOKS_LIKE_INTERVAL.search(cell) and (why := _check_interval(cell)):
                    problems.append(f"{name}: interval {cell!r}: {why}")
    assert not problems, f"{stem}:\n" + "\n".join(problems[:20])


def test_page_02_states_the_direction_its_table_shows(real_report):
    soup = _page(real_report, "02_recalls_and_calcifications")
    text = soup.get_text(" ")
    assert "Denser breasts: more recalls" not in text
    (table,) = [t for t in _output_tables(soup) if "by BI-RADS density" in t.get_text()]
    head, body = _rows(table)
    col = next(j for j, h in enumerate(head) if h.startswith("Estimate"))
    recall = {r[head.index("Stratum")]: float(r[col].split("%")[0]) for r in body if r[0] == "Recall rate"}
    assert set(recall) == {"density a", "density b", "density c", "density d"}
    m = re.search(r"Recall is highest in (density \w) \(([\d.]+)%\) and lowest in (density \w) \(([\d.]+)%\)", text)
    if m is None:  # all strata alike
        assert re.search(r"Recall is [\d.]+% in every stratum", text) and len(set(recall.values())) == 1
        return
    hi, hi_value, lo, lo_value = m.group(1), float(m.group(2)), m.group(3), float(m.group(4))
    assert recall[hi] == hi_value == max(recall.values()), (m.group(0), recall)
    assert recall[lo] == lo_value == min(recall.values()), (m.group(0), recall)


def _interval_ends(cell: str) -> tuple[float, float]:
    nums = [float(x.replace("−", "-").replace(",", "")) for x in re.findall(r"[−-]?\d[\d,]*\.?\d*", cell)]
    return nums[-2], nums[-1]


def test_page_04_compares_the_widths_its_table_shows(real_report):
    soup = _page(real_report, "04_calibration")
    (table,) = [t for t in _output_tables(soup) if "across the accepted parameter sets" in t.get_text()]
    head, body = _rows(table)
    wilson, spread = (
        head.index("Estimate (Wilson 95% interval)"),
        head.index("Across accepted parameter sets (95% range)"),
    )
    text = soup.get_text(" ")
    for row in body:
        (a, b), (c, d) = _interval_ends(row[wilson]), _interval_ends(row[spread])
        m = re.search(
            re.escape(row[0]) + r": the range across the accepted sets \([^)]*\) is (wider|narrower|as wide)", text
        )
        assert m, f"no sentence for {row[0]}"
        if abs((d - c) - (b - a)) > 0.2:  # beyond the rounding of the table
            assert m.group(1) == ("wider" if d - c > b - a else "narrower"), (row, m.group(0))


def test_page_04_says_what_is_held_out_and_what_is_not_evaluated(real_report):
    """docs/model.md §9.6: BCSC by age x density is now fitted for us-annual (``calcsim validate`` shows it
    cell by cell, labelled so); the figures the model was not fitted to have their own section; a target of
    a scenario without a calibration of its own is evaluated by nothing, and the text must say so."""
    soup = _page(real_report, "04_calibration")
    for table in soup.find_all("table"):
        table.decompose()
    text = soup.get_text(" ")
    assert "none shipped yet" not in text
    assert "calcsim validate" in text and "bcsc_validation" in text and "fitted, not held out" in text
    assert "not fitted to" in text
    from analysis.stats.targets import load_targets

    t = load_targets()
    uncalibrated = [
        row.target
        for row in t[t["kind"] != "band"].itertuples()
        if not (REPO / "data" / "calibration" / f"{row.scenario}.csv").is_file()
    ]
    # every shipped scenario is calibrated now; should one lose its file, its targets must be named
    assert all(f"`{name}`" in text or name in text for name in uncalibrated), uncalibrated


def test_page_06_describes_the_columns_its_table_shows(real_report):
    soup = _page(real_report, "06_coursework")
    assert "0–3 = BI-RADS" not in soup.get_text(" ")
    (screens,) = [t for t in _output_tables(soup) if "rows of screens" in t.get_text()]
    head, body = _rows(screens)
    assert {r[head.index("density")] for r in body} <= {"a", "b", "c", "d"}
    assert {r[head.index("family_history")] for r in body} <= {"0", "1", ">=2"}


def test_every_dotted_name_in_the_notebooks_text_exists():
    """A name like ``analysis.stats.uncertainty.compare`` in a markdown cell must still be importable."""
    missing = []
    for py in sorted((REPO / "notebooks").glob("*.py")):
        text = "\n".join(line for line in py.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
        for name in sorted(set(re.findall(r"`(analysis(?:\.\w+)+)", text))):
            parts = name.split(".")
            obj, i = None, len(parts)
            while obj is None and i:
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                except ImportError:
                    i -= 1
            try:
                for part in parts[i:]:
                    obj = getattr(obj, part)
            except AttributeError:
                missing.append(f"{py.name}: {name}")
    assert not missing, missing


# ----------------------------------------------------------------------------- layout in a browser
_LAYOUT = """<script>
(function () {
  var out = [];
  document.querySelectorAll('.jp-OutputArea-output table').forEach(function (t) {
    var a = t.closest('.jp-OutputArea-output').getBoundingClientRect(), r = t.getBoundingClientRect();
    out.push({id: t.id, right: r.right, area: a.right, scroll: t.scrollWidth, client: t.clientWidth});
  });
  var pre = document.createElement('pre'); pre.id = 'calcsim-layout'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def _chromium() -> str | None:
    for name in (os.environ.get("CALCSIM_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _headless(exe: str, tmp: Path, width: int, height: int) -> list[str]:
    """Headless Chromium with a fresh profile and no network, at ``width`` × ``height``."""
    return [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={tmp / 'profile'}",
        f"--window-size={width},{height}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]


def _table_boxes(exe: str, page: Path, width: int) -> list[dict]:
    """Where each output table of ``page`` ends, against its output area (``--dump-dom`` of a copy)."""
    with tempfile.TemporaryDirectory(prefix="calcsim-layout-") as tmp:
        copy = Path(tmp) / page.name
        copy.write_text(page.read_text(encoding="utf-8").replace("</body>", _LAYOUT + "</body>"), encoding="utf-8")
        run = subprocess.run(
            [*_headless(exe, Path(tmp), width, 900), "--dump-dom", copy.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    m = re.search(r'<pre id="calcsim-layout">(.*?)</pre>', run.stdout, re.S)
    assert m, f"{page.name}: chromium gave no layout ({run.stderr[-300:]})"
    return json.loads(m.group(1).replace("&quot;", '"'))


def test_wide_tables_stay_inside_the_page(real_report):
    exe = _chromium()
    if exe is None:
        reason = "chromium is not installed (Debian: apt-get install -y chromium)"
        if os.environ.get("CALCSIM_REQUIRE_CHROMIUM"):
            pytest.fail(reason + " but CALCSIM_REQUIRE_CHROMIUM is set")
        pytest.skip(reason)
    _page(real_report, PAGES[0])
    clipped, scrolls = [], 0
    for stem in ("03_programmes_compared", "06_coursework"):  # the widest tables: by scenario, and 33 columns
        for box in _table_boxes(exe, real_report.site / f"{stem}.html", 1000):
            scrolls += box["scroll"] > box["client"]
            if box["right"] > box["area"] + 1:
                clipped.append(f"{stem} {box['id']}: ends at {box['right']:.0f}px, its area at {box['area']:.0f}px")
    assert not clipped, clipped
    assert scrolls >= 1  # the screens table of the coursework is wider than the page: it scrolls instead
    # screenshots of two real pages with formatted tables, kept as test artefacts for a reader to look at
    for stem in ("02_recalls_and_calcifications", "03_programmes_compared"):
        png = _screenshot(exe, real_report.site / f"{stem}.html", ARTIFACTS / f"report-page-{stem}.png")
        assert png.stat().st_size > 20_000, png  # a rendered page, not a blank one


ARTIFACTS = Path(__file__).parent / "artifacts"


def _screenshot(exe: str, page: Path, out: Path) -> Path:
    """A headless-Chromium screenshot of ``page`` (1,000 × 2,400 px) saved at ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="calcsim-shot-") as tmp:
        subprocess.run(
            [*_headless(exe, Path(tmp), 1000, 2400), "--hide-scrollbars", f"--screenshot={out}", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert out.is_file(), f"no screenshot of {page.name}"
    return out
