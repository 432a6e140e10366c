"""Screenshots of dashboard views in a real browser: headless Chromium over the DevTools protocol.

``chromium --screenshot`` shoots once its virtual-time budget is spent, which happens within
seconds whatever the server is doing, so a view still loading its data comes out half drawn.
Here the browser waits for what matters: the view's text in the DOM, no Streamlit spinner or
"Running" badge, and the page text unchanged over two polls.

    python -m dashboard.snapshot --base http://127.0.0.1:8501 --out shots runs=/ compare=/compare
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import httpx
from websockets.sync.client import connect

BUSY = """Boolean(document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]'))
  || /Running/.test((document.querySelector('[data-testid="stStatusWidget"]') || {}).innerText || '')"""


@dataclass(frozen=True)
class Snapshot:
    url: str
    text: str  # the page's visible text
    png: bytes
    seconds: float


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise FileNotFoundError("no Chromium on PATH (Debian: apt-get install chromium)")


class Browser:
    """One headless Chromium and its first tab, driven over the DevTools protocol."""

    def __init__(self, width: int = 1400, height: int = 2000):
        # Chromium's helper processes may still touch the profile while it is removed.
        self._profile = tempfile.TemporaryDirectory(prefix="hybrid-eval-chromium-", ignore_cleanup_errors=True)
        self._process = subprocess.Popen(
            [
                chromium_binary(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={self._profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        port = self._devtools_port()
        tabs = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(t for t in tabs if t.get("type") == "page")
        self._ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self._ids = count(1)
        self._call("Page.enable")
        self._call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _devtools_port(self) -> int:
        deadline = time.monotonic() + 30
        for line in self._process.stderr:
            if match := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
                return int(match.group(1))
            if time.monotonic() > deadline:
                break
        raise RuntimeError("Chromium did not open its DevTools port")

    def _call(self, method: str, **params) -> dict:
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._ws.recv(timeout=60))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _evaluate(self, expression: str):
        return self._call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def snapshot(self, url: str, expect: str, timeout: float = 120.0) -> Snapshot:
        """Open ``url``, wait until ``expect`` shows and the view is idle, and take a screenshot."""
        started = time.monotonic()
        self._call("Page.navigate", url=url)
        previous, text = None, ""
        while time.monotonic() - started < timeout:
            time.sleep(0.5)
            text = self._evaluate("document.body ? document.body.innerText : ''") or ""
            if expect in text and not self._evaluate(BUSY) and text == previous:
                break
            previous = text
        else:
            raise TimeoutError(f"{url}: {expect!r} not rendered within {timeout:.0f} s; page text: {text[:300]!r}")
        time.sleep(1.0)  # charts draw after the text settles
        png = base64.b64decode(self._call("Page.captureScreenshot", format="png")["data"])
        return Snapshot(url, text, png, time.monotonic() - started)

    def close(self) -> None:
        try:
            self._ws.close()
        finally:
            # the whole process group: the browser and its helpers
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
            self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8501", help="where the dashboard is served")
    parser.add_argument("--out", type=Path, default=Path("results/screenshots"))
    parser.add_argument("views", nargs="+", help="name=path[=expected text], e.g. pairs=/pairs='Language pairs'")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with Browser() as browser:
        for view in args.views:
            name, path, *expect = view.split("=", 2)
            shot = browser.snapshot(args.base.rstrip("/") + path, expect[0] if expect else "")
            (args.out / f"{name}.png").write_bytes(shot.png)
            (args.out / f"{name}.txt").write_text(shot.text)
            print(f"{name}: {len(shot.png):,} bytes, {shot.seconds:.1f} s -> {args.out / name}.png")


if __name__ == "__main__":
    main()
