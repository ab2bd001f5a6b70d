"""`make bench`: run every benchmark and print Markdown rows for BENCHMARKS.md."""

from __future__ import annotations

import platform
import sys

from benchmarks import (
    bench_index,
    bench_lean,
    bench_mcp,
    bench_prepare,
    bench_quality,
    bench_read,
    bench_semantic,
    bench_server,
    bench_site,
    bench_tags,
)

SUITES = {
    "read": bench_read.run,
    "index": bench_index.run,
    "site": bench_site.run,
    "quality": bench_quality.run,
    "server": bench_server.run,
    "mcp": bench_mcp.run,
    "prepare": bench_prepare.run,
    "tags": bench_tags.run,
    "lean": bench_lean.run,
    "semantic": bench_semantic.run,
}


def main(selected: list[str]) -> None:
    print(f"# sitegen benchmarks ({platform.node()}, python {platform.python_version()})\n")
    for name, suite in SUITES.items():
        if [s for s in selected if not s.startswith("-")] and name not in selected:
            continue
        suite()


if __name__ == "__main__":
    main(sys.argv[1:])
