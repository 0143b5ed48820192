"""Paths the tests share: the repository and the public datasets beside it (never copied in)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARAMETERS = REPO / "data" / "parameters"
#: ``../shared/data`` beside the clone, or ``CALCSIM_SHARED_DATA``.
SHARED_DATA = Path(os.environ.get("CALCSIM_SHARED_DATA") or REPO.parent / "shared" / "data")
