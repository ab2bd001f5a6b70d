"""Time one read + validation of a library in this process; prints JSON (wall s, peak RSS MB)."""

from __future__ import annotations

import json
import resource
import sys
import time

from sitegen.library import Library


def main(url: str) -> None:
    start = time.perf_counter()
    report = Library(url).read()
    wall = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "rss_mb": rss_mb, "entries": len(report.entries),
                      "problems": len(report.problems)}))


if __name__ == "__main__":
    main(sys.argv[1])
