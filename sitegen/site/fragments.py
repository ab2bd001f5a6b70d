"""Rendered fragments kept between builds, keyed by everything they are made of.

Rendering Markdown and highlighting code are most of a full build's CPU once the files are
written (markdown-it-py parses ~1-2 MB/s). A fragment's key hashes its text, where each of
its relative links leads in this build, the page it sits on, and the renderer itself (the
source of sitegen's Markdown, URL and link code and the versions of markdown-it-py, its
plugins and Pygments), so a hit is the HTML the renderer would make now.

The cache is one SQLite file (stdlib ``sqlite3``: transactions, concurrent builds and a
size-bounded table without a new dependency) in ``$SITEGEN_CACHE_DIR/render/``, the user
cache folder CI already keeps for the prepared model; it is shared by every site built on
the machine, so a build into an empty folder renders only what no earlier build rendered.
``SITEGEN_RENDER_CACHE`` names another folder, or ``off``. Past ``MAX_BYTES`` the fragments
the current build did not use go first, oldest first. A cache that cannot be opened or read
is no cache: the build renders. Forked render workers read it and never write to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sitegen.markdown import Heading, LinkContext, MarkdownRenderer, Rendered, highlight_file
from sitegen.site.links import linked_paths

ENV = "SITEGEN_RENDER_CACHE"
FILE = "fragments.sqlite"
MAX_BYTES = 512 * 1024 * 1024
FORMAT = "1"  # bump when what is stored changes shape


def _renderer_fingerprint() -> str:
    """What the renderer is: the source of the modules that shape a fragment, and versions."""
    import sitegen.markdown
    import sitegen.site.links
    import sitegen.urls

    digest = hashlib.blake2b(FORMAT.encode(), digest_size=16)
    # Every module of the markdown package (sorted: the key must not depend on the listing).
    markdown = sorted(Path(str(sitegen.markdown.__file__)).parent.glob("*.py"))
    others = [Path(str(module.__file__)) for module in (sitegen.urls, sitegen.site.links)]
    for path in (*markdown, *others):
        digest.update(path.read_bytes())
    for package in ("markdown-it-py", "mdit-py-plugins", "pygments"):
        with contextlib.suppress(PackageNotFoundError):
            digest.update(f"{package}={version(package)};".encode())
    return digest.hexdigest()


def default_folder() -> Path | None:
    """Where the cache lives: $SITEGEN_RENDER_CACHE, else the user cache folder; None if off."""
    chosen = os.environ.get(ENV, "").strip()
    if chosen.lower() in {"off", "0", "no", "false"}:
        return None
    if chosen:
        return Path(chosen).expanduser()
    from sitegen.model_cache import resolve_cache_dir

    return resolve_cache_dir() / "render"


class FragmentCache:
    """Fragments by key, read on demand and written in one transaction by :meth:`flush`."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._broken = folder is None
        self._pending: dict[str, bytes] = {}
        self._used: set[str] = set()
        self._fingerprint: str | None = None
        self.hits = 0
        self.misses = 0

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = _renderer_fingerprint()
        return self._fingerprint

    def key(self, *parts: Any) -> str:
        text = repr((self.fingerprint, parts))
        data = text.encode("utf-8", "surrogateescape")
        return hashlib.blake2b(data, digest_size=20).hexdigest()

    def _connection(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._db is not None and self._pid == os.getpid():
            return self._db
        self._db = None  # a forked worker opens its own
        assert self.folder is not None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.folder / FILE, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS fragments "
                "(key TEXT PRIMARY KEY, value BLOB NOT NULL, stamp INTEGER NOT NULL)"
            )
        except (OSError, sqlite3.Error):
            self._broken = True
            return None
        self._db, self._pid = db, os.getpid()
        return db

    def get(self, key: str) -> bytes | None:
        self._used.add(key)
        if key in self._pending:
            return self._pending[key]
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute("SELECT value FROM fragments WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            self._broken = True
            return None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return bytes(row[0])

    def put(self, key: str, value: bytes) -> None:
        if not self._broken and self._pid in (0, os.getpid()):
            self._pending[key] = value

    def flush(self) -> None:
        """Write what this build rendered; then keep the file under MAX_BYTES."""
        db = self._connection() if self._pending else self._db
        if db is None or self._pid != os.getpid():
            self._pending.clear()
            return
        stamp = time.time_ns()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT OR REPLACE INTO fragments VALUES (?, ?, ?)",
                    ((k, v, stamp) for k, v in self._pending.items()),
                )
            self._evict(db)
        except sqlite3.Error:
            self._broken = True
        self._pending.clear()

    def _evict(self, db: sqlite3.Connection) -> None:
        (size,) = db.execute(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
        ).fetchone()
        if size <= MAX_BYTES:
            return
        budget = MAX_BYTES * 3 // 4
        rows = db.execute("SELECT key, length(value) FROM fragments ORDER BY stamp").fetchall()
        total = sum(n for _k, n in rows)
        drop = []
        for key, length in rows:  # first what this build did not use, oldest first
            if total <= budget:
                break
            if key not in self._used:
                drop.append(key)
                total -= length
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("DELETE FROM fragments WHERE key = ?", ((k,) for k in drop))
        db.execute("VACUUM")

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None

    # -- the two kinds of fragments ------------------------------------------------------------

    def highlight(self, text: str, filename: str) -> str:
        """`highlight_file(text, filename)`, from the cache when this text was seen before."""
        key = self.key("code", filename, text)
        hit = self.get(key)
        if hit is not None:
            return hit.decode("utf-8")
        html = highlight_file(text, filename)
        self.put(key, html.encode("utf-8"))
        return html


class CachedMarkdown(MarkdownRenderer):
    """The Markdown renderer, with every render looked up in a FragmentCache first."""

    def __init__(self, cache: FragmentCache) -> None:
        super().__init__()
        self.cache = cache

    def render(self, text: str, links: LinkContext | None = None) -> Rendered:
        key = self.cache.key("markdown", text, _link_signature(text, links))
        hit = self.cache.get(key)
        if hit is not None:
            stored = json.loads(hit)
            return Rendered(stored["html"], tuple(Heading._make(h) for h in stored["headings"]))
        rendered = super().render(text, links)
        blob = {"html": rendered.html, "headings": [list(h) for h in rendered.headings]}
        self.cache.put(key, json.dumps(blob, ensure_ascii=False).encode("utf-8"))
        return rendered


    def headings(self, text: str) -> tuple[Heading, ...]:
        """The headings of a text (found at planning, for every entry a build has no facts
        of: all of them in an empty folder)."""
        key = self.cache.key("headings", text)
        hit = self.cache.get(key)
        if hit is not None:
            return tuple(Heading._make(h) for h in json.loads(hit))
        found = super().headings(text)
        self.cache.put(key, json.dumps([list(h) for h in found], ensure_ascii=False).encode())
        return found


def _link_signature(text: str, links: LinkContext | None) -> Any:
    """Everything a text's links depend on: the page, its folders, each target now."""
    if links is None:
        return None
    targets = links.targets
    paths: Iterable[str] = sorted(linked_paths(text, links.base, links.root))
    return (
        links.page,
        links.base,
        links.root,
        links.relative is not None,
        [
            (p, targets.files.get(p), targets.folders.get(p), targets.images.get(p))
            for p in paths
        ],
    )
