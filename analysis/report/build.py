"""``build_report``: execute every notebook, render its page(s), move them into the report folder."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis import __version__
from analysis.errors import ArgumentError, check_seed, check_women
from analysis.report.coursework import has_solutions, instructor_edition, student_edition
from analysis.report.defaults import DEFAULT_SEED, DEFAULT_WOMEN
from analysis.report.errors import ReportError
from analysis.report.execute import execute_notebook
from analysis.report.folder import (
    check_targets,
    locked_stage,
    move_into_place,
    owned_files,
    read_previous,
    remove_leftovers,
)
from analysis.report.headline import default_scenario, headline_html, mentioned, qualifying, select, shown
from analysis.report.kernel import KERNEL_NAME
from analysis.report.manifest import entry_files, kept_entries, manifest, page_entry
from analysis.report.notebooks import (
    Notebook,
    check_pair,
    declared_parameters,
    declared_scenarios,
    find_notebooks,
    notebook_title,
    read_notebook,
    scenario_hashes,
)
from analysis.report.pages import html_exporter, index_html, render_page
from analysis.report.paths import path_scrubber, scrub_outputs, scrub_value
from analysis.report.progress import Progress
from analysis.report.provenance import GENERATOR, MANIFEST, Provenance, git_commit, package_root, project_root

Hashes = Mapping[str, list[tuple[str, str]]]


def _check_out(out: Path) -> None:
    """Refuse a report folder that exists and is not a folder."""
    if out.exists() and not out.is_dir():
        raise ArgumentError("out_dir", str(out), "exists and is not a folder", flag="--out")


def _attach_parameters(notes: Sequence[Notebook], parameters: Mapping[str, Mapping[str, Any]] | None) -> None:
    """Check ``parameters`` (``stem -> {name: value}``) against the notebooks and store them on each."""
    by_stem = {n.stem: n for n in notes}
    for stem, values in (parameters or {}).items():
        note = by_stem.get(stem)
        if note is None:
            raise ArgumentError("parameters", stem, f"not a notebook of this report; allowed: {', '.join(by_stem)}")
        if not isinstance(values, Mapping):
            raise ArgumentError(f"parameters[{stem!r}]", values, "a mapping of parameter name to value")
        declared = declared_parameters(note.nb)
        for name, value in values.items():
            if name in ("women", "seed"):
                raise ArgumentError(
                    f"parameters[{stem!r}]",
                    name,
                    "women and seed are set for every notebook by build_report's own women= and seed=",
                )
            if name not in declared:
                raise ArgumentError(
                    f"parameters[{stem!r}]",
                    name,
                    f"not set in the parameters cell of"
                    f" {note.source.name}; it sets: {', '.join(declared) or 'nothing'}",
                )
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise ArgumentError(
                    f"parameters[{stem!r}][{name!r}]",
                    value,
                    "a JSON value (number, string, bool, None, or a list / dict of them)",
                ) from None
        note.parameters = dict(values)


def _check_executed_dir(
    executed_dir: str | os.PathLike[str] | None, out: Path, notes: Sequence[Notebook]
) -> Path | None:
    """The folder to keep executed notebooks in (created), refusing the report folder and the notebooks'."""
    if executed_dir is None:
        return None
    folder = Path(executed_dir).absolute()
    real = folder.resolve()
    if real == out.resolve() or out.resolve() in real.parents:
        raise ArgumentError(
            "executed_dir",
            str(folder),
            f"inside the report folder {out}, whose files the report manages; choose a folder outside it",
        )
    if real in {n.source.parent.resolve() for n in notes}:
        raise ArgumentError(
            "executed_dir",
            str(folder),
            "the folder of the notebooks themselves, which the executed copies would overwrite; choose another folder",
        )
    if folder.exists() and not folder.is_dir():
        raise ArgumentError("executed_dir", str(folder), "exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _read_all(files: Sequence[Path], parameters: Mapping[str, Mapping[str, Any]] | None) -> list[Notebook]:
    """Read each notebook file (warning about a jupytext pair out of sync) with its title and scenarios."""
    notes = []
    for f in files:
        nb = read_notebook(f)
        check_pair(f, nb)
        notes.append(
            Notebook(
                source=f,
                stem=f.stem,
                nb=nb,
                title=notebook_title(nb, f.stem),
                scenario_names=declared_scenarios(nb),
                answers=has_solutions(nb),
            )
        )
    _attach_parameters(notes, parameters)
    return notes


def _planned(notes: Sequence[Notebook]) -> list[str]:
    """The files this build writes (relative to the report folder), the manifest last."""
    pages = [f for n in notes for f in (n.page, n.instructor_page) if f]
    return [*pages, "index.html", MANIFEST]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@dataclasses.dataclass
class _Build:
    """What every notebook of one build shares."""

    stage: Path
    work: Path
    base: Provenance
    hashes: Hashes
    kernel_name: str | None
    executed_dir: Path | None
    scrub: Callable[[str], str]
    default: tuple[str, str]  # the default scenario and its scenario_hash
    exporter: Any = None


def _run_one(b: _Build, note: Notebook, cell_bar: bool) -> dict[str, Any]:
    """Execute ``note``, write its page(s) into the stage; return its manifest entry."""
    t0 = time.perf_counter()
    try:
        executed, runs = execute_notebook(
            note, b.work, b.base.women, b.base.seed, b.kernel_name, cell_bar, b.executed_dir
        )
    finally:
        note.seconds = time.perf_counter() - t0
    scrub_outputs(executed, b.scrub)
    scenarios = b.hashes[note.stem]
    prov = dataclasses.replace(
        b.base,
        scenarios=tuple((b.scrub(n), h) for n, h in scenarios),
        parameters=tuple((k, b.scrub(repr(v))) for k, v in note.parameters.items()),
    )
    page = student_edition(executed) if note.instructor_page else executed
    if note.instructor_page:
        prov_page = dataclasses.replace(prov, edition="student: the worked answers are left out")
        teacher = dataclasses.replace(prov, edition="instructor: each worked answer folded under its exercise")
        _write(
            b.stage / note.instructor_page,
            render_page(b.exporter, instructor_edition(executed), note, teacher, back_link="../index.html"),
        )
    else:
        prov_page = prov
    _write(b.stage / note.page, render_page(b.exporter, page, note, prov_page))
    headline = qualifying(runs, *b.default, b.base.women, b.base.seed)
    return page_entry(note, b.base, scenarios, mentioned(note.nb), shown(page, headline), headline, b.scrub)


def _run_all(b: _Build, notes: Sequence[Notebook], progress: Progress) -> list[dict[str, Any]]:
    """Execute and render every notebook into the stage; the first failure raises :class:`ReportError`."""
    b.exporter = html_exporter()
    entries = []
    try:
        for note in notes:
            progress.start(note.source.name)
            try:
                entries.append(_run_one(b, note, progress.cell_bar))
            except ReportError:
                progress.finish(note.source.name, note.seconds, failed=True)
                raise
            progress.finish(note.source.name, note.seconds)
    finally:
        progress.close()
    return entries


def _finish(
    b: _Build, out: Path, entries: list[dict[str, Any]], previous: dict[str, Any] | None, partial: bool, kernel: str
) -> None:
    """Index and manifest of the whole report (kept pages too), then the files moved into ``out``."""
    rebuilt = {Path(e["notebook"]).stem for e in entries}
    kept = [scrub_value(e, b.scrub) for e in kept_entries(previous, rebuilt, out)] if partial else []
    written = [f for e in entries for f in entry_files(e)] + ["index.html"]
    entries = sorted([*entries, *kept], key=lambda e: str(e["notebook"]))
    rows = select(entries)
    all_scen = tuple(dict.fromkeys((s["name"], s["scenario_hash"]) for e in entries for s in e["scenarios"]))
    prov = dataclasses.replace(b.base, scenarios=all_scen)
    (b.stage / "index.html").write_text(
        index_html(prov, entries, headline_html(rows, b.base.women, b.base.seed)), encoding="utf-8"
    )
    new = manifest(b.base, entries, [*written, *(f for e in kept for f in entry_files(e))], rows, kernel)
    claim = {
        **(previous or {"generator": GENERATOR, "pages": []}),
        "files": sorted(owned_files(previous) | set(new["files"])),
    }
    move_into_place(b.stage, out, written, new, claim)


def _setup(
    stage: Path, base: Provenance, notes: Sequence[Notebook], kernel_name: str | None, executed_dir: Path | None
) -> _Build:
    """What the notebooks of a build share: scenario hashes, the default scenario, the path scrubber."""
    work = stage / ".executed"
    work.mkdir()
    cache: dict[str, str] = {}
    hashes = {n.stem: scenario_hashes(n.scenario_names, n.source.parent, cache) for n in notes}
    default = scenario_hashes([default_scenario()], Path.cwd(), cache)[0]
    project = project_root()
    scrub = path_scrubber(project, installed=None if project else package_root())
    return _Build(stage, work, base, hashes, kernel_name, executed_dir, scrub, default)


def _untouched(exc: ReportError, out: Path) -> ReportError:
    """``exc`` saying that the report folder was left as it was."""
    kept = f"{out} left unchanged" if out.exists() else f"nothing written to {out}"
    return ReportError(
        f"{exc}; {kept}", notebook=exc.notebook, cell=exc.cell, source=exc.source, ename=exc.ename, evalue=exc.evalue
    )


def build_report(
    out_dir: str | os.PathLike[str] = "reports",
    *,
    women: int = DEFAULT_WOMEN,
    seed: int = DEFAULT_SEED,
    notebooks_dir: str | os.PathLike[str] | None = None,
    notebooks: Sequence[str | os.PathLike[str]] | None = None,
    progress: bool = True,
    kernel_name: str | None = None,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    executed_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Execute the notebooks and write the standalone HTML report.

    Parameters
    ----------
    out_dir : path
        Report folder: ``index.html``, one ``<notebook>.html`` per notebook (plus
        ``instructor/<notebook>.html`` for a notebook with worked answers) and ``report.json``.
        Only the report's own files are replaced, once every notebook has succeeded; anything
        else in the folder is left alone (:mod:`~analysis.report.folder`).
    women, seed : int
        Injected into every notebook's ``parameters`` cell (default :data:`DEFAULT_WOMEN`,
        :data:`DEFAULT_SEED`).
    notebooks_dir : path, optional
        Folder of notebooks (default: the checkout's ``notebooks/``, else the folder installed with
        the package; see :func:`~analysis.report.notebooks.default_notebooks_dir`).
    notebooks : sequence, optional
        Only these notebooks (paths, or names inside ``notebooks_dir``): a partial build, which
        updates their pages, the index and the manifest and keeps every other page of the report.
    progress : bool
        Say on stderr which notebook runs: progress bars on a terminal, else one plain line per
        notebook with its time (:mod:`~analysis.report.progress`).
    kernel_name : str, optional
        An installed Jupyter kernel to use instead of the built-in :data:`KERNEL_NAME` (which runs
        ``sys.executable``).
    parameters : mapping, optional
        More parameters for some notebooks, ``{stem: {name: value}}``: each name must be set in that
        notebook's ``parameters`` cell (not ``women`` or ``seed``) and each value be JSON. They are
        injected after ``women`` and ``seed`` and shown in the page's provenance header, the index
        and :data:`MANIFEST`.
    executed_dir : path, optional
        Also write each executed notebook, outputs included, to this folder as ``<stem>.ipynb`` as
        soon as it has run — a failing one too (with its error output), for inspection. It is not
        part of the report (other files in it are left alone) and may be neither inside ``out_dir``
        nor the notebooks' own folder.

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
        Bad arguments (women, seed, folders, parameters), or a file in ``out_dir`` that the report
        did not write but would overwrite.
    """
    women, seed = check_women(women), check_seed(seed)
    out = Path(out_dir).absolute()
    _check_out(out)
    previous = read_previous(out)
    notes = _read_all(find_notebooks(notebooks_dir, notebooks), parameters)
    keep = _check_executed_dir(executed_dir, out, notes)
    check_targets(out, _planned(notes), owned_files(previous))
    remove_leftovers(out)
    base = Provenance(__version__, git_commit(), seed, women, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    with locked_stage(out) as stage:
        b = _setup(stage, base, notes, kernel_name, keep)
        try:
            entries = _run_all(b, notes, Progress([n.source.name for n in notes], progress))
        except ReportError as exc:
            raise _untouched(exc, out) from None
        shutil.rmtree(b.work)
        _finish(b, out, entries, previous, partial=notebooks is not None, kernel=kernel_name or KERNEL_NAME)
    return out
