"""``report.json``: what a report holds, page by page, for machines and for the next build.

Top level: ``generator`` (:data:`~analysis.report.provenance.GENERATOR`), ``calcsim_version``,
``git_commit``, ``seed``, ``women``, ``created_utc`` of the latest build; ``python`` (its version, not
its path), ``calcsim_from`` (``checkout`` or ``installed package``), ``kernel``; ``files`` (every
file of the report, relative to its folder: only these are ever replaced or deleted by a later build,
see :mod:`~analysis.report.folder`); ``headline`` (the index's headline answers,
:func:`~analysis.report.headline.select`); ``pages``.

Each page: ``notebook`` (file name), ``page`` and, for a notebook with worked answers,
``instructor_page``; ``title``, ``seconds``, ``scenarios`` (``name``, ``scenario_hash``),
``parameters`` injected besides women and seed; the build it comes from (``calcsim_version``,
``git_commit``, ``seed``, ``women``, ``created_utc`` — a partial build keeps the other pages as they
were, with their own); ``mentions`` (headline measures its notebook names), ``shows`` (those whose
value its page prints) and ``headline`` (its runs of the default scenario at its women and seed). No
value holds a local path (see :mod:`~analysis.report.paths`).
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.report.notebooks import Notebook
from analysis.report.paths import scrub_value
from analysis.report.provenance import GENERATOR, MANIFEST, Provenance, project_root

_BUILD_KEYS = ("calcsim_version", "git_commit", "seed", "women", "created_utc")


def build_facts(prov: Provenance) -> dict[str, Any]:
    """The facts of one build, as a page entry and the top level record them."""
    return {
        "calcsim_version": prov.version,
        "git_commit": prov.commit,
        "seed": prov.seed,
        "women": prov.women,
        "created_utc": prov.created_utc,
    }


def page_entry(
    note: Notebook,
    prov: Provenance,
    scenarios: Sequence[tuple[str, str]],
    mentions: list[str],
    shows: list[str],
    headline: list[dict[str, Any]],
    scrub: Callable[[str], str],
) -> dict[str, Any]:
    """The manifest entry of a page built now."""
    entry: dict[str, Any] = {"notebook": note.source.name, "page": note.page}
    if note.instructor_page:
        entry["instructor_page"] = note.instructor_page
    entry.update(
        {
            "title": note.title,
            "seconds": round(note.seconds, 2),
            "scenarios": [{"name": scrub(a), "scenario_hash": b} for a, b in scenarios],
            "parameters": scrub_value(dict(note.parameters), scrub),
            **build_facts(prov),
            "mentions": mentions,
            "shows": shows,
            "headline": scrub_value(headline, scrub),
        }
    )
    return entry


def entry_files(entry: Mapping[str, Any]) -> list[str]:
    """The files of one page entry (its page, and its instructor page if any)."""
    return [str(entry[k]) for k in ("page", "instructor_page") if entry.get(k)]


def kept_entries(previous: Mapping[str, Any] | None, rebuilt: set[str], out: Path) -> list[dict[str, Any]]:
    """The previous report's pages that a partial build keeps: not rebuilt, and still in ``out``.

    An entry from a manifest older than the per-page build facts gets them from its top level.
    """
    if not previous:
        return []
    top = {k: previous.get(k) for k in _BUILD_KEYS}
    kept = []
    for p in previous.get("pages", []):
        if not isinstance(p, dict) or "page" not in p or "notebook" not in p:
            continue
        if Path(str(p["notebook"])).stem in rebuilt or not all((out / f).is_file() for f in entry_files(p)):
            continue
        kept.append(
            {
                "title": p.get("page"),
                "seconds": 0.0,
                "scenarios": [],
                "parameters": {},
                "mentions": [],
                "headline": [],
                **{k: v for k, v in top.items() if v is not None},
                **p,
            }
        )
    return kept


def manifest(
    base: Provenance,
    entries: Sequence[Mapping[str, Any]],
    files: Sequence[str],
    headline: Sequence[Mapping[str, Any]],
    kernel: str,
) -> dict[str, Any]:
    """The manifest of a report (see the module doc)."""
    return {
        "generator": GENERATOR,
        **build_facts(base),
        "python": platform.python_version(),
        "calcsim_from": "checkout" if project_root() is not None else "installed package",
        "kernel": kernel,
        "files": sorted({*files, MANIFEST}),
        "headline": list(headline),
        "pages": list(entries),
    }
