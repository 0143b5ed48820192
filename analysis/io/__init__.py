"""Input and output at the bottom of the stack: where the shipped data live and the BCSC readers."""

from analysis.io.paths import data_dir, notebook_dirs, parameters_dir, scenarios_dir

__all__ = ["data_dir", "notebook_dirs", "parameters_dir", "scenarios_dir"]
