"""The cost of publishing a site as one generation on a local disk, by phase.

A tree shaped like the 5,000-entry site (34,367 files in ~15,000 folders, a few KB each) is
published again with one changed file: the staged tree hard-links every other file from the
live one (`os.walk` + one `link` per file), one `renameat2(RENAME_EXCHANGE)` swaps the trees,
and the old tree is removed. Medians of 5 runs, reported per 1,000 files.

    python -m benchmarks.bench_publish [files]
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import CACHE
from sitegen.publish.local import LocalTarget


def make_tree(root: Path, files: int) -> set[str]:
    paths = set()
    for i in range(files):
        rel = f"skills/entry-{i // 7:05d}/{'index.html' if i % 7 == 0 else f'f{i % 7}.json'}"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 2048)
        paths.add(rel)
    return paths


def one_run(out: Path, outputs: set[str]) -> dict[str, float]:
    target = LocalTarget(str(out))
    stage = target.begin()
    changed = sorted(outputs)[0]
    stage.stage(changed, b"changed", 0)
    start = time.perf_counter()
    carried = stage._carry_over(outputs, outputs)
    linked = time.perf_counter()
    stage._switch()
    switched = time.perf_counter()
    stage.abort()  # the old tree
    removed = time.perf_counter()
    assert carried.linked == len(outputs) - 1
    return {
        "link": linked - start,
        "exchange": switched - linked,
        "remove_old": removed - switched,
    }


def main(files: int = 34_367) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as temp:
        out = Path(temp) / "site"
        outputs = make_tree(out, files)
        runs = [one_run(out, outputs) for _ in range(5)]
        shutil.rmtree(out)
    result = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    result["files"] = files
    result["link_per_1000_files_ms"] = result["link"] / files * 1000 * 1000
    result["remove_per_1000_files_ms"] = result["remove_old"] / files * 1000 * 1000
    print(json.dumps(result))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
