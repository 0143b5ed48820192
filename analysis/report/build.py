"""``build_report``: execute every notebook, render the pages, swap the new report into place."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis import __version__
from analysis.errors import ArgumentError, check_seed, check_women
from analysis.io.atomic import staging_folder, swap_into_place
from analysis.report.errors import ReportError
from analysis.report.execute import execute_notebook
from analysis.report.kernel import KERNEL_NAME
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
from analysis.report.provenance import GENERATOR, MANIFEST, Provenance, git_commit

Hashes = Mapping[str, list[tuple[str, str]]]


def _check_out(out: Path) -> None:
    """Refuse to replace a folder that is neither empty nor a previous report."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ArgumentError("out_dir", str(out), "exists and is not a folder", flag="--out")
    if not any(out.iterdir()):
        return
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("generator") == GENERATOR:
            return
    except (OSError, ValueError, AttributeError):
        pass
    raise ArgumentError("out_dir", str(out), f"a non-empty folder that is not a calcsim report (no {MANIFEST});"
                        " choose a new or empty folder — it would be replaced", flag="--out")


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
                raise ArgumentError(f"parameters[{stem!r}]", name, "women and seed are set for every notebook by"
                                    " build_report's own women= and seed=")
            if name not in declared:
                raise ArgumentError(f"parameters[{stem!r}]", name, f"not set in the parameters cell of"
                                    f" {note.source.name}; it sets: {', '.join(declared) or 'nothing'}")
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise ArgumentError(f"parameters[{stem!r}][{name!r}]", value, "a JSON value (number, string,"
                                    " bool, None, or a list / dict of them)") from None
        note.parameters = dict(values)


def _check_executed_dir(executed_dir: str | os.PathLike[str] | None, out: Path,
                        notes: Sequence[Notebook]) -> Path | None:
    """The folder to keep executed notebooks in (created), refusing the report folder and the notebooks'."""
    if executed_dir is None:
        return None
    folder = Path(executed_dir).absolute()
    real = folder.resolve()
    if real == out.resolve() or out.resolve() in real.parents:
        raise ArgumentError("executed_dir", str(folder), f"inside the report folder {out}, which is replaced;"
                            " choose a folder outside it")
    if real in {n.source.parent.resolve() for n in notes}:
        raise ArgumentError("executed_dir", str(folder), "the folder of the notebooks themselves, which the"
                            " executed copies would overwrite; choose another folder")
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
        notes.append(Notebook(source=f, stem=f.stem, nb=nb, title=notebook_title(nb, f.stem),
                              scenario_names=declared_scenarios(nb)))
    _attach_parameters(notes, parameters)
    return notes


def _run_all(bar: Any, work: Path, stage: Path, kernel_name: str | None, progress: bool, base: Provenance,
             hashes: Hashes, executed_dir: Path | None) -> None:
    """Execute and render every notebook of ``bar`` (tqdm over :class:`Notebook`) into ``stage``.

    The first failure raises :class:`ReportError`.
    """
    exporter = html_exporter()
    for note in bar:
        bar.set_postfix_str(note.source.name, refresh=True)
        t0 = time.perf_counter()
        executed = execute_notebook(note, work, base.women, base.seed, kernel_name, progress, executed_dir)
        note.seconds = time.perf_counter() - t0
        prov = dataclasses.replace(base, scenarios=tuple(hashes[note.stem]),
                                   parameters=tuple((k, repr(v)) for k, v in note.parameters.items()))
        (stage / note.page).write_text(render_page(exporter, executed, note, prov), encoding="utf-8")


def _write_index(stage: Path, notes: Sequence[Notebook], hashes: Hashes, base: Provenance,
                 kernel_name: str | None) -> None:
    """Write ``index.html`` and :data:`MANIFEST` into ``stage``."""
    all_scen = tuple(dict.fromkeys(h for n in notes for h in hashes[n.stem]))
    prov = dataclasses.replace(base, scenarios=all_scen)
    (stage / "index.html").write_text(index_html(prov, notes, hashes), encoding="utf-8")
    manifest = {
        "generator": GENERATOR, "calcsim_version": base.version, "git_commit": base.commit, "seed": base.seed,
        "women": base.women, "created_utc": base.created_utc, "python": sys.executable,
        "kernel": kernel_name or KERNEL_NAME,
        "pages": [{"notebook": n.source.name, "page": n.page, "title": n.title, "seconds": round(n.seconds, 2),
                   "scenarios": [{"name": a, "scenario_hash": b} for a, b in hashes[n.stem]],
                   "parameters": n.parameters} for n in notes],
    }
    (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _build_into(out: Path, notes: Sequence[Notebook], hashes: Hashes, base: Provenance, kernel_name: str | None,
                progress: bool, executed_dir: Path | None) -> None:
    """Build the report in a staging folder beside ``out``; replace ``out`` by it once every notebook ran."""
    from tqdm import tqdm

    with staging_folder(out, "building") as stage:
        work = stage / ".executed"
        work.mkdir()
        bar = tqdm(notes, desc="report", unit="notebook", file=sys.stderr, disable=not progress, position=0)
        try:
            _run_all(bar, work, stage, kernel_name, progress, base, hashes, executed_dir)
        except ReportError as exc:
            kept = f"{out} left unchanged" if out.exists() else f"nothing written to {out}"
            raise ReportError(f"{exc}; {kept}", notebook=exc.notebook, cell=exc.cell, source=exc.source,
                              ename=exc.ename, evalue=exc.evalue) from None
        finally:
            bar.close()
        shutil.rmtree(work)
        _write_index(stage, notes, hashes, base, kernel_name)
        swap_into_place(stage, out)


def build_report(
    out_dir: str | os.PathLike[str] = "reports",
    *,
    women: int = 20_000,
    seed: int = 2026,
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
        Report folder (``index.html``, one ``<notebook>.html`` per notebook, ``report.json``). It is
        replaced only when every notebook succeeded, and only if it is missing, empty or an earlier
        calcsim report.
    women, seed : int
        Injected into every notebook's ``parameters`` cell.
    notebooks_dir : path, optional
        Folder of notebooks (default: the checkout's ``notebooks/``, else the folder installed with
        the package; see :func:`~analysis.report.notebooks.default_notebooks_dir`).
    notebooks : sequence, optional
        Only these notebooks (paths, or names inside ``notebooks_dir``).
    progress : bool
        Progress bars on stderr: the notebook running and its cells.
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
        part of the report (not replaced atomically; other files in it are left alone) and may be
        neither inside ``out_dir`` nor the notebooks' own folder.

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
        Bad arguments (women, seed, folders, parameters).
    """
    women, seed = check_women(women), check_seed(seed)
    out = Path(out_dir).absolute()
    _check_out(out)
    notes = _read_all(find_notebooks(notebooks_dir, notebooks), parameters)
    keep = _check_executed_dir(executed_dir, out, notes)
    base = Provenance(__version__, git_commit(), seed, women, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    cache: dict[str, str] = {}
    hashes = {n.stem: scenario_hashes(n.scenario_names, n.source.parent, cache) for n in notes}
    _build_into(out, notes, hashes, base, kernel_name, progress, keep)
    return out

