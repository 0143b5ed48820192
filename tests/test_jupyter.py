"""JupyterLab as ``make lab`` starts it: a real server configured by ``.jupyter/jupyter_lab_config.py``.

Each server runs this interpreter's ``jupyter lab`` on a free localhost port with a random token, with Jupyter's
and IPython's own folders in a temporary directory (nothing of the user's is read or written; Lab's autosave is
off there, so the checkout's notebooks are never rewritten) and without PYTHONPATH, so the kernel finds
``analysis`` as under ``make lab``: through the editable install of this checkout. Every server is stopped
(REST shutdown, then terminate, then kill) whatever the test does.

* REST: every ``notebooks/*.py`` opens as a notebook with the cells jupytext reads; Lab's default viewer for
  Python files is jupytext's notebook and jupytext's Lab extension is loaded.
* Kernel: one started with the notebooks' kernel name runs code over the kernel websocket (the channel Lab
  itself uses) and reports this venv's Python and this checkout's ``analysis``; deleting it ends its process.
* Browser: headless Chromium (Debian ``chromium``) opens ``/lab/tree/01_cohort.py``: the notebook panel shows
  every cell, a session with the notebooks' kernel starts, a screenshot lands in ``tests/artifacts/``. A control
  server without the settings overrides opens the same URL in the text editor, so that check can fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import jupytext
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CONFIG = ROOT / ".jupyter" / "jupyter_lab_config.py"
ARTIFACTS = Path(__file__).parent / "artifacts"
SCRIPTS = sorted(NOTEBOOKS.glob("*.py"))
KERNELS = {jupytext.read(p).metadata.get("kernelspec", {}).get("name") for p in SCRIPTS}
WIDTH, HEIGHT = 1280, 900
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
    "--virtual-time-budget=30000",
]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """One running ``jupyter lab`` (see :func:`lab_server`)."""

    def __init__(self, proc: subprocess.Popen, port: int, token: str, log: Path) -> None:
        self.proc, self.port, self.token, self.log = proc, port, token, log
        self.url = f"http://127.0.0.1:{port}"

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with _NO_PROXY.open(req, timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        text = raw.decode("utf-8")
        try:
            return status, json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            return status, text

    def get(self, path: str) -> tuple[int, object]:
        return self.request("GET", path)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.get("/api/status")[0] == 200:
                    return
            time.sleep(0.25)
        raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Shut down (kernels included); terminate, then kill, if it does not exit."""
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.request("POST", "/api/shutdown", timeout=10)
        for step in (lambda: None, self.proc.terminate, self.proc.kill):  # shutdown asked; SIGTERM; SIGKILL
            step()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=20)
                return


@contextlib.contextmanager
def lab_server(base: Path, *extra: str) -> Iterator[Lab]:
    """``jupyter lab --config=.jupyter/jupyter_lab_config.py`` (as ``make lab``) in a sandbox of folders."""
    dirs = {name: base / name for name in ("config", "data", "runtime", "ipython", "checkpoints")}
    docmanager = dirs["config"] / "lab" / "user-settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}\n')
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("JUPYTER", "IPYTHON"))}
    env |= {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "IPYTHONDIR": str(dirs["ipython"]),
    }
    port, token = _free_port(), secrets.token_hex(16)
    log = base / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--config={CONFIG}",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        # the checkpoint Lab makes of every file it opens: here, not in notebooks/.ipynb_checkpoints/
        f"--FileCheckpoints.checkpoint_dir={dirs['checkpoints']}",
        *extra,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=base, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(proc, port, token, log)
    try:
        lab.wait_ready(timeout=90)
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    with lab_server(tmp_path_factory.mktemp("lab")) as server:
        yield server


# ----------------------------------------------------------------------------- REST
def test_the_notebooks_name_one_kernel():
    assert len(SCRIPTS) >= 6, SCRIPTS
    assert len(KERNELS) == 1 and None not in KERNELS, f"notebooks/*.py declare kernels {KERNELS}"


def test_every_py_pair_opens_as_a_notebook(lab):
    for py in SCRIPTS:
        status, model = lab.get(f"/api/contents/{quote(py.name)}?type=notebook&content=1")
        assert status == 200, (py.name, status, model)
        assert model["type"] == "notebook" and model["format"] == "json", py.name
        cells, expected = model["content"]["cells"], jupytext.read(py).cells
        assert cells and len(cells) == len(expected), (py.name, len(cells), len(expected))
        assert [(c["cell_type"], c["source"]) for c in cells] == [(c.cell_type, c.source) for c in expected]
        assert model["content"]["metadata"]["kernelspec"]["name"] in KERNELS
    status, listing = lab.get("/api/contents/")
    assert status == 200 and {f["name"] for f in listing["content"]} >= {p.name for p in SCRIPTS}, "root: notebooks/"


def test_lab_opens_python_files_with_jupytext_and_fetches_no_news(lab):
    status, docmanager = lab.get("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    assert status == 200, docmanager
    assert docmanager["schema"]["properties"]["defaultViewers"]["default"] == {"python": "Jupytext Notebook"}
    status, notification = lab.get("/lab/api/settings/@jupyterlab/apputils-extension:notification")
    assert status == 200, notification
    defaults = {k: v.get("default") for k, v in notification["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
    status, page = lab.get("/lab")
    assert status == 200
    config = json.loads(html.unescape(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S)[1]))
    assert "jupyterlab-jupytext" in {e["name"] for e in config["federated_extensions"]}


async def _execute(lab: Lab, kernel_id: str, code: str, timeout: float) -> tuple[dict, str]:
    """Run ``code`` over the kernel websocket (legacy JSON protocol); return its execute_reply and stdout."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    session, msg_id = uuid.uuid4().hex, uuid.uuid4().hex
    url = f"ws://127.0.0.1:{lab.port}/api/kernels/{kernel_id}/channels?session_id={session}"
    deadline = time.monotonic() + timeout
    ws = await asyncio.wait_for(
        websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {lab.token}"})), timeout
    )
    header = {
        "msg_id": msg_id,
        "session": session,
        "username": "test",
        "msg_type": "execute_request",
        "version": "5.3",
        "date": datetime.now(UTC).isoformat(),
    }
    content = {
        "code": code,
        "silent": False,
        "store_history": False,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }
    await ws.write_message(
        json.dumps(
            {
                "header": header,
                "parent_header": {},
                "metadata": {},
                "content": content,
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    stdout, reply, idle = [], None, False
    try:
        while reply is None or not idle:
            raw = await asyncio.wait_for(ws.read_message(), max(deadline - time.monotonic(), 0.01))
            if raw is None:
                raise ConnectionError("the kernel websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, body = msg["msg_type"], msg["content"]
            if kind == "stream" and body["name"] == "stdout":
                stdout.append(body["text"])
            elif kind == "execute_reply":
                reply = body
            elif kind == "status" and body["execution_state"] == "idle":
                idle = True
    finally:
        ws.close()
    return reply, "".join(stdout)


CODE = """\
import json, os, sys
import analysis
print(json.dumps({"file": analysis.__file__, "prefix": sys.prefix, "cwd": os.getcwd(), "pid": os.getpid()}))
"""


def test_kernel_runs_this_venvs_python_and_this_checkouts_analysis(lab):
    (name,) = KERNELS
    status, spec = lab.get(f"/api/kernelspecs/{name}")
    assert status == 200, f"no kernel spec {name!r}: {spec}"
    # as Lab does for a notebook: its path sets the kernel's working folder
    status, kernel = lab.request("POST", "/api/kernels", {"name": name, "path": SCRIPTS[0].name})
    assert status == 201, kernel
    try:
        reply, out = asyncio.run(_execute(lab, kernel["id"], CODE, timeout=120))
    finally:
        deleted = lab.request("DELETE", f"/api/kernels/{kernel['id']}")[0]
    assert reply["status"] == "ok", reply
    facts = json.loads(out)
    assert Path(facts["file"]).resolve().is_relative_to(ROOT / "analysis"), facts["file"]
    assert facts["prefix"] == sys.prefix, "the kernel is this venv's Python"
    assert Path(facts["cwd"]).resolve() == NOTEBOOKS, "kernels start in notebooks/"
    assert deleted == 204
    deadline = time.monotonic() + 15
    while _alive(facts["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(facts["pid"]), "the deleted kernel's process is still running"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# ----------------------------------------------------------------------------- browser
def _chromium_or_skip() -> str:
    for name in (os.environ.get("CALCSIM_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    reason = "chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)"
    if os.environ.get("CALCSIM_REQUIRE_CHROMIUM"):  # set by .ci/run: in CI this test must run
        pytest.fail(reason + " but CALCSIM_REQUIRE_CHROMIUM is set")
    pytest.skip(reason)


def _chromium(exe: str, profile: Path, url: str, *args: str, timeout: float = 150) -> str:
    """One headless Chromium run with a fresh profile; its stdout. Killed (whole process group) on time-out."""
    proc = subprocess.Popen(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, f"chromium exited with {proc.returncode}: {err[-2000:]}"
    return out


def _has_class(dom: str, cls: str) -> int:
    """How many elements carry the class ``cls`` (not a prefix of it: jp-NotebookPanel-toolbar is not one)."""
    return len(re.findall(rf'class="(?:[^"]*\s)?{re.escape(cls)}(?:\s[^"]*)?"', dom))


def _snapshot(py: Path) -> tuple[list[str], bytes, bytes]:
    """The files under notebooks/ and the bytes of one pair (others may edit other notebooks meanwhile)."""
    names = sorted(str(p.relative_to(py.parent)) for p in py.parent.rglob("*"))
    return names, py.read_bytes(), py.with_suffix(".ipynb").read_bytes()


@pytest.mark.slow
def test_chromium_shows_a_py_pair_as_a_notebook_with_its_kernel(lab, tmp_path):
    from PIL import Image

    exe = _chromium_or_skip()
    py = SCRIPTS[0]
    notebook, (name,) = jupytext.read(py), KERNELS
    heading = next(c.source for c in notebook.cells if c.cell_type == "markdown").splitlines()[0].lstrip("# ")
    url = f"{lab.url}/lab/tree/{quote(py.name)}?token={lab.token}"
    before = _snapshot(py)
    assert not [s for s in lab.get("/api/sessions")[1] if s["path"] == py.name]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"jupyterlab-{py.stem}.png"
    shot.unlink(missing_ok=True)
    try:
        _chromium(exe, tmp_path / "profile-shot", url, f"--screenshot={shot}")
        dom = html.unescape(_chromium(exe, tmp_path / "profile-dom", url, "--dump-dom"))
        sessions = [s for s in lab.get("/api/sessions")[1] if s["path"] == py.name]
    finally:
        for s in lab.get("/api/sessions")[1]:
            lab.request("DELETE", f"/api/sessions/{s['id']}")
    assert _has_class(dom, "jp-NotebookPanel") == 1 and _has_class(dom, "jp-FileEditor") == 0
    assert _has_class(dom, "jp-Notebook-cell") == len(notebook.cells), "every cell is shown"
    assert heading in dom, heading
    assert [s["kernel"]["name"] for s in sessions] == [name], f"Lab started no {name!r} kernel: {sessions}"
    image = Image.open(shot)
    assert image.size == (WIDTH, HEIGHT)
    colours = image.convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT)
    assert len(colours) > 100, f"a nearly flat screenshot ({len(colours)} colours)"
    assert _snapshot(py) == before, "opening the notebook wrote files in notebooks/"
    assert [p.name for p in (lab.log.parent / "checkpoints").iterdir()] == [f"{py.stem}-checkpoint.py"], (
        "Lab loaded the document (it checkpoints what it opens)"
    )


@pytest.mark.slow
def test_control_without_the_settings_overrides_lab_opens_the_py_as_text(tmp_path):
    exe = _chromium_or_skip()
    (tmp_path / "no-settings").mkdir()
    with lab_server(tmp_path / "server", f"--LabApp.app_settings_dir={tmp_path / 'no-settings'}") as control:
        url = f"{control.url}/lab/tree/{quote(SCRIPTS[0].name)}?token={control.token}"
        dom = _chromium(exe, tmp_path / "profile", url, "--dump-dom")
    assert _has_class(dom, "jp-FileEditor") == 1 and _has_class(dom, "jp-NotebookPanel") == 0
