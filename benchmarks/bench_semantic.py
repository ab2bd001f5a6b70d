"""Semantic search in the browser (issue 16): both designs, in this machine's Chromium.

For each design (`browser`: the catalog's ONNX model in onnxruntime-web; `static`: a model2vec
distillation), the example library is built with `--semantic DESIGN` and served as plain
static files with gzip (as GitHub Pages serves them). Measured in Chromium:

- bytes before the first result by meaning on a 5,000-entry site (the example site's bundle
  with 5,000 synthetic entries' rows and vectors in place of its own): compressed transfer as
  the browser reports it (encoded body sizes), from a click on "Search by meaning";
- load time: from that click to the first result (first visit; and a revisit, from the cache);
- query time after load: median over the example queries of the engine's search call;
- agreement with `sitegen match`: top-1 equal (browser design) and recall@1 against the CLI's.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import shutil
import socketserver
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = 5000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


class _Gzip(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-encoded when the browser accepts it (as static hosts do). Every
    body's encoded size is recorded: Chromium's own count (responseBodySize) misses bodies a
    page reads as a stream, so the transfer is taken from the server's side of the wire."""

    sent: list[tuple[str, int]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if "gzip" not in self.headers.get("Accept-Encoding", "") or not path.is_file():
            return super().send_head()
        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        _Gzip.sent.append((self.path, len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(
        ("127.0.0.1", 0), functools.partial(_Gzip, directory=str(root))
    )
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def build(design: str, folder: Path) -> tuple[Path, Path]:
    from sitegen.build import build_site
    from sitegen.embedder import load_embedder
    from sitegen.library import Library
    from sitegen.site import SiteOptions

    library = folder / "library"
    shutil.copytree(ROOT / "example_library", library, ignore=shutil.ignore_patterns("index"))
    out = folder / "site"
    build_site(Library(library), load_embedder(), out, options=SiteOptions(semantic=design))
    return library, out


def enlarge(site: Path, count: int) -> None:
    """Swap the bundle's rows and vectors for `count` synthetic entries (same format)."""
    from sitegen.site.semantic import quantize_rows

    folder = site / "semantic"
    manifest = json.loads((folder / "manifest.json").read_text())
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((count, manifest["dims"])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = (ROOT / "example_library").rglob("SKILL.md")
    text = " ".join(p.read_text().split("description:")[1].split("\n")[0] for p in words)
    vocab = text.split()
    rows = [
        ["skills", f"synthetic-skill-{i:05d}", " ".join(rng.choice(vocab, 28))]
        for i in range(count)
    ]
    for name, blob in (
        ("entries", json.dumps(rows, separators=(",", ":")).encode()),
        ("vectors", quantize_rows(vectors)),
    ):
        (folder / manifest["files"][name]["path"]).write_bytes(blob)
        manifest["files"][name]["bytes"] = len(blob)
    manifest["count"] = count
    (folder / "manifest.json").write_text(json.dumps(manifest))


def cli_top1(library: Path, queries: list[dict[str, Any]]) -> list[str]:
    from sitegen.embedder import load_embedder
    from sitegen.indexer import open_store
    from sitegen.library import Library
    from sitegen.search import match

    embedder = load_embedder()
    with open_store(Library(library), writable=False) as store:
        out = []
        for q in queries:
            result = match(store, embedder, q["query"], kind=q.get("type", "all"), limit=1)
            out.append(result.results[0].name if result.results else "")
    return out


LOAD = """async () => {
  const t0 = performance.now();
  document.getElementById('sg-meaning').click();
  await new Promise(r => { const s = setInterval(() => {
    const on = document.getElementById('sg-meaning').getAttribute('aria-pressed') === 'true';
    if (on) { clearInterval(s); r(); }
  }, 5); });
  return performance.now() - t0;
}"""
QUERIES = """async (queries) => {
  const sem = await import('../static/semantic.js');
  const engine = await sem.load(new URL('../semantic/manifest.json', location.href).href);
  const out = [];
  for (const q of queries) {
    const t0 = performance.now();
    const r = await engine.search(q.query, q.type || 'all', 1);
    out.push([performance.now() - t0, r.length ? r[0].name : '']);
  }
  return out;
}"""


def measure(design: str, queries: list[dict[str, Any]]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        library, site = build(design, Path(tmp))
        cli = cli_top1(library, queries)
        big = Path(tmp) / "big"
        shutil.copytree(site, big)
        enlarge(big, ENTRIES)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            with serve(big) as base:
                context = browser.new_context(bypass_csp=True)  # evaluate() uses eval
                page = context.new_page()
                _Gzip.sent.clear()
                page.goto(base + "search/index.html")
                page.wait_for_load_state("networkidle")
                before = [n for path, n in _Gzip.sent if "semantic" in path]
                _Gzip.sent.clear()
                first_ms = page.evaluate(LOAD)
                transfer = sum(n for _, n in _Gzip.sent)
                page.reload()
                page.wait_for_load_state("networkidle")
                _Gzip.sent.clear()
                again_ms = page.evaluate(LOAD)
                cached_transfer = sum(n for _, n in _Gzip.sent)
                context.close()
            with serve(site) as base:
                context = browser.new_context(bypass_csp=True)
                page = context.new_page()
                page.goto(base + "search/index.html")
                results = page.evaluate(QUERIES, queries)
                context.close()
            browser.close()
    times = [ms for ms, _ in results[1:]]  # the first call warms the session
    names = [name for _, name in results]

    def hit(name: str, q: dict[str, Any]) -> bool:
        expect = q["expect"]
        return name in (expect if isinstance(expect, list) else [expect])

    return {
        "design": design,
        "bytes_5k": transfer,
        "before_ask": sum(before),
        "first_load_ms": first_ms,
        "cached_load_ms": again_ms,
        "cached_bytes": cached_transfer,
        "query_ms": statistics.median(times),
        "agree_top1": sum(a == b for a, b in zip(names, cli, strict=True)) / len(queries),
        "recall1": sum(hit(n, q) for n, q in zip(names, queries, strict=True)) / len(queries),
        "cli_recall1": sum(hit(n, q) for n, q in zip(cli, queries, strict=True)) / len(queries),
    }


def run() -> None:
    queries = yaml.safe_load((ROOT / "example_library" / "queries.yaml").read_text())
    print("## Semantic search in the browser (issue 16)\n")
    print(
        "| design | bytes to first result, 5,000 entries (gzip) | first load | cached load "
        "(bytes) | query (median) | top-1 = CLI | recall@1 (CLI) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for design in ("browser", "static"):
        started = time.perf_counter()
        r = measure(design, queries)
        print(
            f"| {design} | {r['bytes_5k'] / 1e6:.1f} MB | {r['first_load_ms'] / 1000:.1f} s | "
            f"{r['cached_load_ms'] / 1000:.1f} s ({r['cached_bytes'] / 1e3:.0f} KB) | "
            f"{r['query_ms']:.1f} ms | {r['agree_top1']:.1%} | {r['recall1']:.3f} "
            f"({r['cli_recall1']:.3f}) |",
            flush=True,
        )
        print(f"<!-- {design}: {json.dumps(r)} ({time.perf_counter() - started:.0f} s) -->")
    print()


if __name__ == "__main__":
    run()
