"""What a report says about how it was made, and where this copy of calcsim lives."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import analysis

#: File that marks a folder as a calcsim report (and describes it).
MANIFEST = "report.json"
#: ``generator`` value of :data:`MANIFEST`: only a folder holding it may be replaced by a new report.
GENERATOR = "calcsim report"


@dataclass(frozen=True)
class Provenance:
    """What a report page says about how it was made."""

    version: str
    commit: str
    seed: int
    women: int
    created_utc: str
    scenarios: tuple[tuple[str, str], ...] = ()  # (name, scenario_hash)
    parameters: tuple[tuple[str, str], ...] = ()  # (name, repr(value)) injected besides women and seed
    edition: str = ""  # "student ..." / "instructor ..." for a notebook with worked answers

    def rows(self) -> list[tuple[str, str]]:
        """Label/value pairs, in display order."""
        scen = "; ".join(f"{n} (scenario_hash {h})" for n, h in self.scenarios) or "none declared"
        rows = [
            ("calcsim", self.version),
            ("git commit", self.commit),
            ("seed", str(self.seed)),
            ("women", f"{self.women:,}"),
            ("scenario" + ("s" if len(self.scenarios) > 1 else ""), scen),
        ]
        if self.parameters:
            rows.append(("other parameters", ", ".join(f"{n}={v}" for n, v in self.parameters)))
        if self.edition:
            rows.append(("edition", self.edition))
        return [*rows, ("built (UTC)", self.created_utc)]


def package_dir() -> Path:
    """The folder of the imported ``analysis`` package (``.../analysis``)."""
    return Path(analysis.__file__).resolve().parent


def package_root() -> Path:
    """The folder holding the ``analysis`` package: the repository root in a checkout, else site-packages."""
    return package_dir().parent


def project_root() -> Path | None:
    """calcsim's checkout (the folder holding ``analysis`` and ``pyproject.toml``), or None when installed."""
    root = package_root()
    return root if (root / "pyproject.toml").is_file() else None


def git_commit(repo: str | os.PathLike[str] | None = None) -> str:
    """``git rev-parse --short HEAD`` of calcsim's checkout, ``+ uncommitted changes`` when dirty.

    Parameters
    ----------
    repo : path, optional
        A folder inside a git work tree. Default: calcsim's checkout, i.e. :func:`package_root`
        only when it is the top of a work tree — an installed calcsim (a wheel in a virtualenv that
        happens to sit inside some repository) has no commit.

    Returns
    -------
    str
        The short commit, or ``"unknown"`` when there is no such checkout (or git is missing).
    """
    where = Path(repo) if repo is not None else package_root()
    run = {"capture_output": True, "text": True, "timeout": 20, "check": True}
    try:
        top, _, head = (
            subprocess.run(["git", "-C", str(where), "rev-parse", "--show-toplevel", "--short", "HEAD"], **run)
            .stdout.strip()
            .partition("\n")
        )
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"], **run
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head.strip() or repo is None and Path(top).resolve() != where.resolve():
        return "unknown"
    return f"{head.strip()} + uncommitted changes" if dirty else head.strip()
