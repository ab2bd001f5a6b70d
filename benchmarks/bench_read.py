"""Reading and validating generated libraries of 1,000 and 5,000 entries (target: 5k < 2 s)."""

from __future__ import annotations

from benchmarks.harness import median_of, run_json, synthetic_library

RUNS = 5


def run() -> None:
    print("## Read and validate a library\n")
    print("| entries | median wall (s) | min (s) | peak RSS (MB) |")
    print("| ---: | ---: | ---: | ---: |")
    for count in (1000, 5000):
        root = synthetic_library(count)
        runs = [run_json("benchmarks.read_library", str(root)) for _ in range(RUNS)]
        assert all(r["problems"] == 0 for r in runs), runs[0]
        print(
            f"| {runs[0]['entries']:,} | {median_of(runs, 'wall'):.3f} | "
            f"{min(r['wall'] for r in runs):.3f} | {median_of(runs, 'rss_mb'):.0f} |"
        )
    print()
