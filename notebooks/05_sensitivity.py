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
# # 5 · Which inputs matter?
#
# Two complementary sensitivity analyses of the three outputs of the question — the recall rate
# and both calcification-only shares:
#
# * **One-way** (a tornado chart): each parameter with a stated range is moved to the low and to
#   the high end of its range, all others kept at their values. Simple and readable, but it misses
#   interactions and says nothing about how likely the ends of the ranges are.
# * **Global (Sobol indices)**: all chosen parameters vary together, uniformly over their ranges;
#   the first-order index S1 is the share of the output's variance due to a parameter alone, the
#   total index ST includes its interactions. It needs many runs, so it is done here for a handful
#   of parameters on a small cohort — enough to show the method, not to publish.
#
# Every run uses the same seed, so the women and their draws are shared (common random numbers):
# differences between runs are due to the parameters, not to noise. Still, a small cohort adds
# Monte Carlo noise to each run — read small bars as "no detectable effect".

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"
sobol_women = 2_000
# Sobol samples must be a power of 2; the number of runs is samples x (parameters + 2)
sobol_samples = 32
sobol_params = ["reading.threshold_logit_shift", "reading.p_recall_benign_cluster",
                "calcifications.cluster_prevalence_age50", "cancer.dcis_share_of_onsets"]

# %%
from IPython.display import display

from analysis import figures, load_scenario
from analysis.calibration.sensitivity import one_way, sensitivity_parameters, sobol

# %%
s = load_scenario(scenario)
ranged = sensitivity_parameters(s)
print(f"scenario {s.name} (scenario_hash {s.hash}): {len(ranged)} scalar parameters with a stated range")

# %% [markdown]
# ## One-way sensitivity
#
# The bars start at the base value (the vertical line) and end at the output with the parameter at
# the low (blue) or high (orange) end of its range; the range is given after the name. The ranges
# are the calibration priors for `calibrated` parameters, plausible ranges for `assumption`s, and
# published intervals for sourced values — so a long bar can mean "important" or "poorly known".

# %%
ow = one_way(s, women=women, seed=seed)
figures.tornado(ow, "recall_rate")

# %%
figures.tornado(ow, "calc_only_share_of_recalls")

# %%
figures.tornado(ow, "calc_only_share_of_screen_detected")

# %% [markdown]
# The two shares are driven by different inputs. The share of **recalls** is about benign
# findings: how often a benign cluster is recalled and how common clusters are (the numerator), how
# often a benign *non*-calcification finding is recalled (the denominator), and the reader
# threshold that moves every recall together. The share of **screen-detected cancers** is about
# cancers: how readily the readers recall a malignant mass compared with malignant calcifications,
# and — through the DCIS share of onsets and the DCIS sojourn time — how many calcification-only
# DCIS are there to be found. (The table below lists the top five for each output in this run.)
# That is the quantitative version of "the denominator matters".

# %%
top = ow.groupby("output", sort=False).head(5)
display(top[["output", "parameter", "low_value", "high_value", "base", "at_low", "at_high", "swing"]].round(4))

# %% [markdown]
# ## Global sensitivity (Sobol)
#
# A small Saltelli design over the parameters in `sobol_params`. The error bars are bootstrap 95%
# half-widths: with so few runs they are wide, and indices can come out above 1 or below 0 — a
# sign to use more `sobol_samples` (and `sobol_women`) before drawing conclusions.

# %%
so = sobol(s, women=sobol_women, seed=seed, samples=sobol_samples, params=sobol_params)
print(f"{so.attrs['runs']} runs of {so.attrs['women']:,} women")
figures.sobol_indices(so)

# %%
so.round(3)

# %% [markdown]
# ## Caveats
#
# * One-way ranges are not probabilities; a parameter with a wide, uninformed range dominates the
#   tornado whether or not it matters in reality. Calibration (notebook 4) narrows the calibrated
#   ones; the tornado here uses the prior ranges.
# * For a publication: more Sobol samples, all ranged parameters, larger cohorts, and several seeds.
#   `calcsim sensitivity` runs the same analyses from the command line, in parallel with Dask.
