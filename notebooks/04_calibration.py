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
# Some inputs of the model have no published value: the reader thresholds and recall
# probabilities, the size at which tumours surface clinically, the DCIS precursor share and
# duration, the prevalence of benign microcalcification clusters at 50. They are **calibrated**:
# chosen so that the model reproduces published programme figures (the targets,
# `data/targets/targets.csv`; docs/model.md §9). The result of a calibration is a *set* of
# accepted parameter values with weights, not a point; the spread of the model's outputs across
# that set is the **parameter uncertainty**.
#
# This page reports one scenario's calibration as it is: how it was made, whether it reached its
# tolerance, every target beside the model, how much the targets narrowed each parameter, and —
# separately — how the calibrated model compares with published figures it was **not** fitted to.
# If the scenario has no calibration of its own it says so, and only the held-out comparison and the
# list of targets follow.

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"
calibration = "shipped"  # "shipped" (data/calibration), "none", or the path of a calcsim calibrate output

# %%
import re
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import display

from analysis import CalcsimInputError, figures, load_scenario, run_posterior, simulate
from analysis.calibration.abc import calibrated_parameters
from analysis.calibration.identifiability import generations_from_header, identifiability, prior_ranges
from analysis.calibration.posterior import calibration_fit
from analysis.calibration.summary import STRONG_CORRELATION
from analysis.calibration.targets_fit import (
    DEFAULT_RELATIVE_SD,
    MODEL_DISCREPANCY_RELATIVE_SD,
    discrepancy_note,
    scenario_targets,
    target_groupings,
)
from analysis.calibration.validation import HELD_OUT_RUNS, held_out_checks, held_out_specs
from analysis.figures import tables
from analysis.figures.style import (
    PALETTE,
    calcsim_style,
    cycle_colour,
    left_title,
    new_figure,
    offsets,
    subtitle,
    value_axis,
)
from analysis.figures.style import unit as measure_unit
from analysis.scenario import read_calibration
from analysis.scenario.calibrated import shipped_calibration_path
from analysis.stats.targets import load_targets, parse_stratum

KIND_TEXT = {"point": "point", "upper_bound": "upper bound", "check": "check (not fitted)", "band": "band"}


def public(text: str) -> str:
    """``text`` with every absolute path shortened to its file name (no local paths on the page)."""
    return re.sub(r"(?<![\w.])/(?:[^\s:;,'\"()/]+/)+([^\s:;,'\"()/]+)", r"\1", str(text))


def signed(z: float) -> str:
    """A z-score as text: ``+0.54``, ``−2.23``."""
    return tables.DASH if tables.is_missing(z) else f"{z:+.2f}".replace("-", "−")


# %%
s = load_scenario(scenario, calibration=None if calibration == "none" else calibration)
own = [c for c in s.calibration if c.scenario == s.name]
calfile = read_calibration(own[0].path, label=own[0].file) if own else None
cal = calfile.draws if calfile is not None else None
print(f"scenario {s.name}; calibration applied: "
      + ("; ".join(f"{public(c.file)} (draw {c.draw}, the nearest accepted set)" for c in s.calibration) or "none"))
if cal is None:
    inherited = [c.scenario for c in s.calibration]
    print(f"No calibration of scenario {s.name!r} itself is applied: its own 'calibrated' parameters keep the prior"
          " values written in its file, so the absolute levels of its outputs are not to be quoted."
          + (f" It runs on the calibration of {', '.join(inherited)}, which it extends." if inherited else "")
          + f"\nRun `calcsim calibrate --scenario {s.name} --out calibration/` and pass its output as `calibration`.")

# %% [markdown]
# ## How the calibration is made
#
# `calcsim calibrate` uses **approximate Bayesian computation by sequential Monte Carlo**
# (ABC-SMC, the population Monte Carlo of Beaumont et al. 2009; `analysis/calibration/smc.py`,
# docs/model.md §9.3):
#
# * **Prior:** independent uniform priors on the ranges of the freed parameters.
# * **Distance:** χ² = Σ z², with z = (model − target) / SD for every fitted target. The SD
#   combines in quadrature the target's own SD (binomial from its counts, from its published
#   interval, or else an assumed relative SD), a **model-discrepancy** SD proportional to the
#   target value — an assumption applied to every target alike, since no structural model is exact
#   — and the model's Monte Carlo variance. An upper bound (a guideline maximum) counts only when
#   the model exceeds it; a `check` row is never fitted. The constants are printed below.
# * **Generations:** generation 0 is a Latin hypercube sample of *N* sets (the population) from the
#   prior. Each later generation has a tolerance equal to the α-quantile of the previous
#   generation's distances (never below the final tolerance); its proposals pick a particle of the
#   previous generation by weight and move it with a **Gaussian kernel** whose covariance is twice
#   that population's weighted covariance, until *N* proposals have a distance within the
#   tolerance. Their **importance weights** are prior / Σ (previous weight × kernel), normalised.
# * **Stopping:** the final tolerance is the **χ² 95% point** of the distance, with one degree of
#   freedom per point target (an upper bound adds nothing unless exceeded; the file records the
#   degrees of freedom, printed below). The run stops when a population at it is complete (*tolerance reached*) or when
#   the draw budget is spent — then the result is the last complete population, and the file says so.
# * **Common random numbers:** every parameter set is simulated on the same women with the same
#   seed, so the differences between sets are not Monte Carlo noise.
#
# **What each scenario frees.** A scenario frees only what its own targets identify, on top of the
# calibrated values of the scenario it extends (docs/model.md §9.1): `nl-biennial` the shared
# biology (incidence level, clinical tumour size, DCIS precursor share and duration,
# non-progressive DCIS, cluster prevalence) and its reader probabilities, fitted to the Dutch
# programme figures and the European guideline maxima; `us-annual` its own incidence level and its
# reading (threshold, reader probabilities, the benign age term and the known-cluster odds ratio)
# on the Dutch biology, fitted to the BCSC 2005–2017 age × density cells and Lehman 2017;
# `england-triennial` its threshold and benign background, fitted to the English programme
# figures. Parameters no target identifies stay assumptions (explored in notebook 5). What *this*
# file actually freed is read from its header below, beside the calibrated parameters it left at
# the values set elsewhere.

# %%
meta = calfile.meta if calfile is not None else {}
if calfile is not None:
    free = calfile.parameters
    ranges = prior_ranges(calfile)
    alpha = float(meta.get("alpha", "nan"))
    print(f"calibration file: {public(calfile.label)}, made {meta.get('date', '?')} with calcsim {meta.get('version')}"
          f" ({meta.get('method', 'rounds')} method)")
    if meta.get("method") == "smc":
        print(f"  ABC-SMC: population {meta.get('population')} parameter sets per generation; each next tolerance is"
              f" the {alpha:g}-quantile of the previous distances; final tolerance {meta.get('final_tolerance')};"
              f" draw budget {int(meta.get('draws', 0)):,}, {int(meta.get('draws_used', 0)):,} draws used")
    else:
        print(f"  {meta.get('draws')} draws in {meta.get('rounds', '1')} round(s), acceptance {meta.get('acceptance')}"
              " (an older method: no generations, no tolerance schedule)")
    print(f"  every set simulated on the same {int(meta.get('women', 0)):,} women, seed {meta.get('seed')}"
          " (common random numbers)")
    print(f"  distance SD: target SD, a model-discrepancy SD of {MODEL_DISCREPANCY_RELATIVE_SD:.0%} of the target"
          f" value and the model's Monte Carlo variance; a target published with neither counts nor an interval"
          f" gets an assumed {DEFAULT_RELATIVE_SD:.0%} relative SD")
    if meta.get("distance_sd") != discrepancy_note():
        print(f"  NOTE: the file records another SD rule than calcsim has now: {meta.get('distance_sd')!r}")
    fitted_names = meta.get("targets", "").split()
    print(f"  fitted to {len(fitted_names)} targets")
    every = {k: (lo, hi) for k, lo, hi in calibrated_parameters(s)}
    parents = {k: c.scenario for c in s.calibration if c.scenario != s.name for k in c.parameters}
    rows = pd.DataFrame(
        [{"parameter": k, "low": ranges.get(k, (np.nan, np.nan))[0], "high": ranges.get(k, (np.nan, np.nan))[1],
          "role": "freed by this calibration"} for k in free]
        + [{"parameter": k, "low": lo, "high": hi,
            "role": f"fixed here: calibrated in {parents[k]}" if k in parents
            else "fixed here: value of the scenario file"}
           for k, (lo, hi) in every.items() if k not in free])
    rows["prior"] = [tables.format_range(lo, hi, unit="number")
                     for lo, hi in zip(rows["low"], rows["high"], strict=True)]
    display(tables.format_table(
        rows[["parameter", "prior", "role"]],
        headers={"prior": "Range (the uniform prior when freed)", "role": "In this calibration"},
        caption=f"Calibrated parameters of {s.name}: freed here, or fixed at values set elsewhere"))
    n_inherited = sum(k in parents for k in every if k not in free)
    print(f"This calibration frees {len(free)} of the {len(every)} calibrated parameters of {s.name};"
          f" {n_inherited} keep the values of the calibration they inherit and"
          f" {len(every) - len(free) - n_inherited} the value written in the scenario file.")

# %% [markdown]
# ## Calibration status
#
# One row per generation of the run, from the file's header: its tolerance (generation 0 is the
# prior sample and has none), the proposals simulated, the sets accepted, the acceptance rate and
# the effective sample size (ESS) of its weights. The sentence under the table says whether the
# final tolerance was reached.

# %%
reached = str(meta.get("tolerance_reached", ""))
if calfile is not None:
    gens = generations_from_header(meta)
    if len(gens):
        gens = gens.assign(tolerance=[("none (prior sample)" if not np.isfinite(t) else tables.format_number(t, 4))
                                      for t in gens["tolerance"]])
        display(tables.format_table(
            gens, columns={"tolerance": "text", "acceptance_rate": "percent", "ess": "fixed", "complete": "yes_no"},
            headers={"tolerance": "Tolerance (χ² distance)", "proposals": "Proposals simulated",
                     "accepted": "Accepted", "acceptance_rate": "Acceptance rate (%)",
                     "ess": "Effective sample size", "complete": "Complete"},
            caption=f"ABC-SMC generations of the {s.name} calibration"))
    m = re.search(r"final tolerance ([^,]+), chi-square point ([^)]+)", reached)
    tol, chi2 = (float(m.group(1)), float(m.group(2))) if m else (np.nan, np.nan)
    df_match = re.search(r"df (\d+)", meta.get("final_tolerance", ""))
    df_text = f"{df_match.group(1)} degrees of freedom" if df_match else "degrees of freedom not recorded"
    accepted = calfile.accepted
    best_d = float(accepted["distance"].min())
    n_within = int((accepted["distance"] <= chi2).sum())
    last = int(gens.loc[gens["complete"], "generation"].max()) if len(gens) else None
    if reached.startswith("yes"):
        print(f"Tolerance reached: yes. Generation {last} was completed at tolerance {tol:.4g}, within the χ² 95%"
              f" point {chi2:.4g} ({df_text}): each of the {len(accepted)} accepted sets reproduces the targets"
              f" jointly within the distance's SDs at the calibration's {int(meta.get('women', 0)):,} women"
              f" (best distance {best_d:.4g}).")
    elif reached.startswith("no"):
        print(f"Tolerance reached: no. The draw budget ({int(meta.get('draws_used', 0)):,} of"
              f" {int(meta.get('draws', 0)):,} draws) was spent before a population within the χ² 95% point"
              f" {chi2:.4g} ({df_text}) was complete. The {len(accepted)} accepted sets are the last complete"
              f" population (generation {last}, tolerance {tol:.4g}, {tol / chi2:.1f} times that point), not a"
              f" posterior at the tolerance: the targets are not jointly reproduced. {n_within} of the"
              f" {len(accepted)} accepted sets {'has' if n_within == 1 else 'have'} a distance within the χ² point"
              f" (the best: {best_d:.4g}). The fit below shows where the model misses.")
    else:
        print(f"Tolerance reached: not recorded (a calibration of the {meta.get('method', 'rounds')} method,"
              f" acceptance {meta.get('acceptance')!r}); {len(accepted)} accepted sets, best distance {best_d:.4g}.")
    print(f"Effective sample size of the accepted sets: {meta.get('effective_sample_size', '?')}.")
else:
    print("no calibration: no generations to show")

# %% [markdown]
# ## Targets against the model
#
# Every target of the scenario (and every `check` row, shown but not fitted) beside the model,
# simulated here with every accepted parameter set on the same women: the model at the **best**
# (nearest accepted, applied) set with its Wilson 95% interval, and the weighted 95% range
# **across the accepted sets**. z uses the calibration's own distance SD (target SD, model
# discrepancy and the Monte Carlo variance of *this* run, so a small cohort gives blunter z); the
# verdict is *within* when |z| ≤ 1.96 (for an upper bound: not above it). Target intervals are
# the published or count-based 95% intervals, or ±1.96 assumed SDs.

# %%
post = fit = None
if cal is not None:
    post = run_posterior(s, women=women, seed=seed, by=target_groupings(scenario_targets(s, checks=True)))
    fit = calibration_fit(post, s)
    flat, strat = fit[fit["stratum"] == ""], fit[fit["stratum"] != ""]
    if "overlaps_target_interval" in flat.columns:  # 1.0 / 0.0 / NaN (no interval) -> yes / no / —
        flat = flat.assign(overlaps_target_interval=flat["overlaps_target_interval"].map({1.0: "yes", 0.0: "no"}))
    if len(flat):
        display(tables.format_table(
            flat[["target", "measure", "kind", "target_value", "target_lower", "target_upper", "target_interval",
                  "model", "model_lower", "model_upper", "posterior_lower", "posterior_upper", "z", "verdict",
                  *[c for c in ["overlaps_target_interval"] if c in flat.columns], "source"]], measure="measure",
            columns={"measure": "measure", "kind": KIND_TEXT.get, "z": signed, "overlaps_target_interval": "text"},
            headers={"target_interval": "Target interval from", "z": "z (best set)",
                     "overlaps_target_interval": "Range across sets overlaps the target interval",
                     "source": "Source (citation key)"},
            intervals={"Target (95% interval)": ("target_value", "target_lower", "target_upper", "by_measure"),
                       "Model, best set (Wilson 95%)": ("model", "model_lower", "model_upper", "by_measure")},
            ranges={"Model across the accepted sets (weighted 95%)": ("posterior_lower", "posterior_upper",
                                                                      "by_measure")},
            caption=f"{s.name}: every unstratified target against the model ({women:,} women, seed {seed})"))
else:
    print("no calibration: nothing to fit (see above)")

# %%
if fit is not None and len(flat):
    display(figures.calibration_fit(flat))


# %% [markdown]
# Stratified targets (the BCSC 2005–2017 cells of `us-annual`: recall, cancer detection and
# sensitivity at subsequent-round screens by age group × density) are shown as one grid per measure:
# age groups down, densities across; per age group the published value with its count-based 95%
# interval, the model at the best set with the weighted 95% range across the accepted sets, and z.

# %%
def strata_grids(rows: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """``(measure, other strata, rows)`` of each grid: one per measure and fixed strata (e.g. round)."""
    parts = rows["stratum"].map(parse_stratum)
    fixed = parts.map(lambda d: "; ".join(f"{k}={v}" for k, v in d.items() if k not in ("age_group", "density")))
    out = []
    for (measure, rest), idx in rows.groupby([rows["measure"], fixed], sort=False).groups.items():
        g = rows.loc[idx].assign(age=[parts[i].get("age_group", "all").replace("-", "–") for i in idx],
                                 density=[parts[i].get("density", "all") for i in idx])
        out.append((measure, rest, g))
    return out


def grid_table(measure: str, rest: str, g: pd.DataFrame):
    u = tables.unit_of(measure)
    d = tables.percent_digits(g[["target_value", "model"]].to_numpy()) if u == "proportion" else None
    cells = {}
    for r in g.itertuples(index=False):
        cells[(r.age, "published (95% interval)", r.density)] = tables.format_interval(
            r.target_value, r.target_lower, r.target_upper, unit=u, digits=d)
        cells[(r.age, "model, best set (95% across accepted sets)", r.density)] = tables.format_interval(
            r.model, r.posterior_lower, r.posterior_upper, unit=u, digits=d)
        cells[(r.age, "z (verdict)", r.density)] = f"{signed(r.z)}, {r.verdict}" + (
            "" if r.role == "fitted" else " (not fitted)")
    frame = pd.Series(cells).unstack(level=2)
    frame = frame.reindex(pd.MultiIndex.from_product(
        [list(dict.fromkeys(g["age"])),
         ["published (95% interval)", "model, best set (95% across accepted sets)", "z (verdict)"]]))
    frame = frame[list(dict.fromkeys(g["density"]))]
    frame.index.names = ["age group", "row"]
    frame.columns = [f"density {c}" for c in frame.columns]
    where = f", {tables.stratum_label(rest)}" if rest else ""
    return tables.format_table(frame, index=True, headers={"age group": "Age group", "row": ""},
                               caption=f"{figures.measure_label(measure)} ({measure_unit(measure)}){where}:"
                                       " published cell against the model")


def strata_figure(grids: list[tuple[str, str, pd.DataFrame]]):
    """Per measure: published interval (grey, diamond) and model range across sets (colour, dot) by age x density."""
    with calcsim_style():
        fig = new_figure((7.0, 2.3 * len(grids) + 1.0))
        axes = fig.subplots(len(grids), 1, squeeze=False)[:, 0]
        for ax, (measure, rest, g) in zip(axes, grids, strict=True):
            ages, dens = list(dict.fromkeys(g["age"])), list(dict.fromkeys(g["density"]))
            off = offsets(len(dens), 0.75)
            for j, dv in enumerate(dens):
                h = g[g["density"] == dv]
                x = np.array([ages.index(a) for a in h["age"]]) + off[j]
                ax.vlines(x - 0.035, h["target_lower"], h["target_upper"], color=PALETTE["grey"], lw=3, alpha=0.6)
                ax.plot(x - 0.035, h["target_value"], "D", color=PALETTE["black"], ms=3.5)
                ax.vlines(x + 0.035, h["posterior_lower"], h["posterior_upper"], color=cycle_colour(j), lw=3)
                ax.plot(x + 0.035, h["model"], "o", color=cycle_colour(j), ms=4, label=f"density {dv}")
            ax.set_xticks(range(len(ages)), [f"age {a}" for a in ages])
            value_axis(ax, measure)
            ax.set_title(f"{figures.measure_label(measure)} ({measure_unit(measure)})"
                         + (f", {tables.stratum_label(rest)}" if rest else ""), loc="left", fontsize=9)
        axes[0].legend(fontsize=7, ncol=len(dens), loc="upper left")
        left_title(fig, f"Stratified targets — {fit.attrs.get('scenario', '')}")
        subtitle(fig, "grey bar: published 95% interval (diamond: value); coloured bar: the model, weighted 95% across"
                      " the accepted sets\n(dot: the best set)")
    return fig


if fit is not None and len(strat):
    grids = strata_grids(strat)
    for measure, rest, g in grids:
        display(grid_table(measure, rest, g))
    display(strata_figure(grids))
elif fit is not None:
    print(f"{s.name} has no stratified targets.")

# %%
if fit is not None:
    fitted = fit[fit["role"] == "fitted"]
    outside = fitted[fitted["verdict"] == "outside"]
    out_flat, out_cells = outside[outside["stratum"] == ""], outside[outside["stratum"] != ""]
    names = [f"{t} (z {signed(z)})" for t, z in zip(out_flat["target"], out_flat["z"], strict=True)]
    if len(out_cells):
        n_cells = int((fitted["stratum"] != "").sum())
        names.append(f"{len(out_cells)} of the {n_cells} stratified cells (by measure below)")
    n_in = len(fitted) - len(outside)
    print(f"{n_in} of the {len(fitted)} fitted targets {'is' if n_in == 1 else 'are'} within the interval of the"
          f" calibration's distance at the best set (|z| ≤ 1.96); {len(outside)}"
          f" {'is' if len(outside) == 1 else 'are'} outside" + (f": {'; '.join(names)}." if len(outside) else "."))
    if len(strat):
        for measure, rest, g in strata_grids(strat[strat["role"] == "fitted"]):
            n_in = int((g["verdict"] == "within").sum())
            print(f"  {figures.measure_label(measure)}: {n_in} of {len(g)} cells within.")
    checks = fit[fit["role"] != "fitted"]
    if len(checks):
        n_ok = int((checks["verdict"] == "within").sum())
        print(f"{n_ok} of the {len(checks)} check rows (shown, not fitted) {'is' if n_ok == 1 else 'are'} within.")
    if "overlaps_target_interval" in fitted.columns:
        ov = fitted["overlaps_target_interval"].dropna()
        print(f"Against the targets' own intervals (stricter: without the model-discrepancy and Monte Carlo SDs): the"
              f" weighted 95% range across the accepted sets overlaps the target interval for {int(ov.sum())} of the"
              f" {len(ov)} fitted targets with an interval.")
    df_fit = fit.attrs.get("df", fit.attrs["targets"])
    print(f"χ² distance at the best set on these {women:,} women: {fit.attrs['distance']:.4g} (95% point"
          f" {fit.attrs['chi2_point']:.4g}, df {df_fit}); the calibration's own distance of that set, on"
          f" {int(meta.get('women', 0)):,} women: {float(calfile.best()['distance']):.4g}.")

# %% [markdown]
# ## Identifiability: what the targets pinned down
#
# Per freed parameter: its uniform prior range, the applied (best) value, the weighted posterior
# mean with its 95% credible interval, and the **width ratio** = interval width / prior width
# (`analysis.calibration.identifiability.identifiability`). A uniform prior's 2.5–97.5% interval
# covers 95% of its range, so a ratio near **0.95 means the targets did not inform the parameter
# at all**; a small ratio means they pinned it down. A strong posterior correlation between two
# parameters means they are identified only jointly (a ridge along which the targets cannot tell
# them apart). When the tolerance was not reached these describe the last complete population,
# not a posterior at the tolerance.

# %%
if calfile is not None:
    ident = identifiability(calfile)
    d = [tables.fixed_decimals([r.posterior_lower, r.posterior_upper, r.posterior_mean, r.best])
         for r in ident.itertuples(index=False)]
    shown = pd.DataFrame({
        "parameter": ident["parameter"],
        "prior": [tables.format_range(lo, hi, unit="number") for lo, hi in
                  zip(ident["prior_low"], ident["prior_high"], strict=True)],
        "best": [tables.format_interval(v, unit="fixed", digits=k) for v, k in zip(ident["best"], d, strict=True)],
        "posterior": [tables.format_interval(r.posterior_mean, r.posterior_lower, r.posterior_upper, unit="fixed",
                                             digits=k) for r, k in zip(ident.itertuples(index=False), d, strict=True)],
        "width_ratio": ident["width_ratio"],
    })
    display(tables.format_table(
        shown, columns={"width_ratio": "ratio"},
        headers={"prior": "Prior range (uniform)", "best": "Best (applied) set",
                 "posterior": "Posterior mean (95% credible interval)",
                 "width_ratio": "Width ratio (95% interval / prior width)"},
        caption=f"Identifiability of the {s.name} calibration ({ident.attrs['accepted']} accepted sets,"
                f" effective sample size {ident.attrs['effective_sample_size']:.1f})"))
    ratio = ident.set_index("parameter")["width_ratio"]
    loose, tight = ratio[ratio >= 0.9], ratio[ratio < 0.5]
    listed = {"loose": ", ".join(f"{k} ({v:.2f})" for k, v in loose.items()) or "none",
              "tight": ", ".join(f"{k} ({v:.2f})" for k, v in tight.sort_values().items()) or "none"}
    print(f"Freed parameters with a width ratio of 0.90 or more, hardly or not at all narrowed by the targets"
          f" ({len(loose)} of {len(ratio)}): {listed['loose']}.")
    print(f"Freed parameters with a width ratio under 0.50, clearly narrowed ({len(tight)} of {len(ratio)}):"
          f" {listed['tight']}.")
    corr = ident.attrs["correlation"]
    keys = list(corr.columns)
    pairs = [(keys[i], keys[j], corr.iloc[i, j]) for i in range(len(keys)) for j in range(i + 1, len(keys))
             if np.isfinite(corr.iloc[i, j]) and abs(corr.iloc[i, j]) >= STRONG_CORRELATION]
    if pairs:
        print(f"Strong posterior correlations (|r| ≥ {STRONG_CORRELATION}), pairs identified only jointly: "
              + "; ".join(f"{a} and {b} (r = {signed(r)})" for a, b, r in pairs) + ".")
    else:
        print(f"No pair of freed parameters has a posterior correlation of |r| ≥ {STRONG_CORRELATION}.")

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
# ## Figures the model was not fitted to
#
# A fit to the targets is not a validation: the targets were tuned to. The published figures below
# are **not** calibration targets of any scenario (`held_out_checks`,
# `analysis.calibration.validation.held_out_checks`; docs/model.md §9.6): the cumulative and
# per-screen false-positive recall of Hubbard 2011 (the check on the woman-level benign propensity,
# left uncalibrated for that reason), interval cancers and sensitivity by density of Wanders 2017
# (counts derived from the abstract), and the Dutch programme sensitivity of Sankatsing 2018 (nearly
# implied by the targets `nl_cdr` and `nl_icr`, so not an independent check). Each is compared with
# the calibrated model (best sets of the shipped calibrations; this page's `calibration` for this
# scenario) run here at the page's cohort size, with
# z = (model − published) / √(published SD² + model SD² + (discrepancy × published)²) — the
# calibration's rule — and a verdict: *consistent* (|z| ≤ 1.96) or *outside*. Misfits are shown as
# they are. Figures that need a measure the model does not compute yet are listed with the reason.
#
# **The BCSC age × density data is no longer held out.** Recall, cancer detection and sensitivity
# by age group × density of the BCSC Mammography Screening Performance Dataset 2005–2017 were held
# out before the rebuild of the natural history and reading; they are now **calibration targets of
# `us-annual`** (the `us_bcsc_*` rows above, for that scenario). `calcsim validate`
# (`analysis.calibration.validation.bcsc_validation`) still shows that comparison cell by cell, and
# labels it "fitted, not held out".

# %%
held = None
if calibration == "none":
    print("no calibration: the held-out figures are compared with the calibrated model only (calibration 'shipped'"
          " or a calibration file)")
else:
    runs, not_run, used_cal = {}, {}, {}
    for key, r in HELD_OUT_RUNS.items():
        which = calibration if r["scenario"] == s.name else "shipped"
        try:
            run_scenario = load_scenario(r["scenario"], r["overrides"], calibration=which)
        except CalcsimInputError as exc:
            not_run[key] = public(str(exc)).split("; ")[0]
            continue
        used_cal[key] = "; ".join(f"{public(c.file)} (draw {c.draw})" for c in run_scenario.calibration) or "none"
        runs[key] = simulate(run_scenario, women=women, seed=seed, by=r["by"])
    print("held-out runs and the calibrations applied to them:")
    for key in HELD_OUT_RUNS:
        print(f"  {key}: " + (used_cal[key] if key in used_cal else f"not run ({not_run[key]})"))
    held = held_out_checks(runs)
    for key, why in not_run.items():
        held.loc[held["run"] == key, "verdict"] = f"not computed (run {key} not loaded: {why})"
    fp = {h.check for h in held_out_specs() if h.false_positive}
    # the false-positive checks compare 1 - specificity: a label of its own (a proportion, like every unnamed measure)
    held["shown_measure"] = ["1 − specificity (false-positive recall)" if c in fp else m
                             for c, m in zip(held["check"], held["measure"], strict=True)]
    done = held[held["verdict"].isin(["consistent", "outside"])]
    if len(done):
        display(tables.format_table(
            done[["check", "run", "shown_measure", "stratum", "published", "published_lower", "published_upper",
                  "published_basis", "model", "model_lower", "model_upper", "z", "verdict", "source"]],
            measure="shown_measure", columns={"shown_measure": "measure", "stratum": "stratum", "z": signed},
            headers={"shown_measure": "Measure", "published_basis": "Published interval from", "z": "z",
                     "source": "Source (citation key)"},
            intervals={"Published (95% interval)": ("published", "published_lower", "published_upper", "by_measure"),
                       "Model, best set (Wilson 95%)": ("model", "model_lower", "model_upper", "by_measure")},
            caption=f"Published figures the model was not fitted to ({women:,} women per run, seed {seed})"))
    todo = held[~held["verdict"].isin(["consistent", "outside"])]
    if len(todo):
        display(tables.format_table(
            todo[["check", "run", "published", "source", "verdict"]],
            columns={"published": "number"},
            headers={"published": "Published value", "source": "Source (citation key)",
                     "verdict": "Why not compared"},
            caption="Held-out figures not compared (yet)"))
    out = done[done["verdict"] == "outside"]
    misses = ", ".join(f"{c} (z {signed(z)})" for c, z in zip(out["check"], out["z"], strict=True))
    print(f"{int((done['verdict'] == 'consistent').sum())} of the {len(done)} held-out figures that could be compared"
          f" are consistent with the model (|z| ≤ 1.96, with a {MODEL_DISCREPANCY_RELATIVE_SD:.0%} model"
          f" discrepancy); {len(out)} {'is' if len(out) == 1 else 'are'} outside" + (f": {misses}" if len(out) else "")
          + f". {len(todo)} cannot be compared yet.")

# %% [markdown]
# ## What is, and is not, checked
#
# * **Used for calibration:** the programme figures in `data/targets/targets.csv` calibrate the
#   scenario they belong to (the table below gives the role of each; the BCSC cells are collapsed
#   to one row per measure), so a fit to those is not a validation.
# * **Held out:** the figures of the previous section; nothing tunes the model to them.
# * **Not calibrated against:** the 12.7–41.2% literature band (no denominator; shown for
#   comparison only); the odds ratios of notebook 2 (they are inputs, checked by the tests).
# * **Calibrated, but with an assumed target SD:** figures published without counts or an interval
#   get an assumed relative SD — an assumption that sets how tightly the model is held to them.
#
# Targets of a scenario that has no calibration file of its own are fitted by nothing; they are
# named under the table.

# %%
used = set(meta.get("targets", "").split())
t = load_targets()
t = t[t["kind"] != "band"].copy()
t["stratum"] = t["stratum"].fillna("").astype(str)
has_file = {sc: shipped_calibration_path(sc).is_file() for sc in t["scenario"].unique()}


def role(name: str, sc: str, kind: str) -> str:
    if kind == "check":
        return f"check of {sc} (shown, not fitted)"
    if sc == s.name:
        return "calibration target (this calibration)" if name in used else (
            "target of this scenario, not used by its calibration" if cal is not None else "no calibration yet")
    return f"target of {sc}" if has_file[sc] else f"target of {sc} (no calibration file: not fitted)"


t["role"] = [role(n, sc, k) for n, sc, k in zip(t["target"], t["scenario"], t["kind"], strict=True)]
flat_t = t[t["stratum"] == ""]
strat_t = t[t["stratum"] != ""].assign(target=lambda x: x["target"].str.rsplit("_", n=3).str[0] + "_*")
cells = pd.DataFrame([
    {**dict(zip(["target", "scenario", "measure", "kind", "source", "role"], key, strict=True)),
     "value": f"{len(g)} cells ({tables.stratum_label(g['stratum'].iloc[0]).split(', age')[0]}, by "
              + " × ".join(k.replace("_", " ") for k in parse_stratum(g["stratum"].iloc[0])
                           if k in ("age_group", "density")) + ")"}
    for key, g in strat_t.groupby(["target", "scenario", "measure", "kind", "source", "role"], sort=False)],
    columns=["target", "scenario", "measure", "kind", "source", "role", "value"])
listing = pd.concat([flat_t.assign(value=[tables.format_measure(m, v) for m, v in
                                          zip(flat_t["measure"], flat_t["value"], strict=True)]), cells])
display(tables.format_table(
    listing[["target", "scenario", "measure", "kind", "value", "source", "role"]],
    columns={"measure": "measure", "kind": KIND_TEXT.get},
    headers={"value": "Published value", "source": "Source (citation key)"},
    caption="Every programme figure in data/targets/targets.csv and its role here"))
orphans = t[t["scenario"].map(lambda x: not has_file[x])]
for sc, g in orphans.groupby("scenario", sort=False):
    print(f"{sc} has no calibration file of its own, so no calibration fits its targets "
          + ", ".join(f"`{n}`" for n in g["target"])
          + f"; `calcsim fit --scenario {sc}` shows them against the calibration it inherits.")
