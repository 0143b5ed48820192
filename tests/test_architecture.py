"""The shape of the package: one import direction, no private helpers across modules, bounded sizes."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "analysis"
LINT = Path(sys.executable).with_name("lint-imports")

#: Largest module (lines) and function (lines) the layout allows.
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 80
#: Known debt, each with the ceiling it may not grow beyond (lines today). The list may only shrink.
MODULE_DEBT: dict[str, int] = {}
FUNCTION_DEBT: dict[tuple[str, str], int] = {}


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(root), "PATH": str(LINT.parent), "HOME": str(root)}
    return subprocess.run(
        [str(LINT), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_direction_contract_is_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_contract_catches_an_upward_import(tmp_path):
    """The same check on a copy with one upward import (model -> CLI) must fail, naming it."""
    shutil.copytree(PACKAGE, tmp_path / "analysis", ignore=shutil.ignore_patterns("__pycache__", "data"))
    victim = tmp_path / "analysis" / "model" / "results.py"
    victim.write_text(victim.read_text(encoding="utf-8") + "\nimport analysis.cli.main  # noqa\n", encoding="utf-8")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "analysis.model.results -> analysis.cli.main" in result.stdout


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "data" not in p.relative_to(PACKAGE).parts)


def test_no_private_helper_is_imported_across_modules():
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analysis"):
                offenders += [
                    f"{path.relative_to(ROOT)}: from {node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and a.name != "__version__"
                ]
    assert not offenders, offenders


def _function_lengths(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.name: n.end_lineno - n.lineno + 1
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_small(path):
    rel = str(path.relative_to(ROOT))
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MODULE_DEBT.get(rel, MAX_MODULE_LINES), f"{rel}: {lines} lines"
    for name, n in _function_lengths(path).items():
        assert n <= FUNCTION_DEBT.get((rel, name), MAX_FUNCTION_LINES), f"{rel}: {name}() is {n} lines"


def test_the_debt_lists_name_only_real_offenders():
    """An entry whose module or function is back under the limit must be removed (the lists only shrink)."""
    for rel, ceiling in MODULE_DEBT.items():
        assert (
            ceiling > MAX_MODULE_LINES and len((ROOT / rel).read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES
        ), rel
    for (rel, name), ceiling in FUNCTION_DEBT.items():
        assert ceiling > MAX_FUNCTION_LINES and _function_lengths(ROOT / rel).get(name, 0) > MAX_FUNCTION_LINES, (
            rel,
            name,
        )


#: Names of the top-level package that any layer may import (they live in the bottom layers).
ROOT_NAMES_ALLOWED = {"__version__", "CalcsimInputError", "Scenario", "list_scenarios", "load_scenario"}


def test_no_layer_reaches_a_higher_one_through_the_top_level_package():
    """``analysis/__init__`` re-exports higher layers lazily, which import-linter cannot see: only its bottom-layer
    names may be imported from it inside the package (everything else from its own module)."""
    offenders = []
    for path in _modules():
        if path == PACKAGE / "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "analysis" and node.level == 0:
                offenders += [
                    f"{path.relative_to(ROOT)}: from analysis import {a.name}"
                    for a in node.names
                    if a.name not in ROOT_NAMES_ALLOWED
                ]
            if isinstance(node, ast.Import) and any(a.name == "analysis" for a in node.names):
                tree = ast.parse(path.read_text(encoding="utf-8"))
                used = {
                    n.attr
                    for n in ast.walk(tree)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "analysis"
                }
                if used - {"__file__", "__version__"}:  # where the package is, or its version: no upward import
                    offenders.append(f"{path.relative_to(ROOT)}: import analysis (uses {sorted(used)})")
    assert not offenders, offenders


def test_the_root_check_catches_a_lazy_upward_import(tmp_path, monkeypatch):
    """The check above on a copy with ``from analysis import run_posterior`` in the model layer must fail."""
    shutil.copytree(PACKAGE, tmp_path / "analysis", ignore=shutil.ignore_patterns("__pycache__", "data"))
    victim = tmp_path / "analysis" / "model" / "results.py"
    victim.write_text(
        victim.read_text(encoding="utf-8") + "\nfrom analysis import run_posterior  # noqa\n", encoding="utf-8"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "analysis")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="from analysis import run_posterior"):
        test_no_layer_reaches_a_higher_one_through_the_top_level_package()
