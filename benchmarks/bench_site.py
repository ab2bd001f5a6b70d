"""The catalog site at 1,000 and 5,000 generated entries, with the index already built.

Measures, each in a fresh process (medians): a full render into an empty folder, a no-op
rebuild, and a rebuild after one entry changed; then the bytes a browser downloads for its
first search on the published site (headless Chromium, served by http.server, which does not
compress: Pagefind's index files are compressed already, our HTML/CSS/JS are not).

Targets: full render of 5,000 <= 10 s, no-op <= 2 s, first search <= 300 KB.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import socketserver
import statistics
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from benchmarks.harness import CACHE, run_json, synthetic_library

SITEGEN = [sys.executable, "-m", "sitegen"]
CHROMIUM = Path("/usr/bin/chromium")
QUERIES = ("terraform", "kubernetes review", "incident postmortem")


def _indexed(count: int) -> Path:
    root = synthetic_library(count)
    if not (root / "index" / "skills.parquet").exists():
        subprocess.run([*SITEGEN, "index", str(root)], check=True, capture_output=True)
    return root


def _build(root: Path, out: Path) -> dict[str, Any]:
    return run_json("benchmarks.site_build", str(root), str(out))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


def first_search_bytes(site: Path, query: str) -> tuple[int, dict[str, int]]:
    """Bytes (bodies + headers) fetched from opening the search page to the first results."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    sizes: dict[str, int] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_context().new_page()

            def finished(request: Any) -> None:
                s = request.sizes()
                key = request.url.removeprefix(base)
                sizes[key] = s["responseBodySize"] + s["responseHeadersSize"]

            page.on("requestfinished", finished)
            page.goto(base + "search/index.html")
            page.locator("#sg-q").press_sequentially(query, delay=30)
            page.locator("#sg-results li").first.wait_for(timeout=30000)
            page.wait_for_load_state("networkidle")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return sum(sizes.values()), sizes


def _kind(path: str) -> str:
    if path.startswith("pagefind/fragment/"):
        return "fragments"
    if path.startswith("pagefind/"):
        return "pagefind engine + index"
    return "page, CSS, JS"


def run() -> None:
    print("## Site render (index already built)\n")
    print(
        "| entries | full render (s) | no-op rebuild (s) | one entry changed (s) "
        "| full `build` incl. read+index (s) | files written (full) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    transfer: list[tuple[int, str, int, dict[str, int]]] = []
    for count, runs in ((1000, 3), (5000, 3)):
        root = _indexed(count)
        work = CACHE / f"site-{count}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        fulls = [_build(root, work / f"full-{i}") for i in range(runs)]
        site = work / "full-0"
        noops = [_build(root, site) for _ in range(5)]
        assert all(not r["published"] for r in noops), noops[0]
        victim = sorted((root / "skills").iterdir())[0] / "SKILL.md"
        original = victim.read_text()
        changes = []
        try:
            for i in range(runs):
                victim.write_text(original + f"\n## Benchmark change {i}\n\nOne more line.\n")
                changes.append(_build(root, site))
        finally:
            victim.write_text(original)
            _build(root, site)
        full = statistics.median(r["render"] for r in fulls)
        print(
            f"| {count:,} | {full:.2f} | {statistics.median(r['render'] for r in noops):.2f} "
            f"| {statistics.median(r['render'] for r in changes):.2f} "
            f"| {statistics.median(r['total'] for r in fulls):.2f} "
            f"| {fulls[0]['pages_written'] + fulls[0]['files_written']:,} |"
        )
        if CHROMIUM.exists():
            for query in QUERIES:
                total, sizes = first_search_bytes(site, query)
                transfer.append((count, query, total, sizes))
        for i in range(1, runs):  # keep one site per size for inspection
            shutil.rmtree(work / f"full-{i}", ignore_errors=True)
    print()
    print("Render = similar entries + plan + render + search index + publish; medians.\n")
    if not transfer:
        print("First-search transfer: skipped (no /usr/bin/chromium).\n")
        return
    print("## First search: bytes downloaded (target <= 300 KB at 5,000 entries)\n")
    print("| entries | query | total (KB) | page, CSS, JS | Pagefind engine + index | fragments |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for count, query, total, sizes in transfer:
        parts = {"page, CSS, JS": 0, "pagefind engine + index": 0, "fragments": 0}
        for path, size in sizes.items():
            parts[_kind(path)] += size
        print(
            f"| {count:,} | {query} | {total / 1000:.1f} | {parts['page, CSS, JS'] / 1000:.1f} "
            f"| {parts['pagefind engine + index'] / 1000:.1f} | {parts['fragments'] / 1000:.1f} |"
        )
    print()
