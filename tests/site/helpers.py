"""Shared helpers for the site tests: built sites, reading the output, serving it, a browser.

Built sites are cached here per session (tests must not change them); the fixtures that wrap
them (`site`, `hostile`, `own_site`) live in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import socketserver
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sitegen.build import BuildResult, build_site
from sitegen.cli import cli
from sitegen.library import Library
from sitegen.site import SiteOptions
from tests.conftest import EXAMPLE_LIBRARY

TESTS = Path(__file__).resolve().parents[1]
HOSTILE_LIBRARY = TESTS / "hostile_library"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# `pytestmark = browser`: marked (so a skip fails under CI=true, tests/ci_skips.py), and
# skipped with the reason shown where Chromium is missing.
browser = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="browser tests need Debian's chromium at /usr/bin/chromium "
        "(apt-get install chromium)",
    ),
]


@dataclass(frozen=True)
class BuiltSite:
    library: Path
    out: Path
    result: BuildResult


_SITES: dict[str, BuiltSite] = {}


def build(library: Path, out: Path, embedder: Any, **options: Any) -> BuildResult:
    strict = options.pop("strict", False)
    return build_site(
        Library(library), embedder, out, options=SiteOptions(**options), strict=strict
    )


def example_site(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> BuiltSite:
    """The example library built once per session (tests must not change it)."""
    if "example" not in _SITES:
        root = tmp_path_factory.mktemp("example-site")
        library = root / "library"
        shutil.copytree(EXAMPLE_LIBRARY, library, ignore=shutil.ignore_patterns("index"))
        out = root / "site"
        _SITES["example"] = BuiltSite(library, out, build(library, out, embedder))
    return _SITES["example"]


def add_hostile_names(root: Path) -> None:
    """Entries whose folder and file names are markup (Windows cannot check them out)."""
    folder = root / "skills" / "<svg onload=window.__pwned=59>"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: hostile-folder\ndescription: A folder named like markup. "
        "Use when testing source paths.\ntags: [hostile]\n---\n\n# Folder\n"
    )
    skill = root / "skills" / "hostile-filenames"
    (skill / "refs").mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: hostile-filenames\ndescription: File names with markup. "
        "Use when testing the file tree.\ntags: [hostile]\n---\n\n# Names\n\n"
        "[odd](<refs/<img src=x onerror=window.__pwned=60>.md>)\n"
    )
    for name in (
        "<img src=x onerror=window.__pwned=60>.md",
        "\"quote'.txt",
        "space name.md",
        "back\\slash.txt",
        "colon:name.txt",
        "javascript:window.__pwned=61",
        "index.html",
        "index.html.txt",
    ):
        (skill / "refs" / name).write_text(f"{name}\n<script>window.__pwned=62</script>\n")


def hostile_site(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> BuiltSite:
    if "hostile" not in _SITES:
        root = tmp_path_factory.mktemp("hostile-site")
        library = root / "library"
        shutil.copytree(HOSTILE_LIBRARY, library)
        add_hostile_names(library)
        out = root / "site"
        _SITES["hostile"] = BuiltSite(library, out, build(library, out, embedder))
    return _SITES["hostile"]


# -- reading the output -------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def entries_of(library: Path) -> list[tuple[str, str]]:
    folders = [
        (kind, folder.name)
        for kind in ("roles", "skills")
        for folder in (library / kind).iterdir()
        if folder.is_dir()
    ]
    agents = [("roles", f.stem) for f in (library / "agents").glob("*.md")]  # agent files
    return sorted(folders + agents)


def tree_state(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file under root: (sha256, mtime_ns, inode); folders included with no hash."""
    state: dict[str, tuple[str, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            info = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            state[rel] = (digest, info.st_mtime_ns, info.st_ino)
    return state


def html_pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


class LinkCollector(HTMLParser):
    """URL-valued attributes of a page, with whether they sit inside rendered Markdown."""

    URL_ATTRS = {"href", "src", "action", "srcset", "poster", "data", "formaction"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str, bool, Mapping[str, str | None]]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append((tag, values))
        inside = any(prose for _, prose in self._stack) or "sg-prose" in (values.get("class") or "")
        if tag not in {"br", "img", "input", "meta", "link", "hr", "source"}:
            self._stack.append((tag, inside))
        for name, value in attrs:
            if name in self.URL_ATTRS and value is not None:
                self.urls.append((tag, name, value, inside, values))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break


def parse(path: Path) -> LinkCollector:
    collector = LinkCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


# -- serving ----------------------------------------------------------------------------------


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """A static host for a built site under a URL prefix (paths outside it are 404)."""

    prefix = "/"
    extra_headers: Mapping[str, str] = {}

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if not clean.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_the_prefix__")
        return super().translate_path("/" + clean[len(self.prefix) :])

    def end_headers(self) -> None:
        for key, value in self.extra_headers.items():
            self.send_header(key, value)
        super().end_headers()


@contextlib.contextmanager
def serve(
    root: Path,
    prefix: str = "/",
    headers: Mapping[str, str] | None = None,
    *,
    handler: type[StaticHandler] = StaticHandler,
    port: int = 0,
) -> Iterator[str]:
    """Serve `root` under `prefix` on 127.0.0.1; yields the base URL (ending with prefix)."""
    attributes = {"prefix": prefix, "extra_headers": dict(headers or {})}
    bound = type("Handler", (handler,), attributes)
    server = socketserver.ThreadingTCPServer(
        ("127.0.0.1", port), functools.partial(bound, directory=str(root))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


# -- a browser ----------------------------------------------------------------------------------


class Watched:
    """A page with everything worth asserting on: console errors, failed requests, dialogs."""

    def __init__(self, context: Any, allowed_origin: str = "http://127.0.0.1") -> None:
        self.context = context
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        self.requests: list[str] = []
        self.bad_responses: list[str] = []
        self.allowed_origin = allowed_origin

        def route(route: Any) -> None:
            url = route.request.url
            if url.startswith((allowed_origin, "file://", "data:")):
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        context.route("**/*", route)
        self.page = context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.bad_responses.append(f"{r.status} {r.url}"),
        )

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)

    def clean(self) -> bool:
        return not (self.errors or self.dialogs or self.foreign or self.bad_responses)

    def report(self) -> str:
        return (
            f"errors={self.errors} dialogs={self.dialogs} foreign={self.foreign} "
            f"bad={self.bad_responses}"
        )


@contextlib.contextmanager
def watched(chromium: Any, **options: Any) -> Iterator[Watched]:
    context = chromium.new_context(**options)
    try:
        yield Watched(context)
    finally:
        context.close()


def search(page: Any, text: str) -> None:
    page.locator("#sg-q").fill("")
    page.locator("#sg-q").press_sequentially(text, delay=20)


# -- a library of real-world content --------------------------------------------------------------

LONG_LINE = "word " * 400  # ~2,000 characters on one line: must wrap, never widen the page


def content_library(root: Path) -> Path:
    """Skills with references, scripts, plain text, a hidden file, a license file and links
    between entries, plus an agent file: content as public collections write it."""
    files = {
        "skills/alpha/SKILL.md": (
            "---\nname: alpha\ndescription: Alpha does things. Use when testing content.\n"
            "license: Apache-2.0, complete terms in LICENSE.txt\n"
            "metadata:\n  tags: content, links\n---\n\n# Alpha\n\n"
            "Read [the guide]({baseDir}/references/guide.md) first, then "
            "[beta's notes](../beta/references/notes.md) and [beta itself](../beta/).\n"
            "Copy `.env.example` to `.env`.\n"
        ),
        "skills/alpha/LICENSE.txt": "Apache License, Version 2.0\n",
        "skills/alpha/.env.example": "API_TOKEN=change-me\n",
        "skills/alpha/references/guide.md": (
            "# The guide\n\n## First steps\n\nSee [the other page](other.md#details), "
            "[the skill](../SKILL.md), [the script](../scripts/run.py) and "
            "[beta's notes]({baseDir}/../beta/references/notes.md).\n\n"
            f"A long line: {LONG_LINE}\n\n```python\nprint('fenced')\n```\n"
        ),
        "skills/alpha/references/other.md": (
            "# Other\n\n## Details\n\nBack to [the guide](guide.md).\n"
        ),
        "skills/alpha/scripts/run.py": "def main() -> None:\n    print('run')\n",
        "skills/alpha/data/notes.txt": f"Plain notes.\n{LONG_LINE}\n",
        "skills/alpha/data/huge.md": "# Huge\n\n" + ("A line of a very large file.\n" * 8000),
        "skills/beta/SKILL.md": (
            "---\nname: beta\ndescription: Beta does other things. Use when testing links.\n"
            "metadata:\n  tags: content\n---\n\n# Beta\n\nSee [alpha](../alpha/SKILL.md).\n"
        ),
        "skills/beta/references/notes.md": "# Notes\n\nBeta's notes.\n",
        "plugins/tools/agents/api-designer.md": (
            '---\nname: api-designer\ndescription: "Use this agent when designing HTTP APIs: '
            'resources, versioning and errors."\ntools: Read, Write, Grep\nmodel: sonnet\n---\n\n'
            "You are a senior API designer.\n\n## How you work\n\nStart from the use cases.\n"
        ),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def content_site(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> BuiltSite:
    """`content_library` built once per session (tests must not change it)."""
    if "content" not in _SITES:
        root = tmp_path_factory.mktemp("content-site")
        library = content_library(root / "library")
        out = root / "site"
        _SITES["content"] = BuiltSite(library, out, build(library, out, embedder))
    return _SITES["content"]
