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
# A graded assignment on one screening dataset — **your** dataset: `calcsim teach export` gives every
# student a file of their own, simulated from slightly different assumptions, so your numbers are not
# your neighbours'. The exercise sheet (`exercises.md`, beside this notebook) lists what to hand in and
# how it is marked.
#
# How to work: put your code in the cells marked `# YOUR CODE HERE` (delete the `raise
# NotImplementedError()` line) and set the variables each exercise names; write free-text answers where
# it says *YOUR ANSWER HERE*. The cells after each exercise check the *form* of your answer (a number
# between 0 and 1, an interval whose lower end is below its upper end); the grader checks the values
# against a correct analysis of your own data. Restart the kernel and run all cells before you hand in.
#
# The data: one row per attended screen, the columns a screening programme's register holds
# (`README.md` beside your file describes each). A woman has one row per screen she attended, so rows
# of one woman are not independent.

# %% tags=["parameters"]
# Your data file (set for you by `calcsim teach export`). Left empty, the notebook simulates a demo
# dataset exactly as the export writes one, of `women` women but at most a student's 10,000 (the report's
# and the instructor's view).
data_file = ""
women = 20_000
seed = 2026
scenario = "nl-biennial"

# %%
import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.stats.proportion import proportion_confint

if data_file:
    df = pd.read_csv(data_file, keep_default_na=False, dtype={"family_history": str, "density": str})
else:  # the demo: a dataset simulated as `calcsim teach export` writes one, read back as a student reads it
    from analysis.teach import DEFAULT_WOMEN, demo_student_table

    df = demo_student_table(scenario, women=min(women, DEFAULT_WOMEN), seed=seed)
print(f"{len(df):,} screens of {df['woman_id'].nunique():,} women")
(df.head().style.hide(axis="index")
 .set_table_styles([{"selector": "", "props": "display: block; overflow-x: auto; max-width: 100%;"}])
 .set_caption(f"The first five rows of screens in the file (scroll sideways for all {df.shape[1]} columns)"))

# %% [markdown]
# ## Exercise 1 — a recall rate and its interval (2 points)
#
# Compute the recall rate (recalled screens / screens) as a proportion between 0 and 1, and its 95%
# **Wilson** interval with `proportion_confint(count, nobs, alpha=0.05, method="wilson")`.
# Set `recall_rate` (a number) and `recall_rate_ci` (a pair: lower, upper).
#
# <details><summary><b>Worked answer</b></summary>
#
# The numerator is the number of rows with `recalled == 1`, the denominator the number of rows (every
# attended screen). The Wilson interval stays inside [0, 1] and has close to nominal coverage even for
# small counts, unlike the Wald interval *p ± 1.96 √(p(1−p)/n)*.
# </details>

# %% jupyter={"source_hidden": true} nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["solution"]
### BEGIN SOLUTION
recalls = int(df["recalled"].sum())
recall_rate = recalls / len(df)
recall_rate_ci = proportion_confint(recalls, len(df), alpha=0.05, method="wilson")
print(f"recall rate {recalls:,} / {len(df):,} = {recall_rate:.2%} (Wilson 95% {recall_rate_ci[0]:.2%} to "
      f"{recall_rate_ci[1]:.2%})")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex1_rate", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert 0 <= recall_rate <= 1, "recall_rate is a proportion between 0 and 1"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_proportion(checks.student_key(globals().get("df")), "recall_rate", recall_rate)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_interval", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert len(recall_rate_ci) == 2 and recall_rate_ci[0] < recall_rate_ci[1], "recall_rate_ci is (lower, upper)"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_interval(checks.student_key(globals().get("df")), "recall_rate", recall_rate_ci)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2 — first and subsequent screens (3 points)
#
# At a woman's first screen the reader has no earlier mammogram to compare with. Compute the recall
# rate at **first** screens (`round == "first"`) and at **subsequent** screens, each as a proportion
# (`recall_first`, `recall_subsequent`), and say in `first_higher` (`True` or `False`) whether your data
# show a higher recall rate at first screens: `True` only if the 95% interval of the difference
# (first − subsequent, Wald interval of a difference of two proportions) lies entirely above 0.
#
# <details><summary><b>Worked answer</b></summary>
#
# Each rate has its own denominator: the screens of that round. Taking all screens as the denominator
# of the first-round rate (forgetting the stratum) mixes the two rounds. The difference of two
# independent proportions has standard error √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂); the rounds are not quite
# independent (a woman contributes to both), but with one first screen per woman the correlation is
# small against a difference this large.
# </details>

# %% jupyter={"source_hidden": true} nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["solution"]
### BEGIN SOLUTION
first = df[df["round"] == "first"]
later = df[df["round"] == "subsequent"]
recall_first = first["recalled"].mean()
recall_subsequent = later["recalled"].mean()
difference = recall_first - recall_subsequent
se = np.sqrt(recall_first * (1 - recall_first) / len(first) + recall_subsequent * (1 - recall_subsequent) / len(later))
first_higher = bool(difference - 1.96 * se > 0)
print(f"first screens {recall_first:.2%} ({len(first):,} screens), subsequent {recall_subsequent:.2%} "
      f"({len(later):,}); difference {100 * difference:.2f} pp (95% {100 * (difference - 1.96 * se):.2f} to "
      f"{100 * (difference + 1.96 * se):.2f}) -> first_higher = {first_higher}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex2_first", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert 0 <= recall_first <= 1, "recall_first is a proportion between 0 and 1"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_proportion(checks.student_key(globals().get("df")), "recall_first", recall_first)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_subsequent", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert 0 <= recall_subsequent <= 1, "recall_subsequent is a proportion between 0 and 1"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_proportion(checks.student_key(globals().get("df")), "recall_subsequent", recall_subsequent)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_direction", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert isinstance(first_higher, (bool, np.bool_)), "first_higher is True or False"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_first_higher(checks.student_key(globals().get("df")), first_higher, recall_first, recall_subsequent)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3 — the same words, two denominators (4 points)
#
# "12.7–41.2% ... calcifications as the only sign." Compute, as proportions:
#
# 1. `share_of_recalls`: the share of **recalls** (`recalled == 1`) whose `recall_reason` is
#    `calcification only`;
# 2. `share_of_screen_detected`: the share of **screen-detected cancers** (`outcome` `DCIS` or
#    `invasive`) whose `recall_reason` is `calcification only`.
#
# <details><summary><b>Worked answer</b></summary>
#
# Same numerator condition, two denominators: recalls include every benign recall, screen-detected
# cancers are the recalls that found a cancer. Dividing by all screens (a common slip) gives a third,
# much smaller number — the calcification-only recall rate per screen — which is neither share.
# </details>

# %% jupyter={"source_hidden": true} nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["solution"]
### BEGIN SOLUTION
calc_only = df["recall_reason"] == "calcification only"
recalled = df["recalled"] == 1
detected = df["outcome"].isin(["DCIS", "invasive"])
share_of_recalls = (calc_only & recalled).sum() / recalled.sum()
share_of_screen_detected = (calc_only & detected).sum() / detected.sum()
print(f"calcification only: {share_of_recalls:.1%} of {recalled.sum():,} recalls, "
      f"{share_of_screen_detected:.1%} of {detected.sum():,} screen-detected cancers")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_recalls", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert 0 <= share_of_recalls <= 1, "share_of_recalls is a proportion between 0 and 1"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_proportion(checks.student_key(globals().get("df")), "calc_only_share_of_recalls", share_of_recalls)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex3_screen_detected", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert 0 <= share_of_screen_detected <= 1, "share_of_screen_detected is a proportion between 0 and 1"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_proportion(checks.student_key(globals().get("df")), "calc_only_share_of_screen_detected", share_of_screen_detected)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4 — an odds ratio when women have several screens (4 points)
#
# Among **postmenopausal** screens, estimate the odds ratio of a microcalcification cluster
# (`microcalcification_cluster`) for lifetime breastfeeding over 12 months (`breastfeeding_months > 12`),
# unadjusted, with a 95% interval that allows for the repeated screens of each woman: a logistic GEE
# (`statsmodels.formula.api.gee`, `groups="woman_id"`, binomial family, exchangeable working
# correlation; its default errors are robust). Set `or_breastfeeding` and `or_breastfeeding_ci`
# (lower, upper), on the odds-ratio scale.
#
# <details><summary><b>Worked answer</b></summary>
#
# A cluster, once present, persists: the screens of one woman are strongly correlated, so a plain
# logistic regression on all screens counts each woman several times and its interval is too narrow
# (the worked answer prints both widths). The GEE estimates the same population-averaged odds ratio
# with robust (sandwich) errors clustered by woman.
# </details>

# %% jupyter={"source_hidden": true} nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["solution"]
### BEGIN SOLUTION
post = df[df["menopausal_status"] == "postmenopausal"].assign(bf12=lambda d: (d["breastfeeding_months"] > 12) * 1)
gee = smf.gee("microcalcification_cluster ~ bf12", groups="woman_id", data=post, family=sm.families.Binomial(),
              cov_struct=sm.cov_struct.Exchangeable()).fit()
or_breastfeeding = float(np.exp(gee.params["bf12"]))
or_breastfeeding_ci = tuple(np.exp(gee.conf_int().loc["bf12"]))
naive = smf.logit("microcalcification_cluster ~ bf12", data=post).fit(disp=0)
naive_ci = np.exp(naive.conf_int().loc["bf12"])
ratio = np.log(or_breastfeeding_ci[1] / or_breastfeeding_ci[0]) / np.log(naive_ci[1] / naive_ci[0])
print(f"GEE OR {or_breastfeeding:.3f} (95% {or_breastfeeding_ci[0]:.3f} to {or_breastfeeding_ci[1]:.3f}), "
      f"{len(post):,} screens of {post['woman_id'].nunique():,} women")
print(f"A logistic regression ignoring the repeated screens: {np.exp(naive.params['bf12']):.3f} "
      f"({naive_ci[0]:.3f} to {naive_ci[1]:.3f}); the GEE interval is {ratio:.2f} times as wide on the log scale "
      f"({'wider' if ratio > 1 else 'not wider'}).")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex4_estimate", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert or_breastfeeding > 0, "or_breastfeeding is an odds ratio (> 0)"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_odds_ratio(checks.student_key(globals().get("df")), "bf12_cluster_or_crude", or_breastfeeding)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_clustered_interval", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false} tags=["remove-cell"]
assert len(or_breastfeeding_ci) == 2 and 0 < or_breastfeeding_ci[0] < or_breastfeeding_ci[1], "(lower, upper) > 0"
### BEGIN HIDDEN TESTS
from analysis.teach import checks
checks.check_clustered_interval(
    checks.student_key(globals().get("df")), "bf12_cluster_or_crude", or_breastfeeding_ci, globals().get("or_breastfeeding")
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 5 — argue about the denominator (4 points, marked by hand)
#
# The literature says "12.7–41.2%" of something is calcification-only. In four to six sentences, using
# your numbers from Exercise 3: which denominators could the quote use, which of your two shares falls
# inside the band, why the choice matters for a woman deciding whether to attend, and what you would ask
# an author quoting the figure to add.
#
# Rubric (4 points): 1 — names both denominators correctly (recalls; screen-detected cancers) with the
# numbers; 1 — says which of the two lies inside 12.7–41.2% in their data; 1 — explains that the share
# of recalls speaks about harms/workload (most recalls are benign) and the share of cancers about benefit
# (cancers found only through calcifications); 1 — asks for numerator, denominator, programme/years and
# an interval.

# %% [markdown] jupyter={"source_hidden": true} nbgrader={"grade": true, "grade_id": "ex5_denominator", "locked": false, "points": 4, "schema_version": 3, "solution": true, "task": false} tags=["solution"]
# ### BEGIN SOLUTION
# A model answer in five sentences.
#
# The quote can be a share of **recalls** (what fraction of women called back were called
# back for calcifications and nothing else) or a share of **screen-detected cancers** (what fraction of
# the cancers screening found were found only through calcifications). The two differ by the denominator:
# recalls include every benign recall, so the first is about the workload and the harm of being called
# back; the second is about the benefit. Which one lies inside 12.7–41.2% depends on the dataset (the
# numbers printed by Exercise 3). An author should give numerator, denominator, programme and years,
# and a confidence interval.
# ### END SOLUTION
