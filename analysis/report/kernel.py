"""The built-in kernel the notebooks run in: this Python, this copy of calcsim, the inline backend."""

from __future__ import annotations

import os
import sys
from typing import Any

from analysis.report.provenance import package_root

#: Name of the built-in kernel spec that runs ``sys.executable``.
KERNEL_NAME = "calcsim-python"


def kernel_spec_dict() -> dict[str, Any]:
    """The kernel spec of :data:`KERNEL_NAME`: ipykernel on ``sys.executable``.

    ``PYTHONPATH`` starts with the folder holding the imported ``analysis`` package (the
    repository root in a checkout, site-packages for a wheel), so the notebooks import the same
    calcsim whose version the provenance header shows; ``MPLBACKEND`` is the inline backend even
    when the caller's environment sets ``MPLBACKEND=Agg``.

    Returns
    -------
    dict
        A kernel spec (``argv``, ``display_name``, ``language``, ``env``, ...) as in ``kernel.json``.
    """
    from ipykernel.kernelspec import get_kernel_dict

    spec = get_kernel_dict()  # argv [sys.executable, -m, ipykernel_launcher, ...], encryption metadata
    spec["argv"] = [sys.executable, *spec["argv"][1:]]
    path = [str(package_root())] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    spec["display_name"] = f"calcsim (Python {sys.version_info[0]}.{sys.version_info[1]})"
    spec["env"] = {
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(path)),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # silence debugpy's frozen-modules warning
        # tqdm.auto warns "IProgress not found" in a kernel without ipywidgets when merely imported
        # (analysis.model.simulation imports it); progress widgets mean nothing in a static page
        "PYTHONWARNINGS": ",".join(filter(None, [os.environ.get("PYTHONWARNINGS", ""), "ignore:IProgress not found"])),
    }
    return spec


def kernel_manager_class() -> type:
    """An nbclient kernel manager class that knows :data:`KERNEL_NAME` and shuts kernels down quietly.

    * :data:`KERNEL_NAME` is found without any kernel spec on disk (other names are looked up as usual).
    * Shutting a kernel down does not interrupt it first. ``jupyter_client`` sends SIGINT before its
      ``shutdown_request``; when the signal lands while the kernel is still inside a message handler
      (the ``kernel_info_request`` nbclient sends after the last cell, say), ipykernel logs
      ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel`` straight to the terminal — the lines
      that used to end ``make report``. The report's kernels are idle when they are shut down, and
      ipykernel answers ``shutdown_request`` on its control thread even when busy; a kernel that does not
      exit is still terminated (SIGTERM, then SIGKILL) by ``jupyter_client`` after its shutdown wait.

    Returns
    -------
    type
        A subclass of ``jupyter_client.AsyncKernelManager`` (papermill's ``kernel_manager_class``).
    """
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from traitlets import default

    class _SpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            if kernel_name == KERNEL_NAME:
                return KernelSpec(resource_dir="", **kernel_spec_dict())
            return super().get_kernel_spec(kernel_name)

    class _Manager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_spec_manager(self) -> KernelSpecManager:
            return _SpecManager(data_dir=self.data_dir)

        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:  # see above: no SIGINT on the way out
                return
            await super()._async_interrupt_kernel()

        interrupt_kernel = _async_interrupt_kernel

        if "transport_encryption" in AsyncKernelManager.class_trait_names():  # jupyter_client >= 8.7

            @default("transport_encryption")
            def _default_transport_encryption(self) -> str:
                import zmq

                # CurveZMQ keys when libzmq has them: ipykernel >= 7 warns on unencrypted TCP otherwise
                return "auto" if zmq.has("curve") else "disabled"

    return _Manager
