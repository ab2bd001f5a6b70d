"""`sitegen serve` under load: wrk on loopback against 5,000 generated entries.

Targets: distinct queries >= 150 requests/s, repeated queries >= 1,000 requests/s, p99 latency
<= 100 ms, server RSS <= 400 MB. Each wrk run is bounded (5 s, 8 connections, 127.0.0.1).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import synthetic_library

DURATION = "5s"
CONNECTIONS = "8"
DISTINCT_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local path = "/api/match?q=which+skill+helps+with+task+number+" .. counter .. "+and+its+data"
  return wrk.format("GET", path)
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wrk(url: str, script: Path | None = None) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) from one bounded wrk run."""
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    if script is not None:
        args[1:1] = ["-s", str(script)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rate, p99


def _rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run() -> None:
    print("## Query server under load\n")
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian package `wrk`); skipped.\n")
        return
    root = synthetic_library(5000)
    subprocess.run(
        [sys.executable, "-m", "sitegen", "index", str(root)], check=True, capture_output=True
    )
    port = _free_port()
    with tempfile.TemporaryDirectory() as site:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sitegen",
                "serve",
                str(root),
                "--site",
                site,
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.2)
            repeated = _wrk(base + "/api/match?q=review+my+terraform+plan")
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
                lua.write(DISTINCT_LUA)
            distinct = _wrk(base + "/", Path(lua.name))
            rss = _rss_peak_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print("| measure | result | target |")
    print("| --- | ---: | --- |")
    print(
        f"| repeated query | {repeated[0]:,.0f} req/s, p99 {repeated[1]:.1f} ms | >= 1,000 req/s |"
    )
    print(
        f"| distinct queries | {distinct[0]:,.0f} req/s, p99 {distinct[1]:.1f} ms | >= 150 req/s |"
    )
    print(f"| server peak RSS | {rss:.0f} MB | <= 400 MB |")
    print(f"\n(wrk -t2 -c{CONNECTIONS} -d{DURATION}, loopback, 5,000 entries)\n")
