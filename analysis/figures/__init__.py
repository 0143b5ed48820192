"""Figures of the report and the notebooks (each returns a matplotlib Figure; no pyplot state)."""

from analysis.figures.core import *  # noqa: F403
