"""The 12.7–41.2% question: calcification as the only sign, with both denominators.

"12.7–41.2% of women in screening programs with breast calcifications are brought
back for additional clinical assessment as the only warning sign of cancer" — the
range is quoted without a denominator. Two different quantities fit the words:

* ``calc_only_share_of_recalls`` — of all **recalls** (women brought back), the
  share whose only finding was calcification (most of them turn out benign);
* ``calc_only_share_of_screen_detected`` — of all **screen-detected cancers**, the
  share recalled for calcification only (what the reader acted on);
* ``calc_only_presentation_share_of_screen_detected`` — of all screen-detected cancers,
  the share that *presented* as calcifications only (a cancer with calcifications and
  a mass can be recalled for its calcifications alone): the definition of the
  southern-Netherlands figure (732 / 3,059).

:func:`calc_only_question` puts both, with intervals, beside the literature band
and the programme's calibration targets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.model.results import Results
from analysis.stats.targets import load_targets

QUESTION_MEASURES = {
    "calc_only_share_of_recalls": "of all recalls (women brought back for assessment): recalled for "
    "calcification as the only finding",
    "calc_only_share_of_screen_detected": "of all screen-detected cancers: calcification was the only "
    "sign that brought the woman back",
    "calc_only_presentation_share_of_screen_detected": "of all screen-detected cancers: presenting on the "
    "mammogram as calcifications only (how the Dutch "
    "23.9% is defined)",
}


def calc_only_question(results, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Both calcification-only shares beside the literature band and the targets.

    Parameters
    ----------
    results : Results or ReplicateResults
        A run of a scenario (replicate columns are carried over when present).
    targets : DataFrame, optional
        :func:`analysis.stats.targets.load_targets` (the shipped file by default).

    Returns
    -------
    pandas.DataFrame
        One row per denominator (three: recalls, screen-detected cancers by the reason for recall,
        screen-detected cancers by mammographic presentation): ``measure, meaning,
        numerator_count, denominator_count, denominator_label, estimate, lower, upper, interval,
        literature_lower, literature_upper, in_literature_band, target, target_lower,
        target_upper, target_source`` (target columns empty when the scenario has no target for
        that measure). ``attrs``: scenario, scenario_hash, seed, women, calibration.
    """
    t = load_targets() if targets is None else targets
    band = t[t["kind"] == "band"]
    lit_lo = float(band["lower"].iloc[0]) if len(band) else np.nan
    lit_hi = float(band["upper"].iloc[0]) if len(band) else np.nan
    pooled = results.pooled if hasattr(results, "pooled") else results
    e = results.estimates()
    e = e[(e["stratum"] == "all") & e["measure"].isin(list(QUESTION_MEASURES))].set_index("measure")
    rows = []
    for measure, meaning in QUESTION_MEASURES.items():
        r = e.loc[measure]
        match = t[(t["scenario"] == pooled.scenario) & (t["measure"] == measure) & (t["kind"] == "point")]
        row = {
            "measure": measure,
            "meaning": meaning,
            "numerator_count": int(r["numerator_count"]),
            "denominator_count": int(r["denominator_count"]),
            "denominator_label": r["denominator_label"],
            "estimate": r["estimate"],
            "lower": r["lower"],
            "upper": r["upper"],
            "interval": "Wilson 95% (within run)",
        }
        for col in ("replicate_lower", "replicate_upper", "replicate_ci_lower", "replicate_ci_upper"):
            if col in r.index:
                row[col] = r[col]
        row.update(
            {
                "literature_lower": lit_lo,
                "literature_upper": lit_hi,
                "in_literature_band": bool(lit_lo <= r["estimate"] <= lit_hi) if np.isfinite(r["estimate"]) else False,
            }
        )
        if len(match):
            m = match.iloc[0]
            row.update(
                {
                    "target": m["value"],
                    "target_lower": m["interval_lower"],
                    "target_upper": m["interval_upper"],
                    "target_source": m["source"],
                }
            )
        else:
            row.update({"target": np.nan, "target_lower": np.nan, "target_upper": np.nan, "target_source": ""})
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(
        {
            "scenario": pooled.scenario,
            "scenario_hash": pooled.scenario_hash,
            "seed": pooled.seed,
            "women": pooled.women,
            "calibration": pooled.calibration,
        }
    )
    return out


def format_question(q: pd.DataFrame) -> str:
    """Plain-language text of :func:`calc_only_question` for the terminal."""

    def pct(x: float) -> str:
        return "—" if not np.isfinite(x) else f"{100 * x:.1f}%"

    def interval(est: float, lo: float, hi: float) -> str:
        return "—" if not np.isfinite(est) else f"{100 * est:.1f}% ({100 * lo:.1f}–{100 * hi:.1f})"

    a = q.attrs
    lines = [
        f"Calcification as the only sign — scenario {a.get('scenario')} ({a.get('scenario_hash')}), "
        f"{a.get('women', 0):,} women, seed {a.get('seed')}, calibration {a.get('calibration')}",
        f"Literature: {pct(q['literature_lower'].iloc[0])}–{pct(q['literature_upper'].iloc[0])}, quoted "
        f"without a denominator (Mordang et al. 2018). {len(q)} denominators fit the words:",
        "",
    ]
    for r in q.itertuples(index=False):
        lines.append(f"  {r.measure}")
        lines.append(f"    {r.meaning}")
        lines.append(
            f"    model: {interval(r.estimate, r.lower, r.upper)} (Wilson 95%; "
            f"{r.numerator_count:,} / {r.denominator_count:,} {r.denominator_label})"
            + (
                f"; replicate 95% CI {pct(r.replicate_ci_lower)}–{pct(r.replicate_ci_upper)}"
                if hasattr(r, "replicate_ci_lower")
                else ""
            )
        )
        lines.append(f"    inside the 12.7–41.2% band: {'yes' if r.in_literature_band else 'no'}")
        if np.isfinite(r.target):
            lines.append(
                f"    programme target: {interval(r.target, r.target_lower, r.target_upper)} ({r.target_source})"
            )
        lines.append("")
    rows = q.set_index("measure")
    recalls = int(rows.loc["calc_only_share_of_recalls", "numerator_count"])
    cancers = int(rows.loc["calc_only_share_of_screen_detected", "numerator_count"])
    benign = f"{1 - cancers / recalls:.0%} of them led to no screen-detected cancer" if recalls else "none here"
    lines.append(f"The first answers 'how many recalls are for calcifications alone' ({benign});")
    lines.append("the second 'how many cancers were found only because of calcifications'. They differ,")
    lines.append("and a figure quoted without its denominator can mean any of them.")
    return "\n".join(lines)


__all__ = ["QUESTION_MEASURES", "Results", "calc_only_question", "format_question"]
