"""The HTML report: every notebook executed with papermill and rendered to standalone HTML.

::

    build_report("reports", women=DEFAULT_WOMEN, seed=DEFAULT_SEED)

1. The notebooks are found (sorted by file name) in ``notebooks_dir``, by default ``notebooks/``
   at the root of calcsim's checkout or, for an installed calcsim (a wheel), the copy shipped in
   the package (``analysis/notebooks/``). A ``.ipynb`` file is used as it is; a jupytext ``.py``
   file (percent format, or any file with a ``jupytext:`` header) whose stem has no ``.ipynb``
   beside it is converted with jupytext's API first, so a folder holding only the text halves of
   the pairs works too. When both halves exist the ``.ipynb`` is executed (papermill needs an
   ``.ipynb``; its cell sources are what Jupyter shows); a ``.py`` half whose cells differ from it
   is reported as a warning on stderr (run ``jupytext --sync``).
2. Each notebook is executed by papermill with ``women`` and ``seed`` (and any ``parameters``
   given for it) injected after its ``parameters`` cell, in a kernel that runs **this** Python
   (``sys.executable``) with this copy of calcsim first on ``PYTHONPATH`` (the folder holding the
   ``analysis`` package: the checkout, or site-packages) and matplotlib's inline backend, whatever
   kernels the user has installed (a built-in kernel spec, :data:`KERNEL_NAME`; pass
   ``kernel_name`` to use an installed one instead). The working directory is the notebook's
   folder, as in Jupyter. Kernels are shut down without the SIGINT that made ipykernel print
   ``KeyboardInterrupt caught in kernel`` (:mod:`~analysis.report.kernel`). While it runs, the build
   says which notebook is running: bars on a terminal, one plain line per notebook elsewhere
   (:mod:`~analysis.report.progress`).
3. Each executed notebook becomes one standalone page (nbconvert ``HTMLExporter``, lab template):
   code hidden, figures embedded as base64 images, cells tagged ``remove-cell`` / ``remove-input`` /
   ``remove-output`` honoured, no JavaScript, external CSS or fonts (RequireJS, MathJax and
   Mermaid are left out, so TeX in markdown shows as typed), and a provenance header at the top:
   calcsim version, git commit, seed, women, scenario name(s) with their ``scenario_hash``, any
   other injected parameters, UTC date. A page that would still need the network (an ``<img>`` or
   ``<script>`` pointing at a URL or a file) is an error. A notebook with worked answers (cells
   tagged ``solution``) becomes a student page without them and an instructor page
   (``instructor/<stem>.html``) with each answer folded (:mod:`~analysis.report.coursework`).
   No page, index or manifest holds a local path: the project's paths are shown relative to it,
   the home folder as ``~``, a temporary file by its name only (:mod:`~analysis.report.paths`).
4. ``index.html`` gives the headline answers — both calcification-only shares, the recall rate and
   the cancer detection rate of the default scenario at the report's women and seed, each linking
   to its page, taken from the runs the notebooks made (:mod:`~analysis.report.headline`) — then
   links every page under the same provenance, with each notebook's title (its first markdown
   heading); ``report.json`` holds the same facts for machines (:mod:`~analysis.report.manifest`).
5. Everything is written into a staging folder beside ``out_dir`` (same filesystem). Only when
   every notebook has succeeded are the new files moved into ``out_dir``, one rename each; the
   report replaces or deletes only the files it wrote (listed in the previous ``report.json``),
   anything else in the folder is left alone, and a partial build (``notebooks=[...]``) keeps the
   other pages (:mod:`~analysis.report.folder`). A failing notebook raises :class:`ReportError`
   (one line: notebook, cell, exception) and leaves the previous report untouched.

Scenarios shown in the provenance are, per notebook: the string values (or lists of strings) of
parameters whose name starts with ``scenario`` in its ``parameters`` cell; failing that, the shipped
scenario names quoted in its code; failing that, none. Their hashes are computed here with
:func:`analysis.scenario.load_scenario`.

Modules: :mod:`~analysis.report.provenance` (what a page says about how it was made, git commit),
:mod:`~analysis.report.notebooks` (finding and reading notebooks, their parameters cell),
:mod:`~analysis.report.kernel` (the built-in kernel), :mod:`~analysis.report.execute` (papermill),
:mod:`~analysis.report.pages` (HTML, offline check), :mod:`~analysis.report.coursework` (student and
instructor pages), :mod:`~analysis.report.headline` (the index's answers), :mod:`~analysis.report.paths`
(no local paths), :mod:`~analysis.report.folder` (what in the report folder is the report's),
:mod:`~analysis.report.manifest` (``report.json``), :mod:`~analysis.report.progress` (stderr while it
runs), :mod:`~analysis.report.build` (the entry point, :data:`DEFAULT_WOMEN`).
"""

from __future__ import annotations

# re-exported for analysis.teach, which imports them from here (they live in analysis.io.atomic)
from analysis.io.atomic import staging_folder, swap_into_place
from analysis.report.build import DEFAULT_SEED, DEFAULT_WOMEN, build_report
from analysis.report.coursework import SOLUTION_TAG, instructor_edition, student_edition
from analysis.report.errors import ReportError
from analysis.report.execute import source_cell_index
from analysis.report.headline import MEASURES as HEADLINE_MEASURES
from analysis.report.kernel import KERNEL_NAME, kernel_spec_dict
from analysis.report.notebooks import (
    Notebook,
    declared_parameters,
    default_notebooks_dir,
    find_notebooks,
    notebook_title,
)
from analysis.report.pages import offline_problems
from analysis.report.paths import path_scrubber
from analysis.report.provenance import MANIFEST, Provenance, git_commit, package_dir, package_root

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_WOMEN",
    "HEADLINE_MEASURES",
    "KERNEL_NAME",
    "MANIFEST",
    "Notebook",
    "Provenance",
    "ReportError",
    "SOLUTION_TAG",
    "build_report",
    "declared_parameters",
    "default_notebooks_dir",
    "find_notebooks",
    "git_commit",
    "instructor_edition",
    "kernel_spec_dict",
    "notebook_title",
    "offline_problems",
    "package_dir",
    "package_root",
    "path_scrubber",
    "source_cell_index",
    "student_edition",
    "staging_folder",
    "swap_into_place",
]
