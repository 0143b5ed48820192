"""The ``calcsim`` command line (entry point :func:`analysis.cli.main`; options :func:`build_parser`)."""

from analysis.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
