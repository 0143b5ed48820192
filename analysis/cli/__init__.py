"""The ``calcsim`` command line (entry point :func:`analysis.cli.main`)."""

from analysis.cli.main import main

__all__ = ["main"]
