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
# # 2 · Recalls and calcifications
#
# A consumer health article says: *"12.7–41.2% of women in screening programs with breast
# calcifications are brought back for additional clinical assessment as the only warning sign of
# cancer."* The range is quoted, without its own data, in the introductions of Mordang et al.
# (Breast Cancer Res Treat 2018) and of a 2019 Sci Rep paper on the KARMA cohort. **Its denominator
# is not stated**, and two different quantities fit the words:
#
# | measure | numerator | denominator | what it answers |
# |---|---|---|---|
# | `calc_only_share_of_recalls` | recalls with calcification as the only finding | **all recalls** | how much of the recall workload is calcifications alone (most turn out benign) |
# | `calc_only_share_of_screen_detected` | screen-detected cancers recalled for calcification only | **all screen-detected cancers** | how many cancers were found *only* because of calcifications (mostly DCIS) |
#
# This notebook estimates both, with intervals, then looks at what drives recalls: the funnel
# from screen to cancer, recall by age, density and risk group, first versus subsequent rounds,
# and adjusted odds ratios.

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"

# %%
from IPython.display import display

from analysis import calc_only_question, figures, fit_odds_ratios, load_scenario, load_targets, simulate
from analysis.stats.question import format_question

# %%
s = load_scenario(scenario)
# one run, counted overall and by each of these groupings at once (same women, same draws)
groupings = [["age_group"], ["density"], ["family_history"], ["brca"], ["round"]]
res = simulate(s, women=women, seed=seed, keep_screens=True, by=groupings)
screens = res.screens
print(f"scenario {s.name} (scenario_hash {s.hash}), {women:,} women, seed {seed}: {len(screens):,} screens")

# %% [markdown]
# ## The 12.7–41.2% question, with both denominators
#
# The intervals are **Wilson 95% binomial intervals within this one run**: they say how precisely
# this simulated cohort pins the share down, not how uncertain the model's parameters are (see
# notebook 4 for that). Where the scenario has a published programme figure for a measure (the
# Dutch southern region: 732 of 3,059 screen-detected cancers presented as calcifications only,
# 23.9%; Luiten, thesis), it is drawn too.

# %%
q = calc_only_question(res)
print(format_question(q))

# %%
figures.calc_only_shares(q)

# %% [markdown]
# Both shares can fall inside the band and still be different quantities that move for different
# reasons (notebook 3 shows programmes that differ a lot in one and little in the other): a figure
# quoted without its denominator cannot be checked, and cannot be compared with another
# programme's figure. The share of recalls depends mostly on how often *benign* calcifications are
# recalled (reader threshold, prior images, cluster prevalence); the share of cancers depends mostly
# on how cancers present (DCIS is calcification-only in ~81% of cases, invasive cancer in ~9%;
# Luiten) and on the DCIS share of detected cancers.
#
# ## The screening funnel
#
# From screens to recalls, biopsies and cancers, split by what triggered the recall. The right
# panel shows the same two shares again: the orange part of the *Recalled* bar is the share of
# recalls, the orange part of the *Cancer detected* bar the share of screen-detected cancers.

# %%
figures.screening_funnel(res)

# %% [markdown]
# ## Recall by age, density and risk group
#
# Each panel is one grouping of the single run above (the counts of every grouping come from the
# same women and draws; they differ only in how the screens are counted). The dashed line is the overall recall
# rate. Error bars are Wilson 95% intervals; they treat screens as independent, which is slightly
# optimistic because a woman contributes several screens (a persistent benign cluster can be
# recalled more than once).

# %%
figures.recall_by(res, "age_group")

# %%
figures.recall_by(res, "density")

# %% [markdown]
# Denser breasts: more recalls (more ambiguous findings, more benign clusters — KARMA: OR 2.08 for
# high dense area) *and* lower sensitivity. Family history and BRCA carriers are shown next. The
# carriers are so few that their intervals are wide at the default cohort size.

# %%
figures.recall_by(res, "family_history")

# %%
figures.recall_by(res, "brca")

# %% [markdown]
# The same figure works for any measure, e.g. the calcification-only recall rate by density:

# %%
figures.recall_by(res, "density", measure="calc_only_recall_rate")

# %% [markdown]
# ## First versus subsequent rounds
#
# At a woman's first screen there are no prior images to compare with; at later screens a stable
# benign finding is recognised (adjusted OR of a false-positive recall 0.50 with prior images;
# Hubbard et al., Ann Intern Med 2011), and the prevalent cancers of the first round have been
# found. The European guidelines ask for recall below 7% at the first round and below 5% after
# (red dashed lines).

# %%
figures.rounds_compared(res, targets=load_targets())

# %% [markdown]
# ## Adjusted odds ratios
#
# Logistic regression of recall on the risk factors at each screen. A woman contributes several
# screens, so the fit is a **GEE** (groups = woman, exchangeable working correlation, robust
# standard errors; docs/model.md §1.3). BRCA status is left out of this model: carriers are about 0.3% of
# women, too few for a stable odds ratio at this cohort size (look at them stratified, above).

# %%
covariates = ["age_per_decade", "postmenopausal", "family_history_any", "breastfeeding_over_12_months",
              "density", "parity"]
or_recall = fit_odds_ratios(screens, "recalled", covariates=covariates)
or_calc_only = fit_odds_ratios(screens, "calc_only_recall", covariates=covariates)
display(or_recall.round(3))
figures.odds_ratios({"any recall": or_recall, "calcification-only recall": or_calc_only})

# %% [markdown]
# And the benign microcalcification cluster itself, among **postmenopausal** screens (the KARMA
# breastfeeding association, OR 1.22 for > 12 months, was found in postmenopausal women only). The
# model draws clusters from the KARMA odds ratios; the regression shows how much of them comes back
# out of simulated screening data. Expect attenuation: a cluster, once present, persists, so the
# odds ratio of a covariate that *decreases* with age (density) is diluted (see the README's
# departures from the design).

# %%
or_cluster = fit_odds_ratios(screens, "benign_cluster", subset=screens["postmenopausal"],
                             covariates=["age_per_decade", "breastfeeding_over_12_months", "dense",
                                         "family_history_any", "births"])
or_cluster.round(3)

# %% [markdown]
# ## Caveats
#
# * The shares above are **model outputs**: how far to trust them depends on how well the scenario
#   reproduces the programme figures it was calibrated to (notebook 4) and on which inputs move
#   them most (notebook 5).
# * "Calcification only" means the calcification channel triggered the recall and no other finding
#   did — what brought the woman back, not the final pathology.
# * Wilson intervals assume independent screens; across-replicate intervals
#   (`analysis.uncertainty.run_replicates`) do not, and are the honest choice for a publication.
