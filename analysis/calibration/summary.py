"""Text summaries of a calibration for the command line: the run, its generations, its parameters.

:func:`calibration_lines` describes a finished :func:`analysis.calibration.abc.calibrate` result
(method, draws, generations with tolerance / acceptance rate / ESS, and -- loudly -- whether the
final tolerance was reached); :func:`identifiability_lines` formats
:func:`analysis.calibration.identifiability.identifiability`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["calibration_lines", "identifiability_lines", "not_reached_warning"]

#: |correlation| from which two parameters are listed as identified only jointly.
STRONG_CORRELATION = 0.7


def not_reached_warning(meta: dict) -> str | None:
    """The warning for a calibration that did not reach its final tolerance (``None`` if it did)."""
    reached = str(meta.get("tolerance_reached", ""))
    if reached.startswith("yes") or not reached:
        return None
    return (
        f"WARNING: {meta.get('scenario', '')}: tolerance NOT reached: {reached[3:].strip(' ()')}. The accepted sets"
        " are the last complete population, not a posterior at the chi-square tolerance: the targets are not"
        " jointly reproduced; check calcsim fit, raise --draws to continue, or revisit the model or targets"
    )


def calibration_lines(df: pd.DataFrame) -> list[str]:
    """What a calibration did: draws, acceptance, generations (SMC) and the tolerance verdict."""
    a = df.attrs
    acc = df[df["accepted"]]
    w = acc["weight"].to_numpy(dtype=float)
    lines = [
        f"calibrated {a['scenario']} ({a.get('method', 'smc')}): {len(df)} draws, {len(acc)} accepted"
        f" ({a['acceptance']}); effective sample size {1.0 / np.sum((w / w.sum()) ** 2):.1f};"
        f" best distance {acc['distance'].min():.4g}",
        f"tolerance reached: {a.get('tolerance_reached', 'not recorded')}",
    ]
    gens = a.get("generations")
    if isinstance(gens, pd.DataFrame) and len(gens):
        lines.append(
            f"  {'generation':>10} {'tolerance':>11} {'proposals':>9} {'accepted':>8} {'acceptance':>10} {'ESS':>7}"
        )
        for g in gens.itertuples(index=False):
            state = "" if g.complete else "  incomplete (budget spent)"
            lines.append(
                f"  {g.generation:>10} {g.tolerance:>11.4g} {g.proposals:>9} {g.accepted:>8}"
                f" {g.acceptance_rate:>10.3f} {g.ess:>7.1f}{state}"
            )
    lines.append(f"distance SD: {a.get('distance_sd', '')}")
    return lines


def identifiability_lines(ident: pd.DataFrame) -> list[str]:
    """Parameters with prior range, posterior mean and 95% interval, width ratio; strong correlations."""
    n, ess = ident.attrs.get("accepted"), ident.attrs.get("effective_sample_size", np.nan)
    lines = [
        f"Identifiability ({n} accepted sets, ESS {ess:.1f});"
        " width = 95% interval / prior width (0.95: not informed by the targets)",
        f"  {'parameter':<50} {'prior':<18} {'best':>9} {'mean':>9} {'95% interval':<22} {'width':>6}",
    ]
    for r in ident.itertuples(index=False):
        prior = f"[{r.prior_low:.4g}, {r.prior_high:.4g}]"
        post = f"[{r.posterior_lower:.4g}, {r.posterior_upper:.4g}]"
        lines.append(
            f"  {r.parameter:<50} {prior:<18} {r.best:>9.4g} {r.posterior_mean:>9.4g} {post:<22} {r.width_ratio:>6.2f}"
        )
    corr = ident.attrs.get("correlation")
    if isinstance(corr, pd.DataFrame) and len(corr) > 1:
        keys = list(corr.columns)
        pairs = [
            (keys[i], keys[j], corr.iloc[i, j])
            for i in range(len(keys))
            for j in range(i + 1, len(keys))
            if np.isfinite(corr.iloc[i, j]) and abs(corr.iloc[i, j]) >= STRONG_CORRELATION
        ]
        lines.append(
            f"  posterior correlations |r| >= {STRONG_CORRELATION}: "
            + ("; ".join(f"{a} ~ {b} {r:+.2f}" for a, b, r in pairs) if pairs else "none")
        )
    return lines
