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
# # 9 · Lab: lead-time and length bias
#
# Survival from diagnosis looks better for screen-detected cancers than for cancers that surface
# clinically. Is that screening at work, and would the gap be there **if screening changed nothing**? In
# real data you cannot tell how much of the gap is real, because you never see what would have happened
# without screening. The simulator does: it follows the same women twice over their lifetime (to age 100),
# once with the scenario's screening programme and once without it, with the same random numbers (the same
# tumours, growth, other-cause deaths and the same draw of whether a cancer is fatal). So for every cancer
# we know when its preclinical phase began, when it would have surfaced without screening, and whether and
# when the woman would have died of it.
#
# Each exercise has a cell marked `# YOUR CODE HERE` for you, followed (in the instructor's edition) by a **worked answer** (folded under
# *Worked answer*; the answer cells are collapsed in JupyterLab). The notebook runs top to bottom with your
# placeholders left as `None`.
#
# The data: `reg`, one row per woman with a cancer diagnosed (`cancer_register`). All ages and durations
# are in years; an empty value (NaN) means the event does not happen. The columns used here:
#
# | column | meaning |
# |---|---|
# | `mode_screened` | how the cancer was diagnosed with screening: `screen-detected`; `interval` (surfaced within one programme interval after a screen); `clinical` (surfaced outside the programme: before it, never screened, after missed rounds, or after its last interval) |
# | `diagnosis_age_screened`, `type_screened`, `diameter_mm_screened` | age, DCIS/invasive and invasive diameter (mm) at diagnosis with screening |
# | `onset_age` | onset of the preclinical, screen-detectable phase (the DCIS phase, if the tumour has one) |
# | `surfacing_age` | when the tumour would surface clinically without screening (it may lie after her death; NaN: never, for a DCIS that does not progress) |
# | `diagnosis_age_unscreened` | diagnosis without screening: `surfacing_age` if she is still alive then, else NaN |
# | `sojourn_years` | `surfacing_age − onset_age`: how long the tumour is preclinical and screen-detectable |
# | `lead_time_years` | `surfacing_age − diagnosis_age_screened` (0 for interval and clinical cancers) |
# | `overdiagnosed` | screen-detected, and never diagnosed in her lifetime without screening |
# | `bc_death_age_screened`, `bc_death_age_unscreened` | breast-cancer death in each world (NaN: none) |
# | `followup_end_age` | other-cause death or age 100, whichever comes first (where follow-up ends for a woman not dying of breast cancer) |
#
# Breast-cancer survival here is the Kaplan–Meier probability of not dying of breast cancer, with
# other-cause death and age 100 as censoring: `survival_times(reg, world=..., origin=...)` gives each
# cancer's time and event, `km_survival(years, died, at)` the survival at given times with a 95% interval.

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"

# %%
import numpy as np
import pandas as pd
from IPython.display import display
from matplotlib.ticker import FuncFormatter

from analysis import load_scenario
from analysis.figures import tables
from analysis.figures.style import PALETTE, calcsim_style, left_title, new_figure
from analysis.model.simulation import build_model
from analysis.teach.lab_bias import MODES, cancer_register, km_curve, km_survival, survival_by_group, survival_times

s = load_scenario(scenario)
model = build_model(s)
reg = cancer_register(s, women, seed, model=model)
reg_nb = cancer_register(s, women, seed, no_benefit=True, model=model)
a = reg.attrs
print(f"{s.name}: {women:,} women, seed {seed}; screening every {a['interval_years']:g} years from "
      f"{a['start_age_years']:g} to {a['stop_age_years']:g}; {len(reg):,} women with a cancer diagnosed "
      f"(with screening), followed to age {a['horizon_age_years']:g}.")

COLOURS = {"screen-detected": PALETTE["blue"], "interval": PALETTE["orange"], "clinical": PALETTE["grey"],
           "all cancers without screening": PALETTE["black"]}
LABEL = {"screen-detected": "Screen-detected", "interval": "Interval", "clinical": "Clinical, outside the programme",
         "all": "All cancers"}


def share(x: pd.Series) -> float:
    """Mean of a yes/no column (NaN for an empty group)."""
    return float(x.mean()) if len(x) else float("nan")


def pct(x: float, digits: int = 1) -> str:
    """A proportion in %, or 'not estimable'."""
    return f"{100 * x:.{digits}f}%" if np.isfinite(x) else "not estimable"


by = reg.groupby("mode_screened", observed=False)
cancers = pd.DataFrame({"cancers": by.size(), "age": by["diagnosis_age_screened"].median()}).reset_index()
cancers["mode_screened"] = cancers["mode_screened"].map(LABEL)
display(tables.format_table(
    cancers, headers={"mode_screened": "Mode of diagnosis (with screening)", "cancers": "Cancers",
                      "age": "Median age at diagnosis (years)"},
    caption=f"{s.description}: the cancers of {women:,} women by how they were diagnosed"))

# %% [markdown]
# ## Step 1 — survival from diagnosis looks better for screen-detected cancers
#
# This is what a cancer registry or a hospital audit sees: survival counted from the date of diagnosis,
# by how the cancer was found. "Clinical" cancers include those of women too young or too old for the
# programme, so compare screen-detected with **interval** cancers, which come from the same screened women
# at the same ages.

# %%
AT = (5.0, 10.0)


def survival_table(r: pd.DataFrame, origin: str = "diagnosis") -> pd.DataFrame:
    """5- and 10-year breast-cancer survival by mode of diagnosis."""
    t = survival_by_group(r, AT, origin=origin)
    t["mode_screened"] = t["mode_screened"].map(LABEL)
    return t


def show_survival(t: pd.DataFrame, caption: str, start: str = "diagnosis", counts=("cancers", "deaths")) -> None:
    """A survival table as people read it (``counts``: which of the count columns to show)."""
    display(tables.format_table(
        t[["mode_screened", *counts, "survival_5y", "lower_5y", "upper_5y", "survival_10y", "lower_10y",
           "upper_10y"]],
        headers={"mode_screened": "Mode of diagnosis", "cancers": "Cancers", "deaths": "Breast-cancer deaths"},
        intervals={f"5-year survival from {start}, % (95% CI)": ("survival_5y", "lower_5y", "upper_5y"),
                   f"10-year survival from {start}, % (95% CI)": ("survival_10y", "lower_10y", "upper_10y")},
        caption=caption))


def gap(t: pd.DataFrame, years: float = 10.0) -> float:
    """Screen-detected minus interval survival at ``years`` (a difference of proportions)."""
    col = t.set_index("mode_screened")[f"survival_{years:g}y"]
    return float(col[LABEL["screen-detected"]] - col[LABEL["interval"]])


def gap_sentence(t: pd.DataFrame, where: str) -> str:
    """A sentence stating the 10-year gap and its direction, from the numbers of ``t``."""
    g = gap(t)
    col = t.set_index("mode_screened")["survival_10y"]
    if not np.isfinite(g):
        return f"{where}: the 10-year survival of one of the groups cannot be estimated at this cohort size."
    word = "better" if g > 0 else "worse" if g < 0 else "the same"
    return (f"{where}: 10-year breast-cancer survival is {pct(col[LABEL['screen-detected']])} for screen-detected "
            f"and {pct(col[LABEL['interval']])} for interval cancers, so screen-detected cancers look {word} "
            f"({100 * g:+.1f} percentage points).")


def correction_sentence(g0: float, g1: float, where: str) -> str:
    """How much of the gap from diagnosis (``g0``) the would-be-diagnosis origin removes (gap ``g1``)."""
    if not (np.isfinite(g0) and np.isfinite(g1)) or g0 <= 0:
        return f"{where}: there is no positive gap from diagnosis to correct at this cohort size."
    if g1 <= 0:
        how = "all of it" + (" and reverses it" if g1 < 0 else "")
    else:
        how = f"{(g0 - g1) / g0:.0%} of it" if g1 < g0 else "none of it"
    return (f"{where}: starting the clock at the would-be diagnosis moves the 10-year gap from {100 * g0:+.1f} to "
            f"{100 * g1:+.1f} percentage points; it removes {how}.")


def km_panel(ax, r: pd.DataFrame, origin: str, title: str, modes=MODES, counts: bool = True) -> None:
    """Kaplan-Meier curves of breast-cancer survival by mode, over 20 years (``counts``: cancers in the legend)."""
    t = survival_times(r, origin=origin)
    low = 100.0
    for m in modes:
        sel = (r["mode_screened"] == m).to_numpy() & t["years"].notna().to_numpy()
        if sel.sum() == 0:
            continue
        x, y = km_curve(t["years"][sel], t["died"][sel])
        ax.step(x, 100 * y, where="post", color=COLOURS[m], lw=1.8, label=f"{LABEL[m]} ({int(sel.sum()):,})" if counts else LABEL[m])
        low = min(low, 100 * float(y[x <= 20].min()))
    ax.set_xlim(0, 20)
    ax.set_ylim(min(ax.get_ylim()[0], 10 * np.floor(low / 10 - 0.5)), 101)
    ax.set_xlabel(f"Years since {'diagnosis' if origin == 'diagnosis' else 'would-be clinical diagnosis'}")
    ax.set_ylabel("Breast-cancer survival (%)")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(loc="lower left", fontsize=8)


naive = survival_table(reg)
show_survival(naive, f"Breast-cancer survival from diagnosis, with screening ({s.name})", counts=("cancers",))
print(gap_sentence(naive, "From diagnosis"))

# %% [markdown]
# ## Exercise 1 — what else differs between the groups?
#
# (a) For screen-detected and interval cancers, compute the median invasive diameter at diagnosis
# (`diameter_mm_screened`), the share that are DCIS (`type_screened`) and the share overdiagnosed.
# (b) *Free text:* a hospital reports the survival gap above as proof that screening saves lives. Name three
# reasons, other than screening curing women who would otherwise have died, why screen-detected cancers
# would show better survival from diagnosis.

# %%
# YOUR CODE HERE
median_size = None  # median invasive diameter (mm) by mode
dcis_share = None  # share of DCIS by mode

# %% [markdown]
# *Your answer to (b) here.*
#
# <details><summary><b>Worked answer</b></summary>
#
# (a) Screen-detected cancers are smaller at diagnosis and include DCIS, which never surfaces clinically in
# this model, and overdiagnosed cancers (the worked answer prints the numbers). In this model the smaller
# size is a *real* advantage: lethality depends on the diameter at diagnosis, so finding a tumour smaller
# can cure it.
#
# (b) Three reasons the gap would appear even without any cure:
#
# 1. **Lead time** — the clock starts earlier. A woman diagnosed by screening at 60 who dies at 70 "survives"
#    10 years; the same woman diagnosed when her tumour surfaces at 64 survives 6. Nothing changed but the
#    start of the clock.
# 2. **Length bias** — a screen catches the tumours that stay preclinical for a long time (slow growers),
#    because they sit in the detectable window longer; the fast ones surface between screens as interval
#    cancers. If slow tumours are also less deadly, screen-detected cancers have better prognosis by
#    selection.
# 3. **Overdiagnosis** — the extreme of length bias: cancers (and DCIS) that would never have surfaced in the
#    woman's lifetime. They never kill, and they all count as screen-detected survivors.
#
# (Outside the model one would add healthy-screenee selection: women who attend screening are healthier.)
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
def by_mode(r: pd.DataFrame) -> pd.DataFrame:
    """Cancers by mode of diagnosis: counts, age, DCIS share, invasive size."""
    g = r.groupby("mode_screened", observed=False)
    out = pd.DataFrame({
        "cancers": g.size(),
        "age": g["diagnosis_age_screened"].median(),
        "dcis": g["type_screened"].apply(lambda t: share(t == "DCIS")),
        "size": g["diameter_mm_screened"].median(),
        "over": g["overdiagnosed"].apply(share),
    }).reset_index()
    out["mode_screened"] = out["mode_screened"].map(LABEL)
    return out


display(tables.format_table(
    by_mode(reg), columns={"dcis": "percent", "over": "percent"},
    headers={"mode_screened": "Mode of diagnosis (with screening)", "cancers": "Cancers",
             "age": "Median age at diagnosis (years)", "dcis": "DCIS (% of cancers)",
             "size": "Median invasive diameter at diagnosis (mm)", "over": "Overdiagnosed (% of cancers)"},
    caption=f"{s.description}: the cancers of {women:,} women by how they were diagnosed"))
two = reg[reg["mode_screened"].isin(["screen-detected", "interval"])]
g = two.groupby("mode_screened", observed=True)
median_size = g["diameter_mm_screened"].median()
dcis_share = g["type_screened"].apply(lambda t: share(t == "DCIS"))
over_share = g["overdiagnosed"].apply(share)
for m in median_size.index:
    print(f"{LABEL[m]:16s}: median invasive diameter {median_size[m]:.1f} mm, DCIS {pct(dcis_share[m])}, "
          f"overdiagnosed {pct(over_share[m])}")

# %% [markdown]
# ## Step 2 — lead time
#
# With the truth, each screen-detected cancer's **lead time** is known: the time from its screen detection
# to the age at which it would have surfaced without screening (`surfacing_age − diagnosis_age_screened`).
#
# ## Exercise 2 — measure the lead time
#
# For the screen-detected cancers that would have surfaced (the tumours with a `surfacing_age`), compute
# the lead time yourself from `surfacing_age` and `diagnosis_age_screened`; give its mean, median and the
# share longer than 10 years. Check against `lead_time_years`. How many screen-detected cancers would
# never have surfaced at all, and how many would have surfaced only after the woman's death?

# %%
# YOUR CODE HERE
lead_time = None  # one value per screen-detected cancer that has a surfacing age
mean_lead_time = None

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# Report the mean and the median (printed by the worked answer): the slow-growing tail of the growth model
# (a few tumours stay preclinical for decades, docs/model.md §10.4) pulls the mean up. A lead time of
# several years is enough, on its own, to move deaths from "within 10 years of diagnosis" to "after 10
# years". DCIS that never progresses has no surfacing age and so no finite lead
# time; cancers that would surface only after the woman's other-cause death are overdiagnosed.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
sd = reg[reg["mode_screened"] == "screen-detected"]
has = sd[sd["surfacing_age"].notna()]
lead_time = has["surfacing_age"] - has["diagnosis_age_screened"]
mean_lead_time = float(lead_time.mean()) if len(lead_time) else float("nan")
assert np.allclose(lead_time, has["lead_time_years"])
print(f"{len(lead_time):,} screen-detected cancers with a surfacing age: lead time mean {mean_lead_time:.1f} years, "
      f"median {lead_time.median():.1f} years (the mean is "
      f"{'above' if mean_lead_time > lead_time.median() else 'not above'} the median); "
      f"{pct(share(lead_time > 10))} longer than 10 years.")
after_death = int((has["diagnosis_age_unscreened"].isna()).sum())
print(f"{int(sd['surfacing_age'].isna().sum()):,} never surface (non-progressive DCIS); {after_death:,} would surface "
      f"only after her death or age {a['horizon_age_years']:g}: {int(sd['overdiagnosed'].sum()):,} overdiagnosed "
      f"of {len(sd):,} screen-detected.")

# %% [markdown]
# ### Survival from the would-be clinical diagnosis
#
# Start every cancer's clock at the age it would have been diagnosed **without** screening
# (`survival_times(reg, origin="surfacing")`): for interval and clinical cancers that is their diagnosis;
# a screen-detected cancer starts when it would have surfaced; an overdiagnosed cancer has no such date and
# drops out. Lead time is then gone from the comparison.

# %%
corrected = survival_table(reg, origin="surfacing")
show_survival(corrected, "Breast-cancer survival from the would-be clinical diagnosis, with screening",
              start="would-be diagnosis", counts=())
print(gap_sentence(naive, "From diagnosis"))
print(gap_sentence(corrected, "From the would-be clinical diagnosis"))
print(correction_sentence(gap(naive), gap(corrected), "With screening as the scenario has it"))

with calcsim_style():
    fig = new_figure((9.5, 3.8))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    km_panel(ax1, reg, "diagnosis", "From diagnosis")
    km_panel(ax2, reg, "surfacing", "From the would-be clinical diagnosis", counts=False)
    left_title(fig, f"Breast-cancer survival by mode of diagnosis, with screening ({s.name}, {women:,} women)")
fig

# %% [markdown]
# ## Exercise 3 — what is left of the gap?
#
# With the scenario's own survival model screening does cure some women: a tumour found smaller is less
# often fatal (docs/model.md §11.2). Among the screen-detected cancers that would have surfaced in the
# woman's lifetime, compute the share that would have been fatal without screening
# (`bc_death_age_unscreened`) and the share fatal with screening (`bc_death_age_screened`); do the same for
# interval cancers. Which part of the gap that remains after the lead-time correction do these numbers
# explain?

# %%
# YOUR CODE HERE
fatal_without = None  # share of screen-detected cancers (that would surface) fatal without screening
fatal_with = None  # ... and with screening

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# The difference between the two shares is the **real benefit**: women whose cancer would have killed them
# and whom earlier detection cured. Interval cancers are diagnosed at the same age and size in both worlds,
# so their fate does not change. What is left of the gap after the lead-time correction is this cure effect
# together with any difference in intrinsic lethality between the two groups (Exercise 4 looks at it). The
# worked answer prints the shares and the deaths averted among the screen-detected.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
surfaces = reg["diagnosis_age_unscreened"].notna()
for m in ("screen-detected", "interval"):
    grp = reg[(reg["mode_screened"] == m) & surfaces]
    without, with_ = share(grp["bc_death_age_unscreened"].notna()), share(grp["bc_death_age_screened"].notna())
    if m == "screen-detected":
        fatal_without, fatal_with = without, with_
    print(f"{LABEL[m]:16s} ({len(grp):,} that would surface): fatal without screening {pct(without)}, "
          f"with screening {pct(with_)}")
fatal = lambda r, w: int(r[f"bc_death_age_{w}"].notna().sum())  # noqa: E731
averted = fatal(reg, "unscreened") - fatal(reg, "screened")
sd_all = reg[reg["mode_screened"] == "screen-detected"]
averted_sd = fatal(sd_all, "unscreened") - fatal(sd_all, "screened")
print(f"Deaths averted in the whole cohort: {averted:,}, of which {averted_sd:,} among screen-detected cancers.")

# %% [markdown]
# ## Step 3 — length bias
#
# Which tumours does a screen catch? A tumour can be found only while it is preclinical, so a tumour that
# stays preclinical for ten years meets about five biennial screens, one that stays preclinical for a year
# at most one. The figure compares the **sojourn time** (onset of the preclinical phase to clinical
# surfacing) of screen-detected and interval cancers with that of all the cohort's cancers as they would
# surface without screening (DCIS that never progresses has no sojourn and is left out).

# %%
soj = {
    "screen-detected": reg.loc[reg["mode_screened"] == "screen-detected", "sojourn_years"].dropna(),
    "interval": reg.loc[reg["mode_screened"] == "interval", "sojourn_years"].dropna(),
    "all cancers without screening": reg.loc[reg["diagnosis_age_unscreened"].notna(), "sojourn_years"],
}
rows = [{"group": k, "q1": v.quantile(0.25), "median": v.median(), "q3": v.quantile(0.75),
         "slow": share(v > 10)} for k, v in soj.items()]
table = pd.DataFrame(rows)
table["group"] = table["group"].map(lambda k: LABEL.get(k, k.capitalize()))
one = lambda v: f"{v:.1f}"  # noqa: E731
display(tables.format_table(
    table, columns={"slow": "percent", "q1": one, "median": one, "q3": one},
    headers={"group": "Cancers", "q1": "Sojourn, 25th percentile (years)",
             "median": "Sojourn, median (years)", "q3": "Sojourn, 75th percentile (years)",
             "slow": "Sojourn over 10 years (% of cancers)"},
    caption="Preclinical sojourn time by group"))

with calcsim_style():
    fig = new_figure((7.0, 4.0))
    ax = fig.add_subplot()
    for k, v in soj.items():
        if len(v):
            x = np.sort(v.to_numpy())
            ax.step(x, 100 * np.arange(1, x.size + 1) / x.size, where="post", color=COLOURS[k], lw=1.8,
                    label=LABEL.get(k, k.capitalize()))
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlim(0.1, 200)
    ax.set_xlabel("Preclinical sojourn time (years, log scale)")
    ax.set_ylabel("Cancers with a shorter sojourn (%)")
    ax.legend(loc="upper left", fontsize=8)
    left_title(fig, f"Preclinical sojourn time by group ({s.name}, {women:,} women)")
fig

# %% [markdown]
# ## Exercise 4 — test it, then ask what it does to survival here
#
# (a) Compute the mean sojourn of screen-detected and of interval cancers with their standard errors, and a
# z statistic for the difference. Why is the median a better summary here than the mean?
# (b) A tumour's lethality in this model depends on its **size at diagnosis** (docs/model.md §11.2), not on
# how fast it grows. Compare the median diameter at which the tumour would surface (`clinical_diameter_mm`)
# and the share that would be fatal without screening (`bc_death_age_unscreened`, among cancers that would
# surface) for screen-detected and interval cancers. Does length bias make screen-detected cancers
# intrinsically less lethal in this model? Would you expect the same in real patients?

# %%
# YOUR CODE HERE
z = None  # (mean sojourn screen-detected - mean sojourn interval) / its standard error

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# (a) The difference is many standard errors (the worked answer prints z). The sojourn distribution has a
# very long right tail (one drawn doubling time per tumour, docs/model.md §10.4, and the tumour's onset is
# computed backward from its surfacing, so a very slow tumour can have begun decades earlier), so the mean
# is dominated by a few extreme tumours: the median and quartiles describe the groups better.
#
# (b) In this model lethality depends only on the size at diagnosis, and the sojourn is the doubling time
# times the number of doublings to the clinical size, so a long sojourn does not mean a less lethal tumour;
# if anything a tumour with more doublings to go surfaces a little larger. The worked answer prints, for the
# two groups, the size at which they would surface and the share that would be fatal without screening, and
# says which group is the more lethal at this cohort size. Length bias therefore flatters the survival of
# screen-detected cancers here mainly through **overdiagnosis** (its far tail: tumours that never surface in
# the woman's lifetime and never kill). In real patients slow growth goes with low grade and a better
# prognosis, so length bias would flatter screen-detected survival further; the model does not represent
# that link.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
x, y = soj["screen-detected"], soj["interval"]
if len(x) > 1 and len(y) > 1:
    se = np.sqrt(x.var() / len(x) + y.var() / len(y))
    z = float((x.mean() - y.mean()) / se)
    print(f"Mean sojourn: screen-detected {x.mean():.1f} years (SE {x.std() / np.sqrt(len(x)):.1f}), interval "
          f"{y.mean():.1f} years (SE {y.std() / np.sqrt(len(y)):.1f}); z = {z:.1f}. Medians {x.median():.1f} and "
          f"{y.median():.1f} years.")
lethal, var = {}, {}
for m in ("screen-detected", "interval"):
    grp = reg[(reg["mode_screened"] == m) & reg["diagnosis_age_unscreened"].notna()]
    lethal[m] = share(grp["bc_death_age_unscreened"].notna())
    var[m] = lethal[m] * (1 - lethal[m]) / max(len(grp), 1)
    print(f"{LABEL[m]:16s}: would surface at a median {grp['clinical_diameter_mm'].median():.1f} mm; fatal without "
          f"screening {pct(lethal[m])}")
d, se_d = lethal["screen-detected"] - lethal["interval"], np.sqrt(var["screen-detected"] + var["interval"])
if np.isfinite(d):
    if abs(d) <= 1.96 * se_d:
        verdict = "no clear difference at this cohort size"
    else:
        verdict = "screen-detected tumours " + ("more" if d > 0 else "less") + " often fatal"
    less = verdict.endswith("less often fatal")
    print(f"Fatal without screening, screen-detected minus interval: {100 * d:+.1f} percentage points (95% CI "
          f"{100 * (d - 1.96 * se_d):+.1f} to {100 * (d + 1.96 * se_d):+.1f}): {verdict}; length bias "
          f"{'selects less lethal tumours here' if less else 'shows no sign here of selecting less lethal tumours'}.")

# %% [markdown]
# ## Step 4 — even when screening changes nothing
#
# Now take away every real benefit. In the **no-benefit world** (`cancer_register(..., no_benefit=True)`, a
# teaching device) each woman's breast-cancer fate is the one she has without screening: screening still
# finds cancers earlier, smaller, and overdiagnoses some, but it cures nobody. Exercise 5 asks what that
# does to breast-cancer deaths and to survival from diagnosis.

# %% [markdown]
# ## Exercise 5 — the whole point
#
# (a) Check it woman by woman: in `reg_nb`, are the women who die of breast cancer, and their ages at death,
# the same in both worlds? Compute the deaths averted, and the 5- and 10-year survival gap between
# screen-detected and interval cancers from diagnosis (use `survival_times` and `km_survival`).
# (b) *Free text:* in three or four sentences for a hospital board, explain why a better 5- or 10-year
# survival of screen-detected cancers is no evidence that screening works, and which measure would be.

# %%
# YOUR CODE HERE
same_deaths = None  # True if the breast-cancer deaths (who and when) are identical in both worlds
deaths_averted = None
survival_gap = None  # 10-year survival, screen-detected minus interval, from diagnosis

# %% [markdown]
# *Your answer to (b) here.*
#
# <details><summary><b>Worked answer</b></summary>
#
# (a) The same women die of breast cancer at the same ages with and without screening, so no death is
# averted; the worked answer prints the 5- and 10-year survival gaps from diagnosis between screen-detected
# and interval cancers, which are not zero.
#
# (b) Survival from diagnosis starts the clock at diagnosis, and screening moves diagnosis earlier (lead time)
# and adds cancers that would never have harmed the woman (overdiagnosis, the extreme of length bias), so
# screen-detected patients "survive" longer even when not one of them lives a day longer. The gap appears
# even in a world where screening cures nobody. Evidence that screening works has to compare **breast-cancer
# mortality in whole populations** offered screening or not (deaths per 1,000 women invited, as in a
# randomised trial), which neither lead time nor overdiagnosis can inflate; comparing survival from a
# would-be diagnosis helps in a simulation, but in real data that date is unknown.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
s_age, u_age = reg_nb["bc_death_age_screened"], reg_nb["bc_death_age_unscreened"]
same_deaths = bool(s_age.notna().equals(u_age.notna()) and np.array_equal(s_age.dropna(), u_age.dropna()))
deaths_averted = int(u_age.notna().sum() - s_age.notna().sum())
times = survival_times(reg_nb, origin="diagnosis")
km = {m: km_survival(times["years"][reg_nb["mode_screened"] == m], times["died"][reg_nb["mode_screened"] == m], AT)
      for m in ("screen-detected", "interval")}
gaps = km["screen-detected"]["survival"] - km["interval"]["survival"]
survival_gap = float(gaps.iloc[1])
print(f"Same breast-cancer deaths in both worlds: {same_deaths}; deaths averted: {deaths_averted}.")
print("Survival gap, screen-detected minus interval, from diagnosis: "
      + ", ".join(f"{t:g} years {100 * g:+.1f} percentage points" for t, g in zip(AT, gaps, strict=True)) + ".")

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer, checked: the deaths of both worlds, the survival tables and the curves of the no-benefit world
def deaths(r: pd.DataFrame) -> dict[str, float]:
    """Breast-cancer deaths in both worlds, per 1,000 women."""
    u, w = int(r["bc_death_age_unscreened"].notna().sum()), int(r["bc_death_age_screened"].notna().sum())
    return {"unscreened": u, "screened": w, "averted": u - w, "per_1000": 1000 * (u - w) / women}


mort = pd.DataFrame([{"world": "Scenario's survival model (screening can cure)", **deaths(reg)},
                     {"world": "No-benefit world (screening cures nobody)", **deaths(reg_nb)}])
display(tables.format_table(
    mort, columns={"per_1000": "fixed"},
    headers={"world": "Screened world", "unscreened": "Breast-cancer deaths without screening",
             "screened": "Breast-cancer deaths with screening", "averted": "Deaths averted",
             "per_1000": "Deaths averted per 1,000 women"},
    caption=f"Breast-cancer deaths of the same {women:,} women over their lifetime"))
nb = deaths(reg_nb)
print(f"No-benefit world: {nb['screened']:,} breast-cancer deaths with screening and {nb['unscreened']:,} without, "
      f"{'exactly the same' if nb['averted'] == 0 else 'not the same'} ({nb['averted']:,} averted).")

naive_nb, corrected_nb = survival_table(reg_nb), survival_table(reg_nb, origin="surfacing")
show_survival(naive_nb, "No-benefit world: breast-cancer survival from diagnosis")
show_survival(corrected_nb, "No-benefit world: survival from the would-be clinical diagnosis",
              start="would-be diagnosis")
print(gap_sentence(naive_nb, "No-benefit world, from diagnosis"))
print(gap_sentence(corrected_nb, "No-benefit world, from the would-be clinical diagnosis"))
print(correction_sentence(gap(naive_nb), gap(corrected_nb), "No-benefit world"))

with calcsim_style():
    fig = new_figure((9.5, 3.8))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    km_panel(ax1, reg_nb, "diagnosis", "From diagnosis")
    km_panel(ax2, reg_nb, "surfacing", "From the would-be clinical diagnosis")
    look = "longer" if gap(naive_nb) > 0 else "no longer" if np.isfinite(gap(naive_nb)) else "?"
    left_title(fig, "No-benefit world: screening cures nobody, yet screen-detected cancers "
                    f"'survive' {look} from diagnosis")
fig

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer, summed up: the 10-year survival gap between screen-detected and interval cancers, in the
# scenario's world (where screening cures some women) and in the no-benefit world, measured from diagnosis
# and from the would-be clinical diagnosis; and the deaths averted, the only one of these numbers that
# measures benefit.
summary = pd.DataFrame([
    {"world": "Scenario's survival model", "naive": gap(naive), "corrected": gap(corrected),
     "averted": deaths(reg)["per_1000"]},
    {"world": "No-benefit world", "naive": gap(naive_nb), "corrected": gap(corrected_nb),
     "averted": deaths(reg_nb)["per_1000"]},
])
display(tables.format_table(
    summary, columns={"naive": "pp", "corrected": "pp", "averted": "fixed"},
    headers={"world": "Screened world",
             "naive": "10-year survival gap from diagnosis (percentage points)",
             "corrected": "10-year survival gap from the would-be diagnosis (percentage points)",
             "averted": "Breast-cancer deaths averted per 1,000 women"},
    caption="Screen-detected minus interval cancers"))
if np.isfinite(gap(naive_nb)):
    verdict = ("is all bias: lead time and length bias, overdiagnosis included" if gap(naive_nb) > 0
               else "does not appear")
    print(f"Without any benefit the gap from diagnosis is {100 * gap(naive_nb):+.1f} percentage points while "
          f"{deaths(reg_nb)['averted']:,} deaths are averted: the survival gap {verdict}.")
