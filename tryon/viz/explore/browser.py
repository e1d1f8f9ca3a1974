"""The executed notebook opened in JupyterLab (served headless on a free local port) and drawn by headless
Chromium, driven over its DevTools protocol (:func:`screenshot`, ``make explore-screenshot``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tryon import paths
from tryon.data import io

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc, timeout: float) -> None:
    import urllib.request

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with status {proc.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url}: no answer within {timeout:.0f} s")


#: JupyterLab settings for a screenshot: no news or update toasts (it must not reach the network), every
#: cell drawn (not only those in view)
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}  # fmt: skip
#: the page is ready when every widget output is drawn (none still "Loading widget...") and the ipympl
#: canvas is there
_READY_JS = """(() => {
  const outs = document.querySelectorAll('.jp-OutputArea-output');
  if (!outs.length) return false;
  if (document.body.innerText.includes('Loading widget')) return false;
  return document.querySelectorAll('.jupyter-widgets.widget-vbox').length > 0
      && document.querySelectorAll('.jupyter-matplotlib canvas, .jupyter-matplotlib img').length > 0;
})()"""

#: the widgets drawn from the saved state are not backed by the page's kernel: ipywidgets marks each with a
#: "disconnected" icon; the picture leaves the markers out (the screenshot's description says so)
_HIDE_JS = """(() => {
  const s = document.createElement('style');
  s.textContent = '.jupyter-widgets-disconnected::before { content: none !important; display: none !important; }';
  document.head.appendChild(s);
})()"""


class _DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket (``websocket-client``, which
    jupyter_server depends on)."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.n = 0

    def call(self, method: str, **params) -> dict:
        import json

        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"DevTools {method}: {msg['error']}")
                return msg.get("result", {})

    def close(self) -> None:
        self.ws.close()


def _devtools_page(profile: Path, proc, timeout: float) -> str:
    """The websocket address of a new page of a Chromium started with ``--remote-debugging-port=0``."""
    import json
    import urllib.request

    port_file = profile / "DevToolsActivePort"
    end = time.monotonic() + timeout
    while not port_file.is_file() or not port_file.read_text().strip():
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with status {proc.returncode} before it listened")
        if time.monotonic() > end:
            raise TimeoutError("chromium: no DevTools port")
        time.sleep(0.2)
    port = int(port_file.read_text().split()[0])
    req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["webSocketDebuggerUrl"]


def _chromium_shot(chromium: str, url: str, out: Path, profile: Path, width: int, height: int,
                   timeout: float, settle: float) -> bool:  # fmt: skip
    """Open ``url`` in headless Chromium, wait (real time, at most ``timeout``) until :data:`_READY_JS`
    holds, then ``settle`` seconds more, and save the page as PNG. Returns whether it got ready (the
    picture is taken either way)."""
    import base64
    import signal
    import subprocess

    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
           "--remote-debugging-port=0", "--remote-allow-origins=*", "about:blank"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        dt = _DevTools(_devtools_page(profile, proc, 60))
        try:
            dt.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                    mobile=False)  # fmt: skip
            dt.call("Page.navigate", url=url)
            end, ready = time.monotonic() + timeout, False
            while time.monotonic() < end and not ready:
                time.sleep(1.0)
                ready = bool(dt.call("Runtime.evaluate", expression=_READY_JS, returnByValue=True)
                             .get("result", {}).get("value"))  # fmt: skip
            dt.call("Runtime.evaluate", expression=_HIDE_JS)
            time.sleep(settle)
            png = dt.call("Page.captureScreenshot", format="png")["data"]
        finally:
            dt.close()
        io._atomic_save(out, lambda t: Path(t).write_bytes(base64.b64decode(png)))
        return ready
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def screenshot(
    notebook: str | os.PathLike,
    out: str | os.PathLike,
    width: int = 1400,
    height: int = 2800,
    chromium: str = CHROMIUM,
    timeout: float = 180.0,
    settle: float = 3.0,
) -> Path:
    """Open ``notebook`` (a file under the repository) in JupyterLab, served headless on a free local port
    without a token, and save headless Chromium's picture of the page (``width`` x ``height`` px) to ``out``.

    JupyterLab's single-document view (``/doc/tree/...``) shows the notebook with its outputs; its kernel
    starts, and the widgets are drawn from the state papermill saved in the notebook (the ipympl canvas
    shows the last figure it drew). Chromium is driven over its DevTools protocol: the picture is taken
    once the widgets are drawn (at most ``timeout`` s) plus ``settle`` s. The server and Chromium get fresh
    settings, data, workspace and profile folders in a temporary folder, removed afterwards. A missing
    Chromium or notebook -> FileNotFoundError; widgets not drawn in time -> TimeoutError (the picture is
    saved all the same, to look at)."""
    import shutil
    import tempfile

    notebook, out = Path(notebook).resolve(), Path(out).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"{notebook}: notebook not found (run it first: make explore-screenshot)")
    exe = chromium if Path(chromium).is_file() else shutil.which(chromium)
    if not exe:
        raise FileNotFoundError(f"{chromium}: Chromium not found (apt-get install chromium)")
    root = paths.ROOT.resolve()
    try:
        rel = notebook.relative_to(root)
    except ValueError:
        root, rel = notebook.parent, Path(notebook.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="explore-shot-") as tmp:
        tmp = Path(tmp)
        _write_lab_settings(tmp / "settings")
        data = tmp / "data"
        _trust(notebook, data)
        port = _free_port()
        url = f"http://127.0.0.1:{port}/doc/tree/{rel.as_posix()}"
        ready = _serve_and_shoot(_lab_command(port, root, tmp), root, tmp, data, port, url, exe, out,
                                 width, height, timeout, settle)  # fmt: skip
    if not ready:
        raise TimeoutError(f"{url}: the widgets were not drawn within {timeout:.0f} s (picture: {out})")
    return out


def _write_lab_settings(folder: Path) -> None:
    """:data:`_LAB_SETTINGS` as JupyterLab's user settings files under ``folder``."""
    import json

    for name, value in _LAB_SETTINGS.items():
        f = folder / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))


def _trust(notebook: Path, data: Path) -> None:
    """JupyterLab draws widgets only in a trusted notebook (their views run code): sign it with a secret
    of the (new, temporary) data folder ``data``, which the server then reads; the user's own trust store
    is untouched."""
    import nbformat
    from nbformat.sign import NotebookNotary

    data.mkdir()
    NotebookNotary(data_dir=str(data)).sign(nbformat.read(notebook, as_version=4))


def _lab_command(port: int, root: Path, tmp: Path) -> list[str]:
    """The JupyterLab server's command line: local, no token, ``root`` served, settings and workspaces in
    ``tmp``, no news."""
    import sys

    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.token=",
        "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        "--LabApp.news_url=None",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def _serve_and_shoot(cmd: list[str], root: Path, tmp: Path, data: Path, port: int, url: str, exe: str,
                     out: Path, width: int, height: int, timeout: float, settle: float) -> bool:  # fmt: skip
    """Start the server (``cmd``, its log in ``tmp``), wait until it answers, take the picture of ``url``
    (:func:`_chromium_shot`), stop the server; returns whether the page got ready."""
    import signal
    import subprocess

    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_DATA_DIR": str(data)}
    with open(tmp / "lab.log", "wb") as log:
        server = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_http(f"http://127.0.0.1:{port}/api/status", server, 90)
            return _chromium_shot(exe, url, out, tmp / "chromium", width, height, timeout, settle)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
