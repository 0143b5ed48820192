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
# # 8 · Lab: one figure, three denominators
#
# The literature says that "12.7–41.2% of women in screening programs with breast calcifications are
# brought back for additional clinical assessment as the only warning sign of cancer" — and never
# says 12.7–41.2% *of what*. In this lab you compute the calcification-only figure three ways on
# **one** simulated cohort, each with its numerator, its denominator and a Wilson 95% interval, and
# see which of them the quoted band fits. Because the cohort is simulated, the truth no register
# has is known too: what each calcification-only recall really was.
#
# Each exercise has a cell marked `# YOUR CODE HERE`, followed (in the instructor's edition) by a **worked answer** (collapsed in
# JupyterLab; its explanation is folded under *Worked answer*). The notebook runs top to bottom as
# it is, so your placeholders may stay `None`. The cells that are not exercises only load the data and
# show material to work with; the checks of your answers are part of the worked answers.
#
# The data: one row per attended screen (`screens`). The columns you need:
#
# | column | meaning |
# |---|---|
# | `woman` | woman identifier (a woman has several screens) |
# | `recalled` | recalled for further assessment |
# | `calc_only_recall` | recalled for calcifications and nothing else |
# | `screen_detected` | a cancer (DCIS or invasive) diagnosed after this recall |
# | `any_cluster` | the mammogram shows a microcalcification cluster (benign or malignant) |
# | `cancer_present`, `pathology` | the truth: a cancer in the breast at this screen; what the work-up found (`none`, `benign`, `high_risk`, `dcis`, `invasive`) |

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"
scenario_other = "us-annual"

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from statsmodels.stats.proportion import proportion_confint

from analysis import simulate
from analysis.figures import tables
from analysis.teach import labs

# %%
res = simulate(scenario, women=women, seed=seed, keep_screens=True)
screens = res.screens
band = labs.literature_band()
print(f"{scenario}: {len(screens):,} screens of {screens['woman'].nunique():,} women, seed {seed}; "
      f"literature band {100 * band[0]:.1f}–{100 * band[1]:.1f}% (Mordang et al. 2018, quoted without a denominator)")

# A woman has several screens: the unit (screens or women) is part of every denominator.
screens_per_woman = screens.groupby("woman").size().value_counts().sort_index()
fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.bar(screens_per_woman.index, screens_per_woman.to_numpy(), color="#0072B2")
ax.set_xlabel("attended screens per woman")
ax.set_ylabel("women")
ax.set_title(f"Attended screens per woman ({scenario}, {women:,} women)", loc="left", fontweight="bold")
plt.show()
used = ["woman", "age_years", "first_round", "any_cluster", "recalled", "calc_only_recall", "screen_detected"]
display(tables.format_table(screens[used].head(), headers={c: c for c in used},
                            caption="The first five screens, the columns the exercises use (headers are the column names)"))

# %% [markdown]
# ## Exercise 1 — (a) of all recalls
#
# Of all **recalled screens**, what share was recalled for calcifications only? Count the numerator
# and the denominator, and compute the estimate with its 95% Wilson interval
# (`proportion_confint(count, nobs, alpha=0.05, method="wilson")`).

# %%
# YOUR CODE HERE
numerator_a = None  # recalled for calcifications only
denominator_a = None  # recalled screens
# estimate_a, lower_a, upper_a = ...

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# The numerator is `calc_only_recall` (every calcification-only recall is a recall), the denominator
# `recalled`. The share describes the *workload* of screening: what part of the women brought back
# came back because of calcifications alone.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
numerator_a = int((screens["recalled"] & screens["calc_only_recall"]).sum())
denominator_a = int(screens["recalled"].sum())
lower_a, upper_a = proportion_confint(numerator_a, max(denominator_a, 1), alpha=0.05, method="wilson")
print(f"(a) {numerator_a:,} / {denominator_a:,} recalls = {numerator_a / max(denominator_a, 1):.1%} "
      f"(Wilson 95% {lower_a:.1%}–{upper_a:.1%})")

# %% [markdown]
# ## Exercise 2 — (b) of all screen-detected cancers
#
# Of all **screen-detected cancers**, what share was recalled for calcifications only? Numerator,
# denominator, estimate and Wilson interval again. Is the numerator of (b) larger or smaller than that
# of (a) — and must it be?

# %%
# YOUR CODE HERE
numerator_b = None  # screen-detected cancers recalled for calcifications only
denominator_b = None  # screen-detected cancers

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# Numerator `calc_only_recall & screen_detected`, denominator `screen_detected`. Every
# calcification-only recall that found a cancer is also a calcification-only recall, so the numerator
# of (b) can never exceed that of (a); the denominators are different populations (cancers, not
# recalls). The share describes the *benefit*: what part of the cancers screening found was found
# through calcifications alone.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
detected = screens["screen_detected"]
numerator_b = int((detected & screens["calc_only_recall"]).sum())
denominator_b = int(detected.sum())
lower_b, upper_b = proportion_confint(numerator_b, max(denominator_b, 1), alpha=0.05, method="wilson")
print(f"(b) {numerator_b:,} / {denominator_b:,} screen-detected cancers = {numerator_b / max(denominator_b, 1):.1%} "
      f"(Wilson 95% {lower_b:.1%}–{upper_b:.1%})")
print(f"numerator (b) {numerator_b:,} {'≤' if numerator_b <= numerator_a else '>'} numerator (a) {numerator_a:,}")

# %% [markdown]
# ## Exercise 3 — (c) of all screens that show calcifications
#
# Read the sentence literally: "of women *with breast calcifications*". Of all screens whose mammogram
# shows a microcalcification cluster (`any_cluster`), what share was recalled for calcifications
# only? (Optional: the same per **woman** — of the women with a cluster at some screen, how many were
# ever recalled for calcifications only?)

# %%
# YOUR CODE HERE
numerator_c = None  # screens with a cluster, recalled for calcifications only
denominator_c = None  # screens showing a cluster

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# Numerator `any_cluster & calc_only_recall`, denominator `any_cluster`. Benign clusters are common
# and persist from screen to screen, while a reader recalls only a few of them (and fewer still once
# prior images show them stable), so expect a small share; the worked answer prints how it compares
# with (a). Per woman the share differs again — a woman with a cluster has several screens, so several
# chances to be recalled — which is yet another denominator.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
cluster = screens["any_cluster"]
numerator_c = int((cluster & screens["calc_only_recall"]).sum())
denominator_c = int(cluster.sum())
lower_c, upper_c = proportion_confint(numerator_c, max(denominator_c, 1), alpha=0.05, method="wilson")
print(f"(c) {numerator_c:,} / {denominator_c:,} screens with a cluster = {numerator_c / max(denominator_c, 1):.1%} "
      f"(Wilson 95% {lower_c:.1%}–{upper_c:.1%})")
per_woman = screens[cluster].groupby("woman")["calc_only_recall"].any()
print(f"per woman: {int(per_woman.sum()):,} of the {len(per_woman):,} women with a cluster were ever recalled for "
      f"calcifications only ({per_woman.mean() if len(per_woman) else float('nan'):.1%})")
if numerator_a is not None and denominator_a and denominator_c:
    share_a, share_c = numerator_a / denominator_a, numerator_c / denominator_c
    print(f"(c) per screen is {'smaller' if share_c < share_a else 'not smaller'} than (a): "
          f"{share_c:.1%} against {share_a:.1%}")

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer, checked: the three figures computed by `analysis.teach.labs.calc_only_denominators`,
# side by side and beside the quoted band.
def denominators_table(d: pd.DataFrame, caption: str, by_scenario: bool = False):
    """The three calcification-only figures as a formatted table."""
    cols = ["denominator_label", "numerator_label", "numerator_count",
                                                     "denominator_count", "estimate", "lower", "upper", "in_band"]
    lo, hi = band
    shown = d.set_index("scenario")[cols] if by_scenario else d[cols]
    return tables.format_table(
        shown, index=by_scenario,
        headers={"scenario": "Scenario", "denominator_label": "Denominator", "numerator_label": "Numerator",
                 "numerator_count": "Numerator (count)", "denominator_count": "Denominator (count)",
                 "in_band": f"Inside {100 * lo:.1f}–{100 * hi:.1f}%"},
        intervals={"Calcification only, % of the denominator (Wilson 95% interval)": ("estimate", "lower", "upper")},
        caption=caption,
    )


three = labs.calc_only_denominators(screens, band)
display(denominators_table(three, f"Calcification only, three denominators ({scenario}, {women:,} women, seed {seed})"))
letters = dict(zip(three["denominator"], "abc", strict=True))
inside = [f"({letters[k]}) of {labs.DENOMINATORS[k][1]}" for k in three.loc[three["in_band"], "denominator"]]
print(f"Inside the quoted band: {', '.join(inside) if inside else 'none of the three'}; outside: "
      f"{', '.join(f'({letters[k]})' for k in three.loc[~three['in_band'], 'denominator']) or 'none'}.")
rows = three.set_index("denominator")
largest, smallest = rows["estimate"].idxmax(), rows["estimate"].idxmin()
if rows["estimate"].notna().all() and rows.loc[smallest, "estimate"] > 0:
    print(f"The largest is ({letters[largest]}) at {tables.format_percent(rows.loc[largest, 'estimate'])}, the smallest "
          f"({letters[smallest]}) at {tables.format_percent(rows.loc[smallest, 'estimate'])}: "
          f"{rows.loc[largest, 'estimate'] / rows.loc[smallest, 'estimate']:.0f} times as large, with (nearly) the same "
          "numerators.")

# %% [markdown]
# ## Exercise 4 — why the denominator matters (in words)
#
# Which of the three figures fall inside 12.7–41.2%? Write three or four sentences: could the quoted
# band be any of them; what question does each answer; what would you need to know about a published
# figure before comparing it with yours?

# %% [markdown]
# *Your answer here.*
#
# <details><summary><b>Worked answer</b></summary>
#
# The three numbers share one numerator (calcification-only recalls, or the part of them that found
# a cancer) and differ only in what they are divided by, yet they differ severalfold (the table
# above). A band as wide as 12.7–41.2% could hold more than one of them, and which one falls inside
# can change with the programme (compare the two programmes below): a figure quoted without its
# denominator cannot be checked against anything. (a) answers a question about workload and harm (how many of the women
# called back came for calcifications alone), (b) one about benefit (how many cancers were found only
# through calcifications), (c) one about the reader (how often a visible cluster leads to a recall).
# Before comparing, ask for the numerator, the denominator, the unit (screens or women), the
# programme and years, and an interval.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer: the sentences behind the argument, from the table above
for r in three.itertuples():
    print(f"({letters[r.denominator]}) of {r.denominator_label}: {tables.format_interval(r.estimate, r.lower, r.upper)}"
          f" — {'inside' if r.in_band else 'outside'} the band")

# %% [markdown]
# ## Exercise 5 — what the calcification-only recalls really were
#
# A register knows the outcome of the work-up; the simulator also knows whether a cancer was in the
# breast and whether the calcifications were a benign cluster. Of the calcification-only recalls,
# how many found a cancer, how many had a cancer that this work-up missed, and how many had none?
# Use `screen_detected`, `cancer_present` and `any_cluster` on the recalls with `calc_only_recall`.

# %%
# YOUR CODE HERE
calc_only = None  # the calcification-only recalls (rows of screens)
# found, missed, benign = ...

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# Split the calcification-only recalls by `screen_detected` (a cancer found), then the rest by
# `cancer_present` (a cancer present but not found by this work-up: it surfaces later or is found at
# a later screen) and by `any_cluster` (no cancer: a benign cluster, or calcifications that were not
# a cluster at all). The share that found a cancer is the positive predictive value of a
# calcification-only recall, the link between denominators (a) and (b): numerator (b) = numerator (a)
# × that PPV.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
calc_only = screens[screens["calc_only_recall"]]
found = int(calc_only["screen_detected"].sum())
missed = int((calc_only["cancer_present"] & ~calc_only["screen_detected"]).sum())
benign = len(calc_only) - found - missed
print(f"{len(calc_only):,} calcification-only recalls: {found:,} found a cancer, {missed:,} had a cancer this work-up "
      f"did not find, {benign:,} had no cancer")

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer, checked: the truth behind the calcification-only recalls (`analysis.teach.labs.calc_only_truth`)
truth = labs.calc_only_truth(screens)
display(tables.format_table(
    truth[["truth", "numerator_count", "estimate", "lower", "upper"]],
    headers={"truth": "What the recall really was (simulated truth)", "numerator_count": "Recalls (count)"},
    intervals={"% of calcification-only recalls (Wilson 95% interval)": ("estimate", "lower", "upper")},
    caption=f"The {int(truth['denominator_count'].iloc[0]):,} calcification-only recalls of {scenario}, by what they were",
))
n_calc = int(truth["denominator_count"].iloc[0])
with_cancer = int(truth.loc[truth["truth"].str.startswith("cancer"), "numerator_count"].sum())
if n_calc:
    print(f"{with_cancer:,} of {n_calc:,} calcification-only recalls ({tables.format_percent(with_cancer / n_calc)}) had "
          f"a cancer in the breast and {n_calc - with_cancer:,} had none, so "
          f"{'most had a cancer' if 2 * with_cancer > n_calc else 'most were benign' if 2 * with_cancer < n_calc else 'half had a cancer'}"
          " in this simulation.")
else:
    print("No calcification-only recall in this cohort: nothing to split.")

# %% [markdown]
# ## Exercise 6 — the same three figures in a second programme
#
# The same questions on a cohort of the same size screened by another programme (`scenario_other`):
# its screens are `screens_other`, with the same columns as `screens`. Compute (a), (b) and (c) for
# it, each with its Wilson interval. Which figures fall inside the band now?

# %%
res_other = simulate(scenario_other, women=women, seed=seed, keep_screens=True)
screens_other = res_other.screens

# %%
# YOUR CODE HERE
estimates_other = None  # (a), (b) and (c) for screens_other: numerator, denominator, estimate, Wilson interval

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# The code of Exercises 1–3, run on `screens_other`. The worked answer puts both programmes side by
# side, in a table and a figure: the three denominators still differ severalfold, and which of them
# falls inside the band can change with the programme. A figure quoted without its denominator and
# its programme cannot be checked against anything.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
other = labs.calc_only_denominators(screens_other, band)
estimates_other = other
both = pd.concat([three.assign(scenario=scenario), other.assign(scenario=scenario_other)], ignore_index=True)
display(denominators_table(both, f"Calcification only, three denominators in two programmes ({women:,} women each)",
                           by_scenario=True))
for key in labs.DENOMINATORS:
    a, b = (t.set_index("denominator").loc[key] for t in (three, other))
    if pd.notna(a["estimate"]) and pd.notna(b["estimate"]):
        word = "higher" if a["estimate"] > b["estimate"] else "lower" if a["estimate"] < b["estimate"] else "the same"
        print(f"({letters[key]}) of {labs.DENOMINATORS[key][1]}: {tables.format_percent(a['estimate'])} in {scenario}, "
              f"{word} than {tables.format_percent(b['estimate'])} in {scenario_other}; inside the band in "
              f"{' and '.join(s for s, t in ((scenario, a), (scenario_other, b)) if t['in_band']) or 'neither'}.")

fig, ax = plt.subplots(figsize=(7.5, 3.6))
labs.plot_denominators(ax, both, band)
ax.set_title("One numerator, three denominators", loc="left", fontweight="bold")
plt.show()
