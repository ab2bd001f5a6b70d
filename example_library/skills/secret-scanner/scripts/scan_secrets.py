#!/usr/bin/env python3
"""Scan files for likely secrets. Values are masked in the output.

Usage: python3 scan_secrets.py PATH [PATH ...] [--include-tests]
Exit code 1 if any finding is reported.
"""
from __future__ import annotations

import math
import os
import re
import sys

PATTERNS = [
    ("AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b")),
    ("GitHub fine-grained token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{82}\b")),
    ("Slack token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b")),
    ("Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Private key", re.compile(r"-----BEGIN (RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY( BLOCK)?-----")),
    ("JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("URL with password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s:@]{3,}@[^\s/]+", re.I)),
]
ASSIGNMENT = re.compile(
    r"(?i)\b(password|passwd|secret|api[_-]?key|token|access[_-]?key|client[_-]?secret)\w*\s*[:=]\s*['\"]([^'\"\s]{8,})['\"]")
PLACEHOLDERS = re.compile(r"(?i)changeme|example|placeholder|dummy|your[_-]|xxxx|\$\{|\{\{|<.*>")
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".terraform"}
TEST_HINT = re.compile(r"(^|/)(tests?|fixtures?|spec|testdata)/")


def entropy(s: str) -> float:
    counts = {c: s.count(c) for c in set(s)}
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


def mask(value: str) -> str:
    return value[:4] + "*" * min(len(value) - 4, 12)


def scan_file(path: str) -> list[tuple[int, str, str]]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(2_000_000)
    except OSError:
        return []
    if b"\0" in data[:8000]:
        return []  # binary
    hits = []
    for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        for name, pattern in PATTERNS:
            m = pattern.search(line)
            if m:
                hits.append((n, name, mask(m.group(0))))
        m = ASSIGNMENT.search(line)
        if (m and not PLACEHOLDERS.search(m.group(2)) and entropy(m.group(2)) >= 3.0
                and not any(h[0] == n for h in hits)):
            hits.append((n, f"hard-coded {m.group(1).lower()}", mask(m.group(2))))
    return hits


def walk(paths: list[str]):
    for root in paths:
        if os.path.isfile(root):
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            for name in filenames:
                yield os.path.join(dirpath, name)


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    include_tests = "--include-tests" in sys.argv
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    total = skipped = 0
    for path in walk(args):
        hits = scan_file(path)
        if hits and TEST_HINT.search(path.replace(os.sep, "/")) and not include_tests:
            skipped += len(hits)
            continue
        for line, name, masked in hits:
            total += 1
            print(f"{path}:{line}: {name}: {masked}")
    print(f"\n{total} finding(s)" + (f"; {skipped} in test paths skipped (--include-tests)" if skipped else ""))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
