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
# and its interval (`analysis.stats.uncertainty.compare`) uses the pairing: the difference is
# linearised per woman, with the woman as the unit, which removes the noise the two runs share (how
# much narrower that makes it than the interval of two independent runs is printed below).

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenarios = ["us-annual", "nl-biennial", "england-triennial"]
reference = "nl-biennial"

# %%
import numpy as np
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
from analysis.figures import tables

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
# Per-screen measures (recall rate, cancer detection rate) are not the whole story: a programme that
# screens more often makes more screens per woman, so the same *per screen* recall rate means more
# recalls *per woman*. Each measure names its denominator; the lines under the table give the
# screens and recalls per screened woman of each programme.

# %%
measures = ["recall_rate", "calc_only_share_of_recalls", "calc_only_share_of_screen_detected",
            "cancer_detection_rate_per_1000", "ppv1", "interval_cancer_rate_per_1000", "sensitivity",
            "cumulative_false_positive_recall"]
side = pd.concat([r.estimates() for r in runs.values()])
side = side[(side["stratum"] == "all") & side["measure"].isin(measures)]
side = side.assign(order=side["measure"].map(measures.index)).sort_values("order", kind="stable")
side["denominator_label"] = side["denominator_label"].str.split(" [(]").str[0]
display(tables.format_estimates(side, by="scenario", caption="Main measures, Wilson 95% intervals within each run"))
per_woman = {}
for name, r in runs.items():
    women_screened = r.screens["woman"].nunique()
    per_woman[name] = (len(r.screens) / women_screened, r.screens["recalled"].sum() / women_screened)
    print(f"{name}: {per_woman[name][0]:.1f} screens and {per_woman[name][1]:.2f} recalls per screened woman")
most = max(per_woman, key=lambda n: per_woman[n][0])
least = min(per_woman, key=lambda n: per_woman[n][0])
print(f"{most} makes {per_woman[most][0] / per_woman[least][0]:.1f} times as many screens per woman as {least}, "
      f"and {per_woman[most][1] / per_woman[least][1]:.1f} times as many recalls.")

# %% [markdown]
# ## Paired differences
#
# Each programme against `nl-biennial`. Proportions are in percentage points (pp); rates per 1,000
# screens as they are. The interval is the paired 95% interval from `compare`.

# %%
comparisons = [compare(name, reference, women, seed) for name in scenarios if name != reference]
figures.scenario_comparison(comparisons)

# %%
c = comparisons[0]
gain = c[c["stratum"] == "all"].set_index("measure")[["difference", "lower", "upper", "se_paired", "se_unpaired"]]
gain["width_ratio_paired_vs_unpaired"] = gain["se_paired"] / gain["se_unpaired"]
gain = gain.loc[measures].reset_index()
display(tables.format_table(
    gain, measure="measure",
    columns={"measure": "measure", "se_paired": "difference_by_measure", "se_unpaired": "difference_by_measure",
             "width_ratio_paired_vs_unpaired": "percent"},
    headers={"measure": "Measure", "se_paired": "SE, paired", "se_unpaired": "SE, unpaired (independent runs)",
             "width_ratio_paired_vs_unpaired": "Paired interval width, % of unpaired"},
    intervals={f"Difference {c.attrs['a']} − {c.attrs['b']} (paired 95% interval)":
               ("difference", "lower", "upper", "difference_by_measure")},
    caption=f"{c.attrs['a']} − {c.attrs['b']}: how much narrower the paired interval is than an unpaired one"))
ratio = gain["width_ratio_paired_vs_unpaired"].dropna()
print(f"The paired interval is {tables.format_percent(ratio.min(), 0)} to {tables.format_percent(ratio.max(), 0)} "
      f"as wide as an unpaired one (median {tables.format_percent(ratio.median(), 0)}), depending on the measure.")

# %% [markdown]
# ## Which denominator, in which programme?
#
# The calcification-only shares for the three programmes against the quoted band. The two shares
# answer to different parts of a programme: the share of *recalls* to how readers treat benign
# calcifications (threshold, single or double reading), the share of *cancers* to how many cancers
# are found while still DCIS (interval, ages). The lines under the figure say how far each share
# varies across these programmes.

# %%
questions = {name: calc_only_question(r) for name, r in runs.items()}
display(figures.calc_only_shares(questions))
for m in ("calc_only_share_of_recalls", "calc_only_share_of_screen_detected"):
    shares = {name: q.set_index("measure").loc[m, "estimate"] for name, q in questions.items()}
    hi, lo = max(shares, key=shares.get), min(shares, key=shares.get)
    print(f"{figures.measure_label(m)}: from {tables.format_percent(shares[lo])} ({lo}) to "
          f"{tables.format_percent(shares[hi])} ({hi}), a range of "
          f"{tables.format_interval(shares[hi] - shares[lo], unit='pp')}.")

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
ten = pd.concat(ten, names=["scenario"]).droplevel(1)
display(tables.format_table(ten, headers={"scenario": "Scenario", "at_risk": "Women at risk at screen 10"},
                            intervals={"Cumulative probability after 10 screens (Greenwood 95%)":
                                       ("cumulative_probability", "lower", "upper")},
                            caption="Kaplan–Meier curve after 10 screens"))
for name, r in runs.items():
    row = r.estimates().set_index(["measure", "stratum"]).loc[("cumulative_false_positive_recall", "all")]
    n = loaded[name].programme.cumulative_rounds
    single = tables.format_interval(row["estimate"], row["lower"], row["upper"])
    at_n = curves[name][curves[name]["screen_number"] == n]
    if at_n.empty:
        print(f"{name}: no woman at risk at screen {n}; women screened exactly {n} times: {single}.")
        continue
    k = at_n.iloc[0]
    agree = "overlap" if k["lower"] <= row["upper"] and row["lower"] <= k["upper"] else "do not overlap"
    print(f"{name}: curve after {n} screens {tables.format_interval(k['cumulative_probability'], k['lower'], k['upper'])}"
          f", women screened exactly {n} times {single}: the intervals {agree}.")

# %% [markdown]
# The table gives the curve after 10 screens (a programme whose women do not reach a 10th screen has
# no row). The single-number measure `cumulative_false_positive_recall` counts the women screened
# exactly N times (N = `programme.cumulative_rounds`: 10, or 7 for `england-triennial`), so it should
# agree with the curve at N within sampling error; the lines above compare the two. For context only — it is neither a calibration target nor part of a formal
# validation — Hubbard et al. (Ann Intern Med 2011) estimated, for US women, a cumulative
# probability of about 61% after 10 years of annual screening and about 42% after 10 years of
# biennial screening.
#
# ## Caveats
#
# * Programmes also differ in the ages they screen, so a difference "per screen" mixes the effect
#   of the reading policy with that of age (age changes density, benign findings and cancer risk at
#   once). Stratify by age (`compare(..., by=["age_group"])`) to separate them.
# * The comparison is only as good as each scenario's calibration (notebook 4).
