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
# # 3 · Programmes compared on the same women
#
# Three screening programmes, applied to **the same simulated women**:
#
# | scenario | ages | interval | reading |
# |---|---|---|---|
# | `us-annual` | 40–74 | 1 year | single reader, US recall threshold |
# | `nl-biennial` | 50–74 | 2 years | double reading |
# | `england-triennial` | 50–70 | 3 years | double reading |
#
# Each scenario runs on the same seed, so the women, their risk factors, their cancers and their
# calcifications are identical, and so are the random draws of every decision (common random
# numbers). The difference between two programmes is then the effect of the programme, not noise,
# and its interval (`analysis.uncertainty.compare`) uses the pairing: the difference is linearised
# per woman, with the woman as the unit, so it is much narrower than the difference of two
# independent runs.

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenarios = ["us-annual", "nl-biennial", "england-triennial"]
reference = "nl-biennial"

# %%
import pandas as pd
from IPython.display import display

from analysis import (
    calc_only_question,
    compare,
    cumulative_false_positive_curve,
    figures,
    load_scenario,
    simulate,
)

# %%
loaded = {name: load_scenario(name) for name in scenarios}
runs = {name: simulate(sc, women=women, seed=seed, keep_screens=True) for name, sc in loaded.items()}
for name, r in runs.items():
    pg = loaded[name].programme
    print(f"{name:18s} scenario_hash {loaded[name].hash}: ages {pg.start_age_years:g}-{pg.stop_age_years:g} "
          f"every {pg.interval_years:g} y, {len(r.screens):,} screens of {r.screens['woman'].nunique():,} women")

# %% [markdown]
# ## The main measures side by side
#
# Per-screen measures (recall rate, cancer detection rate) are not the whole story: an annual
# programme makes about twice as many screens per woman as a biennial one, so a similar *per screen*
# recall rate means many more recalls *per woman*. Each measure names its denominator.

# %%
measures = ["recall_rate", "calc_only_share_of_recalls", "calc_only_share_of_screen_detected",
            "cancer_detection_rate_per_1000", "ppv1", "interval_cancer_rate_per_1000", "sensitivity",
            "cumulative_false_positive_recall"]
side = pd.DataFrame(index=pd.Index(measures, name="measure"))
for name, r in runs.items():
    e = r.estimates().set_index(["measure", "stratum"]).xs("all", level="stratum").loc[measures]
    side["denominator"] = e["denominator_label"].str.split(" [(]").str[0]
    side[name] = [f"{x:.4g} ({lo:.4g}–{hi:.4g})" for x, lo, hi in zip(e["estimate"], e["lower"], e["upper"])]
side

# %% [markdown]
# ## Paired differences
#
# Each programme against `nl-biennial`. Proportions are in percentage points; rates per 1,000
# screens as they are. The interval is the paired 95% interval from `compare`.

# %%
comparisons = [compare(name, reference, women, seed) for name in scenarios if name != reference]
figures.scenario_comparison(comparisons)

# %%
c = comparisons[0]
gain = c[c["stratum"] == "all"].set_index("measure")[["difference", "se_paired", "se_unpaired"]]
gain["width_ratio_paired_vs_unpaired"] = gain["se_paired"] / gain["se_unpaired"]
print(f"{c.attrs['a']} - {c.attrs['b']}: how much narrower the paired interval is than an unpaired one")
display(gain.loc[measures].round(5))

# %% [markdown]
# ## Which denominator, in which programme?
#
# The calcification-only shares for the three programmes against the quoted band. A programme that
# reads more permissively recalls more benign calcifications (the share of *recalls* moves); one
# that screens more often finds more cancers early, while still DCIS (the share of *cancers* moves).

# %%
figures.calc_only_shares({name: calc_only_question(r) for name, r in runs.items()})

# %% [markdown]
# ## Cumulative probability of a false-positive recall
#
# A *false-positive recall* is a recall with no cancer diagnosed at that screen or within
# follow-up. The probability that a woman has **at least one** over her screening career is the
# figure that matters to her. It is estimated by the Kaplan–Meier product-limit method over her
# screen number (1st, 2nd, … attended screen), among women still screened without a cancer
# diagnosis; women leaving the programme are censored. The bands are Greenwood 95% intervals.
#
# Per screen number first, then on a time axis (years since the first screen = (k − 1) × interval),
# which compares the programmes over the same span of a woman's life.

# %%
curves = {name: cumulative_false_positive_curve(r.screens) for name, r in runs.items()}
figures.cumulative_false_positive(curves)

# %%
figures.cumulative_false_positive(curves, years_per_screen={n: loaded[n].programme.interval_years for n in curves})

# %%
ten = {name: c.loc[c["screen_number"] == 10, ["at_risk", "cumulative_probability", "lower", "upper"]]
       for name, c in curves.items()}
pd.concat(ten, names=["scenario"]).droplevel(1).round(4)

# %% [markdown]
# The table gives the curve after 10 screens; the single-number measure
# `cumulative_false_positive_recall` (women screened exactly 10 times) should agree with it within
# sampling error (England-triennial women reach fewer than 10 screens, so it has no row). For
# context only — it is neither a calibration target nor part of a formal validation — Hubbard et
# al. (Ann Intern Med 2011) estimated, for US women, a cumulative probability of about 61% after 10
# years of annual screening and about 42% after 10 years of biennial screening.
#
# ## Caveats
#
# * Programmes also differ in the ages they screen, so a difference "per screen" mixes the effect
#   of the reading policy with that of age (younger women: denser breasts, more recalls, fewer
#   cancers). Stratify by age (`compare(..., by=["age_group"])`) to separate them.
# * The comparison is only as good as each scenario's calibration (notebook 4).
