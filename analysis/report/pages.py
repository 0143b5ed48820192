"""Rendering: executed notebooks to standalone HTML pages, the index page, and the offline check."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.report.errors import ReportError, first_line
from analysis.report.notebooks import Notebook
from analysis.report.provenance import Provenance

_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style type="text/css">{{ resources.calcsim_css }}</style>{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.calcsim_header }}
{%- endblock body_header -%}
"""

_CSS = """
.calcsim-provenance { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 13px; color: #333; background: #f4f6f8; border: 1px solid #d0d7de; border-radius: 6px;
  margin: 12px 0 18px; padding: 10px 14px; }
.calcsim-provenance nav { margin-bottom: 6px; }
.calcsim-provenance dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
.calcsim-provenance dt { font-weight: 600; }
.calcsim-provenance dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
"""

_INDEX_CSS = _CSS + """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 960px;
  margin: 24px auto; padding: 0 16px; color: #1f2328; line-height: 1.5; }
h1 { font-size: 26px; margin-bottom: 4px; }
ol.pages { padding-left: 22px; }
ol.pages li { margin: 10px 0; }
ol.pages a { font-size: 17px; font-weight: 600; color: #0969da; text-decoration: none; }
ol.pages a:hover { text-decoration: underline; }
.meta { color: #57606a; font-size: 13px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
"""


def provenance_html(prov: Provenance, back_link: bool) -> str:
    """The provenance header of a page (``<header class="calcsim-provenance">``).

    Parameters
    ----------
    prov : Provenance
        What to show (:meth:`Provenance.rows`).
    back_link : bool
        Start with a link back to ``index.html`` (on notebook pages).
    """
    e = html.escape
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in prov.rows())
    nav = '<nav><a href="index.html">&larr; all notebooks</a></nav>' if back_link else ""
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
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "remove_cell"}
    c.TagRemovePreprocessor.remove_input_tags = {"remove-input", "remove_input", "hide-input"}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output", "remove_output", "hide-output"}
    return HTMLExporter(config=c, extra_loaders=[DictLoader({"calcsim_report.html.j2": _TEMPLATE})],
                        template_file="calcsim_report.html.j2")


_RESOURCE_TAG = re.compile(r"<(img|script|link|iframe|source|embed|object|audio|video|track)\b([^>]*)>",
                           re.IGNORECASE)
_RESOURCE_ATTR = re.compile(r"""\b(src|href|data|srcset|poster)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                            re.IGNORECASE)
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


def render_page(exporter: Any, executed: Any, note: Notebook, prov: Provenance) -> str:
    """The standalone HTML page of an executed notebook.

    Parameters
    ----------
    exporter : nbconvert.HTMLExporter
        From :func:`html_exporter`.
    executed : nbformat.NotebookNode
        The notebook with its outputs.
    note : Notebook
        Its title and source file.
    prov : Provenance
        The page's provenance header.

    Raises
    ------
    ReportError
        The page cannot be rendered, or it would need a resource from outside itself.
    """
    resources = {"metadata": {"name": note.title, "path": str(note.source.parent)},
                 "calcsim_header": provenance_html(prov, back_link=True), "calcsim_css": _CSS}
    try:
        page, _ = exporter.from_notebook_node(executed, resources=resources)
    except Exception as exc:
        raise ReportError(f"{note.source}: executed but could not be rendered to HTML"
                          f" ({type(exc).__name__}: {first_line(str(exc), 200)})", notebook=str(note.source)) from None
    bad = offline_problems(page)
    if bad:
        raise ReportError(f"{note.source}: its page would need {len(bad)} resource(s) from outside"
                          f" the page, e.g. {bad[0]}; the report must render offline — embed the"
                          " image (or remove it)", notebook=str(note.source))
    return page


def index_html(prov: Provenance, pages: Sequence[Notebook], hashes: Mapping[str, list[tuple[str, str]]]) -> str:
    """``index.html``: the provenance header, then a link to every page with its title and facts.

    Parameters
    ----------
    prov : Provenance
        The report's provenance (every scenario of every page).
    pages : sequence of Notebook
        The notebooks, in display order (executed: their ``seconds`` are shown).
    hashes : mapping
        ``stem -> [(scenario name, scenario_hash), ...]``.
    """
    e = html.escape
    items = []
    for nb in pages:
        scen = "; ".join(f"{n} <code>{e(h)}</code>" if not h.startswith("unavailable") else f"{e(n)} ({e(h)})"
                         for n, h in hashes[nb.stem]) or "no scenario declared"
        extra = "".join(f" &middot; {e(k)}={e(repr(v))}" for k, v in nb.parameters.items())
        items.append(f'<li><a href="{e(nb.page)}">{e(nb.title)}</a><br><span class="meta">'
                     f"{e(nb.source.name)} &middot; {scen}{extra} &middot; ran in {nb.seconds:.1f} s</span></li>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
            f"<title>calcsim report</title>\n<style>{_INDEX_CSS}</style>\n</head>\n<body>\n"
            "<h1>calcsim report</h1>\n"
            f"<p class=\"meta\">{len(pages)} notebook{'s' if len(pages) != 1 else ''}, executed with the"
            " seed and cohort size below; every interval is a Wilson 95% interval unless a page says"
            " otherwise.</p>\n"
            f"{provenance_html(prov, back_link=False)}\n"
            f"<ol class=\"pages\">\n{chr(10).join(items)}\n</ol>\n</body>\n</html>\n")
