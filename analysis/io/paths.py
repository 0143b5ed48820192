"""Where calcsim finds its shipped inputs.

The ``data/`` folder sits beside the package in a source checkout (and is
installed as ``analysis/data`` in a wheel). ``CALCSIM_DATA`` overrides both.
Nothing is read at import time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    """Return the folder holding ``scenarios/``, ``parameters/`` and ``references.toml``."""
    env = os.environ.get("CALCSIM_DATA")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]  # analysis/
    for candidate in (package / "data", package.parent / "data"):
        if (candidate / "scenarios").is_dir():
            return candidate
    raise FileNotFoundError("calcsim data folder not found; set CALCSIM_DATA to the repository's data/ folder")


def scenarios_dir() -> Path:
    """Return the folder of shipped scenario TOML files."""
    return data_dir() / "scenarios"


def parameters_dir() -> Path:
    """Return the folder of shipped parameter tables (CSV)."""
    return data_dir() / "parameters"


def notebook_dirs() -> tuple[Path, Path]:
    """Where the package's notebooks are: ``notebooks/`` of a checkout, then the copy a wheel installs.

    Found from the imported ``analysis`` package (``sys.modules``: no import upwards from this layer).
    """
    package = Path(sys.modules["analysis"].__file__).resolve().parent
    return package.parent / "notebooks", package / "notebooks"
