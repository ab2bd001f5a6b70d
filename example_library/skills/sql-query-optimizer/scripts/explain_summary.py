#!/usr/bin/env python3
"""Summarize a PostgreSQL `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` plan.

Usage: python3 explain_summary.py plan.json   (or - for stdin)

Prints the slowest nodes by self time and flags common problems:
sequential scans that discard most rows, row misestimates, disk sorts and
nested loops with many iterations.
"""
from __future__ import annotations

import json
import sys
from typing import Any


def walk(node: dict[str, Any], depth: int = 0):
    yield node, depth
    for child in node.get("Plans", []):
        yield from walk(child, depth + 1)


def self_time(node: dict[str, Any]) -> float:
    loops = node.get("Actual Loops", 1) or 1
    total = node.get("Actual Total Time", 0.0) * loops
    children = sum(c.get("Actual Total Time", 0.0) * (c.get("Actual Loops", 1) or 1)
                   for c in node.get("Plans", []))
    return max(total - children, 0.0)


def label(node: dict[str, Any]) -> str:
    name = node.get("Node Type", "?")
    if "Relation Name" in node:
        name += f" on {node['Relation Name']}"
    if "Index Name" in node:
        name += f" using {node['Index Name']}"
    return name


def findings(node: dict[str, Any]) -> list[str]:
    out = []
    actual = node.get("Actual Rows")
    planned = node.get("Plan Rows")
    removed = node.get("Rows Removed by Filter", 0)
    loops = node.get("Actual Loops", 1) or 1
    if node.get("Node Type") == "Seq Scan" and removed > 1000 and removed > 10 * (actual or 0) * loops:
        out.append(f"seq scan discards {removed:,} rows per loop (filter: {node.get('Filter', '?')})")
    if actual is not None and planned:
        ratio = max(actual, 1) / max(planned, 1)
        if ratio >= 10 or ratio <= 0.1:
            out.append(f"row estimate off: planned {planned:,}, actual {actual:,}")
    if node.get("Sort Space Type") == "Disk":
        out.append(f"sort spilled to disk ({node.get('Sort Space Used', '?')} kB)")
    if node.get("Node Type") == "Nested Loop":
        inner = node.get("Plans", [{}, {}])[-1]
        if inner.get("Actual Loops", 0) > 1000:
            out.append(f"nested loop runs inner side {inner['Actual Loops']:,} times")
    return out


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "-":
        raw = sys.stdin.read()
    else:
        with open(sys.argv[1], encoding="utf-8") as fh:
            raw = fh.read()
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        print(f"error: not JSON: {exc}", file=sys.stderr)
        return 2
    top = doc[0] if isinstance(doc, list) else doc
    root = top["Plan"]
    if "Actual Total Time" not in root:
        print("warning: plan has no timings; use EXPLAIN (ANALYZE, ...) for real numbers\n")

    nodes = list(walk(root))
    print("Plan tree (self time ms):")
    for node, depth in nodes:
        print(f"  {'  ' * depth}{label(node)}  [{self_time(node):.1f}]")

    print("\nSlowest nodes:")
    for node, _ in sorted(nodes, key=lambda nd: self_time(nd[0]), reverse=True)[:3]:
        print(f"  {self_time(node):9.1f} ms  {label(node)}")

    print("\nFindings:")
    issues = [(label(n), f) for n, _ in nodes for f in findings(n)]
    for where, what in issues:
        print(f"  - {where}: {what}")
    if not issues:
        print("  - none of the common problems detected")
    if "Execution Time" in top:
        print(f"\nPlanning {top.get('Planning Time', 0):.1f} ms, execution {top['Execution Time']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
