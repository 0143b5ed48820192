"""Table 1: counts add up, percentages add to 100%, the All column is the pooled data, clean HTML."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import CalcsimInputError
from analysis.model.simulation import simulate
from analysis.stats.table1 import table1, table1_html

pytestmark = pytest.mark.filterwarnings("error")

COUNT = re.compile(r"^([\d,]+) \((?:([\d.]+)%|–)\)$")
MEDIAN = re.compile(r"^([\d.]+) \[([\d.]+)–([\d.]+)\]$")


@pytest.fixture(scope="module")
def screens():
    return simulate("nl-biennial", 6_000, seed=3, keep_screens=True).screens


@pytest.fixture(scope="module")
def t1(screens):
    return table1(screens)


def _n(header: str) -> int:
    m = re.search(r"\(n=([\d,]+)\)$", header)
    assert m, header
    return int(m.group(1).replace(",", ""))


def _count(cell: str) -> tuple[int, float | None]:
    m = COUNT.match(cell)
    assert m, cell
    return int(m.group(1).replace(",", "")), (float(m.group(2)) if m.group(2) else None)


def _median(cell: str) -> tuple[float, float, float]:
    m = MEDIAN.match(cell)
    assert m, cell
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def _first_screens(screens: pd.DataFrame) -> pd.DataFrame:
    s = screens.sort_values(["woman", "round_index"], kind="stable")
    return s.loc[~s["woman"].duplicated()].set_index("woman")


def test_shape_and_headers(t1, screens):
    assert list(t1.index.names) == ["characteristic", "level"]
    never, ever, pooled = t1.columns
    assert never.startswith("Never recalled (n=") and ever.startswith("Recalled ≥1 (n=")
    assert pooled.startswith("All (n=")
    n = [_n(c) for c in t1.columns]
    assert n[0] + n[1] == n[2] == screens["woman"].nunique()
    assert n[1] == screens.loc[screens["recalled"], "woman"].nunique() > 100  # events happened
    assert t1.attrs["n"] == n and t1.attrs["by"] == "recalled"
    chars = list(dict.fromkeys(t1.index.get_level_values(0)))
    assert len(chars) == 10
    assert t1.loc["BI-RADS density at first screen"].index.tolist() == ["a", "b", "c", "d"]
    assert t1.loc["Parity (births)"].index.tolist() == ["0", "1", "2", "≥3"]
    assert t1.loc["First-degree relatives with breast cancer"].index.tolist() == ["0", "1", "≥2"]


def test_counts_add_up_and_percentages_sum_to_100(t1):
    n = [_n(c) for c in t1.columns]
    checked = 0
    for char, block in t1.groupby(level="characteristic", sort=False):
        if block.index.get_level_values("level")[0] == "median [IQR]":
            continue
        for j, col in enumerate(t1.columns):
            parsed = [_count(c) for c in block[col]]
            assert sum(k for k, _ in parsed) == n[j], (char, col)
            pct = sum(p for _, p in parsed)
            # each percentage is rounded to 0.1: the sum is off by at most 0.05 per level
            assert abs(pct - 100.0) <= 0.05 * len(parsed) + 1e-9, (char, col, pct)
            checked += 1
        # the All column is the sum of the two groups, level by level
        for row in block.itertuples(index=False):
            a, b, c = (_count(x)[0] for x in row)
            assert a + b == c
    assert checked == 7 * 3  # seven n (%) characteristics x three columns


def test_all_column_is_the_pooled_data(t1, screens):
    first = _first_screens(screens)
    col = t1.columns[2]
    q = np.percentile(first["age_years"], [50, 25, 75])
    assert _median(t1.loc[("Age at first screen, years", "median [IQR]"), col]) == tuple(np.round(q, 1))
    for level in ["a", "b", "c", "d"]:
        k, _ = _count(t1.loc[("BI-RADS density at first screen", level), col])
        assert k == int((first["density"] == level).sum())
    for label, level in zip(["0", "1", ">=2"], ["0", "1", "≥2"], strict=True):
        k, _ = _count(t1.loc[("First-degree relatives with breast cancer", level), col])
        assert k == int((first["family_history"] == label).sum())
    k, _ = _count(t1.loc[("Parity (births)", "≥3"), col])
    assert k == int((first["births"] >= 3).sum())
    k, _ = _count(t1.loc[("Lifetime breastfeeding", ">12 months"), col])
    assert k == int((first["breastfeeding_months"] > 12).sum())
    k, _ = _count(t1.loc[("Menopausal status at first screen", "postmenopausal"), col])
    assert k == int(first["postmenopausal"].sum())
    per_woman = screens.groupby("woman")
    q = np.percentile(per_woman.size(), [50, 25, 75])
    np.testing.assert_allclose(_median(t1.loc[("Screens per woman", "median [IQR]"), col]), q, atol=0.05 + 1e-6)
    k, _ = _count(t1.loc[("Benign microcalcification cluster at any screen", "yes"), col])
    assert k == int(per_woman["benign_cluster"].any().sum())
    parous = first["births"] > 0
    q = np.percentile(first.loc[parous, "breastfeeding_months"], [50, 25, 75])
    got = _median(t1.loc[("Lifetime breastfeeding among parous women, months", "median [IQR]"), col])
    np.testing.assert_allclose(got, q, atol=0.05 + 1e-6)


def test_recalled_column_is_the_table_of_recalled_women(t1, screens):
    recalled_women = screens.loc[screens["recalled"], "woman"].unique()
    own = table1(screens[screens["woman"].isin(recalled_women)])
    assert own.columns[0] == "Never recalled (n=0)"
    assert own.iloc[:, 2].tolist() == t1.iloc[:, 1].tolist()


def test_other_grouping_and_empty_group_without_nan(screens):
    t = table1(screens, by="benign_cluster")
    assert t.columns[1].startswith("Benign cluster ≥1")
    k, pct = _count(t.loc[("Benign microcalcification cluster at any screen", "yes"), t.columns[0]])
    assert k == 0 and pct == 0.0
    none = screens.assign(recalled=False)
    t = table1(none)
    assert t.columns[1] == "Recalled ≥1 (n=0)"
    cells = t.iloc[:, 1].tolist()
    assert all(c == "–" or c == "0 (–)" for c in cells), cells
    assert "nan" not in table1_html(t).lower()


def test_html_is_a_clean_standalone_table(t1):
    page = table1_html(t1)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<table") == 1 and "</table>" in page and "<caption>" in page
    assert "<script" not in page.lower()
    assert "nan" not in page.lower()
    for header in t1.columns:
        assert header in page
    assert "&gt;12 months" in page and "≥2" in page  # escaped, readable labels
    assert "median [IQR]" in page


def test_errors_are_one_line(screens):
    for bad, match in [
        (screens.iloc[:0], "no screens"),
        (screens.drop(columns="density"), "lacks column"),
        ([1, 2], "DataFrame"),
    ]:
        with pytest.raises(CalcsimInputError, match=match) as info:
            table1(bad)
        assert "\n" not in str(info.value)
    with pytest.raises(CalcsimInputError, match="did you mean 'recalled'"):
        table1(screens, by="recaled")
    with pytest.raises(CalcsimInputError, match="True/False"):
        table1(screens, by="density")
    with pytest.raises(CalcsimInputError, match="table1_html"):
        table1_html(pd.DataFrame())
