"""Figures return matplotlib Figures with the expected content; the Kaplan–Meier false-positive curve is right."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from scipy import stats

from analysis import figures as F
from analysis.errors import CalcsimInputError
from analysis.model.simulation import simulate
from analysis.stats.cumulative import CURVE_COLUMNS, cumulative_false_positive_curve, first_events
from analysis.stats.question import calc_only_question
from analysis.stats.targets import load_targets
from analysis.stats.uncertainty import compare

WOMEN = 3000
SEED = 11


@pytest.fixture(scope="module")
def run():
    """One run with the screens table, stratified by density."""
    return simulate("nl-biennial", women=WOMEN, seed=SEED, by=["density"], keep_screens=True)


@pytest.fixture(scope="module")
def by_round():
    return simulate("nl-biennial", women=WOMEN, seed=SEED, by=["round"])


def _saves(fig: Figure, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.stat().st_size > 5_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_no_pyplot_state_is_left_behind(run, tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = F.screening_funnel(run)
    assert plt.get_fignums() == before
    assert isinstance(fig, Figure)


# ----------------------------------------------------------------------------- funnel
def test_funnel_from_screens(run, tmp_path):
    counts = F.funnel_counts(run)
    s = run.screens
    table = counts.pivot_table(index="stage", columns="finding", values="count", aggfunc="sum")
    assert table.loc["recalled"].sum() == s["recalled"].sum()
    assert table.loc["biopsied"].sum() == s["biopsy"].sum()
    assert table.loc["cancer detected"].sum() == s["screen_detected"].sum()
    assert table.loc["recalled", "calcification only"] == s["calc_only_recall"].sum()
    assert table.loc["cancer detected", "calcification only"] == (s["screen_detected"] & s["calc_only_recall"]).sum()
    assert s["screen_detected"].sum() > 0 and s["calc_only_recall"].sum() > 0  # the events happened
    fig = F.screening_funnel(run)
    left, right = fig.axes[:2]
    assert len(left.patches) == 3 * 3 and len(right.patches) == 3 * 3  # 3 stages x 3 finding types
    widths = np.array([p.get_width() for p in left.patches]).reshape(3, 3)
    assert widths.sum() == pytest.approx(
        1000 * (s["recalled"].sum() + s["biopsy"].sum() + s["screen_detected"].sum()) / len(s)
    )
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(F.FINDINGS)
    _saves(fig, tmp_path, "funnel")


def test_funnel_from_counts_matches_screens(run, tmp_path):
    from_screens = F.funnel_counts(run.screens)
    from_counts = F.funnel_counts(run.estimates())
    for stage in ("recalled", "cancer detected"):
        a = from_screens[from_screens["stage"] == stage].set_index("finding")["count"]
        b = from_counts[from_counts["stage"] == stage].set_index("finding")["count"]
        pd.testing.assert_series_equal(a, b)
    assert from_counts.loc[from_counts["stage"] == "biopsied", "finding"].tolist() == ["not split"]
    assert from_counts.attrs["screens"] == len(run.screens)
    _saves(F.screening_funnel(from_counts), tmp_path, "funnel_counts")


def test_funnel_rejects_other_input():
    with pytest.raises(CalcsimInputError, match="screening_funnel"):
        F.screening_funnel(pd.DataFrame({"x": [1]}))


def test_funnel_screens_check_names_every_column_it_reads():
    """The screens-table reader checks ``recalled`` with the others: one-line error, not a KeyError."""
    from analysis.figures import funnel

    cols = ("recalled", "recall_calc", "calc_only_recall", "biopsy", "screen_detected")
    full = pd.DataFrame({c: [True, False] for c in cols})
    assert sum(n for *_, n in funnel._rows_from_screens(full)) > 0
    with pytest.raises(CalcsimInputError, match=r"^screening_funnel: no column 'recalled'; pass the screens table"):
        funnel._rows_from_screens(full.drop(columns="recalled"))


# ----------------------------------------------------------------------------- recall by stratum
def test_recall_by_density(run, tmp_path):
    fig = F.recall_by(run.estimates(), "density")
    (ax,) = fig.axes
    bars = _errorbars(ax)
    assert len(bars) == 1
    e = run.estimates()
    rows = e[(e["measure"] == "recall_rate") & e["stratum"].str.startswith("density=") & (e["denominator_count"] > 0)]
    y = bars[0].lines[0].get_ydata()
    np.testing.assert_allclose(y, rows["estimate"].to_numpy())
    assert len(ax.get_xticks()) == len(rows)
    assert any("n = " in t.get_text() for t in ax.get_xticklabels())
    assert any(line.get_linestyle() == "--" for line in ax.get_lines())  # overall reference line
    _saves(fig, tmp_path, "recall_by")


def test_recall_by_two_columns_and_scenarios(tmp_path):
    two = simulate("nl-biennial", women=WOMEN, seed=SEED, by=["density", "round"]).estimates()
    fig = F.recall_by(two, ["density", "round"])
    assert len(_errorbars(fig.axes[0])) == 2
    _saves(fig, tmp_path, "recall_by_two")
    several = {s: simulate(s, women=WOMEN, seed=SEED, by=["age_group"]) for s in ("nl-biennial", "us-annual")}
    fig = F.recall_by(several, "age_group")
    assert len(_errorbars(fig.axes[0])) == 2
    _saves(fig, tmp_path, "recall_by_scenarios")


def test_recall_by_says_what_is_missing(run):
    with pytest.raises(CalcsimInputError, match=r"by=\['age_group'\]"):
        F.recall_by(run.estimates(), "age_group")
    with pytest.raises(CalcsimInputError, match="did you mean 'density'"):
        F.recall_by(run.estimates(), "densty")


# ----------------------------------------------------------------------------- the question
def test_calc_only_shares(run, tmp_path):
    q = calc_only_question(run)
    fig = F.calc_only_shares(q)
    (ax,) = fig.axes
    band = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((0.941, 0.894, 0.259), abs=0.01)]
    assert len(band) == 1  # the shaded 12.7-41.2% band
    x0, x1 = band[0].get_x(), band[0].get_x() + band[0].get_width()
    assert (x0, x1) == pytest.approx((0.127, 0.412))
    bars = _errorbars(ax)
    assert len(bars) == 4  # three model estimates and the nl-biennial target (Luiten, presentation-based)
    estimates = sorted(b.lines[0].get_xdata()[0] for b in bars)
    assert all(e in estimates for e in q["estimate"])
    assert q["target"].iloc[2] in estimates
    _saves(fig, tmp_path, "question")
    several = {"nl-biennial": q, "us-annual": calc_only_question(simulate("us-annual", women=WOMEN, seed=SEED))}
    fig = F.calc_only_shares(several)
    assert len(_errorbars(fig.axes[0])) == 7  # 2 x 3 estimates + 1 target (us-annual has none)
    _saves(fig, tmp_path, "question_several")


# ----------------------------------------------------------------------------- rounds
def test_rounds_compared(by_round, tmp_path):
    fig = F.rounds_compared(by_round.estimates(), targets=load_targets())
    assert len(fig.axes) == len(F.ROUND_MEASURES)
    e = by_round.estimates().set_index(["measure", "stratum"])
    for ax, m in zip(fig.axes, F.ROUND_MEASURES, strict=True):
        (bar,) = _errorbars(ax)
        expected = [e.loc[(m, "round=first"), "estimate"], e.loc[(m, "round=subsequent"), "estimate"]]
        np.testing.assert_allclose(bar.lines[0].get_ydata(), expected)
    # guideline maxima (< 7% first, < 5% subsequent) on the recall panel
    guideline = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("guideline")]
    assert guideline == ["guideline < 7%", "guideline < 5%"]
    _saves(fig, tmp_path, "rounds")
    fig = F.rounds_compared(by_round, measures=["recall_rate", "ppv1"])
    assert len(fig.axes) == 2


def test_rounds_compared_needs_round_strata(run):
    with pytest.raises(CalcsimInputError, match="round"):
        F.rounds_compared(run.estimates())


# ----------------------------------------------------------------------------- paired comparison
def test_scenario_comparison(tmp_path):
    c = compare("us-annual", "nl-biennial", WOMEN, SEED)
    measures = ["recall_rate", "cancer_detection_rate_per_1000", "calc_only_share_of_recalls"]
    fig = F.scenario_comparison(c, measures)
    assert len(fig.axes) == 3
    d = c[c["stratum"] == "all"].set_index("measure")
    for ax, m in zip(fig.axes, measures, strict=True):
        (bar,) = _errorbars(ax)
        scale = 1.0 if m.endswith("per_1000") else 100.0  # proportions in percentage points
        assert bar.lines[0].get_xdata()[0] == pytest.approx(scale * d.loc[m, "difference"])
        assert any(line.get_xdata()[0] == 0 for line in ax.get_lines())  # the zero line
    _saves(fig, tmp_path, "compare")
    c2 = compare("england-triennial", "nl-biennial", WOMEN, SEED)
    fig = F.scenario_comparison([c, c2], measures)
    assert all(len(_errorbars(ax)) == 2 for ax in fig.axes)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["us-annual − nl-biennial", "england-triennial − nl-biennial"]
    _saves(fig, tmp_path, "compare_two")


# ----------------------------------------------------------------------------- sensitivity and calibration
def test_tornado_and_calibration_fit(tmp_path):
    ow = pd.DataFrame(
        {
            "output": "recall_rate",
            "parameter": ["a", "b", "c"],
            "value": 1.0,
            "low_value": [0.0, 1.0, 2.0],
            "high_value": [1.0, 2.0, 3.0],
            "base": 0.02,
            "at_low": [0.01, 0.019, 0.025],
            "at_high": [0.05, 0.018, 0.03],
        }
    )
    ow["swing"] = (ow["at_high"] - ow["at_low"]).abs()
    fig = F.tornado(ow, "recall_rate")
    assert len(fig.axes[0].patches) == 6
    _saves(fig, tmp_path, "tornado")
    fit = pd.DataFrame(
        {
            "target": ["t1", "t2"],
            "measure": ["recall_rate", "first_round_recall_rate"],
            "kind": ["point", "upper_bound"],
            "target_value": [0.02, 0.07],
            "target_lower": [0.018, np.nan],
            "target_upper": [0.022, 0.07],
            "model": [0.021, 0.03],
            "model_lower": [0.02, 0.028],
            "model_upper": [0.022, 0.032],
            "posterior_lower": [0.017, 0.02],
            "posterior_upper": [0.025, 0.04],
            "within": [True, True],
        }
    )
    fit.attrs["scenario"] = "nl-biennial"
    fig = F.calibration_fit(fit)
    assert len(_errorbars(fig.axes[0])) == 2
    _saves(fig, tmp_path, "calibration_fit")


# ----------------------------------------------------------------------------- Kaplan–Meier curve
def _screens(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["woman", "round_index", "false_positive", "screen_detected", "interval_cancer"])


#: Six women; the answer is worked out by hand in test_km_hand_made.
HAND = _screens(
    [
        (1, 0, False, False, False),
        (1, 1, True, False, False),
        (1, 2, False, False, False),  # event at 2
        (2, 0, True, False, False),
        (2, 1, False, False, False),  # event at 1
        (3, 0, False, False, False),
        (3, 1, False, False, False),  # censored at 2
        (4, 0, False, False, False),
        (4, 1, False, True, False),  # cancer at 2:
        (4, 2, True, False, False),
        (4, 3, False, False, False),  # later screens dropped
        (5, 0, False, False, False),
        (5, 1, False, False, False),
        (5, 2, True, False, False),  # event at 3
        (6, 0, False, False, False),
        (6, 1, False, False, False),
        (6, 2, False, False, False),
        (6, 3, False, False, False),  # censored at 4
    ]
)


def test_km_hand_made():
    c = cumulative_false_positive_curve(HAND)
    assert list(c.columns) == list(CURVE_COLUMNS)
    assert c["screen_number"].tolist() == [1, 2, 3, 4]
    assert c["at_risk"].tolist() == [6, 5, 2, 1]
    assert c["events"].tolist() == [1, 1, 1, 0]
    # S = 5/6, 5/6 * 4/5, ... * 1/2, ... * 1
    np.testing.assert_allclose(c["cumulative_probability"], [1 / 6, 1 / 3, 2 / 3, 2 / 3])
    # Greenwood, log-log, worked out independently at k = 1 and k = 3
    z = stats.norm.ppf(0.975)
    for k, (surv, v) in {1: (5 / 6, 1 / 30), 3: (1 / 3, 1 / 30 + 1 / 20 + 1 / 2)}.items():
        h = z * np.sqrt(v) / abs(np.log(surv))
        row = c.iloc[k - 1]
        assert row["lower"] == pytest.approx(1 - surv ** np.exp(-h))
        assert row["upper"] == pytest.approx(1 - surv ** np.exp(h))
    plain = cumulative_false_positive_curve(HAND, ci="plain")
    se1 = (5 / 6) * np.sqrt(1 / 30)
    assert plain["lower"].iloc[0] == pytest.approx(max(0.0, 1 / 6 - z * se1))
    assert plain["upper"].iloc[0] == pytest.approx(1 / 6 + z * se1)


def test_km_does_not_depend_on_row_order():
    shuffled = HAND.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(cumulative_false_positive_curve(HAND), cumulative_false_positive_curve(shuffled))


def test_km_edge_cases():
    # no events yet at screen 1, then everyone at risk has one: estimate 0 then 1, degenerate intervals
    s = _screens(
        [
            (1, 0, False, False, False),
            (1, 1, True, False, False),
            (2, 0, False, False, False),
            (2, 1, True, False, False),
        ]
    )
    c = cumulative_false_positive_curve(s)
    assert c["cumulative_probability"].tolist() == [0.0, 1.0]
    assert c[["lower", "upper"]].to_numpy().tolist() == [[0.0, 0.0], [1.0, 1.0]]
    w = first_events(s.drop(columns=["screen_detected", "interval_cancer"]))
    assert w["event"].all() and w["screens"].tolist() == [2, 2]
    with pytest.raises(CalcsimInputError, match="false_positive"):
        cumulative_false_positive_curve(s.drop(columns="false_positive"))
    with pytest.raises(CalcsimInputError, match="ci"):
        cumulative_false_positive_curve(s, ci="wald")


def test_km_on_a_simulated_programme(run, tmp_path):
    c = cumulative_false_positive_curve(run.screens)
    p, lo, hi = (c[k].to_numpy() for k in ("cumulative_probability", "lower", "upper"))
    assert c["events"].sum() > 50  # the events happened
    assert np.all(np.diff(p) >= 0) and np.all((p >= 0) & (p <= 1))
    assert np.all((lo <= p + 1e-12) & (p <= hi + 1e-12)) and np.all((lo >= 0) & (hi <= 1))
    surv = np.cumprod(1 - c["events"] / c["at_risk"])
    np.testing.assert_allclose(p, 1 - surv)
    assert np.all(np.diff(c["at_risk"]) <= 0)
    assert c["at_risk"].iloc[0] == run.screens["woman"].nunique()
    # the single-number measure (women screened exactly N times) agrees with the curve at N
    e = run.estimates().set_index(["measure", "stratum"]).loc[("cumulative_false_positive_recall", "all")]
    n = 10  # programme.cumulative_rounds of nl-biennial
    assert e["lower"] - 0.02 <= p[n - 1] <= e["upper"] + 0.02
    fig = F.cumulative_false_positive({"nl-biennial": c})
    (ax,) = fig.axes
    assert len(ax.collections) == 1 and len(ax.get_lines()) == 1  # band and step line
    assert "nl-biennial" in ax.get_legend().get_texts()[0].get_text()
    _saves(fig, tmp_path, "cfp")
    fig = F.cumulative_false_positive({"a": c, "b": c}, years_per_screen={"a": 1, "b": 2})
    assert fig.axes[0].get_xlim()[1] == pytest.approx(2 * c.loc[c["at_risk"] >= 25, "screen_number"].max())
    _saves(fig, tmp_path, "cfp_years")


# ----------------------------------------------------------------------------- cohort, regression, Sobol
def test_cohort_distributions(run, tmp_path):
    fig = F.cohort_distributions(run.screens)
    assert len(fig.axes) == 4
    age, density, family, feeding = fig.axes
    assert sum(p.get_height() for p in age.patches) == len(run.screens)  # every screen in panel (a)
    widths = np.array([p.get_width() for p in density.patches]).reshape(4, -1)
    np.testing.assert_allclose(widths.sum(axis=0), 1.0)  # each density bar adds up to 100%
    assert len(family.patches) == 5
    _saves(fig, tmp_path, "cohort")
    with pytest.raises(CalcsimInputError, match="keep_screens"):
        F.cohort_distributions(run.screens.drop(columns="density"))


def test_odds_ratios_and_sobol(run, tmp_path):
    from analysis.stats.regression import fit_odds_ratios

    fit = fit_odds_ratios(run.screens, "recalled", covariates=["age_per_decade", "dense"])
    fig = F.odds_ratios({"recall": fit, "again": fit})
    (ax,) = fig.axes
    assert len(_errorbars(ax)) == 2 and ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["age per decade", "dense"]
    _saves(fig, tmp_path, "odds_ratios")
    so = pd.DataFrame(
        {
            "output": ["recall_rate"] * 2 + ["ppv1"] * 2,
            "parameter": ["a", "b"] * 2,
            "S1": [0.6, 0.1, 0.2, 0.5],
            "S1_conf": 0.05,
            "ST": [0.7, 0.2, 0.3, 0.6],
            "ST_conf": 0.05,
        }
    )
    fig = F.sobol_indices(so)
    assert len(fig.axes) == 2
    # the same parameter on the same row in every panel
    for ax in fig.axes:
        assert len(ax.patches) == 4
    _saves(fig, tmp_path, "sobol")


# ----------------------------------------------------------------------------- no global matplotlib state
PUBLIC = [
    "COMPARE_MEASURES",
    "FINDINGS",
    "MEASURE_LABELS",
    "PALETTE",
    "ROUND_MEASURES",
    "SCENARIO_COLOURS",
    "STRATEGY_MEASURES",
    "STYLE",
    "balance_sheet",
    "calc_only_shares",
    "calcsim_style",
    "calibration_fit",
    "cohort_distributions",
    "cumulative_false_positive",
    "efficiency_frontier",
    "funnel_counts",
    "harm_benefit",
    "measure_label",
    "odds_ratios",
    "parse_stratum",
    "recall_by",
    "rounds_compared",
    "scenario_comparison",
    "screening_funnel",
    "sobol_indices",
    "tornado",
]

#: Run in a fresh interpreter: import the figures, save one, report pyplot and the backend before and after.
_HEADLESS = """
import json, sys
import matplotlib
def raw():  # the backend setting as stored, without resolving it (resolving it would import pyplot)
    b = dict.__getitem__(matplotlib.rcParams, "backend")
    return b if isinstance(b, str) else "<auto>"
before = raw()
from analysis import figures
imported = {"backend": raw(), "pyplot": "matplotlib.pyplot" in sys.modules}
import pandas as pd
ow = pd.DataFrame({"output": "recall_rate", "parameter": ["a", "b"], "low_value": [0.0, 1.0], "high_value": [1.0, 2.0],
                   "base": 0.02, "at_low": [0.01, 0.019], "at_high": [0.05, 0.018], "swing": [0.04, 0.001]})
fig = figures.tornado(ow)
fig.savefig(sys.argv[1])
png = fig._repr_png_()
print(json.dumps({"before": before, "imported": imported, "saved": {"backend": raw(),
                  "pyplot": "matplotlib.pyplot" in sys.modules}, "repr_png": png[:8].hex()}))
"""


@pytest.mark.parametrize("mplbackend", [None, "svg"])
def test_import_and_savefig_leave_backend_and_pyplot_alone(tmp_path, mplbackend):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"} | (
        {"MPLBACKEND": mplbackend} if mplbackend else {}
    )
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    out = tmp_path / "headless.png"
    proc = subprocess.run(
        [sys.executable, "-c", _HEADLESS, str(out)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["before"] == (mplbackend or "<auto>")
    for stage in ("imported", "saved"):
        assert r[stage] == {"backend": r["before"], "pyplot": False}, stage
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5_000
    assert r["repr_png"] == b"\x89PNG\r\n\x1a\n".hex()  # the figure can show itself in Jupyter


def test_public_names():
    assert sorted(F.__all__) == sorted(PUBLIC)
    assert all(hasattr(F, name) for name in PUBLIC)


def _synthetic_tables() -> dict[str, pd.DataFrame]:
    """Small hand-made inputs of the figures that take analysis outputs (no simulation needed)."""
    ow = pd.DataFrame(
        {
            "output": "recall_rate",
            "parameter": ["a", "b"],
            "low_value": [0.0, 1.0],
            "high_value": [1.0, 2.0],
            "base": 0.02,
            "at_low": [0.01, 0.019],
            "at_high": [0.05, 0.018],
            "swing": [0.04, 0.001],
        }
    )
    fit = pd.DataFrame(
        {
            "target": ["t1"],
            "measure": ["recall_rate"],
            "kind": ["point"],
            "target_value": [0.02],
            "target_lower": [0.018],
            "target_upper": [0.022],
            "model": [0.021],
            "model_lower": [0.02],
            "model_upper": [0.022],
            "posterior_lower": [0.017],
            "posterior_upper": [0.025],
        }
    )
    so = pd.DataFrame(
        {
            "output": ["recall_rate"] * 2,
            "parameter": ["a", "b"],
            "S1": [0.6, 0.1],
            "S1_conf": 0.05,
            "ST": [0.7, 0.2],
            "ST_conf": 0.05,
        }
    )
    cmp = pd.DataFrame(
        {
            "measure": ["recall_rate", "ppv1"],
            "stratum": "all",
            "estimate_a": [0.05, 0.1],
            "estimate_b": [0.02, 0.2],
            "difference": [0.03, -0.1],
            "lower": [0.02, -0.15],
            "upper": [0.04, -0.05],
        }
    )
    cmp.attrs.update({"a": "us-annual", "b": "nl-biennial"})
    ors = pd.DataFrame(
        {
            "term": ["age_per_decade", "family_history=>=2"],
            "odds_ratio": [1.2, 1.8],
            "lower": [1.0, 1.1],
            "upper": [1.4, 2.9],
        }
    )
    ors.attrs["references"] = {"family_history": "0"}
    return {"one_way": ow, "fit": fit, "sobol": so, "compare": cmp, "odds_ratios": ors}


def _benefit_tables():
    """A strategies table and a balance sheet as :mod:`analysis.stats.harms_benefits` gives them (synthetic)."""
    from test_figures_benefits import _balance, _strategies

    return _strategies(), _balance()


def test_figures_leave_rcparams_unchanged_and_carry_the_style(run, by_round):
    import matplotlib

    t = _synthetic_tables()
    builders = {
        "screening_funnel": lambda: F.screening_funnel(run),
        "recall_by": lambda: F.recall_by(run.estimates(), "density"),
        "calc_only_shares": lambda: F.calc_only_shares(calc_only_question(run)),
        "rounds_compared": lambda: F.rounds_compared(by_round, targets=load_targets()),
        "cumulative_false_positive": lambda: F.cumulative_false_positive(cumulative_false_positive_curve(run.screens)),
        "cohort_distributions": lambda: F.cohort_distributions(run.screens),
        "scenario_comparison": lambda: F.scenario_comparison(t["compare"], ["recall_rate", "ppv1"]),
        "odds_ratios": lambda: F.odds_ratios(t["odds_ratios"]),
        "sobol_indices": lambda: F.sobol_indices(t["sobol"]),
        "tornado": lambda: F.tornado(t["one_way"]),
        "calibration_fit": lambda: F.calibration_fit(t["fit"]),
        "efficiency_frontier": lambda: F.efficiency_frontier(_benefit_tables()[0]),
        "harm_benefit": lambda: F.harm_benefit(_benefit_tables()[0]),
        "balance_sheet": lambda: F.balance_sheet(_benefit_tables()[1]),
    }
    assert set(builders) == {n for n in PUBLIC if n[0].islower()} - {
        "calcsim_style",
        "funnel_counts",
        "measure_label",
        "parse_stratum",
    }
    assert matplotlib.rcParams["figure.dpi"] != F.STYLE["figure.dpi"]  # else the check below proves nothing
    before = matplotlib.rcParams.copy()
    for name, build in builders.items():
        fig = build()
        assert isinstance(fig, Figure), name
        assert matplotlib.rcParams.copy() == before, f"{name} changed rcParams"
        assert fig.dpi == F.STYLE["figure.dpi"], name  # the style was applied to the figure itself
        ax = fig.axes[0]
        assert not ax.spines["top"].get_visible(), name
        grid = [g for g in ax.xaxis.get_gridlines() + ax.yaxis.get_gridlines() if g.get_visible()]
        assert grid and all(g.get_alpha() == F.STYLE["grid.alpha"] for g in grid), name
        assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n", name
    with F.calcsim_style():
        assert matplotlib.rcParams["grid.alpha"] == F.STYLE["grid.alpha"]
    assert matplotlib.rcParams.copy() == before


def test_a_returned_figure_displays_as_an_image_in_a_notebook(tmp_path, monkeypatch):
    """Executed by a real kernel (inline backend): the figure as the last expression gives an image/png output."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    t = _synthetic_tables()["one_way"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import sys\nimport pandas as pd\nfrom analysis import figures\n"
            f"ow = pd.DataFrame({t.to_dict(orient='list')!r})\nfigures.tornado(ow)"
        ),
        nbformat.v4.new_code_cell("print('matplotlib.pyplot' in sys.modules)"),
    ]
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    (result,) = [o for o in nb.cells[0].outputs if o["output_type"] == "execute_result"]
    assert "image/png" in result["data"]
    assert nb.cells[1].outputs[0]["text"].strip() == "False"  # no pyplot in the kernel either


# ----------------------------------------------------------------------------- coded (Categorical) columns
def _recoded(screens: pd.DataFrame, how: str) -> pd.DataFrame:
    """The screens table with its coded columns as integer codes, Categoricals or plain label strings."""
    from analysis.scenario.codings import CODINGS

    out = screens.copy()
    for name, coding in CODINGS.items():
        if name in out.columns:
            codes = coding.codes(out[name])
            out[name] = {
                "codes": codes,
                "categorical": coding.categorical(codes),
                "labels": np.asarray(coding.labels, dtype=object)[codes - coding.offset],
            }[how]
    return out


def _geometry(fig: Figure) -> list:
    return [
        [
            (round(p.get_x(), 9), round(p.get_y(), 9), round(p.get_width(), 9), round(p.get_height(), 9))
            for p in ax.patches
        ]
        + [t.get_text() for t in ax.get_yticklabels() + ax.texts]
        for ax in fig.axes
    ]


def test_cohort_reads_categorical_label_and_code_columns_alike(run):
    from analysis.scenario.codings import BRCA, DENSITY

    figs = {how: F.cohort_distributions(_recoded(run.screens, how)) for how in ("codes", "categorical", "labels")}
    assert isinstance(_recoded(run.screens, "categorical")["density"].dtype, pd.CategoricalDtype)
    assert _geometry(figs["codes"]) == _geometry(figs["categorical"]) == _geometry(figs["labels"])
    _, density, family, _ = figs["categorical"].axes
    assert [t.get_text() for t in density.get_legend().get_texts()] == [f"BI-RADS {x}" for x in DENSITY.labels]
    # panel (c): family-history shares of the women at their first screen, from the codes
    first = run.screens.sort_values(["woman", "round_index"]).drop_duplicates("woman")
    brca = BRCA.codes(first["brca"])
    widths = [p.get_width() for p in family.patches]
    assert widths[3:] == pytest.approx([np.mean(brca == 1), np.mean(brca == 2)])
    assert [t.get_text() for t in family.get_yticklabels()][3:] == ["BRCA1 carrier", "BRCA2 carrier"]


def test_cohort_rejects_unknown_categories(run):
    bad = _recoded(run.screens, "labels")
    bad.loc[bad.index[0], "density"] = "e"
    with pytest.raises(CalcsimInputError, match=r"cohort_distributions: screens\['density'\]: 'e': one of a, b, c, d"):
        F.cohort_distributions(bad)
    with pytest.raises(CalcsimInputError, match="min_screens"):
        F.cohort_distributions(run.screens, min_screens=0)


def test_strata_levels_are_the_codings_labels():
    """recall_by orders its categories by the codings; they must be the model's stratum labels."""
    from analysis.figures.inputs import STRATUM_CODINGS, stratum_levels
    from analysis.model.results import STRATA

    assert set(STRATUM_CODINGS) == set(STRATA)
    for name, (_, labels) in STRATA.items():
        assert stratum_levels(name) == tuple(labels), name


def test_bad_arguments_name_themselves():
    t = _synthetic_tables()
    with pytest.raises(CalcsimInputError, match="tornado: output = 'ppv9'.*outputs: recall_rate"):
        F.tornado(t["one_way"], "ppv9")
    with pytest.raises(CalcsimInputError, match="scenario_comparison: measures"):
        F.scenario_comparison(t["compare"], [])
    with pytest.raises(CalcsimInputError, match="odds_ratios: fits is a list"):
        F.odds_ratios([t["odds_ratios"]])
    with pytest.raises(CalcsimInputError, match="calc_only_shares: no row"):
        F.calc_only_shares(pd.DataFrame({"measure": ["x"], "estimate": [0.1], "lower": [0.0], "upper": [0.2]}))
