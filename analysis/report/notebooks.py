"""The notebooks of a report: where they are, how they are read, what their parameters cell declares."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.errors import ArgumentError, CalcsimInputError
from analysis.io.paths import notebook_dirs
from analysis.report.coursework import INSTRUCTOR_DIR
from analysis.report.errors import ReportError

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


@dataclass
class Notebook:
    """One notebook of the report: where it comes from and what its page says."""

    source: Path  # the .ipynb or .py file
    stem: str
    nb: Any = None  # nbformat.NotebookNode, as read (before execution)
    title: str = ""
    scenario_names: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)  # injected besides women and seed
    seconds: float = 0.0
    answers: bool = False  # it has worked answers (cells tagged "solution"): a student and an instructor page

    @property
    def page(self) -> str:
        """File name of its HTML page in the report folder (the student page when it has worked answers)."""
        return f"{self.stem}.html"

    @property
    def instructor_page(self) -> str | None:
        """Path of its instructor page in the report folder, when it has worked answers."""
        return f"{INSTRUCTOR_DIR}/{self.stem}.html" if self.answers else None


def default_notebooks_dir() -> Path:
    """The notebooks a report is built from when no folder is given.

    ``notebooks/`` at the root of calcsim's checkout (beside the ``analysis`` package) when it
    exists; otherwise the copy installed with the package (``analysis/notebooks/`` in a wheel).

    Raises
    ------
    CalcsimInputError
        Neither folder exists.
    """
    checkout, packaged = notebook_dirs()
    for folder in (checkout, packaged):
        if folder.is_dir():
            return folder
    raise CalcsimInputError(
        f"no notebooks folder: neither {checkout} (a calcsim checkout) nor {packaged}"
        " (installed with calcsim) exists; pass notebooks_dir (--notebooks), the folder"
        " holding the notebooks"
    )


def _is_jupytext_py(path: Path) -> bool:
    """A ``.py`` file written by jupytext: a ``jupytext:`` header or percent-format cell markers."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    head = text[:4000]
    return "jupytext:" in head or re.search(r"^# %%", text, flags=re.MULTILINE) is not None


def _chosen(folder: Path | None, notebooks: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The files of ``notebooks`` (paths, or file names / stems inside ``folder``)."""
    chosen: list[Path] = []
    for item in notebooks:
        p = Path(item)
        named = p.suffix in (".ipynb", ".py")
        cands = [p] if named else []
        if folder is not None:
            cands += [folder / p.name] if named else [folder / f"{p.name}.ipynb", folder / f"{p.name}.py"]
        hit = next((c for c in cands if c.is_file()), None)
        if hit is None:
            looked = ", ".join(str(c) for c in cands) or "no notebooks folder to look in"
            raise ArgumentError("notebooks", str(item), f"no such notebook (looked for {looked})", flag="--only")
        chosen.append(hit)
    return sorted(dict.fromkeys(chosen), key=lambda p: p.name)


def find_notebooks(
    notebooks_dir: str | os.PathLike[str] | None = None, notebooks: Sequence[str | os.PathLike[str]] | None = None
) -> list[Path]:
    """The notebook files a report is built from, sorted by file name.

    Parameters
    ----------
    notebooks_dir : path, optional
        Folder of notebooks; default :func:`default_notebooks_dir` (the checkout's ``notebooks/``,
        else the folder installed with the package).
    notebooks : sequence of str or path, optional
        Only these notebooks: paths, or file names / stems inside ``notebooks_dir``.

    Returns
    -------
    list of Path
        One file per notebook: the ``.ipynb``, or the jupytext ``.py`` when there is no ``.ipynb``
        of the same stem. Files starting with ``.`` or ``_`` are skipped.

    Raises
    ------
    CalcsimInputError
        No such folder or notebook, or a folder without notebooks.
    """
    if notebooks is not None:
        if notebooks_dir is not None:
            return _chosen(Path(notebooks_dir), notebooks)
        try:
            default: Path | None = default_notebooks_dir()
        except CalcsimInputError:
            default = None  # paths to notebooks need no folder
        return _chosen(default, notebooks)
    folder = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    if not folder.is_dir():
        raise ArgumentError(
            "notebooks_dir", str(folder), "no such folder; pass the folder holding the notebooks", flag="--notebooks"
        )
    by_stem: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith((".", "_")) or not p.is_file():
            continue
        if p.suffix == ".ipynb":
            by_stem[p.stem] = p
        elif (
            p.suffix == ".py"
            and p.stem not in by_stem
            and not (folder / f"{p.stem}.ipynb").exists()
            and _is_jupytext_py(p)
        ):
            by_stem[p.stem] = p
    if not by_stem:
        raise ArgumentError(
            "notebooks_dir", str(folder), "no notebooks (.ipynb, or jupytext .py) in it", flag="--notebooks"
        )
    return sorted(by_stem.values(), key=lambda p: p.name)


def read_notebook(path: Path) -> Any:
    """Read an ``.ipynb`` (nbformat) or a jupytext ``.py`` as a validated ``nbformat.NotebookNode``.

    Raises
    ------
    ReportError
        One line when the file is not a readable notebook.
    """
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
        raise ReportError(
            f"{path}: not a readable notebook ({type(exc).__name__}: {first})", notebook=str(path)
        ) from None
    return nb


def _cell_sources(nb: Any) -> list[tuple[str, str]]:
    return [
        (c.cell_type, c.source.strip())
        for c in nb.cells
        if "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]


def check_pair(path: Path, nb: Any) -> None:
    """Warn when the jupytext ``.py`` half of the executed ``.ipynb`` ``path`` (read as ``nb``) has other cells."""
    twin = path.with_suffix(".py")
    if path.suffix != ".ipynb" or not twin.is_file():
        return
    with contextlib.suppress(Exception):
        import jupytext

        if _cell_sources(jupytext.read(twin)) != _cell_sources(nb):
            warnings.warn(
                f"{path.name} and {twin.name} differ; the report executes {path.name}"
                " (run `jupytext --sync` to update the pair)",
                stacklevel=4,
            )


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


def parameters_cell(nb: Any) -> int | None:
    """Index of the code cell tagged ``parameters`` (papermill injects after it), or None."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    return None


def _assignments(nb: Any) -> list[tuple[str, ast.expr]]:
    """``(name, value expression)`` of the simple assignments in the parameters cell."""
    i = parameters_cell(nb)
    if i is None:
        return []
    try:
        body = ast.parse(nb.cells[i].source).body
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is not None
            else []
        )
        out += [(t.id, node.value) for t in targets if isinstance(t, ast.Name) and node.value is not None]
    return out


def declared_parameters(nb: Any) -> list[str]:
    """Names assigned in the notebook's ``parameters`` cell: what papermill can usefully inject."""
    return list(dict.fromkeys(name for name, _ in _assignments(nb)))


def declared_scenarios(nb: Any) -> list[str]:
    """Scenario names from the parameters cell, else the shipped names quoted in code cells.

    From the parameters cell: the string values (or lists of strings) of parameters whose name
    starts with ``scenario``.
    """
    names: list[str] = []
    for name, expr in _assignments(nb):
        if not name.lower().startswith("scenario"):
            continue
        with contextlib.suppress(ValueError, TypeError, SyntaxError):
            value = ast.literal_eval(expr)
            values = [value] if isinstance(value, str) else list(value)
            names += [v for v in values if isinstance(v, str)]
    if names:
        return list(dict.fromkeys(names))
    from analysis.scenario import list_scenarios

    shipped = list_scenarios()
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return [n for n in shipped if re.search(rf"""["']{re.escape(n)}["']""", code)]


def scenario_hashes(names: Sequence[str], base: Path, cache: dict[str, str]) -> list[tuple[str, str]]:
    """``(name, scenario_hash)`` of each scenario name (a relative ``.toml`` is taken inside ``base``).

    ``cache`` maps names already hashed to their hash and is updated; a scenario that cannot be
    loaded gets ``"unavailable: <reason>"`` instead of a hash.
    """
    from analysis.scenario import load_scenario

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
