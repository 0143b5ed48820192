"""The wheel works on its own, with no checkout: what it ships, and calcsim run / report from an install of it.

The wheel is built as a user would (``pip wheel --no-deps --no-build-isolation``; hatchling is in the lock) and
installed with ``--no-deps`` into a throwaway venv whose dependencies come from this venv's site-packages through
a ``.pth`` line (a plain path: this venv's own ``.pth`` files, the editable install among them, are not read) and
whose Jupyter data files (nbconvert's templates) come from this venv's ``share/jupyter`` (``JUPYTER_PATH``), so
nothing is downloaded. The commands run from an empty working folder with no PYTHONPATH and no CALCSIM_*
variable, so nothing can reach this checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from analysis import __version__
from analysis.report import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
WOMEN = 2000
DIST_INFO = f"calcsim-{__version__}.dist-info/"


def _run(cmd: list[str | Path], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kwargs
    )
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


def _build(source: Path, out: Path) -> Path:
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            out,
            source,
        ],
        timeout=300,
    )
    (wheel,) = out.glob("calcsim-*.whl")
    return wheel


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _shipped_notebooks(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file() and p.suffix in (".ipynb", ".py")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build(ROOT, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict[str, Path]:
    """A venv with the wheel installed (no deps) and this venv's site-packages behind it; a clean cwd and env."""
    base = tmp_path_factory.mktemp("installed")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=120)
    (purelib,) = (venv / "lib").glob("python3.*/site-packages")
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "_calcsim_test_deps.pth").write_text("".join(f"{p}\n" for p in deps))
    _run(
        [
            venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-index",
            wheel,
        ],
        timeout=300,
    )
    cwd = base / "work"
    cwd.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("CALCSIM_")
    }
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    # the dependencies' data files (nbconvert's templates, ...), which a full install puts under the venv's share/
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    return {"venv": venv, "purelib": purelib, "cwd": cwd, "env": env}


def test_wheel_ships_the_package_scenarios_and_notebooks(wheel):
    names = _names(wheel)
    assert {n.split("/")[0] + "/" for n in names} == {"analysis/", DIST_INFO}, "nothing but the package"
    scenarios = {n.removeprefix("analysis/data/scenarios/") for n in names if n.startswith("analysis/data/scenarios/")}
    assert scenarios == {p.name for p in (ROOT / "data" / "scenarios").glob("*.toml")} and scenarios
    notebooks = {n.removeprefix("analysis/notebooks/") for n in names if n.startswith("analysis/notebooks/")}
    assert notebooks == _shipped_notebooks(NOTEBOOKS), "notebooks/*.ipynb and *.py, as analysis/notebooks/"
    assert {n for n in notebooks if n.endswith(".ipynb")}, "no .ipynb in the wheel"
    assert "analysis/__init__.py" in names and "analysis/cli/__init__.py" in names
    with zipfile.ZipFile(wheel) as z:
        assert "calcsim = analysis.cli:main" in z.read(DIST_INFO + "entry_points.txt").decode()


def test_wheel_leaves_out_checkpoints_and_scratch_files(tmp_path):
    """Built from a copy of the project with Jupyter's checkpoints and a stray file in notebooks/."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", ".gitignore"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for name in ("analysis", "data", "notebooks"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    (src / "notebooks" / ".ipynb_checkpoints").mkdir()
    (src / "notebooks" / ".ipynb_checkpoints" / "01_cohort-checkpoint.ipynb").write_text("{}")
    (src / "notebooks" / "scratch.txt").write_text("notes")
    (src / "notebooks" / "output").mkdir()
    (src / "notebooks" / "output" / "run.py").write_text("x = 1\n")
    names = _names(_build(src, tmp_path / "dist"))
    notebooks = {n.removeprefix("analysis/notebooks/") for n in names if n.startswith("analysis/notebooks/")}
    assert notebooks == _shipped_notebooks(NOTEBOOKS), sorted(notebooks)


def test_installed_wheel_imports_from_the_venv_not_the_checkout(installed):
    python = installed["venv"] / "bin" / "python"
    code = "import analysis, sys; print(analysis.__file__); print(sys.prefix)"
    out = _run([python, "-c", code], timeout=120, cwd=installed["cwd"], env=installed["env"]).stdout.split("\n")
    where = Path(out[0]).resolve()
    assert where == (installed["purelib"] / "analysis" / "__init__.py").resolve(), where
    assert not where.is_relative_to(ROOT)
    assert Path(out[1]) == installed["venv"]
    assert (installed["purelib"] / "analysis" / "notebooks").is_dir()


@pytest.mark.slow
def test_installed_calcsim_run(installed):
    proc = _run(["calcsim", "run", "--women", WOMEN], timeout=600, cwd=installed["cwd"], env=installed["env"])
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    assert first.startswith(f"calcsim {__version__} | scenario ") and f"{WOMEN:,} women" in first, first
    assert any(line.startswith("recall_rate ") for line in proc.stdout.splitlines()), proc.stdout[-2000:]
    assert shutil.which("calcsim", path=installed["env"]["PATH"]) == str(installed["venv"] / "bin" / "calcsim")


@pytest.mark.slow
def test_installed_calcsim_report_builds_every_notebook(installed):
    site_dir = installed["cwd"].parent / "site"
    _run(
        ["calcsim", "report", "--women", WOMEN, "--out", site_dir],
        timeout=1800,
        cwd=installed["cwd"],
        env=installed["env"],
    )
    stems = {Path(n).stem for n in _shipped_notebooks(installed["purelib"] / "analysis" / "notebooks")}
    assert (site_dir / "index.html").is_file()
    pages = {p.stem for p in site_dir.glob("*.html")} - {"index"}
    assert pages == stems, (sorted(pages), sorted(stems))
    index = (site_dir / "index.html").read_text(encoding="utf-8")
    for stem in stems:
        assert f'href="{stem}.html"' in index, stem
        assert "Traceback" not in (site_dir / f"{stem}.html").read_text(encoding="utf-8"), stem
    manifest = json.loads((site_dir / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["calcsim_from"] == "installed package", "built by the installed calcsim"
    assert sorted(p["notebook"] for p in manifest["pages"]) == sorted(f"{s}.ipynb" for s in stems)
    assert list(installed["cwd"].iterdir()) == [], "the report wrote into the working folder"
