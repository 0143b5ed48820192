"""JupyterLab for calcsim, as ``make lab`` starts it: ``jupyter lab --config=.jupyter/jupyter_lab_config.py``.

* The server's root is ``notebooks/``.
* The ``.py`` halves of the jupytext pairs open as notebooks: jupytext's server extension (enabled by its wheel,
  ``<venv>/etc/jupyter/jupyter_server_config.d/jupytext.json``) reads them as notebooks, and the settings overrides
  in ``.jupyter/lab/settings/overrides.json`` make Lab's default viewer for Python files the "Jupytext Notebook".
  Saving one writes both halves of the pair. The same overrides turn off Lab's news and update checks (both
  would contact a website; the notebooks need no network).
* The notebooks' kernelspec is ``python3``: the venv's own spec (``<venv>/share/jupyter/kernels/python3``, from
  ipykernel's wheel) whose ``python`` Jupyter replaces by the server's interpreter, i.e. this venv's Python, where
  ``analysis`` is installed editable from this checkout (checked by tests/test_jupyter.py).
"""

from pathlib import Path

c = get_config()  # noqa: F821  (traitlets defines get_config in the namespace of a config file)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

c.ServerApp.root_dir = str(REPO / "notebooks")
# Lab's application settings folder: overrides.json (see above). The venv has none of its own.
c.LabApp.app_settings_dir = str(HERE / "lab" / "settings")
c.MappingKernelManager.default_kernel_name = "python3"
# Development containers and CI run as root; Jupyter refuses to start as root without this.
c.ServerApp.allow_root = True
