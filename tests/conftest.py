"""Shared fixtures: the project's own notebooks, executed once per test session.

``real_report`` builds the report of ``notebooks/`` at the tests' small cohort, keeping every
executed ``.ipynb``; ``tests/test_notebooks.py`` asserts on the executed notebooks and
``tests/test_report.py`` on the HTML report, so each notebook runs once however many tests look
at it. When a notebook fails, the notebooks after it are built in a further report, so each one
still runs exactly once and the tests of the others still see their results.

``RealReport.site`` is the report folder as ``build_report`` writes it (``index.html`` with the headline
answers, ``<stem>.html`` per notebook, ``instructor/<stem>.html`` for a notebook with worked answers,
``report.json``); ``RealReport.executed`` holds each notebook as it ran, worked answers included and
without the headline cell the report appends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _paths import REPO

if TYPE_CHECKING:  # imported where used, so that a broken analysis.report fails its own tests, not collection
    import nbformat

    from analysis.report import ReportError

#: Cohort size and seed the tests run the real notebooks at (each must finish in well under a minute).
REAL_WOMEN, REAL_SEED = 2000, 2026
#: Parameters injected besides women and seed. ``05_sensitivity``'s Sobol design runs
#: ``sobol_samples x (parameters + 2)`` simulations: 4 samples instead of its 32 make 24 runs of
#: ``sobol_women`` instead of 192, with the same four parameters (so the same figure and table).
REAL_PARAMETERS = {"05_sensitivity": {"sobol_samples": 4}}


@dataclass
class RealReport:
    """The project's notebooks, executed once: the report, the executed notebooks and any failures."""

    folder: Path  # the notebooks folder
    files: list[Path]  # its notebooks, as find_notebooks returns them
    executed: Path  # <stem>.ipynb of every notebook that ran (a failed one too, with its error output)
    site: Path | None  # the report of every notebook; None when one of them failed
    women: int = REAL_WOMEN
    seed: int = REAL_SEED
    parameters: dict[str, dict[str, object]] = field(default_factory=lambda: REAL_PARAMETERS)
    errors: dict[str, ReportError] = field(default_factory=dict)  # stem -> its failure
    seconds: float = 0.0

    def executed_notebook(self, stem: str) -> nbformat.NotebookNode:
        """The executed notebook ``stem``; fails the calling test when it did not run cleanly."""
        import nbformat

        if stem in self.errors:
            pytest.fail(f"{stem} failed when the report was built: {self.errors[stem]}")
        return nbformat.read(self.executed / f"{stem}.ipynb", as_version=4)


@pytest.fixture(scope="session")
def real_report(tmp_path_factory) -> RealReport:
    """Build the report of ``notebooks/`` once (``REAL_WOMEN`` women, seed ``REAL_SEED``)."""
    from analysis.errors import CalcsimInputError
    from analysis.report import ReportError, build_report, find_notebooks

    folder = REPO / "notebooks"
    try:
        files = find_notebooks(folder)
    except CalcsimInputError as exc:
        pytest.skip(f"no notebooks to build yet: {exc}")
    base = tmp_path_factory.mktemp("real-report")
    real = RealReport(folder=folder, files=files, executed=base / "executed", site=None)
    remaining, t0 = list(files), time.perf_counter()
    while remaining:
        stems = {f.stem for f in remaining}
        try:
            out = build_report(
                base / f"site-{len(real.errors)}",
                women=REAL_WOMEN,
                seed=REAL_SEED,
                notebooks_dir=folder,
                notebooks=remaining,
                progress=False,
                parameters={k: v for k, v in REAL_PARAMETERS.items() if k in stems},
                executed_dir=real.executed,
            )
        except ReportError as exc:
            failed = [f for f in remaining if f.name == Path(exc.notebook).name]
            if not failed:  # not the failure of one notebook: let the tests see it as it is
                raise
            real.errors[failed[0].stem] = exc
            remaining = remaining[remaining.index(failed[0]) + 1 :]
        else:
            real.site = out if not real.errors else None
            remaining = []
    real.seconds = time.perf_counter() - t0
    print(f"\nreal notebooks ({len(files)}) built in {real.seconds:.1f} s; failed: {sorted(real.errors) or 'none'}")
    return real
