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
# # 4 · Calibration: fit and validation
#
# Some inputs of the model have no published value: the prevalence of benign microcalcification
# clusters at 50, the reader thresholds, the sojourn times, the rates of benign findings. They are
# **calibrated**: chosen so that the model reproduces published programme figures (MODEL.md §7).
# `calcsim calibrate` draws parameter sets over their prior ranges (Latin hypercube, in sequential
# rounds), simulates each on the same women, scores it against the targets with a chi-square
# distance and keeps the accepted sets (approximate Bayesian computation, rejection step with
# importance weights). The result is a *set* of parameter values, not a point: the spread of the
# model's outputs across the accepted sets is the **parameter uncertainty**.
#
# This notebook shows what the scenario is calibrated against, how well it fits, and what is
# *not* checked. If the scenario has no calibration file yet it says so and stops there.

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"
calibration_directory = None  # None: the shipped data/calibration folder

# %%
from IPython.display import display

from analysis import figures, load_scenario
from analysis.calibration.abc import calibrated_parameters, load_calibration, scenario_targets
from analysis.calibration.posterior import calibration_fit, run_posterior
from analysis.stats.targets import load_targets

# %% [markdown]
# ## What the scenario is calibrated against
#
# The targets file (`data/targets/targets.csv`) has one row per published figure. `point` targets
# have a count-based Wilson interval when the source gives counts, the published interval when it
# gives one, and otherwise an *assumed* 10% relative SD (stated in the calibration file).
# `upper_bound` rows are guideline maxima that only penalise values above them. The
# 12.7–41.2% literature range is a `band`: it is shown beside the model but is **not** a target,
# because its denominator is unknown.

# %%
s = load_scenario(scenario)
targets = load_targets()
mine = scenario_targets(s, targets)
display(mine[["target", "setting", "measure", "kind", "value", "interval_lower", "interval_upper", "target_sd_basis",
              "source"]])
print("free (calibrated) parameters and their prior ranges:")
for key, lo, hi in calibrated_parameters(s):
    print(f"  {key}: {lo:g} - {hi:g}")

# %%
cal = load_calibration(s.name, calibration_directory)
if cal is None:
    print(f"No calibration file for scenario {s.name!r} yet. Its 'calibrated' parameters are at the centres of "
          f"their prior ranges, so the absolute levels of its outputs are not to be quoted.\n"
          f"Run `calcsim calibrate --scenario {s.name}` to create data/calibration/{s.name}.csv, then re-run this "
          "notebook.")
else:
    a = cal.attrs
    print(f"calibration file: {a.get('path')}")
    print(f"  made {a.get('date', '?')} with calcsim {a.get('version')}, seed {a.get('seed')}, "
          f"{int(a.get('women', 0)):,} women per draw, {a.get('draws')} draws in {a.get('rounds', '1')} round(s)")
    print(f"  targets: {a.get('targets')}")
    print(f"  acceptance: {a.get('acceptance')} -> {int(cal['accepted'].sum())} accepted sets "
          f"(effective sample size {a.get('effective_sample_size', '?')})")

# %% [markdown]
# When the acceptance line says **"nearest N (none or too few within the chi-square 95% point)"**,
# no parameter set reproduced all targets within their uncertainty: the N closest were kept so that
# the model can still run, but the fit below has to be read as a *lack of fit* somewhere — the
# model structure, a prior range or a target is wrong. That is a finding, not a failure of the
# notebook.
#
# ## The accepted parameter sets

# %%
if cal is not None:
    keys = cal.attrs.get("parameters", "").split()
    accepted = cal[cal["accepted"].astype(bool)]
    display(accepted[keys].describe().T[["mean", "min", "max"]].round(4))

# %% [markdown]
# ## Fit: every target against the model
#
# The default run uses the nearest accepted set; the posterior range is the (weighted) 2.5–97.5%
# range of the estimates across all accepted sets, on the same women. In the figure each value is
# divided by its target (1 = on target): grey = the target's interval, blue point = the model with
# its Wilson 95% interval, light blue = the model across the accepted sets.

# %%
post = fit = None
if cal is not None:
    post = run_posterior(s.name, women=women, seed=seed, directory=calibration_directory)
    fit = calibration_fit(post, targets=targets)
    display(fit[["target", "measure", "kind", "target_value", "target_lower", "target_upper", "model",
                 "posterior_lower", "posterior_upper", "within"]].round(4))
else:
    print("no calibration: nothing to fit (see above)")

# %%
if fit is not None:
    display(figures.calibration_fit(fit))

# %% [markdown]
# ## Parameter uncertainty in the answer to the question
#
# The two calcification-only shares (notebook 2) with the Wilson interval of the default run and
# the range across the accepted parameter sets. The second is usually the wider one: within-run
# binomial noise is small at this cohort size, while what the calibration could not pin down is
# not.

# %%
if post is not None:
    e = post.estimates()
    show = e[(e["stratum"] == "all") & e["measure"].isin(["calc_only_share_of_recalls",
                                                          "calc_only_share_of_screen_detected", "recall_rate"])]
    display(show[["measure", "denominator", "estimate", "lower", "upper", "posterior_lower", "posterior_upper"]]
            .round(4))
else:
    print("no calibration: only within-run Wilson intervals are available (notebook 2)")

# %% [markdown]
# ## Validation: what is, and is not, checked
#
# As in any modelling study, figures the model was **not** tuned to should be kept aside for
# external validation. Honestly:
#
# * **Held-out figures: none shipped yet.** Every programme figure in `data/targets/targets.csv`
#   that belongs to a scenario is used to calibrate that scenario (the table below shows which).
#   A fit to the calibration targets is therefore not a validation.
# * **Not calibrated against:** the 12.7–41.2% literature band (no denominator; shown for
#   comparison only); the BCSC recall by age × density (MODEL.md §7 lists it; it is not in the
#   targets file yet); the shape of the cumulative false-positive curve; first- versus
#   subsequent-round figures beyond the European guideline maxima; the odds ratios of notebook 2
#   (they are inputs, checked by the tests rather than by calibration).
# * **Calibrated, but with an assumed target SD:** figures published without counts or an interval
#   get a 10% relative SD — an assumption that sets how tightly the model is held to them.

# %%
used = set((cal.attrs.get("targets", "") if cal is not None else "").split())
t = targets[targets["kind"] != "band"].copy()
mine_note = "not used by its calibration" if cal is not None else "no calibration yet"
t["role"] = ["calibration target (this scenario)" if name in used
             else (f"target of this scenario, {mine_note}" if sc == s.name else f"target of {sc}")
             for name, sc in zip(t["target"], t["scenario"], strict=True)]
display(t[["target", "scenario", "measure", "kind", "value", "source", "role"]])
