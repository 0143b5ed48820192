"""The headline answers of a report, taken from the runs the notebooks themselves made.

The index shows both calcification-only shares (of recalls, of screen-detected cancers), the recall
rate and the cancer detection rate of the **default scenario** (the one ``calcsim run`` and
:func:`~analysis.scenario.load_scenario` use when given none) at the report's cohort size and seed,
each linking to the page it comes from.

Where the numbers come from: every notebook is executed with one more cell at its end
(:func:`headline_cell`, tagged :data:`TAG`), which looks for the simulation results
(:class:`~analysis.model.results.Results`) the notebook left in its namespace — top-level, or inside a
dict, list or tuple — and displays their headline estimates as JSON (:data:`MIME`). The report takes
that output and removes the cell before anything is rendered or kept (:func:`take_headline`), so no
page, and no kept executed notebook, shows it. A run qualifies when its scenario name, ``scenario_hash``,
women and seed are those of the page's build; the numbers are then those of the very objects the
page printed its tables and figures from (no second simulation, nothing parsed out of the text).

Which page a measure links to: the first page, in report order, that has a qualifying run **and**
prints its value (the estimate with one of its bounds, in a common format such as ``24.0%`` /
``22.5%`` or ``0.01908`` / ``0.01841``, or its counts ``712 / 2,972``); failing that, the first that
names the measure (its code or text mentions ``recall_rate``, say); failing that, the first page with
a qualifying run.
"""

from __future__ import annotations

import html
import inspect
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: MIME type of the hidden output that carries a notebook's runs back to the report.
MIME = "application/vnd.calcsim.headline+json"
#: Tag of the cell the report appends to every notebook (and removes from its output).
TAG = "calcsim-report-headline"

#: The headline measures, in display order, with their label and how a value is shown.
MEASURES: dict[str, tuple[str, str]] = {
    "calc_only_share_of_recalls": ("Calcification-only share of recalls", "percent1"),
    "calc_only_share_of_screen_detected": ("Calcification-only share of screen-detected cancers", "percent1"),
    "recall_rate": ("Recall rate", "percent2"),
    "cancer_detection_rate_per_1000": ("Cancer detection rate", "per1000"),
}

_CELL = f"""\
# calcsim report: the headline measures of this notebook's runs (removed from the page; see analysis.report.headline)
try:
    from analysis.report.headline import kernel_emit as _calcsim_report_emit
except ImportError:  # a kernel without calcsim: no headline from this notebook
    pass
else:
    _calcsim_report_emit(globals(), {sorted(MEASURES)!r})
    del _calcsim_report_emit
"""


def default_scenario() -> str:
    """Name of the default scenario: the default of :func:`analysis.scenario.load_scenario`."""
    from analysis.scenario import load_scenario

    return str(inspect.signature(load_scenario).parameters["name_or_path"].default)


def headline_cell() -> Any:
    """The code cell appended to each notebook before it is executed."""
    from nbformat.v4 import new_code_cell

    return new_code_cell(_CELL, metadata={"tags": [TAG, "remove-cell"]})


def _runs(namespace: Mapping[str, Any], results_type: type) -> list[Any]:
    found: dict[int, Any] = {}
    for name, value in list(namespace.items()):
        if name.startswith("_"):
            continue
        items = (
            list(value.values())
            if isinstance(value, dict)
            else list(value)
            if isinstance(value, (list, tuple))
            else [value]
        )
        for v in items:
            if isinstance(v, results_type):
                found.setdefault(id(v), v)
    return list(found.values())


def kernel_emit(namespace: Mapping[str, Any], measures: Sequence[str]) -> None:
    """Display (as :data:`MIME`) the overall estimates of ``measures`` of every run in ``namespace``.

    Runs inside the notebook's kernel; never raises (a failure only means no headline from it).
    """
    try:
        from IPython.display import display

        from analysis.model.results import Results

        def num(x: Any) -> float | None:
            return float(x) if math.isfinite(float(x)) else None

        runs = []
        for r in _runs(namespace, Results):
            e = r.estimates()
            e = e[(e["stratum"] == "all") & e["measure"].isin(list(measures))]
            runs.append(
                {
                    "scenario": r.scenario,
                    "scenario_hash": r.scenario_hash,
                    "women": int(r.women),
                    "seed": int(r.seed),
                    "calibration": str(r.calibration),
                    "measures": {
                        row.measure: {
                            "estimate": num(row.estimate),
                            "lower": num(row.lower),
                            "upper": num(row.upper),
                            "numerator": int(row.numerator_count),
                            "denominator": int(row.denominator_count),
                            "unit": str(row.unit),
                            "denominator_label": str(row.denominator_label),
                        }
                        for row in e.itertuples(index=False)
                    },
                }
            )
        display({MIME: runs}, raw=True)
    except Exception:  # noqa: BLE001 - the report must not fail because of its own bookkeeping cell
        return


def take_headline(executed: Any) -> list[dict[str, Any]]:
    """Remove the report's cell from an executed notebook (in place); return the runs it displayed."""
    runs: list[dict[str, Any]] = []
    kept = []
    for cell in executed.cells:
        if TAG in cell.get("metadata", {}).get("tags", []):
            for out in cell.get("outputs", []):
                runs += out.get("data", {}).get(MIME, []) or []
        else:
            kept.append(cell)
    executed.cells = kept
    return runs


def mentioned(nb: Any) -> list[str]:
    """The headline measures a notebook names in its code or text (as whole words, e.g. ``recall_rate``)."""
    text = "\n".join(c.source for c in nb.cells)
    return [m for m in MEASURES if re.search(rf"(?<![\w]){re.escape(m)}(?![\w])", text)]


def _output_text(nb: Any) -> str:
    """Everything a page shows of its outputs as text (streams, text/plain, text/html without tags)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream":
                parts.append(str(out.get("text", "")))
            data = out.get("data", {})
            parts += [
                str(data.get("text/plain", "")),
                html.unescape(re.sub(r"<[^>]+>", " ", str(data.get("text/html", "")))),
            ]
    return "\n".join(parts)


def _renderings(v: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Ways a notebook may print a value: its counts, or the estimate with a bound in a common format.

    A format that rounds the estimate and the bound to the same text says nothing and is left out.
    """
    ways: list[tuple[str, ...]] = [
        (f"{v['numerator']:,} / {v['denominator']:,}",),
        (f"{v['numerator']:,}/{v['denominator']:,}",),
    ]
    est, lo, hi = v.get("estimate"), v.get("lower"), v.get("upper")
    if est is None or lo is None or hi is None:
        return ways
    scales = [(100.0, "{:.1f}%"), (100.0, "{:.2f}%")] if v.get("unit") == "proportion" else []
    scales += [(1.0, "{:.4g}"), (1.0, "{:.3g}"), (1.0, "{:.4f}"), (1.0, "{:.3f}"), (1.0, "{:.2f}")]
    for k, fmt in scales:
        shown_est = fmt.format(k * est)
        ways += [(shown_est, b) for b in (fmt.format(k * lo), fmt.format(k * hi)) if b != shown_est]
    return ways


def _printed(number: str, text: str) -> bool:
    """Whether ``number`` is in ``text`` as a whole number (``0.019`` is not in ``0.0191``)."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", text) is not None


def shown(nb: Any, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The headline measures of ``runs`` whose value a page prints (the estimate with a bound, or the counts)."""
    text = _output_text(nb)
    found = []
    for measure in MEASURES:
        for r in runs:
            v = r.get("measures", {}).get(measure)
            if v and any(all(_printed(w, text) for w in way) for way in _renderings(v)):
                found.append(measure)
                break
    return found


def qualifying(
    runs: Sequence[Mapping[str, Any]], scenario: str, scenario_hash: str, women: int, seed: int
) -> list[dict[str, Any]]:
    """The runs of ``scenario`` (with that hash) at ``women`` and ``seed``, without duplicates."""
    out: list[dict[str, Any]] = []
    for r in runs:
        keys = (r.get("scenario"), r.get("scenario_hash"), r.get("women"), r.get("seed"))
        if keys == (scenario, scenario_hash, women, seed) and r not in out:
            out.append(dict(r))
    return out


def select(pages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per headline measure: its value and the page it comes from (see the module doc).

    ``pages`` are manifest entries (in report order) with ``headline`` (qualifying runs), ``mentions``,
    ``page``, ``title``, ``women`` and ``seed``. A measure no page has is left out.
    """
    rows = []
    for measure, (label, _) in MEASURES.items():
        having = [(p, r) for p in pages for r in p.get("headline", []) if measure in r.get("measures", {})]
        printed = [(p, r) for p, r in having if measure in p.get("shows", [])]
        named = [(p, r) for p, r in having if measure in p.get("mentions", [])]
        if not having:
            continue
        page, run = (printed or named or having)[0]
        rows.append(
            {
                "measure": measure,
                "label": label,
                "page": page["page"],
                "title": page["title"],
                "scenario": run["scenario"],
                "scenario_hash": run["scenario_hash"],
                "women": run["women"],
                "seed": run["seed"],
                **run["measures"][measure],
            }
        )
    return rows


def format_value(measure: str, v: Mapping[str, Any]) -> str:
    """``24.0% (22.5–25.5)``: the estimate and its interval as the index shows them."""
    style = MEASURES[measure][1]
    est, lo, hi = v.get("estimate"), v.get("lower"), v.get("upper")
    if est is None:
        return "—"
    if style.startswith("percent"):
        d = int(style[-1])
        return f"{100 * est:.{d}f}% ({100 * lo:.{d}f}–{100 * hi:.{d}f})"
    return f"{est:.2f} ({lo:.2f}–{hi:.2f}) per 1,000 screens"


def headline_html(rows: Sequence[Mapping[str, Any]], women: int, seed: int) -> str:
    """The index's headline section: a table of the answers, each linking to its page."""
    e = html.escape
    if not rows:
        return (
            '<section class="headline"><h2>Headline answers</h2><p class="meta">No page of this report'
            f" simulated the default scenario ({e(default_scenario())}) with {women:,} women and seed {seed},"
            " so there is no headline to show.</p></section>"
        )
    body = "".join(
        f'<tr><th scope="row">{e(r["label"])}</th><td class="value">{e(format_value(r["measure"], r))}</td>'
        f'<td class="meta">{r["numerator"]:,} / {r["denominator"]:,} {e(str(r["denominator_label"]))}</td>'
        f'<td><a href="{e(r["page"])}">{e(r["title"])}</a></td></tr>'
        for r in rows
    )
    runs = list(dict.fromkeys((r["scenario"], r["scenario_hash"], r["women"], r["seed"]) for r in rows))
    where = "; ".join(f"{e(s)} (scenario_hash <code>{e(h)}</code>), {w:,} women, seed {sd}" for s, h, w, sd in runs)
    return (
        '<section class="headline"><h2>Headline answers</h2>'
        '<table class="headline"><thead><tr><th>measure</th><th>estimate (Wilson 95%)</th><th>counts</th>'
        f"<th>from the page</th></tr></thead><tbody>{body}</tbody></table>"
        f'<p class="meta">{where}. The intervals are binomial (Wilson 95%) within this one run: how'
        " precisely the simulated cohort pins each value down, not the uncertainty of the model's"
        " parameters.</p></section>"
    )
