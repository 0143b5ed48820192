"""Checks of analysis/scenario/strategies.py and the shipped grid data/strategies/default.csv.

The default grid: 20 strategies with unique names, the 18 uniform ones of the design and the two
risk-based ones. Labels, overrides and intervals. Validation: every bad file or value is ONE line
naming the file, the row and field, the value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import CalcsimInputError
from analysis.io.paths import data_dir
from analysis.scenario.strategies import (
    COLUMNS,
    DEFAULT_STRATEGIES,
    HIGH_RISK_RULES,
    Strategy,
    load_strategies,
    strategies_dir,
    strategies_table,
)

HEADER = ",".join(COLUMNS) + "\n"
GOOD_ROW = "50-74_2y,50,74,2,,,,biennial\n"
RISK_ROW = "50-74_risk,50,74,2,brca_or_density_d,1,3,risk\n"


def write(folder: Path, body: str, header: str = HEADER, name: str = "grid.csv") -> Path:
    path = folder / name
    path.write_text(header + body, encoding="utf-8")
    return path


def load_error(path: object) -> str:
    """Load a grid that must fail; return the message after checking it is one line."""
    with pytest.raises(CalcsimInputError) as info:
        load_strategies(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    return msg


def assert_mentions(msg: str, *fragments: str) -> None:
    missing = [f for f in fragments if f not in msg]
    assert not missing, f"{missing} not in: {msg}"


# --------------------------------------------------------------------------- the shipped grid
def test_default_grid_is_the_designed_twenty():
    grid = load_strategies()
    names = [s.name for s in grid]
    assert len(grid) == 20 and len(set(names)) == 20
    uniform = {(s.start_age_years, s.stop_age_years, s.interval_years) for s in grid if not s.risk_based}
    assert uniform == {(a, b, i) for a in (40, 45, 50) for b in (69, 74) for i in (1, 2, 3)}
    assert "40-74_1y" in names and "50-69_3y" in names
    assert all(s.note for s in grid)


@pytest.mark.parametrize("name, start", [("50-74_risk", 50.0), ("40-74_risk", 40.0)])
def test_default_grid_has_the_two_risk_based_strategies(name, start):
    s = {s.name: s for s in load_strategies()}[name]
    assert s.risk_based and s.high_risk == "brca_or_density_d"
    assert (s.start_age_years, s.stop_age_years) == (start, 74.0)
    assert (s.high_risk_interval_years, s.low_risk_interval_years, s.interval_years) == (1.0, 3.0, 2.0)


def test_default_grid_is_found_in_the_data_folder():
    assert strategies_dir() == data_dir() / "strategies"  # data/strategies in a checkout
    assert (strategies_dir() / DEFAULT_STRATEGIES).is_file()
    text = (strategies_dir() / DEFAULT_STRATEGIES).read_text(encoding="utf-8")
    assert text.startswith("#") and "not a recommendation" in text.splitlines()[1]


def test_a_bare_name_is_looked_up_in_the_strategies_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_strategies("default") == load_strategies(DEFAULT_STRATEGIES) == load_strategies()


# --------------------------------------------------------------------------- Strategy
def test_describe_labels():
    assert Strategy("a", 50, 74, 2).describe() == "50-74 every 2 y"
    assert Strategy("a", 45, 69.5, 1.5).describe() == "45-69.5 every 1.5 y"
    risk = Strategy("r", 50, 74, 2, "brca_or_density_d", 1, 3)
    assert risk.describe() == "50-74: 1 y high-risk (BRCA or density d), 3 y low-risk, 2 y others"
    # the low-risk interval defaults to the others' and is then left out of the label
    brca = Strategy("b", 40, 74, 2, "brca", 1)
    assert brca.low_risk_interval_years == 2.0
    assert brca.describe() == "40-74: 1 y high-risk (BRCA), 2 y others"


def test_every_rule_has_a_label():
    for rule in HIGH_RISK_RULES:
        assert "high-risk (BRCA" in Strategy("x", 50, 74, 2, rule, 1).describe()


def test_overrides_and_intervals():
    s = Strategy("r", 40, 74, 2, "brca_or_family_history", 1, 3)
    assert s.overrides() == {
        "programme.start_age_years": 40.0,
        "programme.stop_age_years": 74.0,
        "programme.interval_years": 2.0,
    }
    assert all(isinstance(v, float) for v in s.overrides().values())
    assert s.intervals() == (1.0, 2.0, 3.0)
    assert Strategy("u", 50, 69, 3).intervals() == (3.0,)
    assert Strategy("t", 50, 69, 2, "brca", 2).intervals() == (2.0,)
    assert not Strategy("u", 50, 69, 3).risk_based


@pytest.mark.parametrize(
    "kwargs, fragments",
    [
        ({"name": "a b"}, ["name", "'a b'", "letters, digits"]),
        ({"interval_years": 0.25}, ["interval_years", "0.25", ">= 0.5"]),
        ({"start_age_years": 30}, ["start_age_years", "30", "between 35 and 85"]),
        ({"stop_age_years": 45}, ["stop_age_years", "45", ">= start_age_years (50)"]),
        ({"interval_years": float("nan")}, ["interval_years", "nan", "finite"]),
        ({"interval_years": True}, ["interval_years", "True", "a number"]),
        ({"high_risk": "brac"}, ["high_risk", "'brac'", "did you mean 'brca'"]),
        ({"high_risk": "brca"}, ["high_risk_interval_years", "required"]),
        ({"high_risk_interval_years": 1}, ["high_risk_interval_years", "empty when high_risk is empty"]),
    ],
)
def test_a_bad_strategy_object_is_one_line(kwargs, fragments):
    values = {"name": "s", "start_age_years": 50, "stop_age_years": 74, "interval_years": 2, **kwargs}
    with pytest.raises(CalcsimInputError) as info:
        Strategy(**values)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("Strategy:")
    assert_mentions(msg, *fragments)


# --------------------------------------------------------------------------- table
def test_strategies_table_round_trips(tmp_path):
    grid = load_strategies()
    table = strategies_table(grid)
    assert list(table.columns) == [*COLUMNS, "label"] and len(table) == 20
    assert table["label"].tolist() == [s.describe() for s in grid]
    assert table.loc[0, "high_risk"] == "" and pd.isna(table.loc[0, "high_risk_interval_years"])
    path = tmp_path / "again.csv"
    table.drop(columns="label").to_csv(path, index=False)
    assert load_strategies(path) == grid


def test_strategies_table_of_nothing_has_the_columns():
    assert list(strategies_table([]).columns) == [*COLUMNS, "label"]


def test_a_file_with_comments_and_spaces_loads(tmp_path):
    path = write(tmp_path, "# a comment\n50-74_2y, 50, 74, 2, , , , spaced\n" + RISK_ROW, header="# grid\n" + HEADER)
    grid = load_strategies(path)
    assert [s.name for s in grid] == ["50-74_2y", "50-74_risk"] and grid[0].note == "spaced"


def test_columns_may_come_in_any_order(tmp_path):
    header = "note," + ",".join(COLUMNS[:-1]) + "\n"
    grid = load_strategies(write(tmp_path, "x,50-74_2y,50,74,2,,,\n", header=header))
    assert grid == [Strategy("50-74_2y", 50, 74, 2, note="x")]


# --------------------------------------------------------------------------- bad files
def test_a_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.csv"
    assert_mentions(load_error(missing), str(missing), "no such file")


def test_an_unreadable_file_is_one_line(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert_mentions(load_error(empty), str(empty), "not a readable CSV")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81name\n")
    assert_mentions(load_error(binary), str(binary), "not a readable CSV")
    ragged = write(tmp_path, 'x,"unterminated\n', name="ragged.csv")
    assert_mentions(load_error(ragged), str(ragged))


def test_missing_and_unknown_columns_are_named(tmp_path):
    header = HEADER.replace("interval_years,high_risk,", "interval_year,high_risk,")
    msg = load_error(write(tmp_path, GOOD_ROW, header=header))
    assert_mentions(msg, "columns", "missing interval_years", "unknown interval_year", "did you mean")


def test_zero_rows(tmp_path):
    assert_mentions(load_error(write(tmp_path, "")), "rows = 0", "at least one strategy")


def test_duplicate_names_ignoring_case(tmp_path):
    msg = load_error(write(tmp_path, GOOD_ROW + GOOD_ROW.replace("50-74_2y", "50-74_2Y")))
    assert_mentions(msg, "row 2 name", "'50-74_2Y'", "unique", "row 1 is '50-74_2y'")


@pytest.mark.parametrize(
    "row, fragments",
    [
        (",50,74,2,,,,", ["row 1 name", "''", "non-empty"]),
        ("my grid,50,74,2,,,,", ["row 1 name", "'my grid'"]),
        ("../up,50,74,2,,,,", ["row 1 name", "'../up'"]),
        ("s,fifty,74,2,,,,", ["row 1 (s) start_age_years", "'fifty'", "a number"]),
        ("s,50,74,nan,,,,", ["row 1 (s) interval_years", "'nan'", "finite"]),
        ("s,50,74,inf,,,,", ["row 1 (s) interval_years", "'inf'", "finite"]),
        ("s,50,,2,,,,", ["row 1 (s) stop_age_years", "required"]),
        ("s,30,74,2,,,,", ["row 1 (s) start_age_years", "'30'", "between 35 and 85"]),
        ("s,50,90,2,,,,", ["row 1 (s) stop_age_years", "'90'", "between 35 and 85"]),
        ("s,60,55,2,,,,", ["row 1 (s) stop_age_years", "'55'", ">= start_age_years (60)"]),
        ("s,50,74,0.4,,,,", ["row 1 (s) interval_years", "'0.4'", ">= 0.5"]),
        ("s,50,74,2,density_d,1,3,", ["row 1 (s) high_risk", "'density_d'", "brca_or_density_d"]),
        ("s,50,74,2,brca,,3,", ["row 1 (s) high_risk_interval_years", "required"]),
        ("s,50,74,2,brca,0.2,3,", ["row 1 (s) high_risk_interval_years", "'0.2'", ">= 0.5"]),
        ("s,50,74,2,brca,1,0,", ["row 1 (s) low_risk_interval_years", "'0'", ">= 0.5"]),
        ("s,50,74,2,,1,,", ["row 1 (s) high_risk_interval_years", "'1'", "empty when high_risk is empty"]),
        ("s,50,74,2,,,3,", ["row 1 (s) low_risk_interval_years", "'3'", "empty when high_risk is empty"]),
    ],
)
def test_a_bad_value_names_the_row_field_and_value(tmp_path, row, fragments):
    path = write(tmp_path, row + "\n")
    assert_mentions(load_error(path), str(path), *fragments)


def test_the_error_is_on_the_right_row(tmp_path):
    path = write(tmp_path, GOOD_ROW + RISK_ROW + "bad,50,74,2,brca_or_densty_d,1,,\n")
    assert_mentions(load_error(path), "row 3 (bad) high_risk", "did you mean 'brca_or_density_d'")


def test_the_command_line_would_exit_2():
    """Every error above is a CalcsimInputError: the command line prints its line and exits with 2."""
    assert issubclass(CalcsimInputError, ValueError)
    with pytest.raises(CalcsimInputError):
        strategies_table(["50-74_2y"])
