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
# # 1 · The cohort and its risk factors
#
# calcsim is a **microsimulation**: one array element per woman, each with her own risk factors,
# her own (possibly never occurring) preclinical cancer and her own calcifications, screened round
# by round by a programme. Before looking at recalls, look at *who* is screened. The risk factors
# matter twice:
#
# * they change the chance of **cancer** — first-degree family history (relative risk 1.8 for one
#   affected relative, 2.9 for two; CGHFBC, Lancet 2001), BRCA1/2 (carrier-specific incidence,
#   Kuchenbaecker et al. 2017), breastfeeding (−4.3% per 12 months; CGHFBC, Lancet 2002), births;
# * they change the chance of a **benign finding that gets a woman recalled** — dense breasts hide
#   cancers and produce more ambiguous images; benign microcalcification clusters are commoner with
#   age, high density and, after menopause, with more than a year of breastfeeding (KARMA cohort,
#   Azam et al., Int J Cancer 2021).
#
# Everything shown here is computed by the `analysis` package; the notebook only tells the story.
# Change the parameters in the next cell (or run it with papermill, `-p women 100000`).

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"

# %%
from IPython.display import display

from analysis import figures, load_scenario, simulate, table1
from analysis.figures import tables

# %%
s = load_scenario(scenario)
res = simulate(s, women=women, seed=seed, keep_screens=True)
screens = res.screens
p = s.programme
print(f"scenario {s.name} (scenario_hash {s.hash}), seed {seed}")
print(f"programme: ages {p.start_age_years:g}-{p.stop_age_years:g}, every {p.interval_years:g} years, "
      f"attendance {p.attendance:.0%} (with a woman-level propensity: some women rarely come)")
print(f"{women:,} women simulated; {screens['woman'].nunique():,} attended at least once; "
      f"{len(screens):,} screens in total")

# %% [markdown]
# Not every simulated woman appears in the screens table: a woman who never attends (or dies
# before the first invitation) has no screen. Everything below is about **screened women**, which
# is also what a screening programme's own statistics describe.
#
# ## Table 1
#
# The classic first table of an epidemiological paper: the characteristics of the women, here at
# their **first screen** (density and menopausal status change with age, so "at the first screen"
# matters), by whether they were ever recalled during their screening history. Categorical rows are
# *n (%)* of the women in the column; continuous rows are *median [IQR]*.
#
# Read it as a description, not as a causal analysis: a woman with more screens has more chances to
# be recalled, so check how often the women of each column were screened (the line under the table
# compares them) before reading anything into a difference between the columns.

# %%
t1 = table1(screens, by="recalled")
display(tables.format_table(t1, headers={"characteristic": "Characteristic", "level": ""},
                            caption="Table 1. Women at their first screen, by whether they were ever recalled"))
per_woman = screens.groupby("woman")["recalled"].agg(["size", "any"])
median_screens = per_woman.groupby("any")["size"].median()
if {True, False} <= set(median_screens.index):
    more, fewer = median_screens[True], median_screens[False]
    how = "more often than" if more > fewer else "less often than" if more < fewer else "as often as"
    print(f"Screens per woman (median): {more:g} for women recalled at least once, {fewer:g} for women never "
          f"recalled: by the median, recalled women were screened {how} the others.")

# %% [markdown]
# `analysis.stats.table1.table1_html(t1)` renders the same table as a standalone HTML page (for a
# paper or a report).
#
# ## Distributions of the risk factors
#
# * **(a) Age and menopause.** The programme invites women at fixed ages; the bars show the
#   screens at each age, coloured by menopausal status at that screen. Women leave the programme as
#   they go (death, a cancer diagnosis, no longer attending); the first line under the figure
#   compares the youngest and the oldest invited ages.
# * **(b) Breast density** (BI-RADS a–d) by age group and menopausal status, over all screens. Each
#   woman keeps her *rank* in the density distribution, and the distribution for her age group and
#   menopausal status (from the BCSC Risk Estimation Dataset, Barlow et al., JNCI 2006) turns it
#   into a category; the second line under the figure gives the share of dense breasts by age and
#   by menopausal status.
# * **(c) Family history and BRCA.** In the sources about 7–9% of screened women have an affected
#   first-degree relative (7.3% of controls in CGHFBC 2001; ~9% at a first BCSC screen); carriers are
#   rare (BRCA1 0.11%, BRCA2 0.24% in the population; Hu et al., NEJM 2021) and are drawn *given*
#   family history (the third line compares carriers with and without affected relatives in this
#   cohort). Log scale: the rare groups would be invisible otherwise.
# * **(d) Breastfeeding.** Lifetime months among parous women (79% ever breastfed, mean 15.6
#   months in CGHFBC 2002); about 14% of women are nulliparous.

# %%
display(figures.cohort_distributions(screens))
lo_age, hi_age = p.start_age_years, p.stop_age_years
young = screens[(screens["age_years"] >= lo_age) & (screens["age_years"] < lo_age + 5)]
old = screens[(screens["age_years"] > hi_age - 5) & (screens["age_years"] <= hi_age)]
if len(young) and len(old):
    trend = "fewer" if len(old) < len(young) else "more" if len(old) > len(young) else "as many"
    print(f"(a) {len(young):,} screens in the first five invited years of age ({lo_age:g}–{lo_age + 4:g}), "
          f"{len(old):,} in the last five ({hi_age - 4:g}–{hi_age:g}): {trend} at the older ages.")


def dense_share(rows):
    return float(rows["density"].isin(["c", "d"]).mean()) if len(rows) else float("nan")


def compared(a, b):
    return "lower than" if a < b else "higher than" if a > b else "the same as"


d_young, d_old = dense_share(young), dense_share(old)
d_pre, d_post = dense_share(screens[~screens["postmenopausal"]]), dense_share(screens[screens["postmenopausal"]])
print(f"(b) Dense breasts (BI-RADS c or d): {tables.format_percent(d_young)} of screens at {lo_age:g}–{lo_age + 4:g}"
      f" and {tables.format_percent(d_old)} at {hi_age - 4:g}–{hi_age:g} ({compared(d_old, d_young)} at the younger"
      f" ages); {tables.format_percent(d_pre)} of premenopausal and {tables.format_percent(d_post)} of"
      f" postmenopausal screens ({compared(d_post, d_pre)} before menopause).")
first = screens.sort_values(["woman", "round_index"]).drop_duplicates("woman")
carrier, relatives = first["brca"].astype(str) != "non-carrier", first["family_history"].astype(str) != "0"
with_fh, without_fh = carrier[relatives].mean(), carrier[~relatives].mean()
print(f"(c) BRCA carriers: {carrier[relatives].sum()} of {relatives.sum():,} women with an affected relative "
      f"({tables.format_percent(with_fh, 2)}), {carrier[~relatives].sum()} of {(~relatives).sum():,} without "
      f"({tables.format_percent(without_fh, 2)}).")

# %% [markdown]
# ## Where the numbers come from
#
# Every cohort parameter carries its source (a citation key of `data/references.toml`) or its
# status (`calibrated`, `assumption`) — nothing is an unexplained constant.

# %%
params = s.parameter_table()
cohort_params = params[params["parameter"].str.startswith("cohort.")]
display(tables.format_table(cohort_params[["parameter", "value", "status", "source", "meaning"]],
                            columns={"value": str},
                            headers={"value": "Value (as in the scenario file)", "source": "Source (citation key)"},
                            caption="Cohort parameters of the scenario"))

# %% [markdown]
# ## Caveats
#
# * The cohort is **parametric**: marginal distributions from the sources above, with BRCA drawn
#   given family history by Bayes' rule. Joint structure beyond that (e.g. family history with
#   parity) is not modelled. `simulate(..., cohort_data=path)` resamples real risk-factor profiles
#   from the BCSC Risk Estimation Dataset instead, if you have downloaded it.
# * Density comes from US (BCSC) data for every scenario, including the Dutch and English ones.
# * With a small cohort the rare groups (≥2 relatives, BRCA carriers) hold a handful of women:
#   anything estimated for them has very wide intervals. Increase `women` before interpreting them.
