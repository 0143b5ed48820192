"""Notebooks: each jupytext pair is in sync, has a papermill parameters cell, and runs top to bottom."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import jupytext
import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
#: Cohort size the tests run the notebooks at (each must finish in well under a minute).
WOMEN = 2000
EXPECTED = {"01_cohort", "02_recalls_and_calcifications", "03_programmes_compared", "04_calibration",
            "05_sensitivity", "06_coursework"}


def _cells(nb) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source, dict(c.metadata)) for c in nb.cells]


def _parameters(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]


def _run(path: Path, out: Path, monkeypatch, **parameters) -> nbformat.NotebookNode:
    # the kernel must import this copy of the package, whatever is installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pm.execute_notebook(str(path), str(out), parameters={"women": WOMEN, **parameters}, kernel_name="python3",
                        cwd=str(path.parent), progress_bar=False, log_output=False)
    return nbformat.read(out, as_version=4)


def _outputs(nb, kind: str) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == kind]


def test_the_six_notebooks_are_there():
    assert EXPECTED <= set(IDS)
    assert {p.stem for p in FOLDER.glob("*.py")} == set(IDS)  # every notebook has both halves


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_pair_in_sync(path):
    """The .py (percent) and the .ipynb hold the same cells; the pairing is declared."""
    py = path.with_suffix(".py")
    assert py.is_file(), f"{py.name} missing: run `jupytext --set-formats ipynb,py:percent {path.name}`"
    ipynb = nbformat.read(path, as_version=4)
    text = jupytext.read(py)
    assert _cells(text) == _cells(ipynb), f"{path.name} and {py.name} differ: run `jupytext --sync {py.name}`"
    assert ipynb.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent"
    assert "# %%" in py.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell(path):
    """One cell tagged ``parameters``, the first code cell, setting plain values including women and seed."""
    nb = nbformat.read(path, as_version=4)
    tagged = _parameters(nb)
    assert len(tagged) == 1
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert tagged[0] == first_code
    values = {}
    for node in ast.parse(nb.cells[tagged[0]].source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds plain assignments only"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values["women"] == 20_000 and values["seed"] == 2026
    assert any(k.startswith("scenario") for k in values)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_executes(path, tmp_path, monkeypatch):
    """Runs top to bottom at a small cohort with no error output; figures are displayed as images."""
    nb = _run(path, tmp_path / path.name, monkeypatch)
    assert _outputs(nb, "error") == []
    images = [o for o in _outputs(nb, "display_data") + _outputs(nb, "execute_result") if "image/png" in o["data"]]
    if path.stem != "06_coursework":  # the coursework has no figures
        assert images, f"{path.name}: no figure was displayed"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and f"women = {WOMEN}" in injected[0].source


def test_calibration_notebook_without_a_calibration(tmp_path, monkeypatch):
    """With no calibration file the calibration notebook explains itself instead of failing."""
    empty = tmp_path / "no-calibration"
    empty.mkdir()
    nb = _run(FOLDER / "04_calibration.ipynb", tmp_path / "04.ipynb", monkeypatch,
              calibration_directory=str(empty))
    assert _outputs(nb, "error") == []
    text = "".join(o.get("text", "") for o in _outputs(nb, "stream"))
    assert "No calibration file for scenario 'nl-biennial' yet" in text
    assert "calcsim calibrate --scenario nl-biennial" in text
