"""Where calcsim finds its shipped inputs.

The ``data/`` folder sits beside the package in a source checkout (and is
installed as ``analysis/data`` in a wheel). ``CALCSIM_DATA`` overrides both.
Nothing is read at import time.
"""

from __future__ import annotations

import os
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
