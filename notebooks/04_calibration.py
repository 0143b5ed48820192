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
# **calibrated**: chosen so that the model reproduces published programme figures (docs/model.md §9.2).
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
calibration = "shipped"  # "shipped" (data/calibration), "none", or the path of a calcsim calibrate output

# %%
from IPython.display import display

from analysis import figures, load_scenario, load_targets, run_posterior
from analysis.figures import tables
from analysis.calibration.abc import calibrated_parameters, scenario_targets
from analysis.calibration.posterior import calibration_fit
from analysis.scenario import read_calibration

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
s = load_scenario(scenario, calibration=None if calibration == "none" else calibration)
prior = load_scenario(scenario, calibration="parents")  # the starting point of its calibration
targets = load_targets()
mine = scenario_targets(s, targets)
kind_text = {"point": "point", "upper_bound": "upper bound", "band": "band (never a target)"}.get
display(tables.format_table(
    mine[["target", "setting", "measure", "kind", "value", "interval_lower", "interval_upper", "target_sd_basis",
          "source"]], measure="measure",
    columns={"measure": "measure", "kind": kind_text},
    headers={"target_sd_basis": "SD used in the distance", "source": "Source (citation key)"},
    intervals={"Published value (95% interval)": ("value", "interval_lower", "interval_upper", "by_measure")},
    caption=f"Calibration targets of {s.name}"))
print("free (calibrated) parameters and their prior ranges:")
for key, lo, hi in calibrated_parameters(prior):
    print(f"  {key}: {lo:g} - {hi:g}")

# %%
own = [c for c in s.calibration if c.scenario == s.name]
calfile = read_calibration(own[0].path, label=own[0].file) if own else None
cal = calfile.draws if calfile is not None else None
print(f"calibration applied: {s.calibration_label}")
if cal is None:
    print(f"No calibration of scenario {s.name!r} itself is applied: its own 'calibrated' parameters keep the prior"
          " values written in its file, so the absolute levels of its outputs are not to be quoted.\n"
          f"Run `calcsim calibrate --scenario {s.name} --out calibration/` and pass its output as `calibration`.")
else:
    a = calfile.meta
    print(f"calibration file: {calfile.label}")
    print(f"  made {a.get('date', '?')} with calcsim {a.get('version')}, seed {a.get('seed')}, "
          f"{int(a.get('women', 0)):,} women per draw, {a.get('draws')} draws in {a.get('rounds', '1')} round(s)")
    print(f"  targets: {a.get('targets')}")
    print(f"  acceptance: {a.get('acceptance')} -> {int(cal['accepted'].sum())} accepted sets "
          f"(effective sample size {a.get('effective_sample_size', '?')})")
    if str(a.get("acceptance", "")).startswith("nearest"):
        print(f"  Fewer parameter sets than needed (possibly none) reproduced all targets within their uncertainty:"
              f" the {int(cal['accepted'].sum())} nearest were kept, and the fit below shows where the model misses.")

# %% [markdown]
# When the acceptance line says **"nearest N (none or too few within the chi-square 95% point)"**,
# fewer parameter sets than the minimum (possibly none) reproduced all targets within their
# uncertainty: the N closest were kept so that the model can still run, but the fit below has to be
# read as a *lack of fit* somewhere — the model structure, a prior range or a target is wrong. That
# is a finding, not a failure of the notebook.
#
# ## The accepted parameter sets

# %%
if cal is not None:
    keys = calfile.parameters
    accepted = cal[cal["accepted"].astype(bool)]
    summary = accepted[keys].describe().T[["mean", "min", "max"]].rename_axis("parameter")
    display(tables.format_table(summary, columns=dict.fromkeys(["mean", "min", "max"], "number"),
                                caption=f"The {len(accepted)} accepted parameter sets (unweighted)"))

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
    post = run_posterior(s, women=women, seed=seed)
    fit = calibration_fit(post, targets=targets)
    display(tables.format_table(
        fit[["target", "measure", "kind", "target_value", "target_lower", "target_upper", "model", "model_lower",
             "model_upper", "posterior_lower", "posterior_upper", "within"]], measure="measure",
        columns={"measure": "measure", "kind": kind_text},
        headers={"within": "Posterior range meets the target"},
        intervals={"Target (95% interval)": ("target_value", "target_lower", "target_upper", "by_measure"),
                   "Model, default set (Wilson 95%)": ("model", "model_lower", "model_upper", "by_measure")},
        ranges={"Model across accepted sets (95% range)": ("posterior_lower", "posterior_upper", "by_measure")},
        caption="Every target against the model"))
else:
    print("no calibration: nothing to fit (see above)")

# %%
if fit is not None:
    display(figures.calibration_fit(fit))

# %% [markdown]
# ## Parameter uncertainty in the answer to the question
#
# The two calcification-only shares (notebook 2) and the recall rate, with the Wilson interval of
# the default run and the range across the accepted parameter sets. Which of the two is wider
# depends on the cohort size: the Wilson interval (within-run binomial noise) narrows as the cohort
# grows, the spread across parameter sets (what the calibration could not pin down) does not. The
# lines under the table compare them at this cohort size.

# %%
if post is not None:
    e = post.estimates()
    show = e[(e["stratum"] == "all") & e["measure"].isin(["calc_only_share_of_recalls",
                                                          "calc_only_share_of_screen_detected", "recall_rate"])]
    display(tables.format_estimates(show, caption="Default run (Wilson 95%) and across the accepted parameter sets"))
    wider = 0
    for r in show.itertuples():
        wilson, spread = r.upper - r.lower, r.posterior_upper - r.posterior_lower
        wider += spread > wilson
        which = "wider" if spread > wilson else "narrower" if spread < wilson else "as wide"
        print(f"{figures.measure_label(r.measure)}: the range across the accepted sets "
              f"({tables.format_measure(r.measure, spread, difference=True)} wide) is {which} than the Wilson interval"
              f" ({tables.format_measure(r.measure, wilson, difference=True)} wide).")
    print(f"The parameter uncertainty is the wider of the two for {wider} of {len(show)} measures at "
          f"{women:,} women.")
else:
    print("no calibration: only within-run Wilson intervals are available (notebook 2)")

# %% [markdown]
# ## Validation: what is, and is not, checked
#
# As in any modelling study, figures the model was **not** tuned to should be kept aside for
# external validation. Honestly:
#
# * **Held out:** the BCSC recall, cancer detection and sensitivity by age group × density (BCSC
#   Mammography Screening Performance Dataset 2005–2017) are not calibration targets.
#   `calcsim validate` (`analysis.calibration.validation.bcsc_validation`) compares them with
#   `us-annual` at subsequent-round screens, cell by cell (docs/model.md §9.6; what it finds is in
#   §10.3, "Known misfits"). The reading density odds ratios come from the same dataset pooled over
#   ages, so it checks the age pattern and the density pattern within age groups, not the pooled
#   density effect.
# * **Used for calibration:** the programme figures in `data/targets/targets.csv` calibrate the
#   scenario they belong to (the table below gives the role of each), so a fit to those is not a
#   validation. The exception is the English DCIS share (`england_dcis_share`): `england-triennial`
#   has no calibration of its own (it inherits the Dutch one) and no command evaluates it.
# * **Not calibrated against:** the 12.7–41.2% literature band (no denominator; shown for
#   comparison only); the shape of the cumulative false-positive curve; first- versus
#   subsequent-round figures beyond the European guideline maxima; the odds ratios of notebook 2
#   (they are inputs, checked by the tests rather than by calibration).
# * **Calibrated, but with an assumed target SD:** figures published without counts or an interval
#   get a 10% relative SD — an assumption that sets how tightly the model is held to them.

# %%
used = set((calfile.meta.get("targets", "") if calfile is not None else "").split())
t = targets[targets["kind"] != "band"].copy()
mine_note = "not used by its calibration" if cal is not None else "no calibration yet"
t["role"] = ["calibration target (this scenario)" if name in used
             else (f"target of this scenario, {mine_note}" if sc == s.name else f"target of {sc}")
             for name, sc in zip(t["target"], t["scenario"], strict=True)]
display(tables.format_table(t[["target", "scenario", "measure", "kind", "value", "source", "role"]], measure="measure",
                            columns={"measure": "measure", "kind": kind_text, "value": "by_measure"},
                            headers={"value": "Published value", "source": "Source (citation key)"},
                            caption="Every programme figure in data/targets/targets.csv and its role here"))
