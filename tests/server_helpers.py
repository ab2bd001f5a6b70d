"""Running servers for tests: the app in a uvicorn thread (with `sitegen serve`'s own limits),
and the real `sitegen serve` command in a subprocess."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from sitegen.server import ServerSettings, bind, build_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """uvicorn in a thread on a free loopback port, configured as `sitegen serve` runs it."""

    def __init__(self, app: Any, settings: ServerSettings | None = None) -> None:
        self.app = app
        self.sock = bind("127.0.0.1", 0)
        self.port = int(self.sock.getsockname()[1])
        self.server = build_server(app, settings or ServerSettings())
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


SERVING = re.compile(r"serving (http://\S+?)/? ")


class ServeCommand:
    """`sitegen serve` as a user runs it: a subprocess, its URL read from its own output."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=30)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")


@contextmanager
def sitegen_serve(*args: str, timeout: float = 120) -> Iterator[ServeCommand]:
    """Run `sitegen serve ARGS --port 0` until /healthz answers; stop it afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "serve", *args, "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = _wait_for_url(proc, timeout)
        command = ServeCommand(proc, url)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if command.get("/healthz").status_code in (200, 503):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("sitegen serve did not answer")
            time.sleep(0.1)
        yield command
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_url(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError(f"sitegen serve exited {proc.returncode}: {''.join(seen)}")
            continue
        seen.append(line)
        found = SERVING.search(line)
        if found:
            # Keep draining stderr so a chatty server never blocks on a full pipe.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return found.group(1).rstrip("/")
    raise RuntimeError(f"sitegen serve printed no address: {''.join(seen)}")
