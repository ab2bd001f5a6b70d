"""Reading and validating generated libraries of 1,000 and 5,000 entries (target: 5k < 2 s),
and the same 5,000 as a git checkout with history (dates from one `git log`)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

from benchmarks.harness import CACHE, median_of, run_json, synthetic_library

RUNS = 5
COMMITS = 300


def git_library(count: int, commits: int = COMMITS) -> Path:
    """The synthetic library as its own git repository: one commit of everything, then
    `commits` commits that each change one entry, at known dates."""
    root = CACHE / f"lib-git-{count}-{commits}"
    marker = root / ".git" / "sitegen-bench-complete"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(synthetic_library(count), root, ignore=shutil.ignore_patterns(".complete"))
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.com",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.com",
    }

    def git(*args: str, when: int) -> None:
        stamp = {"GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000"}
        subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True, env={**env, **stamp}
        )

    git("init", "-q", when=0)
    git("add", "-A", when=0)
    git("commit", "-qm", "library", when=1_700_000_000)
    rng = random.Random(7)
    folders = sorted(p for kind in ("roles", "skills") for p in (root / kind).iterdir())
    for i in range(commits):
        folder = rng.choice(folders)
        definition = folder / ("SKILL.md" if folder.parent.name == "skills" else "ROLE.md")
        with open(definition, "a") as fh:
            fh.write(f"\nRevision {i}.\n")
        git("commit", "-qam", f"revise {folder.name}", when=1_700_000_000 + (i + 1) * 3600)
    marker.write_text("ok")
    return root


def run() -> None:
    print("## Read and validate a library\n")
    print("| entries | median wall (s) | min (s) | peak RSS (MB) |")
    print("| ---: | ---: | ---: | ---: |")
    libraries = [(f"{n:,}", synthetic_library(n)) for n in (1000, 5000)]
    if shutil.which("git"):
        libraries.append((f"5,000 in git, {COMMITS + 1} commits", git_library(5000)))
    for label, root in libraries:
        runs = [run_json("benchmarks.read_library", str(root)) for _ in range(RUNS)]
        assert all(r["problems"] == 0 for r in runs), runs[0]
        print(
            f"| {label} | {median_of(runs, 'wall'):.3f} | "
            f"{min(r['wall'] for r in runs):.3f} | {median_of(runs, 'rss_mb'):.0f} |"
        )
    print()
