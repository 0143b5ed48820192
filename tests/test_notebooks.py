"""Notebooks: each jupytext pair is in sync, has a papermill parameters cell, and runs top to bottom.

The notebooks are executed once per session by the ``real_report`` fixture (``tests/conftest.py``),
in the report's own kernel (this Python, this copy of calcsim first on ``PYTHONPATH``); the tests
here assert on the executed notebooks it keeps.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import nbformat
import pytest

from analysis.report import build_report

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
EXPECTED = {
    "01_cohort",
    "02_recalls_and_calcifications",
    "03_programmes_compared",
    "04_calibration",
    "05_sensitivity",
    "06_coursework",
    "07_benefits_and_harms",
    "08_lab_denominators",
    "09_lab_lead_length_bias",
    "10_lab_overdiagnosis",
    "11_lab_ppv_prevalence",
}


def _cells(nb) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source, dict(c.metadata)) for c in nb.cells]


def _parameters(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]


def _outputs(nb, kind: str) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == kind]


def test_the_notebooks_are_there():
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
def test_executes(path, real_report):
    """Runs top to bottom at a small cohort with no error output; figures are displayed as images."""
    nb = real_report.executed_notebook(path.stem)
    assert _outputs(nb, "error") == []
    images = [o for o in _outputs(nb, "display_data") + _outputs(nb, "execute_result") if "image/png" in o["data"]]
    if path.stem != "06_coursework":  # the coursework has no figures
        assert images, f"{path.name}: no figure was displayed"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and f"women = {real_report.women}" in injected[0].source


def test_sensitivity_ran_the_smaller_sobol_design(real_report):
    """The fixture's cheaper Sobol design reached the notebook: samples x (4 parameters + 2) runs."""
    nb = real_report.executed_notebook("05_sensitivity")
    samples = real_report.parameters["05_sensitivity"]["sobol_samples"]
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f"sobol_samples = {samples}" in injected.source
    declared = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(nb.cells[_parameters(nb)[0]].source).body}
    runs = samples * (len(declared["sobol_params"]) + 2)  # sobol_women and sobol_params as the notebook sets them
    text = "".join(o.get("text", "") for o in _outputs(nb, "stream"))
    assert f"{runs} runs of {declared['sobol_women']:,} women" in text


def test_calibration_notebook_without_a_calibration(tmp_path):
    """With no calibration applied (``calibration = "none"``) the calibration notebook explains itself."""
    build_report(
        tmp_path / "site",
        women=2000,
        notebooks_dir=FOLDER,
        notebooks=["04_calibration"],
        progress=False,
        parameters={"04_calibration": {"calibration": "none"}},
        executed_dir=tmp_path / "executed",
    )
    nb = nbformat.read(tmp_path / "executed" / "04_calibration.ipynb", as_version=4)
    assert _outputs(nb, "error") == []
    text = "".join(o.get("text", "") for o in _outputs(nb, "stream"))
    assert "No calibration of scenario 'nl-biennial' itself is applied" in text
    assert "calcsim calibrate --scenario nl-biennial" in text
    assert "no calibration: nothing to fit" in text
