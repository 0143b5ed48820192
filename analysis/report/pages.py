"""Rendering: executed notebooks to standalone HTML pages, the index page, and the offline check."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.report.coursework import FOLD_CLOSE, FOLD_OPEN, REMOVED_TAGS
from analysis.report.errors import ReportError, first_line
from analysis.report.notebooks import Notebook
from analysis.report.provenance import Provenance

_TEMPLATE = (
    r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style type="text/css">{{ resources.calcsim_css }}</style>{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.calcsim_header }}
{%- endblock body_header -%}
{%- block any_cell scoped -%}
{%- if cell.metadata.get('"""
    + FOLD_OPEN
    + """') -%}
<details class="calcsim-answer"><summary>{{ cell.metadata.get('"""
    + FOLD_OPEN
    + """') }}</summary>
{%- endif -%}
{{ super() }}
{%- if cell.metadata.get('"""
    + FOLD_CLOSE
    + """') -%}
</details>
{%- endif -%}
{%- endblock any_cell -%}
"""
)

_CSS = """
.calcsim-provenance { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 13px; color: #333; background: #f4f6f8; border: 1px solid #d0d7de; border-radius: 6px;
  margin: 12px 0 18px; padding: 10px 14px; }
.calcsim-provenance nav { margin-bottom: 6px; }
.calcsim-provenance dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
.calcsim-provenance dt { font-weight: 600; }
.calcsim-provenance dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
details.calcsim-answer { border-left: 3px solid #0969da; background: #f6f8fa; margin: 8px 0 14px;
  padding: 4px 12px; border-radius: 0 6px 6px 0;
  font-family: var(--jp-content-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif); }
details.calcsim-answer > summary { cursor: pointer; padding: 4px 0; color: #0969da; }
details.calcsim-answer[open] > summary { margin-bottom: 6px; }
"""

_INDEX_CSS = (
    _CSS
    + """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 960px;
  margin: 24px auto; padding: 0 16px; color: #1f2328; line-height: 1.5; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 19px; margin: 22px 0 8px; }
ul.pages { list-style: none; padding-left: 0; }
ul.pages li { margin: 10px 0; }
ul.pages a.page { font-size: 17px; font-weight: 600; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
table.headline { border-collapse: collapse; margin: 6px 0; }
table.headline th, table.headline td { text-align: left; padding: 5px 12px 5px 0; border-bottom: 1px solid #d0d7de;
  vertical-align: top; }
table.headline td.value { font-weight: 600; white-space: nowrap; font-variant-numeric: tabular-nums; }
.edition { font-size: 14px; }
.meta { color: #57606a; font-size: 13px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
"""
)


def provenance_html(prov: Provenance, back_link: str | None) -> str:
    """The provenance header of a page (``<header class="calcsim-provenance">``).

    Parameters
    ----------
    prov : Provenance
        What to show (:meth:`Provenance.rows`).
    back_link : str or None
        Start with a link back to the index at this address (``index.html``, or ``../index.html``
        from a sub-folder) on notebook pages; None on the index itself.
    """
    e = html.escape
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in prov.rows())
    nav = f'<nav><a href="{e(back_link)}">&larr; all notebooks</a></nav>' if back_link else ""
    return f'<header class="calcsim-provenance" id="calcsim-provenance">{nav}<dl>{rows}</dl></header>'


def html_exporter() -> Any:
    """The nbconvert ``HTMLExporter`` of report pages.

    Lab template without JavaScript (RequireJS, widgets, MathJax, Mermaid left out), code and
    prompts hidden, images embedded, ``remove-cell`` / ``remove-input`` / ``remove-output`` tags
    honoured, and the provenance header at the top of the body.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.embed_images = True
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVED_TAGS)
    c.TagRemovePreprocessor.remove_input_tags = {"remove-input", "remove_input", "hide-input"}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output", "remove_output", "hide-output"}
    return HTMLExporter(
        config=c,
        extra_loaders=[DictLoader({"calcsim_report.html.j2": _TEMPLATE})],
        template_file="calcsim_report.html.j2",
    )


_RESOURCE_TAG = re.compile(r"<(img|script|link|iframe|source|embed|object|audio|video|track)\b([^>]*)>", re.IGNORECASE)
_RESOURCE_ATTR = re.compile(
    r"""\b(src|href|data|srcset|poster)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE
)
_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""", re.IGNORECASE)


def offline_problems(page: str) -> list[str]:
    """Resources a page would load from outside itself (URLs or files); empty when self-contained.

    Hyperlinks (``<a href>``) are fine; an ``<img>``, ``<script>``, ``<link>`` … must be inline or a
    ``data:`` URI, and CSS must not import or ``url()`` anything remote.
    """
    problems = []
    for m in _RESOURCE_TAG.finditer(page):
        tag, attrs = m.group(1).lower(), m.group(2)
        for a in _RESOURCE_ATTR.finditer(attrs):
            value = (a.group(2) or a.group(3) or a.group(4) or "").strip()
            if value and not value.startswith(("data:", "#")):
                problems.append(f"<{tag} {a.group(1).lower()}={value[:80]!r}>")
    problems += [f"CSS url {u[:80]!r}" for u in _CSS_URL.findall(page)]
    return problems


def render_page(exporter: Any, executed: Any, note: Notebook, prov: Provenance, back_link: str = "index.html") -> str:
    """The standalone HTML page of an executed notebook.

    Parameters
    ----------
    exporter : nbconvert.HTMLExporter
        From :func:`html_exporter`.
    executed : nbformat.NotebookNode
        The notebook with its outputs (one edition of it, see :mod:`~analysis.report.coursework`).
    note : Notebook
        Its title and source file.
    prov : Provenance
        The page's provenance header.
    back_link : str
        Address of the index from the page.

    Raises
    ------
    ReportError
        The page cannot be rendered, or it would need a resource from outside itself.
    """
    resources = {
        "metadata": {"name": note.title},
        "calcsim_header": provenance_html(prov, back_link=back_link),
        "calcsim_css": _CSS,
    }
    try:
        page, _ = exporter.from_notebook_node(executed, resources=resources)
    except Exception as exc:
        raise ReportError(
            f"{note.source}: executed but could not be rendered to HTML"
            f" ({type(exc).__name__}: {first_line(str(exc), 200)})",
            notebook=str(note.source),
        ) from None
    bad = offline_problems(page)
    if bad:
        raise ReportError(
            f"{note.source}: its page would need {len(bad)} resource(s) from outside"
            f" the page, e.g. {bad[0]}; the report must render offline — embed the"
            " image (or remove it)",
            notebook=str(note.source),
        )
    return page


def _built(entry: Mapping[str, Any], prov: Provenance) -> str:
    """The index's note on a page kept from an earlier (partial) build, when it differs from this build."""
    mine = (entry.get("created_utc"), entry.get("women"), entry.get("seed"), entry.get("git_commit"))
    if mine == (prov.created_utc, prov.women, prov.seed, prov.commit):
        return ""
    women = entry.get("women")
    return (
        f" &middot; <b>built earlier</b>: {html.escape(str(entry.get('created_utc')))},"
        f" {women:,} women, seed {entry.get('seed')}, calcsim {html.escape(str(entry.get('calcsim_version')))}"
        f" ({html.escape(str(entry.get('git_commit')))})"
        if isinstance(women, int)
        else " &middot; built earlier"
    )


def index_item(entry: Mapping[str, Any], prov: Provenance) -> str:
    """One entry of the index: the page's title (a link; titles carry their own numbers) and its facts."""
    e = html.escape
    scen = (
        "; ".join(
            f"{e(s['name'])} <code>{e(s['scenario_hash'])}</code>"
            if not str(s["scenario_hash"]).startswith("unavailable")
            else f"{e(s['name'])} ({e(s['scenario_hash'])})"
            for s in entry.get("scenarios", [])
        )
        or "no scenario declared"
    )
    extra = "".join(f" &middot; {e(k)}={e(repr(v))}" for k, v in entry.get("parameters", {}).items())
    instructor = entry.get("instructor_page")
    also = (
        (
            f' <span class="edition">&middot; <a href="{e(instructor)}">instructor page</a> (with the worked'
            " answers; this one has none)</span>"
        )
        if instructor
        else ""
    )
    return (
        f'<li><a class="page" href="{e(entry["page"])}">{e(entry["title"])}</a>{also}<br><span class="meta">'
        f"{e(entry['notebook'])} &middot; {scen}{extra} &middot; ran in {float(entry.get('seconds', 0)):.1f} s"
        f"{_built(entry, prov)}</span></li>"
    )


def index_html(prov: Provenance, entries: Sequence[Mapping[str, Any]], headline: str) -> str:
    """``index.html``: the provenance header, the headline answers, then a link to every page.

    Parameters
    ----------
    prov : Provenance
        The report's provenance (this build; every scenario of every page).
    entries : sequence of mapping
        The pages, in display order, as the manifest lists them (``page``, ``title``, ``notebook``,
        ``scenarios``, ``parameters``, ``seconds``, optional ``instructor_page`` and the build facts).
    headline : str
        HTML of the headline section (:func:`~analysis.report.headline.headline_html`).
    """
    items = "\n".join(index_item(x, prov) for x in entries)
    n = len(entries)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>calcsim report</title>\n<style>{_INDEX_CSS}</style>\n</head>\n<body>\n"
        "<h1>calcsim report</h1>\n"
        f'<p class="meta">{n} notebook{"s" if n != 1 else ""}, executed with the'
        " seed and cohort size below; every interval is a Wilson 95% interval unless a page says"
        " otherwise.</p>\n"
        f"{provenance_html(prov, back_link=None)}\n{headline}\n<h2>Pages</h2>\n"
        f'<ul class="pages">\n{items}\n</ul>\n</body>\n</html>\n'
    )
