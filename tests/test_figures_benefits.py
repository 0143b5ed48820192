"""The benefits-and-harms figures: frontiers through the efficient strategies, both harms, one balance sheet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from analysis.errors import CalcsimInputError
from analysis.figures.benefits import (
    STRATEGY_MEASURES,
    axis_label,
    balance_sheet,
    efficiency_frontier,
    harm_benefit,
)
from analysis.figures.style import STYLE, calcsim_style, new_axes

SCREENS, LIFE_YEARS, DEATHS, FALSE_POSITIVES, OVERDIAGNOSED = STRATEGY_MEASURES
#: name, label, screens, life-years, deaths, false positives, overdiagnosed,
#: efficient/dominance against screens, efficient/dominance against false positives, default
ROWS = [
    ("a5074", "50-74 every 1 y", 240, 105, 6.8, 400, 6.0, False, "extended", False, "extended", False),
    ("b5074", "50-74 every 2 y", 125, 95, 6.0, 180, 5.0, True, "", True, "", True),
    ("t5070", "50-70 every 3 y", 65, 60, 4.0, 90, 3.0, True, "", True, "", False),
    ("a4074", "40-74 every 1 y", 300, 130, 7.5, 600, 8.0, True, "", False, "strong", False),
    ("b4074", "40-74 every 2 y", 160, 90, 6.1, 300, 6.5, False, "strong", False, "strong", False),
    ("b5069", "50-69 every 2 y", 95, 80, 5.2, 140, 3.8, True, "", True, "", False),
]
FLAGS = ("efficient_screens", "dominance_screens", "efficient_false_positives", "dominance_false_positives", "default")


def _strategies(rows=ROWS) -> pd.DataFrame:
    """The wide strategies table: each measure with a ±15% interval, the frontier flags and ``default``."""
    df = pd.DataFrame({"strategy": [r[0] for r in rows], "label": [r[1] for r in rows]})
    for j, m in enumerate(STRATEGY_MEASURES):
        v = np.array([r[2 + j] for r in rows], float)
        df[m], df[f"{m}_lower"], df[f"{m}_upper"] = v, 0.85 * v, 1.15 * v
    for j, flag in enumerate(FLAGS):
        df[flag] = [r[7 + j] for r in rows]
    return df


def _balance() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "measure": ["bc_deaths_averted", "false_positive_recalls", "life_years_gained", "overdiagnosed"],
            "label": ["Breast-cancer deaths averted", "False-positive recalls", "Life-years gained", "Overdiagnosed"],
            "side": ["benefit", "harm", "benefit", "harm"],  # interleaved: the figure groups them
            "estimate": [6.02, 181.4, 95.3, 4.96],
            "lower": [4.1, 170.0, 70.2, 3.1],
            "upper": [7.9, 193.2, 120.5, 6.8],
            "unit": "per 1,000 women screened",
        }
    )
    df.attrs["label"] = "50-74 every 2 y"
    return df


def _errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _points(ax) -> list[tuple[float, float]]:
    """Every point drawn with an error bar (one per strategy)."""
    return [(x, y) for c in _errorbars(ax) for x, y in zip(*c.lines[0].get_data(), strict=True)]


def _line(ax, gid: str):
    (line,) = [ln for ln in ax.lines if ln.get_gid() == gid]
    return line


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _saves(fig: Figure, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


# ----------------------------------------------------------------------------- labels
def test_axis_labels_carry_the_denominator():
    assert axis_label(SCREENS.replace("_women", "_invited")) == "Screens per 1,000 women invited"
    assert axis_label(LIFE_YEARS.replace("_women", "_invited")) == "Life-years gained per 1,000 women invited"
    assert axis_label(DEATHS.replace("_women", "_invited")) == "Breast-cancer deaths averted per 1,000 women invited"
    assert (
        axis_label(FALSE_POSITIVES.replace("_women", "_invited"), two_lines=True)
        == "False-positive recalls\nper 1,000 women invited"
    )
    assert axis_label("biopsies_per_100000_screened") == "Biopsies per 100,000 women screened"
    assert axis_label("overdiagnosed") == "Overdiagnosed cancers"
    women = "per 1,000 women alive and free of breast cancer at the population age"
    assert axis_label("life_years_gained_per_1000_women") == f"Life-years gained {women}"
    assert axis_label("screens_per_1000_women", two_lines=True).count("\n") == 2  # the long denominator wrapped


# ----------------------------------------------------------------------------- efficiency frontier
def test_frontier_against_screens(tmp_path):
    s = _strategies()
    fig = efficiency_frontier(s)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (ax,) = fig.axes
    assert sorted(_points(ax)) == sorted(zip(s[SCREENS], s[LIFE_YEARS], strict=True))
    assert len(_points(ax)) == len(s)
    assert all(c.has_yerr and not c.has_xerr for c in _errorbars(ax))
    # the frontier: from no screening through the efficient strategies in order of screens
    eff = s[s["efficient_screens"]].sort_values(SCREENS)
    xy = _line(ax, "frontier").get_xydata()
    np.testing.assert_allclose(xy, np.r_[[[0.0, 0.0]], eff[[SCREENS, LIFE_YEARS]].to_numpy(float)])
    assert (
        ax.get_xlabel().replace("\n", " ")
        == "Screens per 1,000 women alive and free of breast cancer at the population age"
    )
    assert (
        ax.get_ylabel().replace("\n", " ")
        == "Life-years gained per 1,000 women alive and free of breast cancer at the population age"
    )
    assert fig._suptitle.get_text() == "Efficiency frontier: life-years gained against screens"
    legend = _legend(ax)
    assert "efficiency frontier" in legend and "efficient (4)" in legend
    assert "strongly dominated (1)" in legend and "extendedly dominated (1)" in legend
    # the efficient strategies and the scenario's own programme are named, no other
    named = {t.get_text() for t in ax.texts} - {"no screening"}
    assert named == set(eff["label"])
    ring = _line(ax, "default")
    np.testing.assert_allclose(ring.get_xydata(), [[125, 95]])
    assert "this scenario's programme (50-74 every 2 y)" in legend
    # 95% intervals on the benefit
    (extended,) = [c for c in _errorbars(ax) if c.get_label().startswith("extendedly")]
    segs = extended.lines[2][0].get_segments()
    np.testing.assert_allclose([seg[:, 1] for seg in segs], [[0.85 * 105, 1.15 * 105]])
    _saves(fig, tmp_path, "frontier_screens")


def test_frontier_against_false_positives_uses_its_own_flags():
    s = _strategies()
    fig = efficiency_frontier(s, cost=FALSE_POSITIVES, flag="false_positives")
    (ax,) = fig.axes
    eff = s[s["efficient_false_positives"]].sort_values(FALSE_POSITIVES)
    assert list(eff["strategy"]) == ["t5070", "b5069", "b5074"]
    np.testing.assert_allclose(
        _line(ax, "frontier").get_xydata(), np.r_[[[0.0, 0.0]], eff[[FALSE_POSITIVES, LIFE_YEARS]].to_numpy(float)]
    )
    assert len(_points(ax)) == len(s)
    assert (
        ax.get_xlabel().replace("\n", " ")
        == "False-positive recalls per 1,000 women alive and free of breast cancer at the population age"
    )
    assert "strongly dominated (2)" in _legend(ax)
    assert "false-positive recalls" in fig._suptitle.get_text()


def test_frontier_legend_names_only_the_kinds_present():
    s = _strategies([r for r in ROWS if r[7]]).drop(columns="default")  # efficient ones only, no default
    s.loc[s["strategy"] == "a4074", ["efficient_screens", "dominance_screens"]] = [False, "extended"]
    ax = efficiency_frontier(s).axes[0]
    legend = _legend(ax)
    assert "extendedly dominated (1)" in legend
    assert not any("strongly" in t for t in legend)
    assert not any("programme" in t for t in legend)
    assert not [ln for ln in ax.lines if ln.get_gid() == "default"]
    s["efficient_screens"], s["dominance_screens"] = True, ""
    legend = _legend(efficiency_frontier(s).axes[0])
    assert not any("dominated" in t for t in legend)


def test_frontier_unsorted_ties_and_missing_flags():
    """Efficient rows in any order make a line in cost order; a missing flag value counts as not efficient."""
    s = _strategies().sample(frac=1.0, random_state=3).reset_index(drop=True)
    s["efficient_screens"] = s["efficient_screens"].astype(object)
    s.loc[s["strategy"] == "a4074", "efficient_screens"] = None
    s.loc[s["strategy"] == "a4074", "dominance_screens"] = np.nan
    ax = efficiency_frontier(s).axes[0]
    x = _line(ax, "frontier").get_xdata()
    assert list(x) == [0, 65, 95, 125]
    assert "not on the frontier (1)" in _legend(ax)


def test_frontier_on_another_denominator_with_thousands():
    """The frontier of the analysis is per 1,000 women alive at the population age: labels follow the columns."""
    s = _strategies()
    s = s.rename(columns=lambda c: c.replace("_per_1000_invited", "_per_1000_women"))
    s["screens_per_1000_women"] *= 100  # thousands of screens
    fig = efficiency_frontier(s, cost="screens_per_1000_women", benefit="life_years_gained_per_1000_women")
    (ax,) = fig.axes
    label = "Screens per 1,000 women alive and free of breast cancer at the population age"
    assert ax.get_xlabel().replace("\n", " ") == label and "\n" in ax.get_xlabel()  # too long for one line
    assert "\n" in ax.get_ylabel() and "population age" in ax.get_ylabel()  # wrapped on the short axis
    fig.canvas.draw()
    assert "20,000" in [t.get_text() for t in ax.get_xticklabels()]
    assert list(_line(ax, "frontier").get_xdata()) == [0, 6500, 9500, 12500, 30000]


def test_frontier_names_of_close_strategies_go_either_side():
    s = _strategies()
    s.loc[s["strategy"] == "b5069", [SCREENS, LIFE_YEARS]] = [120, 92]  # next to 50-74 every 2 y (125, 95)
    texts = {t.get_text(): t for t in efficiency_frontier(s).axes[0].texts}
    assert texts["50-69 every 2 y"].get_ha() == "right"  # above left
    assert texts["50-74 every 2 y"].get_ha() == "left"  # crowded: below right
    assert texts["50-70 every 3 y"].get_ha() == "right" and texts["40-74 every 1 y"].get_ha() == "right"


def test_frontier_into_given_axes():
    with calcsim_style():
        fig, ax = new_axes()
    out = efficiency_frontier(_strategies(), ax=ax, title="Frontier")
    assert out is fig and fig.axes == [ax]
    assert ax.get_title(loc="left") == "Frontier"
    assert len(_points(ax)) == len(ROWS)


def test_frontier_bad_input_names_the_column():
    s = _strategies()
    with pytest.raises(CalcsimInputError, match=f"efficiency_frontier: no column '{LIFE_YEARS}_upper'"):
        efficiency_frontier(s.drop(columns=f"{LIFE_YEARS}_upper"))
    with pytest.raises(CalcsimInputError, match="no column 'efficient_false_positives'"):
        efficiency_frontier(s.drop(columns="efficient_false_positives"), cost=FALSE_POSITIVES, flag="false_positives")
    with pytest.raises(CalcsimInputError, match="no column 'label'"):
        efficiency_frontier(s.drop(columns="label"))
    with pytest.raises(CalcsimInputError, match="efficiency_frontier: strategies has no rows"):
        efficiency_frontier(s.iloc[:0])
    with pytest.raises(CalcsimInputError, match="strategies is a dict"):
        efficiency_frontier(s.to_dict())
    bad = s.assign(dominance_screens=["weak", "", "", "", "strong", ""])
    with pytest.raises(CalcsimInputError, match="column 'dominance_screens': 'weak': one of"):
        efficiency_frontier(bad)
    bad = s.astype({SCREENS: object})
    bad.loc[0, SCREENS] = "many"
    with pytest.raises(CalcsimInputError, match=f"column '{SCREENS}': 'many' is not a number"):
        efficiency_frontier(bad)


# ----------------------------------------------------------------------------- benefit against harms
def test_harm_benefit(tmp_path):
    s = _strategies()
    fig = harm_benefit(s)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left, right = fig.axes
    assert left.get_shared_y_axes().joined(left, right)
    for ax, harm in ((left, FALSE_POSITIVES), (right, OVERDIAGNOSED)):
        assert sorted(_points(ax)) == sorted(zip(s[harm], s[DEATHS], strict=True))
        assert all(c.has_xerr and c.has_yerr for c in _errorbars(ax))
        assert {t.get_text() for t in ax.texts} == set(s.loc[s["efficient_screens"], "label"])  # others unnamed
        assert "per 1,000 women alive and free of breast cancer at the population age" in ax.get_xlabel().replace(
            "\n", " "
        )
    assert (
        left.get_xlabel().replace("\n", " ")
        == "False-positive recalls per 1,000 women alive and free of breast cancer at the population age"
    )
    assert (
        right.get_xlabel().replace("\n", " ")
        == "Overdiagnosed cancers per 1,000 women alive and free of breast cancer at the population age"
    )
    assert (
        left.get_ylabel().replace("\n", " ")
        == "Breast-cancer deaths averted per 1,000 women alive and free of breast cancer at the population age"
    )
    assert fig._suptitle.get_text() == (
        "Breast-cancer deaths averted against false-positive recalls and overdiagnosed cancers"
    )
    assert any("programme" in t for t in _legend(left))
    _saves(fig, tmp_path, "harm_benefit")


def test_harm_benefit_bad_input_names_the_column():
    s = _strategies()
    with pytest.raises(CalcsimInputError, match=f"harm_benefit: no column '{OVERDIAGNOSED}_lower'"):
        harm_benefit(s.drop(columns=f"{OVERDIAGNOSED}_lower"))
    with pytest.raises(CalcsimInputError, match="harm_benefit: no column 'efficient_screens'"):
        harm_benefit(s.drop(columns="efficient_screens"))
    with pytest.raises(CalcsimInputError, match="harm_benefit: strategies has no rows"):
        harm_benefit(s.iloc[:0])


# ----------------------------------------------------------------------------- balance sheet
def test_balance_sheet(tmp_path):
    b = _balance()
    fig = balance_sheet(b)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (ax,) = fig.axes
    bars = sorted(ax.patches, key=lambda p: p.get_y())  # y grows downwards: top first
    order = [0, 2, 1, 3]  # benefits first, then harms, each in the table's order
    np.testing.assert_allclose([p.get_width() for p in bars], b["estimate"].iloc[order])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Benefits", *b["label"].iloc[[0, 2]], "Harms", *b["label"].iloc[[1, 3]]]
    y = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert y["Harms"] - y["Life-years gained"] > 1.0  # a gap between the sides
    assert y["Benefits"] < y["Breast-cancer deaths averted"]  # the heading above its rows
    heads = [t for t in ax.get_yticklabels() if t.get_text() in ("Benefits", "Harms")]
    assert all(t.get_fontweight() == "bold" for t in heads)
    values = [t.get_text() for t in ax.texts]
    assert values == ["6.02 (4.10–7.90)", "181 (170–193)", "95.3 (70.2–120)", "4.96 (3.10–6.80)"]
    (bar_errors,) = _errorbars(ax)
    assert bar_errors.has_xerr
    assert ax.get_xlabel() == "Per 1,000 women screened"
    assert fig._suptitle.get_text() == "Benefits and harms of screening (50-74 every 2 y), per 1,000 women screened"
    assert balance_sheet(b, title="Mine")._suptitle.get_text() == "Mine"
    _saves(fig, tmp_path, "balance")


def test_balance_sheet_title_from_a_strategy_column():
    b = _balance().assign(strategy="programme")
    b.attrs = {}
    assert (
        balance_sheet(b)._suptitle.get_text() == "Benefits and harms of screening (programme), per 1,000 women screened"
    )
    b = b.assign(strategy=["a", "b", "a", "b"])  # several strategies: none named
    assert balance_sheet(b)._suptitle.get_text() == "Benefits and harms of screening, per 1,000 women screened"


def test_balance_sheet_one_side_and_mixed_units():
    b = _balance()
    b["side"] = "benefit"
    b.loc[1, "unit"] = "per 1,000 women invited"
    ax = balance_sheet(b).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Benefits" and "Harms" not in labels
    assert labels[2] == "False-positive recalls\n(per 1,000 women invited)"  # each row says its unit
    assert "unit" in ax.get_xlabel()
    b.loc[0, ["lower", "upper"]] = np.nan  # no interval: the value alone
    assert balance_sheet(b).axes[0].texts[0].get_text() == "6.02"


def test_balance_sheet_bad_input_names_the_column():
    b = _balance()
    for col in ("unit", "side", "upper"):
        with pytest.raises(CalcsimInputError, match=f"balance_sheet: no column '{col}'"):
            balance_sheet(b.drop(columns=col))
    with pytest.raises(CalcsimInputError, match="balance_sheet: balance has no rows"):
        balance_sheet(b.iloc[:0])
    with pytest.raises(CalcsimInputError, match="column 'side': 'cost': one of 'benefit', 'harm'"):
        balance_sheet(b.assign(side=["benefit", "harm", "cost", "harm"]))


# ----------------------------------------------------------------------------- no global state
def test_figures_leave_pyplot_and_rcparams_alone():
    import matplotlib
    import matplotlib.pyplot as plt

    before, rc = plt.get_fignums(), matplotlib.rcParams.copy()
    assert matplotlib.rcParams["figure.dpi"] != STYLE["figure.dpi"]  # else the dpi check proves nothing
    figs = [
        efficiency_frontier(_strategies()),
        efficiency_frontier(_strategies(), cost=FALSE_POSITIVES, flag="false_positives"),
        harm_benefit(_strategies()),
        balance_sheet(_balance()),
    ]
    assert plt.get_fignums() == before
    assert matplotlib.rcParams.copy() == rc
    for fig in figs:
        assert fig.dpi == STYLE["figure.dpi"]
        ax = fig.axes[0]
        assert not ax.spines["top"].get_visible()
        assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
