# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7 · Benefits and harms
#
# Is screening worth it, and for whom? The same simulated women are followed over their lifetime
# (to age 100) twice: **without screening**, when each progressive cancer is diagnosed as it surfaces
# clinically, and **with screening**, when some are found earlier, smaller, or as DCIS. Both runs share
# every random number (common random numbers): the same onsets, growth, other-cause deaths and the same
# draw of whether a cancer of a given size is fatal. So the differences are paired and precise.
#
# * **Breast-cancer death** depends only on what is known at diagnosis: an invasive cancer of diameter
#   *D* mm is fatal with probability L(D) = 1 − exp(−Q·D^Z) (Q = 0.0062, Z = 1.34, nodal status unknown:
#   the values of the CancerMath calculator that implements Chen et al. 2009, not verified in the paper,
#   so marked as assumptions; its end point is the 15-year cancer-specific death rate), a progressive
#   DCIS with 3.3% (Narod et al. 2015), with a log-normal time from diagnosis to death (median 4.5 years,
#   an assumption). A cancer found earlier is cured or it is not; if not, the woman dies when she would
#   have without screening (the cure model of CISNET and MISCAN). There is no separate "screening bonus".
# * **Overdiagnosis** is known exactly: a screen-detected cancer that, without screening, would not have
#   surfaced before the woman died of something else (or at all: non-progressive DCIS).
# * **Other-cause death** comes from the setting's period life table (Human Mortality Database).
#
# Read the absolute numbers with their caveat: the lethality law describes patients treated before
# modern adjuvant therapy, so deaths without screening, and the deaths screening can avert, are on the
# high side (`survival.lethality_scale` lowers them; docs/model.md §11). The ratios between strategies
# and the harms are less sensitive to it.

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"
strategies = "default"
other_scenarios = ["us-annual", "england-triennial"]

# %%
import pandas as pd
from IPython.display import display

from analysis import figures, load_scenario
from analysis.figures import tables
from analysis.scenario.strategies import load_strategies
from analysis.stats.harms_benefits import harms_benefits

s = load_scenario(scenario)
grid = load_strategies(None if strategies == "default" else strategies)
result = harms_benefits(s, women, seed, grid)
wide = result.wide()
m = result.meta
print(f"{m['scenario']} ({m['calibration']}): {m['women']:,} women, seed {m['seed']}, {len(grid)} strategies "
      f"and the programme; lifetime to age {m['horizon_age_years']:g}")

# %% [markdown]
# ## The programme's balance sheet
#
# Per 1,000 women screened (attended at least once) under the scenario's own programme, against no
# screening for the same women. The intervals are paired 95% Monte Carlo intervals (woman-level
# linearisation).

# %%
balance = result.balance("programme")
display(tables.format_table(
    balance[["label", "side", "estimate", "lower", "upper"]],
    headers={"label": "Per 1,000 women screened", "side": "Side"},
    intervals={"Estimate (paired 95% interval)": ("estimate", "lower", "upper", "ratio")},
    caption=f"{s.description}: benefits and harms per 1,000 women screened"))
figures.balance_sheet(balance)

# %%
get = lambda name: result.estimate(name)  # noqa: E731
averted, fp = get("bc_deaths_averted_per_1000_screened"), get("false_positive_recalls_per_1000_screened")
over = get("overdiagnosed_per_1000_screened")
print(f"For every breast-cancer death averted, {get('false_positives_per_death_averted'):.1f} women have a "
      f"false-positive recall and {get('overdiagnosed_per_death_averted'):.2f} cancers are overdiagnosed; "
      f"{get('number_needed_to_screen'):.0f} women are screened per death averted.")
more = "more" if over > averted else "fewer"
print(f"Screening {'averts' if averted > 0 else 'does not avert'} deaths here: {averted:.1f} per 1,000 women "
      f"screened, with {over:.1f} overdiagnosed cancers ({more} overdiagnosed cancers than deaths averted) and "
      f"{fp:.0f} false-positive recalls; the breast-cancer mortality reduction among women invited is "
      f"{get('bc_mortality_reduction_pct'):.0f}%.")

# %% [markdown]
# ## Strategies and the efficient frontier
#
# Every strategy of the grid (`data/strategies/default.csv`: start 40, 45 or 50; stop 69 or 74;
# every 1, 2 or 3 years; and two risk-based schedules) runs on the same women. For a common
# denominator, the frontier counts per 1,000 women alive and free of breast cancer at the youngest
# start age. A strategy is *efficient* when no other strategy, and no mix of two others, gives more
# life-years for as many screens (or false positives); the line joins the efficient ones.

# %%
figures.efficiency_frontier(wide, cost="screens_per_1000_women", benefit="life_years_gained_per_1000_women")

# %%
figures.efficiency_frontier(wide, cost="false_positive_recalls_per_1000_women",
                            benefit="life_years_gained_per_1000_women", flag="false_positives")

# %%
cols = ["strategy", "label", "screens_per_1000_women", "life_years_gained_per_1000_women",
        "bc_deaths_averted_per_1000_women", "false_positive_recalls_per_1000_women", "overdiagnosed_per_1000_women",
        "efficient_screens", "dominance_screens", "incremental_ratio_screens"]
frontier = wide[cols].sort_values("screens_per_1000_women")
display(tables.format_table(
    frontier,
    headers={"strategy": "Strategy", "label": "Schedule", "screens_per_1000_women": "Screens per 1,000 women",
             "life_years_gained_per_1000_women": "Life-years gained per 1,000 women",
             "bc_deaths_averted_per_1000_women": "Deaths averted per 1,000 women",
             "false_positive_recalls_per_1000_women": "False positives per 1,000 women",
             "overdiagnosed_per_1000_women": "Overdiagnosed per 1,000 women",
             "efficient_screens": "Efficient (vs screens)", "dominance_screens": "Dominated",
             "incremental_ratio_screens": "Extra screens per life-year gained"},
    caption="Strategies against no screening, per 1,000 women alive at the population age"))
eff = frontier[frontier["efficient_screens"]]
print(f"{len(eff)} of {len(frontier)} strategies are efficient against screens: {', '.join(eff['strategy'])}.")
prog = wide.set_index("strategy").loc["programme"]
print(f"The scenario's own programme is {'on' if prog['efficient_screens'] else 'off'} the frontier"
      + ("." if prog["efficient_screens"] else f" ({prog['dominance_screens']}ly dominated)."))

# %%
figures.harm_benefit(wide)

# %% [markdown]
# ## Overdiagnosis and calcifications
#
# The package's own question meets the benefit side here: DCIS found because of calcifications is the
# classic overdiagnosis. The table gives the overdiagnosed share of screen-detected cancers by type and
# the share of the overdiagnosed ones that presented as calcifications only.

# %%
over_measures = ["overdiagnosed_share_of_screen_detected_pct", "overdiagnosed_share_of_screen_detected_dcis_pct",
                 "overdiagnosed_share_of_screen_detected_invasive_pct", "calc_only_share_of_overdiagnosed_pct",
                 "calc_only_share_of_overdiagnosed_dcis_pct", "calc_only_share_of_screen_detected_pct"]
t = result.table[(result.table["strategy"] == "programme") & result.table["measure"].isin(over_measures)]
display(tables.format_table(
    t[["label", "estimate", "lower", "upper"]], headers={"label": "Share"},
    intervals={"% (paired 95% interval)": ("estimate", "lower", "upper", "ratio")},
    caption="Overdiagnosis under the programme, and its calcification-only presentation"))
dcis_over = get("overdiagnosed_share_of_screen_detected_dcis_pct")
inv_over = get("overdiagnosed_share_of_screen_detected_invasive_pct")
print(f"{dcis_over:.0f}% of screen-detected DCIS is overdiagnosed against {inv_over:.0f}% of screen-detected "
      f"invasive cancers ({'higher' if dcis_over > inv_over else 'lower'} for DCIS); "
      f"{get('calc_only_share_of_overdiagnosed_dcis_pct'):.0f}% of the overdiagnosed DCIS presented as "
      f"calcifications only, against {get('calc_only_share_of_screen_detected_pct'):.0f}% of all "
      "screen-detected cancers.")

# %% [markdown]
# ## The three programmes
#
# Each shipped scenario's own programme, on its own setting's women (life table, reading, risk factors),
# per 1,000 women screened.

# %%
rows = {}
for name in [scenario, *other_scenarios]:
    r = result if name == scenario else harms_benefits(load_scenario(name), women, seed)
    rows[name] = r.balance("programme").set_index("label")["estimate"]
sheet = pd.DataFrame(rows)
one_decimal = {name: (lambda v: f"{v:,.1f}") for name in sheet.columns}
display(tables.format_table(sheet.reset_index(), columns=one_decimal,
                            headers={"label": "Per 1,000 women screened", **{n: n for n in sheet.columns}},
                            caption="Balance sheets of the shipped programmes (estimates per 1,000 women screened)"))
best = sheet.loc["Breast-cancer deaths averted"].idxmax()
print(f"Most deaths averted per 1,000 women screened: {best} "
      f"({sheet.loc['Breast-cancer deaths averted', best]:.1f}); most false-positive recalls: "
      f"{sheet.loc['False-positive recalls'].idxmax()} ({sheet.loc['False-positive recalls'].max():.0f}).")

# %% [markdown]
# ## Caveats
#
# * The lethality law is from patients treated decades ago; modern treatment lowers the deaths to avert.
#   No sourced factor for that gain was found, so `survival.lethality_scale` is 1 with a range of 0.5–1.
# * Lethality depends on size only (no nodes, grade or receptor status); the time to death is an
#   assumption (median 4.5 years); age acts only through other-cause death.
# * All-cause life tables stand in for other-cause mortality (breast-cancer deaths are not removed).
# * Numbers of this kind from a model are not to be tuned to published estimates: they are what the
#   mechanisms give, and they are as credible as the calibration (notebook 4).
