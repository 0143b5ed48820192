"""The README is accurate: every repository path it names exists, and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: Top-level folders and files of the repository: a backticked path starting with one of them is a repo path.
REPO_ROOTS = (
    "analysis/",
    "data/",
    "docs/",
    "notebooks/",
    "tests/",
    "scripts/",
    "benchmarks/",
    "reports/",
    ".ci/",
    "README.md",
    "CHANGELOG.md",
    "Makefile",
    "pyproject.toml",
    "requirements.lock",
    ".importlinter",
    ".jupyter/",
)
#: Paths the README names that the user's own commands create (they are not in a fresh clone).
GENERATED = {"reports/index.html"}


def _repo_paths() -> list[str]:
    tokens = re.findall(r"`([^`\s]+)`", README)
    return sorted({t for t in tokens if t.startswith(REPO_ROOTS)})


def test_the_readme_names_repository_paths():
    assert len(_repo_paths()) > 20  # the check below has something to check


def test_every_repository_path_in_the_readme_exists():
    missing = []
    for token in _repo_paths():
        if token in GENERATED or "<" in token:  # a placeholder such as data/calibration/<scenario>.csv
            continue
        pattern = token.rstrip("/")
        if not (list(ROOT.glob(pattern)) or list(ROOT.glob(pattern + ".*"))):
            missing.append(token)
    assert not missing, f"README names paths that are not in the repository: {missing}"


def test_the_readme_points_nowhere_outside_the_repository():
    assert "../shared" not in README and "/work/" not in README


def test_the_python_example_runs(tmp_path, monkeypatch):
    """The README's Python block, at a small cohort, runs as written (no deep imports needed)."""
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    assert "import analysis as cs" in block and "from analysis." not in block
    small = re.sub(r"women=[0-9_]+", "women=20_000", block)  # enough BRCA carriers for the regression
    small = small.replace("replicates=10", "replicates=2")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(small, "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    res = namespace["res"]
    assert res.women == 20_000 and {"calibration", "unit", "denominator_label"} <= set(res.estimates().columns)
