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
# | `calc_only_share_of_recalls` | recalls with calcification as the only finding | **all recalls** | how much of the recall workload is calcifications alone (and how many of them are benign) |
# | `calc_only_share_of_screen_detected` | screen-detected cancers recalled for calcification only | **all screen-detected cancers** | how many cancers were found *only* because of calcifications (and how many of them are DCIS) |
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

import numpy as np

from analysis import calc_only_question, figures, fit_odds_ratios, load_scenario, load_targets, simulate
from analysis.figures import tables
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
calc_only = screens[screens["calc_only_recall"]]
found = calc_only[calc_only["screen_detected"]]
dcis = int((found["pathology"].astype(str) == "dcis").sum())
print(f"\nOf the {len(calc_only):,} calcification-only recalls, {len(found):,} found a cancer "
      f"({tables.format_percent(len(found) / max(len(calc_only), 1))}): "
      f"{'most were benign' if 2 * len(found) < len(calc_only) else 'most found a cancer'}. "
      f"Of those {len(found):,} cancers, {dcis:,} were DCIS ({tables.format_percent(dcis / max(len(found), 1))}).")

# %%
figures.calc_only_shares(q)

# %% [markdown]
# Both shares can fall inside the band and still be different quantities: a figure quoted without its
# denominator cannot be checked, and cannot be compared with another programme's figure. They are
# built from different events. The share of recalls has every recall in its denominator, most of
# them benign, so how often *benign* calcifications are recalled (reader threshold, prior images,
# cluster prevalence) enters it; the share of cancers has only screen-detected cancers, so how
# cancers present (DCIS is calcification-only in ~81% of cases, invasive cancer in ~9%; Luiten) and
# the DCIS share of detected cancers enter it. Notebook 3 compares the two across programmes and
# notebook 5 measures which inputs move each.
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

# %%
e = res.estimates()
by_density = e[e["measure"].isin(["recall_rate", "sensitivity"]) & e["stratum"].str.startswith("density=")]
display(tables.format_estimates(by_density, caption="Recall rate and sensitivity by BI-RADS density"))
print(tables.extremes_sentence(by_density[by_density["measure"] == "recall_rate"], "Recall"))
print(tables.extremes_sentence(by_density[by_density["measure"] == "sensitivity"], "Sensitivity"))

# %% [markdown]
# Density enters the model twice: dense breasts (BI-RADS c/d) carry more benign microcalcification
# clusters (KARMA: OR 2.08 for high dense area), and the readers' density odds ratios (from BCSC)
# act on both benign and malignant findings, so on recall and on sensitivity. The two lines above
# say where each is highest and lowest in this run, and whether the intervals separate them.
# Family history and BRCA carriers are shown next; carriers are about 0.35% of women, so their
# intervals are wide.

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
targets = load_targets()
display(figures.rounds_compared(res, targets=targets))
rounds = e[e["stratum"].eq("all")].set_index("measure")
first, later = rounds.loc["first_round_recall_rate"], rounds.loc["subsequent_round_recall_rate"]
maxima = targets[targets["kind"] == "upper_bound"].set_index("measure")["value"]


def against(row, measure):
    limit = maxima.get(measure, np.nan)
    if not np.isfinite(limit):
        return "no guideline maximum"
    return f"{'below' if row['upper'] < limit else 'above' if row['lower'] > limit else 'not clearly below'} the " \
           f"guideline maximum of {tables.format_percent(limit, 0)}"


word = "higher" if first["estimate"] > later["estimate"] else "lower" if first["estimate"] < later["estimate"] \
    else "no higher"
print(f"Recall is {word} at the first round than at subsequent rounds: "
      f"{tables.format_interval(first['estimate'], first['lower'], first['upper'])} against "
      f"{tables.format_interval(later['estimate'], later['lower'], later['upper'])}.\n"
      f"First round: {against(first, 'first_round_recall_rate')}; subsequent rounds: "
      f"{against(later, 'subsequent_round_recall_rate')}.")

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
# engine="vectorised": calcsim's vectorised copy of statsmodels' GEE algorithm, tested equal to statsmodels
# to 1e-10 (tests/test_regression.py) and about ten times faster on a report-sized cohort
or_recall = fit_odds_ratios(screens, "recalled", covariates=covariates, engine="vectorised")
or_calc_only = fit_odds_ratios(screens, "calc_only_recall", covariates=covariates, engine="vectorised")
display(tables.format_odds_ratios(or_recall))
figures.odds_ratios({"any recall": or_recall, "calcification-only recall": or_calc_only})

# %% [markdown]
# And the benign microcalcification cluster itself, among **postmenopausal** screens (the KARMA
# breastfeeding association, OR 1.22 for > 12 months, was found in postmenopausal women only). The
# model draws clusters from the KARMA odds ratios; the regression shows how much of them comes back
# out of simulated screening data. A cluster, once present, persists, so the odds ratio of a
# covariate that *decreases* with age (density) can come out weaker than the one put in (README,
# "Departures from the design"; docs/model.md §4.9). The second table compares each fitted odds
# ratio with the value in the scenario.

# %%
or_cluster = fit_odds_ratios(screens, "benign_cluster", subset=screens["postmenopausal"], engine="vectorised",
                             covariates=["age_per_decade", "breastfeeding_over_12_months", "dense",
                                         "family_history_any", "births"])
display(tables.format_odds_ratios(or_cluster))
inputs = {"age_per_decade": "calcifications.cluster_odds_ratio_per_decade",
          "breastfeeding_over_12_months": "calcifications.cluster_or_breastfeeding_over_12_months_postmenopausal",
          "dense": "calcifications.cluster_or_dense", "family_history_any": "calcifications.cluster_or_family_history",
          "births": "calcifications.cluster_or_per_birth"}
values = s.parameter_table().set_index("parameter")["value"]
put_in = or_cluster.assign(model_input=[float(values[inputs[term]]) if term in inputs else np.nan
                                        for term in or_cluster["term"]])


def fitted_vs_input(r):
    if not np.isfinite(r["model_input"]):
        return "no input"
    if r["lower"] <= r["model_input"] <= r["upper"]:
        return "input inside the 95% CI"
    return "weaker than the input" if abs(np.log(r["odds_ratio"])) < abs(np.log(r["model_input"])) \
        else "stronger than the input"


put_in["comparison"] = put_in.apply(fitted_vs_input, axis=1)
display(tables.format_table(put_in[["term", "model_input", "odds_ratio", "lower", "upper", "comparison"]],
                            columns={"term": "term", "model_input": "ratio"},
                            headers={"term": "Term", "model_input": "Odds ratio in the scenario",
                                     "comparison": "Fitted against the scenario"},
                            intervals={"Fitted odds ratio (95% CI)": ("odds_ratio", "lower", "upper", "ratio")},
                            caption="Benign cluster, postmenopausal screens: fitted against the scenario's input"))

# %% [markdown]
# ## Caveats
#
# * The shares above are **model outputs**: how far to trust them depends on how well the scenario
#   reproduces the programme figures it was calibrated to (notebook 4) and on which inputs move
#   them most (notebook 5).
# * "Calcification only" means the calcification channel triggered the recall and no other finding
#   did — what brought the woman back, not the final pathology.
# * Wilson intervals assume independent screens; across-replicate intervals
#   (`analysis.stats.uncertainty.run_replicates`, `calcsim run --replicates`) do not, and are the
#   honest choice for a publication.
