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
                "calcifications.cluster_prevalence_age50", "cancer.dcis_precursor_share"]

# %%
from IPython.display import display

from analysis import figures, load_scenario
from analysis.figures import tables
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
# The table lists the five parameters that move each output most in this run, and the lines under it
# compare the two shares. Why their lists can differ: the share of **recalls** is about benign
# findings — how often a benign cluster is recalled and how common clusters are enter its
# numerator, how often a benign *non*-calcification finding is recalled enters its denominator, and
# the reader threshold moves every recall together. The share of **screen-detected cancers** is
# about cancers — how readily the readers recall a malignant mass compared with malignant
# calcifications, and, through the share of invasive cancers that pass through a DCIS phase and
# how long that phase lasts, how many calcification-only DCIS there are to be found. How far the two lists differ is the quantitative
# version of "the denominator matters".

# %%
top = ow.sort_values("swing", ascending=False, kind="stable").groupby("output", sort=False).head(5)
top = top.sort_values("output", key=lambda s: s.map(list(dict.fromkeys(ow["output"])).index), kind="stable")
display(tables.format_table(
    top[["output", "parameter", "low_value", "high_value", "base", "at_low", "at_high", "swing"]], measure="output",
    columns={"output": "measure", "base": "by_measure", "at_low": "by_measure", "at_high": "by_measure",
             "swing": "difference_by_measure"},
    headers={"output": "Output", "parameter": "Parameter", "base": "Base value", "at_low": "Parameter at low end",
             "at_high": "Parameter at high end", "swing": "Swing (high − low end)"},
    ranges={"Range of the parameter": ("low_value", "high_value", "number")},
    caption="One-way sensitivity: the five largest swings of each output"))
for out, g in top.groupby("output", sort=False):
    first = g.iloc[0]
    moves = "raises" if first["at_high"] > first["at_low"] else "lowers" if first["at_high"] < first["at_low"] \
        else "does not move"
    ends = tables.percent_digits([first["at_low"], first["at_high"]])
    print(f"{figures.measure_label(out)}: moved most by {first['parameter']} (raising it across its range {moves} "
          f"the output from {tables.format_measure(out, first['at_low'], digits=ends)} to "
          f"{tables.format_measure(out, first['at_high'], digits=ends)}), then {', '.join(g['parameter'].iloc[1:3])}.")
shares = [set(top.loc[top["output"] == o, "parameter"]) for o in ("calc_only_share_of_recalls",
                                                                   "calc_only_share_of_screen_detected")]
common = shares[0] & shares[1]
print(f"The two calcification-only shares have {len(common)} of their five most influential parameters in common"
      + (f" ({', '.join(sorted(common))})." if common else "."))

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
idx = so[["S1", "ST"]].to_numpy(dtype=float).ravel()
outside, widest = int(((idx < 0) | (idx > 1)).sum()), float(so[["S1_conf", "ST_conf"]].to_numpy(dtype=float).max())
print(f"{outside} of {idx.size} indices fall outside [0, 1]; the widest bootstrap 95% half-width is {widest:.2f}"
      + (": use more sobol_samples (and sobol_women) before drawing conclusions." if outside or widest > 0.1 else "."))


def plus_minus(value, half):
    return f"{tables.format_interval(value, unit='ratio')} ± {tables.format_interval(half, unit='ratio')}"


display(tables.format_table(
    so.assign(s1=[plus_minus(v, c) for v, c in zip(so["S1"], so["S1_conf"], strict=True)],
              st=[plus_minus(v, c) for v, c in zip(so["ST"], so["ST_conf"], strict=True)])[
        ["output", "parameter", "s1", "st"]],
    columns={"output": "measure"},
    headers={"output": "Output", "parameter": "Parameter", "s1": "First order S1 (± bootstrap 95% half-width)",
             "st": "Total ST (± bootstrap 95% half-width)"},
    caption=f"Sobol indices, share of output variance ({so.attrs['runs']} runs of {so.attrs['women']:,} women)"))

# %% [markdown]
# ## Caveats
#
# * One-way ranges are not probabilities; a parameter with a wide, uninformed range dominates the
#   tornado whether or not it matters in reality. Calibration (notebook 4) narrows the calibrated
#   ones; the tornado here uses the prior ranges.
# * For a publication: more Sobol samples, all ranged parameters, larger cohorts, and several seeds.
#   `calcsim sensitivity` runs the same analyses from the command line, in parallel with Dask.
