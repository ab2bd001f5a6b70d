"""Embedding, indexing and matching at 5,000 (and 20,000) generated entries.

Targets (2-core machine): embedding >= 400 descriptions/s; full index <= 1.2x the pure
embedding time; no-op index <= 1.5 s; one changed entry <= 1.5 s; cold `sitegen match`
process <= 0.6 s; warm search <= 6 ms at 5,000 and <= 20 ms at 20,000 entries.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import synthetic_library

RUNS = 5
SITEGEN = [sys.executable, "-m", "sitegen"]


def _wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def _median_wall(args: list[str], runs: int = RUNS) -> float:
    return statistics.median(_wall(args) for _ in range(runs))


def embedding_throughput(root: Path) -> tuple[float, float]:
    from sitegen.embedder import load_embedder
    from sitegen.indexer import embedding_text
    from sitegen.library import Library

    embedder = load_embedder()
    texts = [embedding_text(e) for e in Library(root).read().entries]
    embedder.embed(texts[:64])  # warm the session
    times = []
    for _ in range(3):
        start = time.perf_counter()
        embedder.embed(texts)
        times.append(time.perf_counter() - start)
    best = statistics.median(times)
    return len(texts) / best, best


def warm_search_ms(root: Path, queries: int = 60) -> float:
    import numpy as np

    from sitegen.indexer import open_store
    from sitegen.library import Library

    rng = np.random.default_rng(3)
    with open_store(Library(root), writable=False) as store:
        vectors = rng.standard_normal((queries, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.search(vectors[0], limit=5, max_distance=2.0)
        times = []
        for vector in vectors:
            start = time.perf_counter()
            store.search(vector, limit=5, max_distance=2.0)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run() -> None:
    print("## Embedding, index and match\n")
    root = synthetic_library(5000)
    rate, embed_seconds = embedding_throughput(root)
    shutil.rmtree(root / "index", ignore_errors=True)
    full = _wall([*SITEGEN, "index", str(root)])
    noop = _median_wall([*SITEGEN, "index", str(root)])
    victim = next((root / "skills").iterdir()) / "SKILL.md"
    original = victim.read_text()
    changed = []
    try:
        for i in range(RUNS):
            victim.write_text(original.replace("description: ", f"description: v{i} ", 1))
            changed.append(_wall([*SITEGEN, "index", str(root)]))
    finally:
        victim.write_text(original)
        subprocess.run([*SITEGEN, "index", str(root)], check=True, capture_output=True)
    cold = _median_wall(
        [*SITEGEN, "match", "review my terraform plan", "--library", str(root), "--json"]
    )
    warm5 = warm_search_ms(root)
    rows = [
        ("embedding throughput, 5,000 texts", f"{rate:,.0f} descriptions/s", ">= 400/s"),
        (
            "full `sitegen index`, 5,000 entries",
            f"{full:.2f} s ({full / embed_seconds:.2f}x pure embedding {embed_seconds:.2f} s)",
            "<= 1.2x",
        ),
        ("no-op `sitegen index`, 5,000", f"{noop:.2f} s", "<= 1.5 s"),
        ("one changed entry, 5,000", f"{statistics.median(changed):.2f} s", "<= 1.5 s"),
        ("cold `sitegen match` process, 5,000", f"{cold:.2f} s", "<= 0.6 s"),
        ("warm search (embed excluded), 5,000", f"{warm5:.2f} ms", "<= 6 ms"),
    ]
    if "--quick" not in sys.argv:
        big = synthetic_library(20000)
        if not (big / "index" / "current.json").exists():
            subprocess.run([*SITEGEN, "index", str(big)], check=True, capture_output=True)
        rows.append(("warm search (embed excluded), 20,000", f"{warm_search_ms(big):.2f} ms",
                     "<= 20 ms"))
    print("| measure | median | target |")
    print("| --- | ---: | --- |")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    print()
