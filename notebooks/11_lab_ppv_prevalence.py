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
# # 11 · Lab: the same readers, two cohorts — PPV and prevalence
#
# Two cohorts are screened by the **same programme with the same readers**: every reading and
# work-up parameter is identical, only the women's risk of breast cancer differs. You compute
# sensitivity, specificity, the prevalence of cancer at screening and the positive predictive value
# (PPV) of a recall in each, and check Bayes' formula against the counts.
#
# **The known truth.** A register knows who was recalled and what the work-up found; it never knows
# which screens had a cancer in the breast that nobody saw. The simulator does (`cancer_present`), so
# this lab defines, for every screen:
#
# * **test positive** — the woman was recalled (`recalled`);
# * **with cancer** — a cancer (DCIS or invasive) was present in the breast at that screen
#   (`cancer_present`), however small; otherwise **without cancer**.
#
# Then sensitivity = recalled screens with cancer / screens with cancer, specificity = screens
# without recall among screens without cancer, prevalence = screens with cancer / screens, and PPV =
# screens with cancer among recalled screens. Exercise 5 compares these with the definition a
# register has to use.
#
# **The two cohorts** (a teaching construction). The *higher-risk* cohort is the scenario as it is
# (its calibrated cancer incidence). The *lower-risk* cohort is the same scenario with the population
# incidence (`cancer.incidence_scale`) divided by the scenario's relative risk for women with two or
# more affected first-degree relatives (`cancer.family_history_rr_2plus`, with its source printed
# below): the higher-risk cohort's women have that relative risk against the lower-risk cohort's. The
# division goes downwards so that the higher-risk cohort is the scenario as calibrated. BRCA carriers keep their own penetrance table (it is not scaled), and the two cohorts are
# independent draws (seeds `seed` and `seed + 1`).
#
# Each exercise has a cell marked `# YOUR CODE HERE`, followed (in the instructor's edition) by a **worked answer** (collapsed in
# JupyterLab; its explanation is folded under *Worked answer*). The notebook runs top to bottom as it
# is, so your placeholders may stay `None`.

# %% tags=["parameters"]
women = 20_000
seed = 2026
scenario = "nl-biennial"

# %%
from fractions import Fraction

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from statsmodels.stats.proportion import proportion_confint

from analysis import load_scenario, simulate
from analysis.figures import tables
from analysis.teach import labs

# %%
base = load_scenario(scenario)
ratio = base.cancer.family_history_rr_2plus
source = base.provenance["cancer.family_history_rr_2plus"].source or "no source"
lower_risk = base.replace({"cancer.incidence_scale": base.cancer.incidence_scale / ratio})
same_reading = all(v == lower_risk.values()[k] for k, v in base.values().items()
                   if k.split(".")[0] in ("reading", "workup", "programme"))
runs = {
    "higher risk": simulate(base, women=women, seed=seed, keep_screens=True),
    "lower risk": simulate(lower_risk, women=women, seed=seed + 1, keep_screens=True),
}
cohorts = {label: r.screens for label, r in runs.items()}
screens_high, screens_low = cohorts["higher risk"], cohorts["lower risk"]
print(f"{scenario}: risk ratio {ratio:g} (cancer.family_history_rr_2plus, source {source}); incidence scale "
      f"{base.cancer.incidence_scale:.3f} (higher risk) and {lower_risk.cancer.incidence_scale:.3f} (lower risk)")
print(f"reading, work-up and programme parameters identical in the two cohorts: {'yes' if same_reading else 'NO'}")
display(tables.format_table(
    pd.DataFrame([{"cohort": label, "women screened": s["woman"].nunique(), "screens": len(s),
                   "cancer.incidence_scale": sc.cancer.incidence_scale}
                  for (label, s), sc in zip(cohorts.items(), (base, lower_risk), strict=True)]),
    columns={"cohort": "text", "women screened": "count", "screens": "count", "cancer.incidence_scale": "number"},
    caption=f"The two cohorts ({women:,} women simulated each)"))

# The same programme in both cohorts: screens by age at screening.
bands = list(range(50, 80, 5))
fig, ax = plt.subplots(figsize=(7.0, 3.4))
for i, (label, s) in enumerate(cohorts.items()):
    per_band = pd.cut(s["age_years"], bands, right=False).value_counts(sort=False)
    ax.bar([b + 1.25 + 2.5 * i for b in bands[:-1]], per_band.to_numpy(), width=2.5,
           color=["#0072B2", "#D55E00"][i], label=label)
ax.set_xticks(bands)
ax.set_xlabel("age at screening (years, 5-year bands)")
ax.set_ylabel("screens")
ax.legend(fontsize=8)
ax.set_title(f"Screens by age in the two cohorts ({women:,} women each)", loc="left", fontweight="bold")
plt.show()

# %% [markdown]
# ## Exercise 1 — the 2 × 2 table
#
# For each cohort count the four cells: recalled with cancer (true positives, `tp`), recalled
# without cancer (`fp`), not recalled with cancer (`fn`), not recalled without cancer (`tn`). Check
# that they add up to the number of screens.

# %%
# YOUR CODE HERE
counts_high = None  # {"tp": ..., "fp": ..., "fn": ..., "tn": ...} for screens_high
counts_low = None  # the same for screens_low

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# Cross `recalled` with `cancer_present`: `tp = recalled & cancer_present`, `fp = recalled &
# ~cancer_present`, `fn = ~recalled & cancer_present`, `tn = ~recalled & ~cancer_present`. Every screen
# falls in exactly one cell.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
def two_by_two(s: pd.DataFrame) -> dict[str, int]:
    d, t = s["cancer_present"], s["recalled"]
    return {"tp": int((t & d).sum()), "fp": int((t & ~d).sum()), "fn": int((~t & d).sum()), "tn": int((~t & ~d).sum())}


counts_high, counts_low = two_by_two(screens_high), two_by_two(screens_low)
for label, c, s in (("higher risk", counts_high, screens_high), ("lower risk", counts_low, screens_low)):
    print(f"{label}: {c}; sum {sum(c.values()):,} = {len(s):,} screens: {sum(c.values()) == len(s)}")

# %% [markdown]
# ## Exercise 2 — sensitivity, specificity, prevalence and PPV
#
# From your counts, compute the four proportions for each cohort, each with its Wilson 95% interval
# (`proportion_confint(k, n, method="wilson")`). Which of them differ between the cohorts?

# %%
# YOUR CODE HERE
sensitivity_high = specificity_high = prevalence_high = ppv_high = None
sensitivity_low = specificity_low = prevalence_low = ppv_low = None

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# sensitivity = tp / (tp + fn), specificity = tn / (tn + fp), prevalence = (tp + fn) / n, PPV = tp /
# (tp + fp). Sensitivity and specificity are conditional on the truth (they look only at screens with,
# or only at screens without, cancer), so they describe the readers and the tumours; the two cohorts
# share the readers and the tumour biology by construction, so their estimates should differ by
# little more than chance (the check below tests it). Prevalence differs by construction, and PPV
# with it.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
def four(c: dict[str, int]) -> dict[str, tuple[int, int]]:
    n = sum(c.values())
    return {"sensitivity": (c["tp"], c["tp"] + c["fn"]), "specificity": (c["tn"], c["tn"] + c["fp"]),
            "prevalence": (c["tp"] + c["fn"], n), "ppv": (c["tp"], c["tp"] + c["fp"])}


for label, c in (("higher risk", counts_high), ("lower risk", counts_low)):
    for name, (k, n) in four(c).items():
        lo, hi = proportion_confint(k, max(n, 1), method="wilson")
        print(f"{label:11s} {name:11s}: {k:,} / {n:,} = {k / max(n, 1):.2%} (Wilson 95% {lo:.2%}–{hi:.2%})")
sensitivity_high, specificity_high, prevalence_high, ppv_high = (k / max(n, 1) for k, n in four(counts_high).values())
sensitivity_low, specificity_low, prevalence_low, ppv_low = (k / max(n, 1) for k, n in four(counts_low).values())

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer, checked: the same numbers from `analysis.teach.labs.accuracy_table`, and for each measure
# a two-sample z-test of "the same in both cohorts". The z-test and the Wilson intervals treat screens as
# independent; screens of one woman are not quite (her propensity to be recalled for a benign finding is
# her own), so the p-values of specificity are somewhat too small.
MEASURE_TEXT = {"sensitivity": "Sensitivity, % of screens with cancer", "specificity":
                "Specificity, % of screens without cancer", "prevalence": "Prevalence, % of screens",
                "ppv": "PPV of recall, % of recalls"}


def accuracy_display(t: pd.DataFrame, caption: str):
    """An accuracy table (labs.accuracy_table) as a formatted table, one block per cohort."""
    shown = t.assign(measure=t["measure"].map(MEASURE_TEXT)).set_index("cohort")
    return tables.format_table(
        shown[["measure", "numerator_count", "denominator_count", "estimate", "lower", "upper"]], index=True,
        headers={"cohort": "Cohort", "measure": "Measure", "numerator_count": "Numerator (count)",
                 "denominator_count": "Denominator (count)"},
        intervals={"Estimate, % (Wilson 95% interval)": ("estimate", "lower", "upper")}, digits=2, caption=caption)


truth = labs.accuracy_table(cohorts, "present")
display(accuracy_display(truth, f"Recall against the truth: a cancer present at the screen ({women:,} women each)"))
diff = labs.compare_cohorts(truth, "higher risk", "lower risk")
display(tables.format_table(
    diff.assign(measure=diff["measure"].map(MEASURE_TEXT)),
    columns={"first": "percent", "second": "percent", "difference": "pp", "z": "ratio", "p_value": "p_value"},
    headers={"measure": "Measure", "first": "Higher risk, %", "second": "Lower risk, %",
             "difference": "Difference, pp", "z": "z (two-sample)", "p_value": "p-value"},
    digits=2, caption="Higher- against lower-risk cohort: two-sample z-test of equal proportions"))
d = diff.set_index("measure")
for m in ("sensitivity", "specificity"):
    r = d.loc[m]
    verdict = ("no evidence of a difference at the 5% level" if r["p_value"] >= 0.05 else
               "a difference at the 5% level") if pd.notna(r["p_value"]) else "no test (an empty group)"
    print(f"{m.capitalize()}: {tables.format_percent(r['first'], 2)} (higher risk) against "
          f"{tables.format_percent(r['second'], 2)} (lower risk), p = {tables.format_p_value(r['p_value'])}: {verdict}.")
p, q = d.loc["prevalence"], d.loc["ppv"]
if min(p["second"], q["second"]) > 0:
    print(f"Prevalence is {'higher' if p['first'] > p['second'] else 'lower'} in the higher-risk cohort "
          f"({tables.format_percent(p['first'], 2)} against {tables.format_percent(p['second'], 2)}, ratio "
          f"{p['first'] / p['second']:.2f}), and PPV is {'higher' if q['first'] > q['second'] else 'lower'} "
          f"({tables.format_percent(q['first'], 2)} against {tables.format_percent(q['second'], 2)}, ratio "
          f"{q['first'] / q['second']:.2f}).")

# %% [markdown]
# ## Exercise 3 — Bayes' formula against the counts
#
# Plug your sensitivity, specificity and prevalence of each cohort into
#
# $$\text{PPV} = \frac{\text{sens}\cdot\text{prev}}{\text{sens}\cdot\text{prev} + (1-\text{spec})(1-\text{prev})}$$
#
# and compare with the PPV you counted. How close are they — and why? (Try it with
# `fractions.Fraction` instead of floating point.)

# %%
# YOUR CODE HERE
bayes_high = None
bayes_low = None

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# They agree exactly, because on the counts the formula is an identity: sens · prev = tp/(tp+fn) ·
# (tp+fn)/n = tp/n and (1 − spec)(1 − prev) = fp/(tn+fp) · (tn+fp)/n = fp/n, so the formula is
# (tp/n) / (tp/n + fp/n) = tp/(tp+fp). With `Fraction` the two are equal; in floating point they
# differ by rounding only (about 1e-16). Bayes' formula is not an approximation: it is how PPV is
# *made* from sensitivity, specificity and prevalence — which is why PPV has to change when prevalence
# does and the other two do not.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
def bayes(c: dict[str, int]) -> tuple[Fraction, Fraction] | None:
    if min(c["tp"] + c["fn"], c["tn"] + c["fp"], c["tp"] + c["fp"]) == 0:
        return None
    se, sp = Fraction(c["tp"], c["tp"] + c["fn"]), Fraction(c["tn"], c["tn"] + c["fp"])
    prev = Fraction(c["tp"] + c["fn"], sum(c.values()))
    return se * prev / (se * prev + (1 - sp) * (1 - prev)), Fraction(c["tp"], c["tp"] + c["fp"])


bayes_high, bayes_low = bayes(counts_high), bayes(counts_low)
for label, b in (("higher risk", bayes_high), ("lower risk", bayes_low)):
    if b is not None:
        print(f"{label}: Bayes {b[0]} = {float(b[0]):.6f}, counted {b[1]} = {float(b[1]):.6f}, equal: {b[0] == b[1]}")

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer, checked: Bayes' formula on the counts (`analysis.teach.labs.bayes_check`), and the curve it
# draws through each cohort's observed prevalence and PPV
rows = []
for label, s in cohorts.items():
    b = labs.bayes_check(labs.confusion_counts(s, "present"))
    rows.append({"cohort": label, "observed": "—" if b["observed"] is None else str(b["observed"]),
                 "bayes": "—" if b["bayes"] is None else str(b["bayes"]),
                 "observed_float": b["observed_float"], "exact": b["exact"],
                 "difference": f"{b['difference']:.1e}" if pd.notna(b["difference"]) else "—"})
display(tables.format_table(
    pd.DataFrame(rows), columns={"observed_float": "percent"}, digits=2,
    headers={"cohort": "Cohort", "observed": "Counted PPV, tp / (tp + fp)", "bayes": "Bayes' formula (exact fraction)",
             "observed_float": "PPV, %", "exact": "Equal as fractions", "difference": "Floating-point difference"},
    caption="PPV counted and PPV from Bayes' formula with the cohort's own sensitivity, specificity and prevalence"))
print(f"Bayes' formula equals the counted PPV exactly in {sum(r['exact'] for r in rows)} of {len(rows)} cohorts.")

fig, ax = plt.subplots(figsize=(7.0, 4.2))
labs.plot_ppv_curve(ax, truth)
ax.set_title("PPV of recall against prevalence (same readers, two cohorts)", loc="left", fontweight="bold")
plt.show()

# %% [markdown]
# ## Exercise 4 — what moves with prevalence, and why (in words)
#
# Write three or four sentences: which of the four proportions of Exercise 2 changed between the
# cohorts, which did not (beyond chance), and why? A programme plans to screen only women with a
# strong family history: what does Bayes' formula, with the readers' sensitivity and specificity,
# predict for its PPV, and why might a real high-risk programme's sensitivity and specificity *not* be
# those of the general programme?

# %% [markdown]
# *Your answer here.*
#
# <details><summary><b>Worked answer</b></summary>
#
# Sensitivity and specificity are proportions *within* the screens with cancer and *within* those
# without: they describe what the readers do with a cancer, or with a normal breast, and do not
# depend on how many of each there are. PPV is a proportion within the recalls, which mix true and
# false positives in the ratio sens · prev : (1 − spec)(1 − prev); with specificity near 100% the
# false positives hardly change with prevalence while the true positives grow with it, so PPV rises
# steeply with prevalence (the curve). A high-risk programme should expect a higher PPV for the same
# readers — the worked answer reads it off the curve. But real high-risk women differ in more than
# incidence: they are often younger, with denser breasts (lower sensitivity, more false positives),
# and may be screened with other modalities or intervals, so the general programme's sensitivity and
# specificity do not simply carry over. Here only incidence was changed, by construction.
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer: the curve at the higher-risk prevalence times the risk ratio, with the higher-risk readers
t = truth[truth["cohort"] == "higher risk"].set_index("measure")["estimate"]
target = min(float(t["prevalence"]) * ratio, 1.0)
predicted = float(labs.bayes_ppv(t["sensitivity"], t["specificity"], target))
print(f"At a prevalence of {target:.2%} (the higher-risk cohort's {float(t['prevalence']):.2%} × {ratio:g}) Bayes' "
      f"formula predicts a PPV of {predicted:.1%}, against {float(t['ppv']):.1%} in the higher-risk cohort.")

# %% [markdown]
# ## Exercise 5 — the register's definition
#
# A register cannot see `cancer_present`. It calls a screen "with cancer" when a cancer was
# screen-detected at it or surfaced clinically before the next screen (`screen_detected |
# interval_cancer`). Compute sensitivity and prevalence with this definition for each cohort. Why is
# the register's sensitivity so different from the one above? Is PPV still equal to Bayes' formula?

# %%
# YOUR CODE HERE
register_sensitivity_high = None
register_sensitivity_low = None

# %% [markdown]
# <details><summary><b>Worked answer</b></summary>
#
# With cancer = `screen_detected | interval_cancer`, sensitivity = recalled among those screens. Its
# denominator leaves out every cancer present at the screen that neither was found nor surfaced
# within the interval — mostly tumours too small to see, found at a later screen or surfacing later
# (the worked answer prints their sizes). Those are exactly the cancers a reader could not have
# found, so expect the register's sensitivity to be far higher than the truth-based one (the check
# below prints both); it measures "found among the cancers that showed themselves within the
# follow-up", and its value depends on the length of that follow-up. Bayes' formula still holds
# exactly, since it is an identity on any 2 × 2 table. PPV changes much less than sensitivity: its
# denominator, the recalls, is the same under both definitions, and only the recalls with a cancer
# present that was neither found nor surfaced move out of its numerator (the worked answer prints
# both PPVs).
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer
for label, s in cohorts.items():
    ill = s["screen_detected"] | s["interval_cancer"]
    k, n = int((ill & s["recalled"]).sum()), int(ill.sum())
    recalls = int(s["recalled"].sum())
    truth_tp = int((s["recalled"] & s["cancer_present"]).sum())
    print(f"{label}: register sensitivity {k:,} / {n:,} = {k / max(n, 1):.1%}; PPV {k / max(recalls, 1):.1%} "
          f"(register) against {truth_tp / max(recalls, 1):.1%} (truth)")
    hidden = s[s["cancer_present"] & ~ill & (s["cancer_type"].astype(str) == "invasive")]["tumour_diameter_mm"]
    seen = s[s["screen_detected"] & (s["cancer_type"].astype(str) == "invasive")]["tumour_diameter_mm"]
    if len(hidden) and len(seen):
        print(f"  invasive cancers present but neither found nor surfacing in the interval: {len(hidden):,}, median "
              f"{hidden.median():.1f} mm; screen-detected invasive: median {seen.median():.1f} mm")
register_sensitivity_high, register_sensitivity_low = (
    float((s["recalled"] & (s["screen_detected"] | s["interval_cancer"])).sum()
          / max(int((s["screen_detected"] | s["interval_cancer"]).sum()), 1)) for s in (screens_high, screens_low))

# %% jupyter={"source_hidden": true} tags=["solution"]
# Worked answer, checked: the register's definition beside the truth
register = labs.accuracy_table(cohorts, "followup")
display(accuracy_display(register, "Recall against what a register counts: screen-detected or interval cancer"))
both = truth.set_index(["cohort", "measure"])["estimate"], register.set_index(["cohort", "measure"])["estimate"]
for label in cohorts:
    a, b = both[0][(label, "sensitivity")], both[1][(label, "sensitivity")]
    if pd.notna(a) and pd.notna(b):
        print(f"{label}: sensitivity {tables.format_percent(b)} by the register's definition, "
              f"{'higher' if b > a else 'lower' if b < a else 'the same'} than {tables.format_percent(a)} against the "
              f"truth; Bayes' formula exact on the register's counts: "
              f"{'yes' if labs.bayes_check(labs.confusion_counts(cohorts[label], 'followup'))['exact'] else 'no'}.")
