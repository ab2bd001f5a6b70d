"""`sitegen serve` under load: wrk on loopback against 5,000 generated entries.

Targets: distinct queries >= 150 requests/s with p99 <= 100 ms at 8 connections, repeated
queries >= 1,000 requests/s, server RSS <= 400 MB. Each wrk run is bounded (5 s, 8
connections, 127.0.0.1); every figure is the median of 3 runs. Distinct queries are numbered
per wrk thread and per run, so no two requests share a query (nor a cached answer). CPU per
request is the server process's own CPU time over the requests it answered: on a shared machine
it moves far less than requests/s does.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import synthetic_library

RUNS = 3
DURATION = "5s"
CONNECTIONS = "8"
DISTINCT_LUA = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  run = args[1] or "0"
end
counter = 0
request = function()
  counter = counter + 1
  local q = "which+skill+helps+with+task+" .. run .. "r" .. id .. "t" .. counter .. "+and+its+data"
  return wrk.format("GET", "/api/match?q=" .. q)
end
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, pid: int, script: Path | None = None, run: int = 0) -> dict[str, float]:
    """Requests/s, p99 latency (ms) and server CPU ms per request from one bounded wrk run."""
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    args += [url]
    if script is not None:
        args += ["--", str(run)]
    cpu = _cpu_seconds(pid)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    cpu = _cpu_seconds(pid) - cpu
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {"rate": rate, "p99": p99, "cpu_ms": cpu * 1000 / max(count, 1)}


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(root: Path, site: str) -> tuple[subprocess.Popen[bytes], str, float]:
    """`sitegen serve` on a free port; also how long it took to answer /healthz."""
    port = _free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "serve", str(root), "--site", site, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.perf_counter() - started > 120 or server.poll() is not None:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    return server, base, time.perf_counter() - started


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def run() -> None:
    print("## Query server under load\n")
    import shutil

    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian package `wrk`); skipped.\n")
        return
    root = synthetic_library(5000)
    subprocess.run(
        [sys.executable, "-m", "sitegen", "index", str(root)], check=True, capture_output=True
    )
    repeated: list[dict[str, float]] = []
    distinct: list[dict[str, float]] = []
    starts: list[float] = []
    rss = 0.0
    with tempfile.TemporaryDirectory() as site, tempfile.TemporaryDirectory() as scratch:
        lua = Path(scratch) / "distinct.lua"
        lua.write_text(DISTINCT_LUA)
        for i in range(RUNS):
            server, base, start = _start(root, site)
            starts.append(start)
            try:
                repeated.append(_wrk(base + "/api/match?q=review+my+terraform+plan", server.pid))
                distinct.append(_wrk(base + "/", server.pid, lua, run=i))
                rss = max(rss, _peak_rss_mb(server.pid))
            finally:
                server.terminate()
                server.wait(timeout=10)
    print("| measure (median of 3) | req/s | p99 | server CPU per request | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, runs, target in (
        ("repeated query", repeated, ">= 1,000 req/s"),
        ("distinct queries", distinct, ">= 150 req/s, p99 <= 100 ms"),
    ):
        print(
            f"| {name} | {_median(runs, 'rate'):,.0f} | {_median(runs, 'p99'):.0f} ms "
            f"| {_median(runs, 'cpu_ms'):.2f} ms | {target} |"
        )
    print(f"| server peak RSS | {rss:.0f} MB | | | <= 400 MB |")
    print(f"| start-up to /healthz | {statistics.median(starts):.2f} s | | | |")
    load = os.getloadavg()[0]
    print(f"\n(wrk -t2 -c{CONNECTIONS} -d{DURATION}, loopback, 5,000 entries; load {load:.1f})\n")
