"""A lean install querying a served catalog (issue 18).

A virtual environment with sitegen's base dependencies only (no torch) is made once per
dependency set in `benchmarks/.cache/`. The example library is built into a site with this
(full) install, its prepared model published into the site, and the site served over HTTP on
127.0.0.1. Measured: the lean environment's size; `sitegen match --library URL` from an empty
cache (includes fetching and verifying the model; median of RUNS, a fresh cache each); the same
command once the model is cached (median of RUNS); and whether every example query returns
the same JSON as the full install. Targets: <= 500 MB, <= 5 s, <= 0.6 s, all equal.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from benchmarks.harness import CACHE

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3


def lean_python() -> Path:
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    venv = CACHE / f"lean-venv-{key}"
    if not (venv / ".complete").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "-e", str(ROOT)], check=True, capture_output=True)
        (venv / ".complete").write_text("ok")
    return venv / "bin" / "python"


def size_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 2**20


def built_site(folder: Path) -> Path:
    from sitegen.build import build_site
    from sitegen.embedder import load_embedder
    from sitegen.library import Library

    library = folder / "library"
    shutil.copytree(ROOT / "example_library", library, ignore=shutil.ignore_patterns("index"))
    embedder = load_embedder()
    build_site(Library(library), embedder, folder / "site")  # publishes its model too
    return folder / "site"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def match(python: Path, url: str, query: str, cache: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SITEGEN_MODEL", "PYTHONPATH"}}
    env["SITEGEN_CACHE_DIR"] = str(cache)
    start = time.perf_counter()
    proc = subprocess.run(
        [str(python), "-m", "sitegen", "match", query, "--library", url, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, proc.stdout


def run() -> None:
    print("## Lean install against a served catalog\n")
    python = lean_python()
    venv = python.parent.parent
    examples = yaml.safe_load((ROOT / "example_library" / "queries.yaml").read_text())
    queries = [item["query"] for item in examples]
    with tempfile.TemporaryDirectory(prefix="sitegen-lean-") as tmp:
        site = built_site(Path(tmp))
        handler = functools.partial(_Quiet, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            first = [match(python, url, queries[0], Path(tmp) / f"c{i}")[0] for i in range(RUNS)]
            warm = Path(tmp) / "c0"
            cold = [match(python, url, queries[0], warm)[0] for _ in range(RUNS)]
            full_cache = Path(os.environ.get("SITEGEN_CACHE_DIR", Path(tmp) / "full"))
            same = sum(
                json.loads(match(python, url, q, warm)[1])
                == json.loads(match(Path(sys.executable), url, q, full_cache)[1])
                for q in queries
            )
        finally:
            server.shutdown()
            server.server_close()
    print("| measure | value | target |")
    print("| --- | ---: | --- |")
    print(f"| base environment (no torch) | {size_mb(venv):.0f} MB | <= 500 MB |")
    print(
        f"| match from an empty cache (fetch + verify model) | "
        f"{statistics.median(first):.2f} s ({', '.join(f'{t:.2f}' for t in first)}) | <= 5 s |"
    )
    print(
        f"| match, model cached (cold process) | {statistics.median(cold):.2f} s "
        f"({', '.join(f'{t:.2f}' for t in cold)}) | <= 0.6 s |"
    )
    print(
        f"| example queries with JSON equal to the full install's | {same}/{len(queries)} | all |\n"
    )
