"""Shared benchmark plumbing: cached synthetic libraries, subprocess runs, medians."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.synthetic import generate_library

CACHE = Path(__file__).resolve().parent / ".cache"


def synthetic_library(count: int) -> Path:
    """A generated library of `count` entries, made once and reused between runs."""
    root = CACHE / f"lib-{count}"
    marker = root / ".complete"
    if not marker.exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        generate_library(root, count)
        marker.write_text("ok")
    return root


def run_json(module: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `python -m module args` in a fresh process and parse its JSON line."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=True, env=env
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))
