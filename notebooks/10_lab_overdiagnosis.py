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
# # 10 · Lab: estimating overdiagnosis when the truth is known
#
# A cancer is **overdiagnosed** when screening finds it but, without screening, it would never have been
# diagnosed in the woman's lifetime: it would not have grown to surface before she died of something
# else, or it is a DCIS that never progresses. No register can label a single cancer as overdiagnosed;
# studies estimate how many there are from the **excess incidence** of a screened group over an unscreened
# one. In this lab you do the same with two simulated cohorts, and then compare with the truth, which the
# simulation knows exactly.
#
# The **same women** are followed twice from the programme's start age to death (or age 100): once
# *invited* to the programme (the screened cohort; women who never attend stay in it, as in a trial's
# invited arm) and once *without screening*. Both runs share every random number, so the two cohorts
# differ only by what screening did. Each table has one row per woman:
#
# | column | meaning |
# |---|---|
# | `woman` | identifier (the same woman has the same id in both tables here; the exported CSV files shuffle them) |
# | `entry_age` | the programme's start age: every woman enters alive and free of diagnosed breast cancer |
# | `exit_age`, `exit_reason` | death (from breast cancer or other causes) or end of follow-up |
# | `screens` | screens attended (0 in the unscreened cohort) |
# | `diagnosis_age` | age at her breast-cancer diagnosis (empty: none before exit) |
# | `diagnosis_type` | `DCIS` or `invasive` |
# | `diagnosis_mode` | `screen-detected`, `interval` (surfaced within the interval after a screen) or `clinical` |
#
# Each exercise has a cell marked `# YOUR CODE HERE`, followed (in the instructor's edition) by a **worked answer** (collapsed in
# JupyterLab, folded under *Worked answer*). The notebook runs top to bottom with your placeholders
# left at `None`.

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"
trial_follow_up_years = 15
follow_up_grid = [0, 2, 4, 6, 8, 10, 15, 20, 26]

# %%
import numpy as np
import pandas as pd
from IPython.display import display

from analysis.figures import tables
from analysis.figures.style import calcsim_style, cycle_colour, new_axes, new_figure
from analysis.teach.lab_overdiagnosis import (
    cumulative_diagnoses,
    excess_by_follow_up,
    incidence_by_age,
    overdiagnosis_cohorts,
)

lab = overdiagnosis_cohorts(scenario, women, seed)
screened, unscreened, m = lab.screened, lab.unscreened, lab.meta
n = len(screened)
start, stop, interval, end = m["start_age"], m["stop_age"], m["interval"], m["follow_up_to"]
print(f"{m['scenario']}: {n:,} women entered at age {start:g} (of {m['women_simulated']:,} simulated, seed "
      f"{m['seed']}), invited every {interval:g} years to age {stop:g}, followed to death or age {end:g}.")
shown = screened[screened["diagnosis_age"].notna()].head(6)
display(tables.format_table(shown, headers={c: c for c in shown.columns},
                            caption="Six women of the screened cohort with a diagnosis (headers are column names)"))

# The screened cohort as material: how long the women are followed, and how often they attended.
follow_ages = np.arange(start, end + 0.1, 1.0)
with calcsim_style():
    fig = new_figure((10.0, 3.6))
    left, right = fig.subplots(1, 2)
    left.plot(follow_ages, [100 * (screened["exit_age"] > a).mean() for a in follow_ages], color=cycle_colour(0))
    left.axvspan(start, stop, color="0.92", zorder=0, label="screening ages")
    left.set(xlabel="Age (years)", ylabel="Women still followed (% of entered)", title="Follow-up of the screened cohort")
    left.set_ylim(0, 101)
    left.legend(loc="lower left", fontsize=8)
    attended = screened["screens"].value_counts().sort_index()
    right.bar(attended.index, attended.to_numpy(), color=cycle_colour(0))
    right.set(xlabel="Screens attended", ylabel="Women", title="Screens attended per woman (screened cohort)")
display(fig)

# %% [markdown]
# ## Exercise 1 — cumulative incidence by age in both cohorts
#
# (a) For each age 55, 60, …, 100, count the women **diagnosed at or before** that age in each cohort,
# per 1,000 women entered (the cumulative incidence; nobody leaves the denominator, so this is a risk,
# not a rate). (b) Where does the screened cohort run ahead of the unscreened one, and does the gap
# narrow after the last invitation?

# %%
# YOUR CODE HERE
ages = np.arange(start + 5, end + 0.1, 5)
cum_screened = None  # per 1,000 women entered, one value per age
cum_unscreened = None

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# Sort the diagnosis ages and count those at or below each age (`numpy.searchsorted(..., side="right")`,
# or `(cohort["diagnosis_age"] <= a).sum()` in a loop), then divide by the women entered. The screened
# cohort runs ahead from the first screen on: the first round finds the cancers that were already there
# (the *prevalence peak*), and every later round finds cancers years before they would surface. After the
# last invitation, the cancers found early no longer surface in the screened cohort, while in the
# unscreened cohort they do: the gap narrows (the *compensatory drop*). What is left of the gap at the end
# of life is the overdiagnosis. The table and the figure below show both.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
cum_screened = 1000 * np.array([(screened["diagnosis_age"] <= a).sum() for a in ages]) / n
cum_unscreened = 1000 * np.array([(unscreened["diagnosis_age"] <= a).sum() for a in ages]) / n
answer1 = pd.DataFrame({"age": ages, "screened": cum_screened, "unscreened": cum_unscreened,
                        "gap": cum_screened - cum_unscreened})
display(tables.format_table(answer1, columns={"age": lambda v: f"{v:g}"},
                            headers={"age": "Age (years)", "screened": "Screened, per 1,000 women",
                                     "unscreened": "Unscreened, per 1,000 women", "gap": "Gap, per 1,000 women"},
                            caption="Cumulative incidence by age (women diagnosed at or before the age)"))
widest = answer1.loc[answer1["gap"].idxmax()]
print(f"The gap is widest at age {widest['age']:g} ({widest['gap']:.1f} per 1,000) and "
      f"{answer1['gap'].iloc[-1]:.1f} per 1,000 at age {ages[-1]:g}.")

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer, drawn: the incidence of both cohorts by age band (left: diagnoses per 1,000 woman-years of
# living women) and their cumulative incidence (right). The shaded band is the screening ages.
inc_s = incidence_by_age(screened, interval, end)
inc_u = incidence_by_age(unscreened, interval, end)
grid = np.linspace(start, end, 201)
with calcsim_style():
    fig = new_figure((10.0, 4.0))
    left, right = fig.subplots(1, 2)
    for i, (label, cohort, inc) in enumerate((("screened (invited)", screened, inc_s),
                                               ("unscreened", unscreened, inc_u))):
        left.stairs(inc["per_1000_woman_years"], np.append(inc["age_lower"], inc["age_lower"].iloc[-1] + interval),
                    color=cycle_colour(i), label=label, linewidth=1.5, baseline=None)
        right.plot(grid, 1000 * cumulative_diagnoses(cohort, grid) / max(n, 1), color=cycle_colour(i), label=label)
    base = 1000 * cumulative_diagnoses(unscreened, [end])[0] / max(n, 1)
    over = 1000 * lab.truth.overdiagnosed / max(n, 1)
    right.errorbar([end], [base + over / 2], yerr=[over / 2], color="0.2", capsize=4, fmt="none")
    right.annotate("true overdiagnosed", (end, base + over / 2), xytext=(-6, -8), textcoords="offset points",
                   ha="right", va="center", fontsize=8)
    for ax in (left, right):
        ax.axvspan(start, stop, color="0.92", zorder=0, label="screening ages")
        ax.set_xlabel("Age (years)")
    left.set(ylabel="Diagnoses per 1,000 woman-years", title=f"Incidence by {interval:g}-year age band")
    right.set(ylabel="Cumulative diagnoses per 1,000 women entered", title="Cumulative incidence")
    left.legend(loc="upper left", fontsize=8)
display(fig)


def band_rate(inc, lo, hi):
    """Diagnoses per 1,000 woman-years over the bands starting in [lo, hi)."""
    b = inc[(inc["age_lower"] >= lo) & (inc["age_lower"] < hi)]
    years = b["woman_years"].sum()
    return 1000 * b["diagnoses"].sum() / years if years > 0 else float("nan")


first_s, first_u = band_rate(inc_s, start, start + interval), band_rate(inc_u, start, start + interval)
after = (stop + interval, stop + interval + 10)
after_s, after_u = band_rate(inc_s, *after), band_rate(inc_u, *after)
print(f"At ages {start:g}–{start + interval:g} (the first round) incidence is {first_s:.1f} per 1,000 woman-years "
      f"in the screened cohort against {first_u:.1f} unscreened "
      f"({'higher' if first_s > first_u else 'not higher'}: the prevalence peak).")
print(f"At ages {after[0]:g}–{after[1]:g}, after screening stops, it is {after_s:.1f} against {after_u:.1f} "
      f"({'lower' if after_s < after_u else 'not lower'} in the screened cohort: "
      f"{'the compensatory drop' if after_s < after_u else 'no compensatory drop is visible at this size'}).")

# %% [markdown]
# ## Exercise 2 — the trial approach: cumulative excess incidence after long follow-up
#
# A randomised trial (the Malmö trial's long-term follow-up is the classic example, Zackrisson et al.,
# BMJ 2006) counts all cancers in both arms from entry until many years after screening has stopped, so
# that the cancers screening found early have had time to surface in the control arm. The estimate is the
# **excess** (cancers in the screened arm minus cancers in the control arm) at the end of follow-up.
#
# Compute the excess at `trial_follow_up_years` after the last invitation age and at the end of life
# (age 100), and express each (a) per 1,000 women entered, (b) as a % of the **screen-detected** cancers,
# (c) as a % of **all cancers diagnosed in the screened cohort during the screening period** (from entry to
# the last invitation age + one interval) and (d) as a % of all cancers diagnosed in the screened cohort by
# the end of follow-up. Which denominator gives the largest percentage, and why?

# %%
# YOUR CODE HERE
excess_trial = None  # at stop + trial_follow_up_years
excess_lifetime = None  # at the end of follow-up (age 100)
# shares = excess / screen-detected, excess / diagnosed during the screening period, excess / all diagnosed

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# The numerator is the same; the denominators are nested. Screen-detected cancers are a subset of the
# cancers diagnosed during the screening period (which add the interval cancers and those of women who did
# not attend), which are a subset of all cancers diagnosed by the end of follow-up. So the same excess is
# the largest percentage of the screen-detected cancers and the smallest of all cancers: very different
# percentages can describe the same trial. The first answers a woman's question ("if screening finds my cancer,
# how likely is it overdiagnosed?"), the last the population's ("what share of all breast cancers are
# overdiagnoses?"). Always say which.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
counts = pd.DataFrame({"cohort": ["screened (invited)", "unscreened"],
                       "women": [n, len(unscreened)],
                       "diagnosed": [int(screened["diagnosis_age"].notna().sum()),
                                     int(unscreened["diagnosis_age"].notna().sum())],
                       "screen_detected": [int((screened["diagnosis_mode"] == "screen-detected").sum()), 0]})
display(tables.format_table(counts, headers={"cohort": "Cohort", "women": "Women entered",
                                             "diagnosed": "Women diagnosed (lifetime)",
                                             "screen_detected": "Screen-detected"},
                            caption="The two cohorts"))


def excess_at(age):
    return int((screened["diagnosis_age"] <= age).sum() - (unscreened["diagnosis_age"] <= age).sum())


detected = int((screened["diagnosis_mode"] == "screen-detected").sum())
in_period = int((screened["diagnosis_age"] <= stop + interval).sum())
rows = []
for label, age in ((f"{trial_follow_up_years:g} years after the last invitation", stop + trial_follow_up_years),
                   ("lifetime", end)):
    age = min(age, end)
    e, everyone = excess_at(age), int((screened["diagnosis_age"] <= age).sum())
    rows.append({"follow_up": f"{label} (to age {age:g})", "excess": e, "per_1000": 1000 * e / n,
                 "of_detected": 100 * e / detected if detected else np.nan,
                 "of_period": 100 * e / in_period if in_period else np.nan,
                 "of_all": 100 * e / everyone if everyone else np.nan})
excess_trial, excess_lifetime = rows[0]["excess"], rows[1]["excess"]
answer2 = pd.DataFrame(rows)
display(tables.format_table(
    answer2, columns={"of_detected": "fixed", "of_period": "fixed", "of_all": "fixed"},
    headers={"follow_up": "Follow-up", "excess": "Excess cancers", "per_1000": "Per 1,000 women entered",
             "of_detected": "% of screen-detected", "of_period": "% of cancers in the screening period",
             "of_all": "% of all cancers by then"},
    caption="The cumulative excess-incidence estimate of overdiagnosis (screened minus unscreened)"))
largest = max(("screen-detected", "of_detected"), ("screening-period", "of_period"), ("all-cancer", "of_all"),
              key=lambda k: np.nan_to_num(answer2[k[1]].iloc[-1], nan=-1))
print(f"Screen-detected: {detected:,}; diagnosed during the screening period: {in_period:,}. With lifetime "
      f"follow-up the {largest[0]} denominator gives the largest share.")

# %% [markdown]
# ## Exercise 3 — the programme approach: short follow-up
#
# Studies of screening programmes often have no randomised control group and no long follow-up after the
# screening ages. They compare incidence **during the screening ages** with an unscreened population
# (another region, or the years before the programme), without following the women into the ages after
# screening has stopped. Estimate overdiagnosis that way:
#
# (a) the excess of diagnoses from entry to the last invitation age (`stop`), as a % of screen-detected
# cancers; (b) the **excess incidence rate**: the incidence rate (per 1,000 woman-years) in the screened
# cohort at ages `start`–`stop` divided by the unscreened cohort's, minus 1, in %. Compare with the trial
# estimate of Exercise 2.

# %%
# YOUR CODE HERE
excess_short = None  # diagnoses to age `stop`: screened minus unscreened
excess_rate_pct = None  # (rate screened / rate unscreened - 1) x 100 at ages start-stop

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# Counted to the last invitation, the excess contains every cancer screening found *early* and not only
# those it found *needlessly*: the cancers detected at the last rounds would have surfaced a few years
# later (their lead time), in the unscreened cohort too, but those years are not followed. The rate-ratio
# version has the same problem and another denominator (the cancers expected without screening at those
# ages), so its percentage is of a different quantity again. In this model the excess counted to any age
# cannot be below the true overdiagnosed count (see the worked answer of Exercise 4), so stopping early can
# only overestimate.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
excess_short = int((screened["diagnosis_age"] <= stop).sum() - (unscreened["diagnosis_age"] <= stop).sum())


def rate(cohort, lo, hi):
    """Diagnoses per 1,000 woman-years of living women at ages [lo, hi)."""
    years = (cohort["exit_age"].clip(upper=hi) - lo).clip(lower=0).sum()
    k = int(cohort["diagnosis_age"].between(lo, hi, inclusive="left").sum())
    return 1000 * k / years if years > 0 else np.nan


r_s, r_u = rate(screened, start, stop), rate(unscreened, start, stop)
excess_rate_pct = 100 * (r_s / r_u - 1) if r_u > 0 else np.nan
print(f"Excess to age {stop:g}: {excess_short:,} cancers = {1000 * excess_short / n:.1f} per 1,000 women = "
      f"{100 * excess_short / max(detected, 1):.1f}% of screen-detected cancers.")
print(f"Incidence at ages {start:g}–{stop:g}: {r_s:.2f} per 1,000 woman-years screened, {r_u:.2f} unscreened: "
      f"{excess_rate_pct:.1f}% excess incidence rate.")
print(f"The short-follow-up excess is {excess_short / max(excess_lifetime, 1):.2f} times the lifetime excess "
      f"({'larger' if excess_short > excess_lifetime else 'not larger'}).")

# %% [markdown]
# ## Exercise 4 — compare with the truth
#
# The simulation knows which screen-detected cancers would never have surfaced: `lab.truth`, shown
# below (`lab.truth.overdiagnosed` is the number of women). Compute the excess-incidence estimate for
# follow-up ending 0, 2, 4, … years after the last invitation age (the parameter `follow_up_grid`), per
# 1,000 women and as a % of the screen-detected cancers, and compare each with the truth. How does the
# estimate change with the length of follow-up, and where does it end? By type (DCIS, invasive), does
# the lifetime excess match the truth?

# %%
truth = lab.truth
display(tables.format_table(
    truth.table(), columns={"share_of_screen_detected_pct": "fixed"},
    headers={"type": "Type", "overdiagnosed": "Overdiagnosed (true)", "screen_detected": "Screen-detected",
             "per_1000_women": "Overdiagnosed per 1,000 women entered",
             "share_of_screen_detected_pct": "% of screen-detected"},
    caption="The truth: screen-detected cancers that would not have been diagnosed in the woman's lifetime"))
true_n = truth.overdiagnosed
print(f"True overdiagnosed: {true_n:,} ({truth.overdiagnosed_dcis:,} DCIS, {truth.overdiagnosed_invasive:,} "
      f"invasive), {1000 * true_n / n:.1f} per 1,000 women entered.")

# %%
# YOUR CODE HERE
excess_by_years = None  # the excess (screened minus unscreened) at stop + each value of follow_up_grid

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# Count the excess as in Exercise 2 at each age `stop + years` (capped at the end of follow-up); the
# worked answer tabulates and draws it against the truth.
#
# **Why the lifetime excess equals the truth here.** A woman has at most one lesion, and her death from other
# causes is the same in both cohorts. If she is diagnosed without screening, she is diagnosed with screening
# too, at the same age or earlier. So, counted to any age *t*, the excess is the number of women diagnosed by
# *t* only in the screened cohort: the overdiagnosed ones found by *t*, plus those found early whose cancer
# would surface after *t* (still within their lead time). The excess is never below the truth, falls after
# the last screen as the lead-time cancers surface in the unscreened cohort, and reaches the truth once
# everyone has died (or reached age 100). By type it does not: a progressive DCIS found by screening is a
# DCIS in the screened cohort and an invasive cancer in the unscreened one. Real trials are not so tidy: the
# arms are different women, so the excess has sampling error, and the controls may be screened too.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
excess_by_years = {}
for years in follow_up_grid:
    age = min(stop + years, end)
    excess_by_years[years] = int((screened["diagnosis_age"] <= age).sum() - (unscreened["diagnosis_age"] <= age).sum())
by_follow_up = excess_by_follow_up(lab, follow_up_grid)
display(tables.format_table(
    by_follow_up[["follow_up_to_age", "excess", "truth", "excess_per_1000_women", "pct_of_screen_detected",
                  "pct_of_screening_period", "pct_of_all_diagnosed"]],
    columns={"follow_up_to_age": lambda v: f"{v:g}", "pct_of_screen_detected": "fixed",
             "pct_of_screening_period": "fixed", "pct_of_all_diagnosed": "fixed"},
    headers={"follow_up_to_age": "Follow-up to age", "excess": "Excess cancers", "truth": "True overdiagnosed",
             "excess_per_1000_women": "Excess per 1,000 women", "pct_of_screen_detected": "% of screen-detected",
             "pct_of_screening_period": "% of cancers in the screening period",
             "pct_of_all_diagnosed": "% of all cancers by then"},
    caption="The cumulative excess-incidence estimate by length of follow-up, and the truth"))
with calcsim_style():
    fig, ax = new_axes((6.5, 4.0))
    ax.plot(by_follow_up["years_after_stop"], by_follow_up["excess_per_1000_women"], marker="o",
            color=cycle_colour(0), label="excess incidence (screened − unscreened)")
    ax.axhline(1000 * true_n / max(n, 1), color=cycle_colour(1), linestyle="--", label="true overdiagnosed")
    ax.set(xlabel=f"Follow-up after the last invitation age {stop:g} (years)", ylabel="Per 1,000 women entered",
           title="Excess-incidence estimate by length of follow-up")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
display(fig)
short, last = by_follow_up.iloc[0], by_follow_up.iloc[-1]
ratio = f"{short['excess'] / true_n:.2f} times" if true_n else "(no overdiagnosed cancer at this size)"
print(f"Followed only to age {short['follow_up_to_age']:g}, the excess is {short['excess']:,.0f}: {ratio} the truth. "
      f"Followed to age {last['follow_up_to_age']:g} it is {last['excess']:,.0f}, "
      f"{'exactly the truth' if last['excess'] == true_n else 'not the truth'}.")
by_type = {k: int((screened["diagnosis_type"] == k).sum() - (unscreened["diagnosis_type"] == k).sum())
           for k in ("DCIS", "invasive")}
print(f"By type the lifetime excess is {by_type['DCIS']:,} DCIS and {by_type['invasive']:,} invasive cancers, against "
      f"{truth.overdiagnosed_dcis:,} and {truth.overdiagnosed_invasive:,} truly overdiagnosed: "
      f"{truth.screen_detected_dcis - truth.overdiagnosed_dcis:,} of the DCIS found would have become invasive "
      "without screening, so they count as excess DCIS and as missing invasive cancers.")
se = np.sqrt(screened["diagnosis_age"].notna().sum() + unscreened["diagnosis_age"].notna().sum())
print(f"In a real trial the two arms are different women: the lifetime excess would then carry a standard error of "
      f"about √(diagnoses in both arms) = {se:.0f} cancers ({1000 * se / n:.1f} per 1,000 women), "
      f"{se / max(true_n, 1):.0%} of the truth at this size.")

# %% [markdown]
# ## Exercise 5 — why do the estimates differ?
#
# Now the free-text question: **why do overdiagnosis estimates from trials and from screening programmes
# differ so much?** Name at least three reasons, using what you computed.

# %% [markdown]
# *Your answer here.*
#
# <details><summary><b>Worked answer</b></summary>
#
# * **Length of follow-up after screening stops (lead time).** Cancers found early surface later without
#   screening. Stop counting too soon and they are counted as overdiagnosed: the excess falls with every year
#   of follow-up (the table above) and reaches the truth only when the lead-time cancers have all surfaced in
#   the comparison group. Programme studies often compare the screening ages only, without the compensatory
#   drop at older ages, so they overestimate; some adjust for lead time with a model, and then the estimate
#   depends on the model's assumptions about lead time.
# * **The denominator.** The same excess is a much larger share of screen-detected cancers than of all
#   cancers diagnosed during the screening period or over follow-up (Exercise 2). Published figures from
#   about 1% to over 50% partly reflect different denominators, and different numerators (with or without DCIS).
# * **Contamination and the comparison group.** If the control arm of a trial is screened too (invited at the
#   end of the trial, or screened outside it), the control arm gets some overdiagnosis of its own and the
#   excess underestimates overdiagnosis. Programme studies compare with other regions or earlier years, where
#   background incidence differs (hormone therapy, obesity, ageing), and the difference goes into the estimate.
#   Neither effect is simulated here.
# * **Who is counted.** Trials analyse all women invited (non-attenders dilute the excess per woman invited);
#   programmes often count attenders only, and the women of an age band change over calendar time.
# * **Random error.** In a trial the arms are different women, so the excess has a standard error of
#   roughly the square root of the cancers in both arms (printed above for this cohort's size); small trials
#   give wide intervals, whatever the follow-up.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer: the numbers behind the argument
answer4 = pd.DataFrame({
    "approach": ["programme: excess to the last invitation age", f"trial: {trial_follow_up_years:g} years after",
                 "trial: lifetime follow-up", "truth"],
    "count": [excess_short, excess_trial, excess_lifetime, true_n]})
answer4["per_1000"] = 1000 * answer4["count"] / n
answer4["pct_of_detected"] = 100 * answer4["count"] / detected if detected else np.nan
answer4["vs_truth"] = answer4["count"] / true_n if true_n else np.nan
display(tables.format_table(
    answer4, columns={"pct_of_detected": "fixed", "vs_truth": "ratio"},
    headers={"approach": "Estimate", "count": "Cancers", "per_1000": "Per 1,000 women entered",
             "pct_of_detected": "% of screen-detected", "vs_truth": "Times the truth"},
    caption="Overdiagnosis by approach, against the truth"))
print(f"The programme-style estimate is {'above' if excess_short > true_n else 'not above'} the truth, the "
      f"{trial_follow_up_years:g}-year trial estimate {'above' if excess_trial > true_n else 'equal to'} it.")
