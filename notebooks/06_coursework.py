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
# # 6 · Coursework: estimates, intervals and denominators
#
# Exercises on a simulated screening programme. Each exercise has a cell marked
# `# YOUR CODE HERE` for you, followed by a **worked answer**. The worked-answer cells are
# collapsed in JupyterLab (click the `…` to expand) and their explanations are folded under
# *Worked answer* — try first, then look. The notebook runs top to bottom as it is, so your
# placeholders are allowed to stay `None`.
#
# The data: one row per attended screen (`screens`), as a screening programme's register would
# hold it, plus columns a real register would not have (the simulated truth). Useful columns:
#
# | column | meaning |
# |---|---|
# | `woman` | woman identifier (a woman has several screens) |
# | `age_years`, `first_round`, `density` (BI-RADS `a`–`d`), `family_history` (affected first-degree relatives: `0`, `1`, `>=2`) | the screen and the woman |
# | `recalled` | recalled for further assessment |
# | `recall_calc`, `recall_other` | the calcification channel / another finding triggered the recall |
# | `calc_only_recall` | recalled for calcifications and nothing else |
# | `screen_detected` | a cancer (DCIS or invasive) diagnosed after this recall |

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"

# %%
import numpy as np
from IPython.display import display
from statsmodels.stats.proportion import proportion_confint

from analysis import calc_only_question, fit_odds_ratios, simulate
from analysis.figures import tables

# %%
res = simulate(scenario, women=women, seed=seed, keep_screens=True)
screens = res.screens
estimates = res.estimates()
print(f"{scenario}: {len(screens):,} screens of {screens['woman'].nunique():,} women")
tables.format_table(screens.head(), headers={c: c for c in screens.columns},
                    caption="The first five rows of screens (headers are the column names; scroll sideways for all "
                            f"{screens.shape[1]} columns)")

# %% [markdown]
# ## Exercise 1 — a recall rate and its interval, by hand
#
# (a) Count the **numerator** (recalled screens) and the **denominator** (screens) of the recall
# rate. (b) Compute the estimate and its 95% **Wilson** interval with
# `statsmodels.stats.proportion.proportion_confint(count, nobs, alpha=0.05, method="wilson")`.
# (c) Check your numbers against the package's `estimates` table (row `recall_rate`, stratum `all`).

# %%
# YOUR CODE HERE
numerator = None  # recalled screens
denominator = None  # all screens
# estimate, lower, upper = ...

# %% [markdown]
# <details><summary><b>Worked answer</b> (click to open)</summary>
#
# The numerator is the number of screens with `recalled == True`, the denominator the number of
# rows. The Wilson interval is the one the package reports; it stays inside [0, 1] and behaves
# well for small counts, unlike the textbook Wald interval *p ± 1.96 √(p(1−p)/n)*.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
numerator = int(screens["recalled"].sum())
denominator = len(screens)
estimate = numerator / denominator
lower, upper = proportion_confint(numerator, denominator, alpha=0.05, method="wilson")
print(f"recall rate = {numerator:,} / {denominator:,} = {estimate:.4%} (Wilson 95% {lower:.4%} to {upper:.4%})")
package = estimates[(estimates["measure"] == "recall_rate") & (estimates["stratum"] == "all")].iloc[0]
print(f"package:      {int(package['numerator_count']):,} / {int(package['denominator_count']):,} = {package['estimate']:.4%} "
      f"({package['lower']:.4%} to {package['upper']:.4%})")

# %% [markdown]
# ## Exercise 2 — Wald versus Wilson on a small sample
#
# Take only the first 200 screens of the table (`screens.head(200)`) — as if a small audit had
# been done. Compute the recall rate with both the Wald interval (`method="normal"`) and the Wilson
# interval. Which one would you report, and why?

# %%
# YOUR CODE HERE
audit = screens.head(200)
# wald = proportion_confint(..., method="normal"); wilson = proportion_confint(..., method="wilson")

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# With a handful of recalls among 200 screens the Wald interval is symmetric around a small
# proportion and its lower end can fall below zero (it is then cut at 0 by `statsmodels` or, worse,
# reported as negative); its coverage is well below 95% for small counts. The Wilson interval is
# asymmetric, stays within [0, 1] and has close to nominal coverage. Report Wilson (or an exact
# Clopper–Pearson interval), and always report the counts beside the percentage.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
k, n = int(audit["recalled"].sum()), len(audit)
for method in ("normal", "wilson"):
    lo, hi = proportion_confint(k, n, alpha=0.05, method=method)
    print(f"{method:7s}: {k}/{n} = {k / n:.2%}, 95% interval {lo:.2%} to {hi:.2%} (width {hi - lo:.2%})")

# %% [markdown]
# ## Exercise 3 — the same words, two denominators
#
# "12.7–41.2% of women with calcifications are brought back for assessment as the only warning
# sign of cancer." Compute, with intervals:
#
# 1. the share of **recalls** that were for calcifications only;
# 2. the share of **screen-detected cancers** that were recalled for calcifications only.
#
# Then compare with `calc_only_question(res)`.

# %%
# YOUR CODE HERE
share_of_recalls = None
share_of_cancers = None

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# 1. numerator `calc_only_recall`, denominator `recalled`;
# 2. numerator `calc_only_recall & screen_detected`, denominator `screen_detected`.
#
# The two numerators overlap (a calcification-only recall that finds a cancer counts in both) but
# the denominators differ: recalls include every benign one (the worked answer prints how many of
# them found a cancer), while all screen-detected cancers are by definition recalls that found
# cancer. The first share is about the *workload and harms* of
# screening (benign calcifications brought back); the second about its *benefit* (cancers found
# only through calcifications; how many of them are DCIS is printed below).
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
recalls = screens[screens["recalled"]]
cancers = screens[screens["screen_detected"]]
for label, num, den in [("share of recalls", int(recalls["calc_only_recall"].sum()), len(recalls)),
                        ("share of screen-detected cancers", int(cancers["calc_only_recall"].sum()), len(cancers))]:
    lo, hi = proportion_confint(num, den, method="wilson") if den else (float("nan"), float("nan"))
    print(f"{label:33s}: {num:,} / {den:,} = {num / max(den, 1):.1%} (Wilson 95% {lo:.1%} to {hi:.1%})")
found = int(recalls["screen_detected"].sum())
print(f"{found:,} of {len(recalls):,} recalls ({found / max(len(recalls), 1):.1%}) found a cancer, so "
      f"{'most recalls were benign' if 2 * found < len(recalls) else 'most recalls found a cancer'}.")
calc_only_cancers = cancers[cancers["calc_only_recall"]]
dcis = int((calc_only_cancers["pathology"].astype(str) == "dcis").sum())
print(f"{dcis:,} of the {len(calc_only_cancers):,} cancers found through calcifications only were DCIS "
      f"({dcis / max(len(calc_only_cancers), 1):.1%}).")
q = calc_only_question(res)
display(tables.format_table(q[["measure", "estimate", "lower", "upper", "numerator_count", "denominator_count",
                               "in_literature_band"]], columns={"measure": "measure"},
                            headers={"measure": "Measure", "numerator_count": "Numerator",
                                     "denominator_count": "Denominator", "in_literature_band": "Inside 12.7–41.2%"},
                            intervals={"Estimate (Wilson 95% interval)": ("estimate", "lower", "upper")},
                            caption="calc_only_question(res)"))

# %% [markdown]
# ## Exercise 4 — odds ratios when women have several screens
#
# Fit the odds ratio of recall for dense breasts (BI-RADS c/d, covariate `dense`), adjusted for age
# (`age_per_decade`), in two ways with `fit_odds_ratios`:
#
# * `method="glm"`: a logistic regression on each woman's **first** screen only;
# * `method="gee"`: a GEE on **all** screens, grouped by woman (exchangeable correlation, robust
#   errors).
#
# Compare the estimates and the widths of the intervals. Why not simply run a logistic regression
# on all screens as if they were independent?

# %%
# YOUR CODE HERE
# glm = fit_odds_ratios(screens, "recalled", method="glm", covariates=[...])
# gee = fit_odds_ratios(screens, "recalled", method="gee", covariates=[...])

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# The GEE uses all screens and the GLM one screen per woman, so the GEE has more information (the
# worked answer compares the widths of the two intervals); the two estimate slightly different
# things (the first-screen GLM is about first screens, without prior images). Screens of one woman are correlated — she keeps her density rank, her benign cluster
# persists, her propensity to attend is her own — so a plain logistic regression on all screens
# would treat correlated screens as independent information and give intervals that are too narrow.
# The GEE's robust (sandwich) errors account for the clustering by woman; `attrs["working_correlation"]`
# shows how strongly her screens are correlated. If it comes out small (as it may here), naive and
# robust errors are close — but you only know that after fitting the model that allows for it.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
glm = fit_odds_ratios(screens, "recalled", method="glm", covariates=["age_per_decade", "dense"])
# the vectorised engine gives statsmodels' numbers (tested equal to 1e-10) about ten times faster; with your own
# data, the default engine (statsmodels itself) gives the same answer
gee = fit_odds_ratios(screens, "recalled", method="gee", covariates=["age_per_decade", "dense"], engine="vectorised")
for name, fit in (("GLM, first screens", glm), ("GEE, all screens", gee)):
    r = fit.set_index("term").loc["dense"]
    print(f"{name:19s}: OR {r['odds_ratio']:.2f} (95% {r['lower']:.2f} to {r['upper']:.2f}), "
          f"{fit.attrs['n_obs']:,} screens of {fit.attrs['n_women']:,} women")
widths = {name: float(np.log(f.set_index("term").loc["dense", "upper"] / f.set_index("term").loc["dense", "lower"]))
          for name, f in (("GLM", glm), ("GEE", gee))}
print(f"On the log scale the GEE interval is {widths['GEE'] / widths['GLM']:.2f} times as wide as the GLM's "
      f"({'narrower' if widths['GEE'] < widths['GLM'] else 'not narrower'}).")
print(f"GEE working correlation between screens of a woman: {gee.attrs['working_correlation']:.3f}")

# %% [markdown]
# ## Exercise 5 — argue about the denominator
#
# A journalist writes: *"Up to 41% of women called back after a mammogram are called back only
# because of calcifications — and most of these turn out to be cancer."* Using your results from
# Exercise 3 (and `ppv_calc_recall` in the `estimates` table), write three or four sentences: which
# denominator does the first half use, is the second half supported, and what would you ask the
# journalist to add?

# %% [markdown]
# *Your answer here.*
#
# <details><summary><b>Worked answer</b></summary>
#
# The first half uses **recalls** as the denominator (share of recalls for calcification only);
# the worked answer prints that share in this simulation beside the 41%. The second half is a claim about a different quantity: the share of
# calcification recalls that turn out to be cancer is the positive predictive value of a
# calcification recall (`ppv_calc_recall`, printed below); "most" would need it above 50%. In
# published series most recalled calcifications are benign — only fine pleomorphic and fine
# linear/branching morphologies are malignant more often than not (docs/model.md §4.9). The 12.7–41.2% figure in the literature is quoted without a denominator;
# read as a share of **screen-detected cancers** it means something else again (how many cancers
# were found *only* because of calcifications). Ask for the numerator, the denominator, the
# programme and years, and an interval.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer: the numbers behind the argument
show = ["calc_only_share_of_recalls", "calc_only_share_of_screen_detected", "ppv_calc_recall", "ppv1"]
numbers = estimates[(estimates["stratum"] == "all") & estimates["measure"].isin(show)].set_index("measure")
ppv = numbers.loc["ppv_calc_recall"]
verdict = "supported" if ppv["lower"] > 0.5 else "not supported"
share = numbers.loc["calc_only_share_of_recalls"]
side = "below" if share["upper"] < 0.41 else "above" if share["lower"] > 0.41 else "compatible with"
print(f"Share of recalls for calcification only: {share['estimate']:.1%} (Wilson 95% {share['lower']:.1%} to "
      f"{share['upper']:.1%}), {side} the journalist's 'up to 41%'.")
print(f"PPV of a calcification recall: {ppv['estimate']:.1%} (Wilson 95% {ppv['lower']:.1%} to {ppv['upper']:.1%}): "
      f"'most turn out to be cancer' is {verdict} in this simulation")
tables.format_estimates(numbers.reset_index(), caption="The numbers behind the argument (stratum all)")
