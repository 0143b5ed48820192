"""CSV files whose leading ``# key: value`` lines are metadata (calibration progress files)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

__all__ = ["read_commented_csv"]


def read_commented_csv(path: Path) -> tuple[dict[str, str], pd.DataFrame]:
    """Read a CSV whose leading ``# key: value`` lines are metadata; return ``(metadata, rows)``."""
    meta: dict[str, str] = {}
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not body and line.startswith("# ") and ":" in line:
            k, v = line[2:].split(":", 1)
            meta[k.strip()] = v.strip()
        else:
            body.append(line)
    return meta, (pd.read_csv(io.StringIO("".join(body))) if body else pd.DataFrame())
