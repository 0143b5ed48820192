"""Checks of analysis/stats/frontier.py: the efficient frontier on hand-made examples with known answers.

The running example (cost = screens, benefit = life-years gained, both per 1,000 women), with no
screening at (0, 0):

====  =====  =======  ===========================================================
name  cost   benefit  answer
====  =====  =======  ===========================================================
A     10     5        efficient, ratio 10/5 = 2 against no screening
B     20     8        efficient, ratio (20-10)/(8-5) = 10/3
C     40     10       efficient, ratio (40-20)/(10-8) = 10
D     25     7        strong: B has less cost and more benefit
E     30     8.5      extended: on the line B-C, 8 + 10/20*2 = 9 > 8.5 at cost 30
====  =====  =======  ===========================================================
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.errors import CalcsimInputError
from analysis.stats.frontier import FRONTIER_COLUMNS, efficient_frontier


def frame(points: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "strategy": list(points),
            "screens": [p[0] for p in points.values()],
            "lyg": [p[1] for p in points.values()],
        }
    )


EXAMPLE = {"A": (10, 5), "B": (20, 8), "C": (40, 10), "D": (25, 7), "E": (30, 8.5)}


def flags(out: pd.DataFrame) -> dict[str, str]:
    """name -> "" (efficient), "strong" or "extended"; checks efficient agrees with dominance."""
    assert (out["efficient"] == (out["dominance"] == "")).all()
    return dict(zip(out["strategy"], out["dominance"], strict=True))


def ratios(out: pd.DataFrame) -> dict[str, float]:
    return dict(zip(out["strategy"], out["incremental_ratio"], strict=True))


def test_the_running_example():
    df = frame(EXAMPLE)
    out = efficient_frontier(df, "screens", "lyg")
    assert flags(out) == {"A": "", "B": "", "C": "", "D": "strong", "E": "extended"}
    r = ratios(out)
    assert r["A"] == pytest.approx(2.0) and r["B"] == pytest.approx(10 / 3) and r["C"] == pytest.approx(10.0)
    assert math.isnan(r["D"]) and math.isnan(r["E"])
    assert out["efficient"].dtype == bool and out["incremental_ratio"].dtype == float


def test_the_result_is_a_copy_in_the_same_order():
    df = frame(EXAMPLE).sample(frac=1.0, random_state=3)
    before = df.copy()
    out = efficient_frontier(df, "screens", "lyg")
    pd.testing.assert_frame_equal(df, before)
    assert list(out.columns) == [*df.columns, *FRONTIER_COLUMNS]
    assert out.index.equals(df.index) and out["strategy"].tolist() == df["strategy"].tolist()
    pd.testing.assert_frame_equal(out[df.columns], df)


def test_ratios_increase_along_the_frontier():
    """Incremental benefit per unit cost decreases along the frontier: cost per benefit increases."""
    rng = np.random.default_rng(7)
    cost = rng.uniform(1, 100, 60)
    df = pd.DataFrame(
        {"strategy": [f"s{i}" for i in range(60)], "screens": cost, "lyg": np.sqrt(cost) + rng.normal(0, 1, 60)}
    )
    out = efficient_frontier(df, "screens", "lyg").sort_values("screens")
    eff = out[out["efficient"]]
    assert len(eff) >= 2
    assert (np.diff(eff["incremental_ratio"].to_numpy()) > 0).all()
    assert (np.diff(eff["lyg"].to_numpy()) > 0).all()
    # every efficient point is on or above the line through any two others (the hull is concave)
    assert set(out.loc[~out["efficient"], "dominance"]) <= {"strong", "extended"}


def test_extended_but_not_strongly_dominated():
    """E has more benefit than B and less cost than C: only a mix of B and C beats it."""
    out = efficient_frontier(frame({"B": (20, 8), "C": (40, 10), "E": (30, 8.5)}), "screens", "lyg")
    assert flags(out) == {"B": "", "C": "", "E": "extended"}
    assert ratios(out)["C"] == pytest.approx(10.0)  # against B, not against E


def test_a_point_on_the_line_is_kept():
    """E exactly on B-C (equal incremental ratios): a mix gives the same benefit, not more."""
    out = efficient_frontier(frame({"B": (20, 8), "C": (40, 10), "E": (30, 9)}), "screens", "lyg")
    assert flags(out) == {"B": "", "C": "", "E": ""}
    assert ratios(out) == pytest.approx({"B": 2.5, "E": 10.0, "C": 10.0})


def test_ties_are_both_efficient_with_the_same_ratio():
    out = efficient_frontier(frame({"A": (10, 5), "A2": (10, 5), "B": (20, 8)}), "screens", "lyg")
    assert flags(out) == {"A": "", "A2": "", "B": ""}
    assert ratios(out) == pytest.approx({"A": 2.0, "A2": 2.0, "B": 10 / 3})


def test_tied_dominated_points_are_both_dominated():
    out = efficient_frontier(frame({"A": (10, 5), "D": (15, 4), "D2": (15, 4)}), "screens", "lyg")
    assert flags(out) == {"A": "", "D": "strong", "D2": "strong"}


def test_equal_cost_or_equal_benefit_is_strong_dominance():
    out = efficient_frontier(frame({"A": (10, 5), "same_cost": (10, 4), "same_benefit": (12, 5)}), "screens", "lyg")
    assert flags(out) == {"A": "", "same_cost": "strong", "same_benefit": "strong"}


@pytest.mark.parametrize("extra", [(25, 7), (30, 8.5), (50, 9), (45, 4), (10, 5), (20, 8), (5, -1), (60, 10)])
def test_adding_a_dominated_point_never_changes_the_others(extra):
    base = efficient_frontier(frame(EXAMPLE), "screens", "lyg")
    out = efficient_frontier(frame({**EXAMPLE, "X": extra}), "screens", "lyg")
    assert out.loc[out["strategy"] == "X", "dominance"].iloc[0] in ("strong", "extended") or extra in EXAMPLE.values()
    pd.testing.assert_frame_equal(out.iloc[:-1], base)


def test_the_origin_dominates_and_starts_the_frontier():
    df = frame({"harm": (5, -1), "nothing": (3, 0), "A": (10, 5), "B": (20, 8)})
    out = efficient_frontier(df, "screens", "lyg")
    assert flags(out) == {"harm": "strong", "nothing": "strong", "A": "", "B": ""}
    assert ratios(out)["A"] == pytest.approx(2.0)


def test_the_origin_makes_a_point_extended():
    """Against no screening, A (10, 1) lies below the line from (0, 0) to B (20, 8): extended."""
    df = frame({"A": (10, 1), "B": (20, 8)})
    assert flags(efficient_frontier(df, "screens", "lyg")) == {"A": "extended", "B": ""}
    without = efficient_frontier(df, "screens", "lyg", origin=False)
    assert flags(without) == {"A": "", "B": ""}
    r = ratios(without)
    assert math.isnan(r["A"]) and r["B"] == pytest.approx(10 / 7)


def test_without_origin_the_cheapest_starts_and_has_no_ratio():
    out = efficient_frontier(frame(EXAMPLE), "screens", "lyg", origin=False)
    assert flags(out) == {"A": "", "B": "", "C": "", "D": "strong", "E": "extended"}
    r = ratios(out)
    assert math.isnan(r["A"]) and r["B"] == pytest.approx(10 / 3) and r["C"] == pytest.approx(10.0)
    # negative benefit is no longer dominated by no screening
    assert flags(efficient_frontier(frame({"harm": (5, -1), "A": (10, 5)}), "screens", "lyg", origin=False)) == {
        "harm": "",
        "A": "",
    }


def test_a_strategy_at_the_origin_ties_with_it():
    out = efficient_frontier(frame({"zero": (0, 0), "A": (10, 5)}), "screens", "lyg")
    assert flags(out) == {"zero": "", "A": ""}
    assert math.isnan(ratios(out)["zero"]) and ratios(out)["A"] == pytest.approx(2.0)


def test_a_strategy_dominating_the_origin_starts_the_frontier():
    out = efficient_frontier(frame({"free": (0, 1), "zero": (0, 0), "A": (10, 5)}), "screens", "lyg")
    assert flags(out) == {"free": "", "zero": "strong", "A": ""}
    assert math.isnan(ratios(out)["free"]) and ratios(out)["A"] == pytest.approx(2.5)


def test_everything_dominated_by_no_screening():
    out = efficient_frontier(frame({"a": (5, -1), "b": (10, 0)}), "screens", "lyg")
    assert flags(out) == {"a": "strong", "b": "strong"}
    assert out["incremental_ratio"].isna().all()


def test_empty_frame():
    out = efficient_frontier(frame({}), "screens", "lyg", origin=False)
    assert out.empty and list(out.columns)[-3:] == list(FRONTIER_COLUMNS)


def test_columns_of_the_result_are_replaced_and_other_names_work():
    df = frame(EXAMPLE).rename(columns={"strategy": "scheme"}).set_index("scheme")
    once = efficient_frontier(df, "screens", "lyg", name="scheme")
    twice = efficient_frontier(once, "screens", "lyg", name="scheme")
    pd.testing.assert_frame_equal(once, twice)
    assert once.loc["E", "dominance"] == "extended"


@pytest.mark.parametrize("column", ["screens", "lyg"])
@pytest.mark.parametrize("value", [np.nan, np.inf, "many"])
def test_a_missing_or_bad_value_names_the_strategy(column, value):
    df = frame(EXAMPLE).astype({column: object})
    df.loc[df["strategy"] == "C", column] = value
    with pytest.raises(ValueError, match=f"{column} of strategy 'C'") as info:
        efficient_frontier(df, "screens", "lyg")
    assert isinstance(info.value, CalcsimInputError) and "\n" not in str(info.value)


def test_the_index_names_the_strategy_without_a_name_column():
    df = frame(EXAMPLE).set_index("strategy")
    df.loc["B", "lyg"] = np.nan
    with pytest.raises(ValueError, match="lyg of strategy 'B'"):
        efficient_frontier(df, "screens", "lyg")


def test_a_missing_column_is_named():
    with pytest.raises(CalcsimInputError, match="'deaths'"):
        efficient_frontier(frame(EXAMPLE), "screens", "deaths")
    with pytest.raises(CalcsimInputError, match="a pandas DataFrame"):
        efficient_frontier([1, 2], "screens", "lyg")  # type: ignore[arg-type]
