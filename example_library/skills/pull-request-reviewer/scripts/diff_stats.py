#!/usr/bin/env python3
"""Summarize a unified diff (git diff output) read from stdin or a file.

Usage:
    git diff origin/main...HEAD | python3 diff_stats.py
    python3 diff_stats.py change.diff

Reports churn per file, the total size, and source files changed without any
test file in the same diff.
"""
from __future__ import annotations

import re
import sys

LARGE_PR_LINES = 400
TEST_HINT = re.compile(r"(^|/)(tests?|spec|__tests__)/|_test\.|\.test\.|\.spec\.|(^|/)test_")
SOURCE_EXT = (".py", ".js", ".ts", ".tsx", ".go", ".java", ".kt", ".rb", ".rs", ".cs", ".php")


def parse(lines):
    stats: dict[str, list[int]] = {}
    current = None
    for line in lines:
        if line.startswith("diff --git "):
            match = re.match(r"diff --git a/(.+) b/(.+)", line.rstrip("\n"))
            current = match.group(2) if match else None
            if current:
                stats.setdefault(current, [0, 0])
        elif current and line.startswith("+") and not line.startswith("+++"):
            stats[current][0] += 1
        elif current and line.startswith("-") and not line.startswith("---"):
            stats[current][1] += 1
    return stats


def main() -> int:
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8", errors="replace") as fh:
            stats = parse(fh)
    else:
        stats = parse(sys.stdin)
    if not stats:
        print("no files in diff")
        return 0

    total_add = sum(a for a, _ in stats.values())
    total_del = sum(d for _, d in stats.values())
    print(f"{len(stats)} files, +{total_add} -{total_del}")
    print(f"{'added':>7} {'removed':>7}  file")
    for path, (add, rem) in sorted(stats.items(), key=lambda kv: -(kv[1][0] + kv[1][1])):
        print(f"{add:7d} {rem:7d}  {path}")

    warnings = []
    if total_add + total_del > LARGE_PR_LINES:
        warnings.append(f"large change ({total_add + total_del} lines); consider splitting")
    tests = [p for p in stats if TEST_HINT.search(p)]
    sources = [p for p in stats if p.endswith(SOURCE_EXT) and p not in tests]
    if sources and not tests:
        warnings.append("source files changed but no test files in the diff")
    for name in stats:
        if re.search(r"(^|/)(\.env|id_rsa|.*\.pem)$", name):
            warnings.append(f"possible secret file in diff: {name}")
        if name.endswith(("package-lock.json", "poetry.lock", "yarn.lock", "go.sum")):
            warnings.append(f"lock file changed: {name}; check dependency updates are intended")
    print()
    for w in warnings:
        print(f"WARNING: {w}")
    if not warnings:
        print("no size or test warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
