"""The terminal summary of ``calcsim run``: a heading, what the intervals mean, and one aligned row per
measure and stratum with its estimate, intervals, counts and denominator; then the incidence rates
(per 100,000 woman-years, exact Poisson intervals) in a table of their own.

Column widths come from the data, so long measure names and denominator labels keep the table aligned.
A run without screening (``--no-screening``) has no screens: its screen measures are left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Space between two columns of a table.
GAP = "  "


@dataclass(frozen=True)
class Column:
    """One column of a text table: its title, its cells (top to bottom) and ``"<"`` or ``">"`` alignment."""

    title: str
    cells: Sequence[str]
    align: str = "<"

    @property
    def width(self) -> int:
        """The widest of the title and the cells."""
        return max([len(self.title), *(len(c) for c in self.cells)])


def format_table(columns: Sequence[Column]) -> list[str]:
    """Header, a rule under each column, and the rows, every column as wide as its widest cell.

    The last column is not padded (no trailing spaces).
    """
    widths = [c.width for c in columns]

    def line(cells: Sequence[str]) -> str:
        text = GAP.join(f"{cell:{c.align}{w}}" for cell, c, w in zip(cells, columns, widths, strict=True))
        return text.rstrip()

    rows = zip(*(c.cells for c in columns), strict=True)
    return [line([c.title for c in columns]), GAP.join("-" * w for w in widths), *(line(r) for r in rows)]


def women_text(results) -> str:
    """``"2,000 women"``, or ``"5 × 100,000 women"`` for 5 replicates of 100,000 women each.

    ``results`` is a :class:`~analysis.model.results.Results`, a replicated run (``replicates`` and
    ``pooled.meta["women_per_replicate"]``) or a posterior run (``pooled``: the default run).
    """
    pooled = getattr(results, "pooled", results)
    replicates = getattr(results, "replicates", None)
    per = (pooled.meta or {}).get("women_per_replicate")
    if isinstance(replicates, list | tuple) and len(replicates) > 1 and per:
        return f"{len(replicates)} × {int(per):,} women"
    return f"{pooled.women:,} women"


def _interval_notes(e, replicated: bool, posterior: bool) -> list[str]:
    if replicated:
        return [
            "Intervals: 'Wilson 95%' of the pooled counts; 'replicate range' = 2.5-97.5% of the",
            "single-replicate estimates; 'replicate CI' = mean +/- t SD/sqrt(R) (does not assume",
            "independent screens).",
        ]
    if posterior:
        return [
            f"Intervals: 'Wilson 95%' of the default (nearest accepted) parameter set; 'posterior 95%' = "
            f"weighted 2.5-97.5% across {e.attrs.get('parameter_sets')} accepted calibrated sets",
            "(parameter uncertainty + Monte Carlo noise of one run).",
        ]
    return ["Intervals: Wilson 95% (binomial, within this run)."]


def _unit_note(e) -> str:
    rates = sorted({u for u in e["unit"] if u != "proportion"})
    return "Estimates: % of the denominator" + "".join(f"; ‰ = {u}" for u in rates) + "."


def _percent(unit: str) -> tuple[str, float]:
    """The sign and the scale of a unit: ``("%", 100)`` for a proportion, ``("‰", 1)`` per 1,000, else no sign."""
    if unit == "proportion":
        return "%", 100.0
    return ("‰", 1.0) if unit.startswith("per 1,000 ") else ("", 1.0)


def _is_rate(e):
    """Rows of the woman-time rates (incidence per 100,000 woman-years)."""
    return e["unit"].str.endswith("woman-years")


def _interval(lo: float, hi: float, unit: str) -> str:
    sign, scale = _percent(unit)
    return "—" if math.isnan(lo) else f"{lo * scale:.2f}–{hi * scale:.2f}{sign}"


def summary_columns(e, replicated: bool = False, posterior: bool = False, rates: bool = False) -> list[Column]:
    """The columns of the summary table of an estimates table ``e`` (single, replicated or posterior run).

    ``rates``: ``e`` holds incidence rows (a Poisson interval; the counts as diagnoses / woman-years).
    """
    rows = list(e.itertuples(index=False))

    def est(r) -> str:
        sign, scale = _percent(r.unit)
        return "—" if r.denominator_count == 0 else f"{r.estimate * scale:.2f}{sign}"

    def interval(lo: str, hi: str) -> list[str]:
        return [_interval(getattr(r, lo), getattr(r, hi), r.unit) for r in rows]

    cols = [
        Column("measure", [r.measure for r in rows]),
        Column("stratum", [r.stratum for r in rows]),
        Column("per 100,000" if rates else "estimate", [est(r) for r in rows], ">"),
        Column("Poisson 95%" if rates else "Wilson 95%", interval("lower", "upper"), ">"),
    ]
    if replicated:
        cols += [
            Column("replicate range", interval("replicate_lower", "replicate_upper"), ">"),
            Column("replicate CI", interval("replicate_ci_lower", "replicate_ci_upper"), ">"),
        ]
    elif posterior:
        cols.append(Column("posterior 95%", interval("posterior_lower", "posterior_upper"), ">"))
    elif rates:
        from analysis.model.diagnoses import MONTHS_PER_YEAR  # here: the CLI's modules stay light to import

        cols.append(
            Column(
                "diagnoses / woman-years",
                [f"{r.numerator_count:,} / {r.denominator_count / MONTHS_PER_YEAR:,.1f}" for r in rows],
                ">",
            )
        )
    else:
        cols.append(
            Column("numerator / denominator", [f"{r.numerator_count:,} / {r.denominator_count:,}" for r in rows], ">")
        )
    cols.append(
        Column(
            "diagnosed" if rates else "denominator", [r.numerator_label if rates else r.denominator_label for r in rows]
        )
    )
    return cols


def format_summary(results) -> str:
    """The text ``calcsim run`` prints: provenance, what the intervals mean, the aligned table, the incidence table."""
    e = results.estimates()
    pooled = getattr(results, "pooled", results)
    screening = bool((pooled.meta or {}).get("screening", True))
    replicated = "replicate_lower" in e.columns
    posterior = "posterior_lower" in e.columns
    rate = _is_rate(e)
    screens, rates = e[~rate], e[rate]
    lines = [
        f"calcsim {pooled.version} | scenario {pooled.scenario} ({pooled.scenario_hash}) | "
        f"seed {pooled.seed} | {women_text(results)}"
        + (" (independent replicates)" if replicated else "")
        + ("" if screening else " | no screening")
    ]
    if screening:
        lines += _interval_notes(e, replicated, posterior)
        lines += [_unit_note(screens), ""]
        lines += format_table(summary_columns(screens, replicated, posterior))
    else:
        lines += [
            "No screening (--no-screening): the same women without the programme, cancers diagnosed when they",
            "surface clinically; there are no screens, so no screen measures.",
        ]
    if len(rates):
        ages = (pooled.meta or {}).get("woman_time_ages")
        where = f", ages {ages[0]:g}-{ages[1]:g}" if ages else ""
        lines += [
            "",
            f"Incidence: first diagnoses per 100,000 woman-years of living women{where} (exact Poisson 95%).",
            "",
        ]
        lines += format_table(summary_columns(rates, replicated, posterior, rates=True))
    return "\n".join(lines)
