"""First run on a new machine: `sitegen prepare` into an empty cache, step by step.

Runs the command RUNS times, each in a fresh process with a fresh cache folder, and prints the
median wall time of each step (parsed from the command's own step lines) and of the whole
command, with the machine's load average, since other work on the shared cores is the main
source of variance. Target (issue 10): <= 60 s on a busy 2-core machine.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 3


def prepare_once() -> tuple[float, dict[str, float]]:
    """(wall seconds, {step: seconds}) of one `sitegen prepare` into an empty cache."""
    with tempfile.TemporaryDirectory(prefix="sitegen-prepare-") as cache:
        env = {**os.environ, "SITEGEN_CACHE_DIR": cache}
        env.pop("SITEGEN_MODEL", None)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "sitegen", "prepare"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
    steps = {}
    for line in proc.stderr.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) == 3 and parts[2] == "s":
            steps[parts[0]] = float(parts[1])
    return wall, steps


def run() -> None:
    print("## First run: model preparation\n")
    load_before = os.getloadavg()[0]
    runs = [prepare_once() for _ in range(RUNS)]
    load_after = os.getloadavg()[0]
    names = list(runs[0][1])
    print(
        f"`sitegen prepare` into an empty cache, {RUNS} runs, load average "
        f"{load_before:.1f} before / {load_after:.1f} after.\n"
    )
    print("| step | median (s) | runs (s) |")
    print("| --- | ---: | --- |")
    for name in names:
        values = [steps.get(name, 0.0) for _, steps in runs]
        print(
            f"| {name} | {statistics.median(values):.1f} | "
            f"{', '.join(f'{v:.1f}' for v in values)} |"
        )
    walls = [wall for wall, _ in runs]
    print(
        f"| **whole command** | **{statistics.median(walls):.1f}** | "
        f"{', '.join(f'{w:.1f}' for w in walls)} |\n"
    )
