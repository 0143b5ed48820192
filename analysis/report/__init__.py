"""The HTML report: every notebook executed with papermill and rendered to standalone HTML.

::

    build_report("reports", women=20_000, seed=2026)

1. The notebooks of ``notebooks/`` are found (sorted by file name). A ``.ipynb`` file is used as it
   is; a jupytext ``.py`` file (percent format, or any file with a ``jupytext:`` header) whose stem
   has no ``.ipynb`` beside it is converted with jupytext's API first, so a folder holding only the
   text halves of the pairs works too. When both halves exist the ``.ipynb`` is executed (papermill
   needs an ``.ipynb``; its cell sources are what Jupyter shows); a ``.py`` half whose cells differ
   from it is reported as a warning on stderr (run ``jupytext --sync``).
2. Each notebook is executed by papermill with ``women`` and ``seed`` injected after its
   ``parameters`` cell, in a kernel that runs **this** Python (``sys.executable``) with this copy of
   calcsim first on ``PYTHONPATH`` and matplotlib's inline backend, whatever kernels the user has
   installed (a built-in kernel spec, :data:`KERNEL_NAME`; pass ``kernel_name`` to use an installed
   one instead). The working directory is the notebook's folder, as in Jupyter.
3. Each executed notebook becomes one standalone page (nbconvert ``HTMLExporter``, lab template):
   code hidden, figures embedded as base64 images, cells tagged ``remove-cell`` / ``remove-input`` /
   ``remove-output`` honoured, no JavaScript, external CSS or fonts (RequireJS, MathJax and
   Mermaid are left out, so TeX in markdown shows as typed), and a provenance header at the top:
   calcsim version, git commit, seed, women, scenario name(s) with their ``scenario_hash``, UTC date.
   A page that would still need the network (an ``<img>`` or ``<script>`` pointing at a URL or a
   file) is an error. ``index.html`` links every page under the same provenance, with each
   notebook's title (its first markdown heading); ``report.json`` holds the same facts for machines.
4. Everything is written into a temporary folder beside ``out_dir`` (same filesystem). Only when
   every notebook has succeeded is ``out_dir`` replaced: the old report is renamed to a backup, the
   new one renamed into place, the backup deleted (restored if the second rename fails). A failing
   notebook raises :class:`ReportError` (one line: notebook, cell, exception) and leaves the previous
   report untouched.

Scenarios shown in the provenance are, per notebook: the string values (or lists of strings) of
parameters whose name starts with ``scenario`` in its ``parameters`` cell; failing that, the shipped
scenario names quoted in its code; failing that, none. Their hashes are computed here with
:func:`analysis.scenario.load_scenario`.

``out_dir`` is only replaced when it is missing, empty or a previous calcsim report (it holds a
``report.json`` written by this module), so ``--out .`` cannot delete a working folder.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis import __version__
from analysis.errors import CalcsimInputError

#: Name of the built-in kernel spec that runs ``sys.executable``.
KERNEL_NAME = "calcsim-python"
#: File that marks a folder as a calcsim report (and describes it).
MANIFEST = "report.json"
_GENERATOR = "calcsim report"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


class ReportError(CalcsimInputError):
    """A notebook failed (or a page would not render offline); the previous report is untouched.

    Attributes
    ----------
    notebook : str
        Path of the notebook that failed.
    cell : int or None
        0-based index of the failing cell in the notebook as written (markdown cells count;
        papermill's injected-parameters cell does not), or None when not known.
    ename, evalue : str
        Exception name and message raised in the notebook.
    """

    def __init__(self, message: str, *, notebook: str = "", cell: int | None = None,
                 source: str = "", ename: str = "", evalue: str = "") -> None:
        super().__init__(message)
        self.notebook, self.cell, self.source, self.ename, self.evalue = notebook, cell, source, ename, evalue


# ----------------------------------------------------------------------------- provenance
@dataclass(frozen=True)
class Provenance:
    """What a report page says about how it was made."""

    version: str
    commit: str
    seed: int
    women: int
    created_utc: str
    scenarios: tuple[tuple[str, str], ...] = ()  # (name, scenario_hash)

    def rows(self) -> list[tuple[str, str]]:
        """Label/value pairs, in display order."""
        scen = "; ".join(f"{n} (scenario_hash {h})" for n, h in self.scenarios) or "none declared"
        return [("calcsim", self.version), ("git commit", self.commit), ("seed", str(self.seed)),
                ("women", f"{self.women:,}"), ("scenario" + ("s" if len(self.scenarios) > 1 else ""), scen),
                ("built (UTC)", self.created_utc)]


def package_root() -> Path:
    """The folder holding the ``analysis`` package (the repository root in a checkout)."""
    return Path(__file__).resolve().parent.parent


def git_commit(repo: str | os.PathLike[str] | None = None) -> str:
    """``git rev-parse --short HEAD`` of calcsim's checkout, ``+ uncommitted changes`` when dirty.

    Returns ``"unknown"`` when calcsim is not run from a git checkout (or git is missing).
    """
    where = str(repo or package_root())
    try:
        head = subprocess.run(["git", "-C", where, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=20, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=20, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return f"{head} + uncommitted changes" if dirty else head


# ----------------------------------------------------------------------------- notebooks
@dataclass
class Notebook:
    """One notebook of the report: where it comes from and what its page says."""

    source: Path  # the .ipynb or .py file
    stem: str
    nb: Any = None  # nbformat.NotebookNode, as read (before execution)
    title: str = ""
    scenario_names: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def page(self) -> str:
        return f"{self.stem}.html"


def _is_jupytext_py(path: Path) -> bool:
    """A ``.py`` file written by jupytext: a ``jupytext:`` header or percent-format cell markers."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    head = text[:4000]
    return "jupytext:" in head or re.search(r"^# %%", text, flags=re.MULTILINE) is not None


def find_notebooks(notebooks_dir: str | os.PathLike[str] | None = None,
                   notebooks: Sequence[str | os.PathLike[str]] | None = None) -> list[Path]:
    """The notebook files a report is built from, sorted by file name.

    Parameters
    ----------
    notebooks_dir : path, optional
        Folder of notebooks; default ``notebooks/`` beside the ``analysis`` package.
    notebooks : sequence of str or path, optional
        Only these notebooks: paths, or file names / stems inside ``notebooks_dir``.

    Returns
    -------
    list of Path
        One file per notebook: the ``.ipynb``, or the jupytext ``.py`` when there is no ``.ipynb``
        of the same stem. Files starting with ``.`` or ``_`` are skipped.
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else package_root() / "notebooks"
    if notebooks is not None:
        chosen: list[Path] = []
        for item in notebooks:
            p = Path(item)
            cands = [p] if p.suffix in (".ipynb", ".py") else []
            cands += [folder / p.name] if p.suffix in (".ipynb", ".py") else [folder / f"{p.name}.ipynb",
                                                                            folder / f"{p.name}.py"]
            hit = next((c for c in cands if c.is_file()), None)
            if hit is None:
                raise CalcsimInputError(f"--only: {str(item)!r}: no such notebook (looked for"
                                        f" {', '.join(str(c) for c in cands)})")
            chosen.append(hit)
        return sorted(dict.fromkeys(chosen), key=lambda p: p.name)
    if not folder.is_dir():
        raise CalcsimInputError(f"--notebooks: {str(folder)!r}: no such folder; pass the folder holding the"
                                " notebooks")
    by_stem: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith((".", "_")) or not p.is_file():
            continue
        if p.suffix == ".ipynb":
            by_stem[p.stem] = p
        elif p.suffix == ".py" and p.stem not in by_stem and not (folder / f"{p.stem}.ipynb").exists() \
                and _is_jupytext_py(p):
            by_stem[p.stem] = p
    if not by_stem:
        raise CalcsimInputError(f"--notebooks: {str(folder)!r}: no notebooks (.ipynb, or jupytext .py) in it")
    return sorted(by_stem.values(), key=lambda p: p.name)


def _read_notebook(path: Path) -> Any:
    """Read an ``.ipynb`` (nbformat) or a jupytext ``.py``; one-line error when unreadable."""
    import nbformat

    try:
        if path.suffix == ".py":
            import jupytext

            nb = jupytext.read(path)
        else:
            nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # any parse error of a user file becomes one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ReportError(f"{path}: not a readable notebook ({type(exc).__name__}: {first})",
                          notebook=str(path)) from None
    return nb


def _cell_sources(nb: Any) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells
            if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]


def _check_pair(path: Path, nb: Any) -> None:
    """Warn when the jupytext ``.py`` half of an executed ``.ipynb`` has different cells."""
    twin = path.with_suffix(".py")
    if path.suffix != ".ipynb" or not twin.is_file():
        return
    with contextlib.suppress(Exception):
        import jupytext

        if _cell_sources(jupytext.read(twin)) != _cell_sources(nb):
            warnings.warn(f"{path.name} and {twin.name} differ; the report executes {path.name}"
                          " (run `jupytext --sync` to update the pair)", stacklevel=3)


def notebook_title(nb: Any, default: str) -> str:
    """The text of the first markdown heading (``# ...`` at any level), else ``default``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        in_fence = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
            m = None if in_fence else _HEADING.match(line)
            if m:
                return m.group(1).replace("`", "").strip() or default
    return default


def _parameters_cell(nb: Any) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    return None


def _declared_scenarios(nb: Any) -> list[str]:
    """Scenario names from the parameters cell, else the shipped names quoted in code cells."""
    names: list[str] = []
    i = _parameters_cell(nb)
    if i is not None:
        with contextlib.suppress(SyntaxError, ValueError):
            for node in ast.parse(nb.cells[i].source).body:
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else []
                for t in targets:
                    if not (isinstance(t, ast.Name) and t.id.lower().startswith("scenario")):
                        continue
                    with contextlib.suppress(ValueError, TypeError, SyntaxError):
                        value = ast.literal_eval(node.value)
                        values = [value] if isinstance(value, str) else list(value)
                        names += [v for v in values if isinstance(v, str)]
    if names:
        return list(dict.fromkeys(names))
    from analysis.scenario.loader import list_scenarios

    shipped = list_scenarios()
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return [n for n in shipped if re.search(rf"""["']{re.escape(n)}["']""", code)]


def _scenario_hashes(names: Sequence[str], base: Path, cache: dict[str, str]) -> list[tuple[str, str]]:
    from analysis.scenario.loader import load_scenario

    out = []
    for name in names:
        if name not in cache:
            target: str | Path = name
            if name.endswith(".toml") and not Path(name).is_absolute():
                target = base / name
            try:
                cache[name] = load_scenario(target).hash
            except CalcsimInputError as exc:
                cache[name] = f"unavailable: {exc}"
        out.append((name, cache[name]))
    return out


# ----------------------------------------------------------------------------- kernel
def kernel_spec_dict() -> dict[str, Any]:
    """The kernel spec of :data:`KERNEL_NAME`: ipykernel on ``sys.executable``.

    ``PYTHONPATH`` starts with the folder holding this ``analysis`` package, so the notebooks
    import the same calcsim whose version the provenance header shows; ``MPLBACKEND`` is the
    inline backend even when the caller's environment sets ``MPLBACKEND=Agg``.
    """
    from ipykernel.kernelspec import get_kernel_dict

    spec = get_kernel_dict()  # argv [sys.executable, -m, ipykernel_launcher, ...], encryption metadata
    spec["argv"] = [sys.executable, *spec["argv"][1:]]
    path = [str(package_root())] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    spec["display_name"] = f"calcsim ({sys.executable})"
    spec["env"] = {"PYTHONPATH": os.pathsep.join(dict.fromkeys(path)),
                   "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                   "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # silence debugpy's frozen-modules warning
                   # tqdm.auto warns "IProgress not found" in a kernel without ipywidgets when merely imported
                   # (analysis.model.simulation imports it); progress widgets mean nothing in a static page
                   "PYTHONWARNINGS": ",".join(filter(None, [os.environ.get("PYTHONWARNINGS", ""),
                                                            "ignore:IProgress not found"]))}
    return spec


def _kernel_manager_class() -> type:
    """An nbclient kernel manager that knows :data:`KERNEL_NAME` without any kernel spec on disk."""
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from traitlets import default

    class _SpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            if kernel_name == KERNEL_NAME:
                return KernelSpec(resource_dir="", **kernel_spec_dict())
            return super().get_kernel_spec(kernel_name)

    class _Manager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_spec_manager(self) -> KernelSpecManager:
            return _SpecManager(data_dir=self.data_dir)

        if "transport_encryption" in AsyncKernelManager.class_trait_names():  # jupyter_client >= 8.7
            @default("transport_encryption")
            def _default_transport_encryption(self) -> str:
                import zmq

                # CurveZMQ keys when libzmq has them: ipykernel >= 7 warns on unencrypted TCP otherwise
                return "auto" if zmq.has("curve") else "disabled"

    return _Manager


# ----------------------------------------------------------------------------- HTML
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


def _provenance_html(prov: Provenance, back_link: bool) -> str:
    e = html.escape
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in prov.rows())
    nav = '<nav><a href="index.html">&larr; all notebooks</a></nav>' if back_link else ""
    return f'<header class="calcsim-provenance" id="calcsim-provenance">{nav}<dl>{rows}</dl></header>'


def _exporter() -> Any:
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


def _index_html(prov: Provenance, pages: Sequence[Notebook], hashes: Mapping[str, list[tuple[str, str]]]) -> str:
    e = html.escape
    items = []
    for nb in pages:
        scen = "; ".join(f"{n} <code>{e(h)}</code>" if not h.startswith("unavailable") else f"{e(n)} ({e(h)})"
                         for n, h in hashes[nb.stem]) or "no scenario declared"
        items.append(f'<li><a href="{e(nb.page)}">{e(nb.title)}</a><br><span class="meta">'
                     f"{e(nb.source.name)} &middot; {scen} &middot; ran in {nb.seconds:.1f} s</span></li>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
            f"<title>calcsim report</title>\n<style>{_INDEX_CSS}</style>\n</head>\n<body>\n"
            "<h1>calcsim report</h1>\n"
            f"<p class=\"meta\">{len(pages)} notebook{'s' if len(pages) != 1 else ''}, executed with the"
            " seed and cohort size below; every interval is a Wilson 95% interval unless a page says"
            " otherwise.</p>\n"
            f"{_provenance_html(prov, back_link=False)}\n"
            f"<ol class=\"pages\">\n{chr(10).join(items)}\n</ol>\n</body>\n</html>\n")


# ----------------------------------------------------------------------------- execution
def _first_line(text: str, width: int = 100) -> str:
    lines = [ln.strip() for ln in _ANSI.sub("", str(text)).splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _source_cell_index(nb: Any, executed_index: int) -> int | None:
    """Index in the notebook as written of the cell papermill reports at ``executed_index``."""
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    if any("injected-parameters" in t for t in tags):
        return executed_index  # papermill replaces an existing injected cell: no shift
    p = _parameters_cell(nb)
    injected = 0 if p is None else p + 1
    if executed_index == injected:
        return None  # the injected parameters cell itself
    return executed_index - 1 if executed_index > injected else executed_index


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    import logging

    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _execute(note: Notebook, work: Path, women: int, seed: int, kernel_name: str | None,
             progress: bool) -> Any:
    """Run one notebook with papermill; return the executed notebook node."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src = work / f"{note.stem}.input.ipynb"
    out = work / f"{note.stem}.ipynb"
    nbformat.write(note.nb, src)
    kwargs: dict[str, Any] = {}
    if kernel_name is None:
        kwargs["kernel_manager_class"] = _kernel_manager_class()
    bar = {"desc": f"  {note.source.name}", "leave": False, "file": sys.stderr, "position": 1} if progress else False
    try:
        with warnings.catch_warnings(), _quiet_logger("papermill"):
            # papermill warns about parameters a notebook does not declare, and logs "Unable to parse line"
            # for parameter lines it cannot type-infer; neither affects the injected values
            warnings.simplefilter("ignore")
            pm.execute_notebook(
                str(src), str(out), parameters={"women": int(women), "seed": int(seed)},
                kernel_name=kernel_name or KERNEL_NAME, language="python", cwd=str(note.source.parent),
                progress_bar=bar, request_save_on_cell_execute=False, log_output=False, start_timeout=180,
                **kwargs)
    except PapermillExecutionError as exc:
        idx = _source_cell_index(note.nb, exc.cell_index)
        where = "the injected parameters cell" if idx is None else f"cell {idx + 1} (index {idx})"
        line = _first_line(exc.source, 80)
        evalue = _first_line(exc.evalue, 300)
        raise ReportError(
            f"{note.source}: failed in {where}, first line {line!r}: {exc.ename}: {evalue}",
            notebook=str(note.source), cell=idx, source=exc.source, ename=exc.ename, evalue=evalue) from None
    except Exception as exc:  # kernel died or would not start, timeout, missing kernel spec, ...
        msg = _first_line(str(exc), 300) or type(exc).__name__
        raise ReportError(f"{note.source}: could not be executed ({type(exc).__name__}: {msg})",
                          notebook=str(note.source), ename=type(exc).__name__, evalue=msg) from None
    return nbformat.read(out, as_version=4)


# ----------------------------------------------------------------------------- folders
def _check_args(women: int, seed: int) -> None:
    if isinstance(women, bool) or not isinstance(women, int) or women < 1:
        raise CalcsimInputError(f"--women: {women!r}: a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise CalcsimInputError(f"--seed: {seed!r}: a whole number between 0 and 2**63 - 1")


def _replaceable(out: Path) -> None:
    """Refuse to replace a folder that is neither empty nor a previous report."""
    if not out.exists():
        return
    if not out.is_dir():
        raise CalcsimInputError(f"--out: {str(out)!r}: exists and is not a folder")
    if not any(out.iterdir()):
        return
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("generator") == _GENERATOR:
            return
    except (OSError, ValueError, AttributeError):
        pass
    raise CalcsimInputError(f"--out: {str(out)!r}: a non-empty folder that is not a calcsim report (no"
                            f" {MANIFEST}); choose a new or empty folder — it would be replaced")


def swap_into_place(new: Path, out: Path) -> None:
    """Replace folder ``out`` by folder ``new`` (same filesystem) as atomically as POSIX allows.

    The old folder is renamed to a backup beside it, ``new`` renamed to ``out``, then the backup
    deleted; if the second rename fails the backup is renamed back.
    """
    backup = None
    if out.exists():
        backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        backup.rmdir()  # reserve a unique name, then let rename create it
        os.rename(out, backup)
    try:
        os.rename(new, out)
    except BaseException:
        if backup is not None:
            os.rename(backup, out)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def staging_folder(out: Path, label: str) -> Iterator[Path]:
    """A fresh folder beside ``out`` (same filesystem), deleted unless it has been moved away."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.{label}-", dir=out.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    stage.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result should look like any new folder
    try:
        yield stage
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _run_all(bar: Any, work: Path, stage: Path, women: int, seed: int, kernel_name: str | None, progress: bool,
             exporter: Any, base: Provenance, hashes: Mapping[str, list[tuple[str, str]]]) -> None:
    """Execute and render every notebook of ``bar`` (tqdm over :class:`Notebook`) into ``stage``.

    The first failure raises :class:`ReportError`.
    """
    for note in bar:
        bar.set_postfix_str(note.source.name, refresh=True)
        t0 = time.perf_counter()
        executed = _execute(note, work, women, seed, kernel_name, progress)
        note.seconds = time.perf_counter() - t0
        prov = dataclasses.replace(base, scenarios=tuple(hashes[note.stem]))
        resources = {"metadata": {"name": note.title, "path": str(note.source.parent)},
                     "calcsim_header": _provenance_html(prov, back_link=True), "calcsim_css": _CSS}
        try:
            page, _ = exporter.from_notebook_node(executed, resources=resources)
        except Exception as exc:
            raise ReportError(f"{note.source}: executed but could not be rendered to HTML"
                              f" ({type(exc).__name__}: {_first_line(str(exc), 200)})",
                              notebook=str(note.source)) from None
        bad = offline_problems(page)
        if bad:
            raise ReportError(f"{note.source}: its page would need {len(bad)} resource(s) from outside"
                              f" the page, e.g. {bad[0]}; the report must render offline — embed the"
                              " image (or remove it)", notebook=str(note.source))
        (stage / note.page).write_text(page, encoding="utf-8")


# ----------------------------------------------------------------------------- entry point
def build_report(
    out_dir: str | os.PathLike[str] = "reports",
    *,
    women: int = 20_000,
    seed: int = 2026,
    notebooks_dir: str | os.PathLike[str] | None = None,
    notebooks: Sequence[str | os.PathLike[str]] | None = None,
    progress: bool = True,
    kernel_name: str | None = None,
) -> Path:
    """Execute the notebooks and write the standalone HTML report.

    Parameters
    ----------
    out_dir : path
        Report folder (``index.html``, one ``<notebook>.html`` per notebook, ``report.json``). It is
        replaced only when every notebook succeeded, and only if it is missing, empty or an earlier
        calcsim report.
    women, seed : int
        Injected into every notebook's ``parameters`` cell.
    notebooks_dir : path, optional
        Folder of notebooks (default: ``notebooks/`` beside the ``analysis`` package).
    notebooks : sequence, optional
        Only these notebooks (paths, or names inside ``notebooks_dir``).
    progress : bool
        Progress bars on stderr: the notebook running and its cells.
    kernel_name : str, optional
        An installed Jupyter kernel to use instead of the built-in :data:`KERNEL_NAME` (which runs
        ``sys.executable``).

    Returns
    -------
    Path
        The report folder.

    Raises
    ------
    ReportError
        One line naming the notebook, the failing cell (number, index and first line) and the
        exception; the previous report is left as it was.
    CalcsimInputError
        Bad arguments (women, seed, folders).
    """
    _check_args(women, seed)
    out = Path(out_dir).absolute()
    _replaceable(out)
    files = find_notebooks(notebooks_dir, notebooks)
    notes = []
    for f in files:
        nb = _read_notebook(f)
        _check_pair(f, nb)
        notes.append(Notebook(source=f, stem=f.stem, nb=nb, title=notebook_title(nb, f.stem),
                              scenario_names=_declared_scenarios(nb)))
    version, commit = __version__, git_commit()
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    cache: dict[str, str] = {}
    hashes = {n.stem: _scenario_hashes(n.scenario_names, n.source.parent, cache) for n in notes}
    exporter = _exporter()

    from tqdm import tqdm

    with staging_folder(out, "building") as stage:
        work = stage / ".executed"
        work.mkdir()
        bar = tqdm(notes, desc="report", unit="notebook", file=sys.stderr, disable=not progress, position=0)
        try:
            _run_all(bar, work, stage, women, seed, kernel_name, progress, exporter,
                     Provenance(version, commit, int(seed), int(women), created), hashes)
        except ReportError as exc:
            kept = f"{out} left unchanged" if out.exists() else f"nothing written to {out}"
            raise ReportError(f"{exc}; {kept}", notebook=exc.notebook, cell=exc.cell, source=exc.source,
                              ename=exc.ename, evalue=exc.evalue) from None
        finally:
            bar.close()
        shutil.rmtree(work)
        all_scen = tuple(dict.fromkeys(h for n in notes for h in hashes[n.stem]))
        prov = Provenance(version, commit, int(seed), int(women), created, all_scen)
        (stage / "index.html").write_text(_index_html(prov, notes, hashes), encoding="utf-8")
        manifest = {
            "generator": _GENERATOR, "calcsim_version": version, "git_commit": commit, "seed": int(seed),
            "women": int(women), "created_utc": created, "python": sys.executable,
            "kernel": kernel_name or KERNEL_NAME,
            "pages": [{"notebook": n.source.name, "page": n.page, "title": n.title, "seconds": round(n.seconds, 2),
                       "scenarios": [{"name": a, "scenario_hash": b} for a, b in hashes[n.stem]]} for n in notes],
        }
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        swap_into_place(stage, out)
    return out
