"""The catalog site: Jinja theme, pages and JSON twins, archives, search export.

This module gets plain data (entries, similar lists, index file bytes, a file reader) and
knows nothing of the meta store or of how the result is published. It works in two steps so
that a rebuild costs only what changed:

1. :meth:`Site.plan` lists every output file with a *key*: a hash of what the file is made of
   (the entry's etag, its similar list, the theme's fingerprint, the build options...). Keys
   are cheap; nothing is rendered yet.
2. :func:`render_site` renders only the outputs whose key differs from the previous
   build's manifest (or whose file is missing), and stages only the bytes that differ from
   the published file, so unchanged files are never rewritten. The search bundle (Pagefind)
   is rebuilt only when an entry changed, in a background thread while pages render.

Library content is untrusted: every template value is escaped (autoescape), Markdown goes
through :mod:`sitegen.markdown`, and file names go through :mod:`sitegen.urls`.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import io
import json
import multiprocessing
import os
import posixpath
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, Protocol

import jinja2
import markdown_it
import pygments

from sitegen import __version__
from sitegen.collisions import DEFAULT_COLLISION_DISTANCE, Collision
from sitegen.library import Entry, FileInfo
from sitegen.markdown import (
    IMAGE_SUFFIXES,
    Heading,
    LinkContext,
    MarkdownRenderer,
    highlight_file,
    pygments_css,
)
from sitegen.urls import KIND_LABELS, SINGULAR, SiteUrls, relative, root_prefix, safe_path, twin

RENDERER_VERSION = "1"  # bump when this module's output changes for the same input
FACTS_VERSION = "1"
MANIFEST = ".sitegen-manifest.json"
AGENT_SKILLS_SCHEMA = "https://schemas.agentskills.io/discovery/0.2.0/schema.json"
TEMPLATES = (
    "base.html",
    "macros.html",
    "home.html",
    "list.html",
    "entry.html",
    "file.html",
    "tags.html",
    "maintainers.html",
    "search.html",
    "404.html",
    "sitemap.xml",
    "robots.txt",
)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
RECENT = 10
TOP_TAGS = 40
_SIBLING_LINK = re.compile(r"\.\./([a-z0-9]+(?:-[a-z0-9]+)*)")
# Pagefind's own UI bundles are not used: the theme ships its own small search script.
PAGEFIND_SKIP = (
    "pagefind-ui",
    "pagefind-component-ui",
    "pagefind-modular-ui",
    "pagefind-highlight",
    "playground/",
)
Progress = Callable[[int, int], None]


class SiteError(Exception):
    """The site could not be rendered; the message is one line naming the cause."""


@dataclass(frozen=True)
class Similar:
    kind: str
    name: str
    description: str
    distance: float


@dataclass(frozen=True)
class SiteOptions:
    base_url: str | None = None
    api_url: str | None = None
    templates: Path | None = None
    title: str = "Agent roles & skills"


@dataclass
class SiteInput:
    """Everything the site is made of, as plain data."""

    entries: Sequence[Entry]
    read_files: Callable[[Entry], Mapping[str, bytes]]
    similar: Mapping[tuple[str, str], Sequence[Similar]] = field(default_factory=dict)
    # Pairs of entries so close in embedding space that an agent may pick the wrong one.
    collisions: Sequence[Collision] = field(default_factory=tuple)
    updated: Mapping[tuple[str, str], datetime | None] = field(default_factory=dict)
    index_files: Mapping[str, bytes] = field(default_factory=dict)
    # Opaque data the caller wants back next build (kept in the manifest as "cache").
    cache: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Output:
    path: str
    key: str
    produce: Callable[[], bytes]
    page: bool = False  # an HTML page (counted separately in the summary)
    group: int = -1  # outputs of one entry share a group, so one worker renders them all
    # For entry pages: what rendering learnt (the headings), sent back from a worker process.
    extra: Callable[[], Any] | None = None
    apply: Callable[[Any], None] | None = None


@dataclass
class SitePlan:
    """Every output of a build with its key; the search bundle may still be pending."""

    outputs: list[Output]
    planner: _Planner

    @property
    def paths(self) -> set[str]:
        return {o.path for o in self.outputs}

    @property
    def pages(self) -> int:
        return sum(o.page for o in self.outputs)

    @property
    def search_pending(self) -> bool:
        return self.planner.search_job is not None

    def manifest_bytes(self) -> bytes:
        data = self.planner.manifest()
        data["outputs"] = {o.path: o.key for o in sorted(self.outputs, key=lambda o: o.path)}
        return (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


@dataclass
class EntryFacts:
    """What an entry's files yield, cached in the manifest by etag."""

    etag: str
    archive_sha256: str
    archive_size: int
    text_files: tuple[str, ...]
    headings: tuple[Heading, ...] | None  # None until the entry's Markdown is parsed

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": FACTS_VERSION,
            "etag": self.etag,
            "archive_sha256": self.archive_sha256,
            "archive_size": self.archive_size,
            "text_files": list(self.text_files),
            "headings": [[h.level, h.id, h.text] for h in self.headings or ()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntryFacts | None:
        if data.get("version") != FACTS_VERSION:
            return None
        try:
            return cls(
                etag=str(data["etag"]),
                archive_sha256=str(data["archive_sha256"]),
                archive_size=int(data["archive_size"]),
                text_files=tuple(str(p) for p in data["text_files"]),
                headings=tuple(Heading._make(h) for h in data["headings"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


# -- helpers -----------------------------------------------------------------------------------


def default_templates_dir() -> Path:
    """The default theme: packaged inside the wheel, or the repository's templates/."""
    packaged = Path(__file__).resolve().parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def _hash(*parts: Any) -> str:
    """A key for plain data (str, int, float, None, tuples and lists of them)."""
    text = repr(parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(data: Any) -> bytes:
    # Compact: only indent=None uses the C encoder, several times faster on big catalogs.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return (text + "\n").encode("utf-8")


def is_text(data: bytes) -> bool:
    """Whether a file can be shown as text: UTF-8 without NUL bytes."""
    if b"\x00" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _display_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def _plain_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _portable(path: str) -> bool:
    """Whether a path can go into a zip as-is on every platform (no traversal tricks)."""
    bad = set('\\:*?"<>|')
    for part in path.split("/"):
        if part in {"", ".", ".."} or any(ch in bad or ord(ch) < 32 for ch in part):
            return False
    return True


def build_archive(files: Mapping[str, bytes]) -> bytes:
    """A reproducible zip of an entry: sorted paths, fixed dates and modes, files at the root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path if _portable(path) else safe_path(path), ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits below are honoured
            info.external_attr = 0o100644 << 16
            archive.writestr(info, files[path])
    return buffer.getvalue()


def _template_error(exc: BaseException) -> SiteError:
    """One line naming the template (and line) that failed."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or "template"
        return SiteError(f"{where}:{exc.lineno}: template syntax error: {exc.message}")
    location = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".txt")):
            location = f"{filename}:{tb.tb_lineno}: "
        tb = tb.tb_next
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    return SiteError(f"{location}template error: {message}")


@jinja2.pass_context
def _url(context: Any, path: str) -> str:
    """Template global: a URL for a site path, relative to the page being rendered."""
    if context.get("absolute_links") and context.get("base_url"):
        return str(context["base_url"]) + path
    return relative(str(context["page"]), path)


def _filesize(value: int) -> str:
    if value < 1000:
        return f"{value} bytes"
    size = float(value)
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


# -- the site ----------------------------------------------------------------------------------


class Site:
    """The theme and renderers, configured once per build. Template errors raise SiteError."""

    def __init__(self, options: SiteOptions | None = None) -> None:
        self.options = options or SiteOptions()
        self.urls = SiteUrls(self.options.base_url)
        self.default_dir = default_templates_dir()
        if not (self.default_dir / "base.html").is_file():
            raise SiteError(f"{self.default_dir}: the default templates are missing")
        self.search_dirs = [self.default_dir]
        if self.options.templates is not None:
            custom = Path(self.options.templates)
            if not custom.is_dir():
                raise SiteError(f"{custom}: templates folder not found")
            self.search_dirs.insert(0, custom)
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in self.search_dirs]),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html", "xml"), default_for_string=True, default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.env.globals["url"] = _url
        self.env.filters["filesize"] = _filesize
        self.markdown = MarkdownRenderer()
        try:
            for name in TEMPLATES:
                self.env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            raise SiteError(f"template {exc.name} not found in {self.default_dir}") from exc
        except jinja2.TemplateError as exc:
            raise _template_error(exc) from exc
        self.assets = self._find_assets()
        self.fingerprint = self._fingerprint()
        self.nav = self._nav()

    def _find_assets(self) -> dict[str, Path]:
        """static/* of the theme, custom files overriding default ones by name."""
        assets: dict[str, Path] = {}
        for folder in reversed(self.search_dirs):
            static = folder / "static"
            if not static.is_dir():
                continue
            for path in sorted(static.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    assets[path.relative_to(static).as_posix()] = path
        return assets

    def _fingerprint(self) -> str:
        """Changes whenever any template, asset, option or renderer version changes."""
        digest = hashlib.sha256()
        for part in (
            __version__,
            RENDERER_VERSION,
            markdown_it.__version__,
            pygments.__version__,
            jinja2.__version__,
            json.dumps(self.options.__dict__, default=str, sort_keys=True),
        ):
            digest.update(str(part).encode())
            digest.update(b"\0")
        for folder in self.search_dirs:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    digest.update(path.relative_to(folder).as_posix().encode())
                    digest.update(b"\0")
                    digest.update(path.read_bytes())
        return digest.hexdigest()[:32]

    def _nav(self) -> dict[str, str]:
        u = self.urls
        return {
            "home": u.home(),
            "skills": u.kind_index("skills"),
            "roles": u.kind_index("roles"),
            "all": u.all_entries(),
            "tags": u.tags_index(),
            "maintainers": u.maintainers(),
            "search": u.search(),
            "catalog": u.catalog(),
            "agent_skills": u.agent_skills_index(),
            "css": u.asset("sitegen.css"),
            "favicon": u.asset("favicon.svg"),
            "highlight_css": u.asset("highlight.css"),
            "js": u.asset("sitegen.js"),
            "search_js": u.asset("search.js"),
            "index_roles": u.index_file("roles.parquet"),
            "index_skills": u.index_file("skills.parquet"),
        }

    MENU: tuple[tuple[str, str], ...] = (
        ("skills", "Skills"),
        ("roles", "Roles"),
        ("all", "All"),
        ("tags", "Tags"),
        ("search", "Search"),
    )

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one Site per build; few folders
    def _links(self, folder: str, absolute: bool) -> dict[str, str]:
        """The theme's own links (nav, assets) from pages in `folder`, computed once."""
        if absolute and self.urls.base_url:
            return {k: self.urls.base_url + v for k, v in self.nav.items()}
        return {k: relative(folder + "/x" if folder else "x", v) for k, v in self.nav.items()}

    def render(self, template: str, page: str, **context: Any) -> bytes:
        """Render a theme template for the page at site path `page`."""
        absolute = bool(context.get("absolute_links"))
        links = dict(self._links(page.rsplit("/", 1)[0] if "/" in page else "", absolute))
        page_twin = twin(page) if page.endswith(".html") else None
        if page_twin:
            links["twin"] = (
                self.urls.base_url + page_twin
                if absolute and self.urls.base_url
                else relative(page, page_twin)
            )
        section = page.split("/", 1)[0] if "/" in page else ""
        menu = []
        for key, label in self.MENU:
            target = self.nav[key]
            current = "page" if page == target else ""
            if not current and key in {"skills", "roles", "tags"} and section == key:
                current = "true"
            menu.append({"label": label, "href": links[key], "current": current})
        values = {
            "page": page,
            "root": root_prefix(page),
            "site_title": self.options.title,
            "base_url": self.urls.base_url,
            "absolute_links": False,
            "twin": page_twin,
            "nav": self.nav,
            "href": links,
            "menu": menu,
            "generator": f"sitegen {__version__}",
            "api_url": self.options.api_url,
        }
        values.update(context)
        try:
            text = self.env.get_template(template).render(values)
        except Exception as exc:  # a custom template may raise anything: report it in one line
            raise _template_error(exc) from exc
        return text.encode("utf-8")

    def plan(
        self,
        data: SiteInput,
        previous: Mapping[str, Any] | None = None,
        *,
        existing: set[str] | None = None,
    ) -> SitePlan:
        """Every output of the site with its key; renders only what keys cannot be made of."""
        return _Planner(self, data, previous or {}, existing or set()).run()


# -- planning ------------------------------------------------------------------------------------


class _EntryState:
    """Per-entry data for one build: facts, file list, and (once computed) its files' bytes."""

    def __init__(self, entry: Entry, facts: EntryFacts) -> None:
        self.entry = entry
        self.facts = facts
        self.files: Mapping[str, bytes] | None = None
        self.archive: bytes | None = None


class _Planner:
    def __init__(
        self, site: Site, data: SiteInput, previous: Mapping[str, Any], existing: set[str]
    ) -> None:
        self.site = site
        self.urls = site.urls
        self.data = data
        self.previous = previous
        self.existing = existing
        self.fp = site.fingerprint
        self.outputs: list[Output] = []
        self.lock = threading.Lock()
        self.entries = sorted(data.entries, key=lambda e: (e.kind, e.name))
        self.known = {(e.kind, e.name) for e in self.entries}
        self.siblings: dict[str, dict[str, str]] = {"roles": {}, "skills": {}}
        for e in self.entries:
            self.siblings[e.kind][e.name] = self.urls.entry(e.kind, e.name)
        self.states: dict[tuple[str, str], _EntryState] = {}
        self.summaries: dict[tuple[str, str], dict[str, Any]] = {}
        self.digests: dict[tuple[str, str], str] = {}
        self.group = -1
        self.search_job: str | None = None  # the search key, while the bundle is pending
        self.search_docs: str | None = None  # hash of the documents the bundle indexes
        self.search_record: dict[str, Any] = {}

    # -- plumbing ---------------------------------------------------------------------------

    def add(
        self,
        path: str,
        key: str,
        produce: Callable[[], bytes],
        *,
        page: bool = False,
        extra: Callable[[], Any] | None = None,
        apply: Callable[[Any], None] | None = None,
    ) -> None:
        self.outputs.append(Output(path, key, produce, page, self.group, extra, apply))

    def page(
        self,
        template: str,
        path: str,
        key_parts: Any,
        context: Callable[[], dict[str, Any]],
        twin_data: Callable[[], Any],
        *,
        extra: Callable[[], Any] | None = None,
        apply: Callable[[Any], None] | None = None,
    ) -> None:
        """An HTML page and its JSON twin; their data is built only if they must be rendered."""
        self.add(
            path,
            _hash(self.fp, template, path, key_parts),
            lambda: self.site.render(template, path, **context()),
            page=True,
            extra=extra,
            apply=apply,
        )
        twin_path = twin(path)
        self.add(
            twin_path,
            _hash(self.fp, "twin", twin_path, key_parts),
            lambda: _json_bytes(twin_data()),
        )

    def files_of(self, state: _EntryState) -> Mapping[str, bytes]:
        if state.files is None:
            state.files = self.data.read_files(state.entry)
        return state.files

    def archive_of(self, state: _EntryState) -> bytes:
        if state.archive is None:
            state.archive = build_archive(self.files_of(state))
        return state.archive

    # -- the pass ----------------------------------------------------------------------------

    def run(self) -> SitePlan:
        cached = self.previous.get("entries") or {}
        for entry in self.entries:
            key = (entry.kind, entry.name)
            facts = EntryFacts.from_dict(cached.get(f"{entry.kind}/{entry.name}") or {})
            if facts is None or facts.etag != entry.etag:
                self.states[key] = self.fresh_state(entry)
            else:
                self.states[key] = _EntryState(entry, facts)
        for entry in self.entries:
            key = (entry.kind, entry.name)
            self.summaries[key] = self.summary(entry)
            self.digests[key] = _hash(
                entry.kind, entry.name, entry.etag, self.summaries[key]["updated"]
            )
        for group, entry in enumerate(self.entries):
            self.group = group
            self.plan_entry(self.states[(entry.kind, entry.name)])
        self.group = -1
        self.plan_lists()
        self.plan_data()
        self.plan_assets()
        self.plan_search()
        self.outputs = _without_conflicts(self.outputs)
        return SitePlan(self.outputs, self)

    def manifest(self) -> dict[str, Any]:
        return {
            "format": 1,
            "generator": f"sitegen {__version__}",
            "fingerprint": self.fp,
            "entries": {f"{k}/{n}": s.facts.as_dict() for (k, n), s in sorted(self.states.items())},
            "search": self.search_record,
            "cache": dict(self.data.cache),
        }

    def fresh_state(self, entry: Entry) -> _EntryState:
        """A changed or new entry: read its files once and zip them.

        Its headings are learnt when its page is rendered (see `plan_entry`).
        """
        state = _EntryState(entry, EntryFacts(entry.etag, "", 0, (), None))
        files = self.files_of(state)
        archive = self.archive_of(state)
        text_files = tuple(sorted(p for p, b in files.items() if is_text(b)))
        state.facts = EntryFacts(entry.etag, _sha256(archive), len(archive), text_files, None)
        return state

    def headings_of(self, state: _EntryState) -> tuple[Heading, ...]:
        if state.facts.headings is None:
            state.facts.headings = self.site.markdown.headings(state.entry.body)
        return state.facts.headings

    def summary(self, entry: Entry) -> dict[str, Any]:
        updated = self.data.updated.get((entry.kind, entry.name))
        if updated is None and entry.modified is not None:
            updated = datetime.fromtimestamp(entry.modified, UTC).replace(tzinfo=None)
        return {
            "type": entry.kind,
            "label": SINGULAR[entry.kind],
            "name": entry.name,
            "description": entry.description,
            "tags": [{"name": t, "path": self.urls.tag(t)} for t in entry.tags],
            "path": self.urls.entry(entry.kind, entry.name),
            "updated": _iso(updated),
            "updated_day": updated.strftime("%Y-%m-%d") if updated else None,
        }

    # -- entries -------------------------------------------------------------------------------

    def file_items(self, state: _EntryState) -> list[dict[str, Any]]:
        u = self.urls
        entry = state.entry
        text_files = set(state.facts.text_files)
        items = []
        for info in entry.files:
            is_text_file = info.path in text_files
            if info.path == entry.definition_file:
                page = u.entry(entry.kind, entry.name)  # rendered on the entry page itself
            elif is_text_file:
                page = u.file_page(entry.kind, entry.name, info.path)
            else:
                page = None
            items.append(
                {
                    "path": info.path,
                    "name": posixpath.basename(info.path),
                    "size": info.size,
                    "sha256": info.sha256,
                    "text": is_text_file,
                    "page": page,
                    "raw": u.file_raw(entry.kind, entry.name, info.path),
                }
            )
        return items

    def link_context(self, state: _EntryState, page: str) -> LinkContext:
        u = self.urls
        entry = state.entry
        targets: dict[str, str] = {}
        images: dict[str, str] = {}
        folders: set[str] = set()
        for item in self.file_items(state):
            path = item["path"]
            targets[path] = item["page"] or item["raw"]
            if posixpath.splitext(path)[1].lower() in IMAGE_SUFFIXES:
                images[path] = item["raw"]
            parent = posixpath.dirname(path)
            while parent:
                folders.add(parent)
                parent = posixpath.dirname(parent)
        return LinkContext(
            page=page,
            files=targets,
            images=images,
            folders=frozenset(folders),
            folder_target=u.entry(entry.kind, entry.name) + "#sg-files",
            siblings=self.siblings[entry.kind],
            relative=relative,
        )

    def similar_of(self, entry: Entry) -> list[Similar]:
        me = (entry.kind, entry.name)
        return [
            s
            for s in self.data.similar.get(me, ())
            if (s.kind, s.name) in self.known and (s.kind, s.name) != me
        ]

    def similar_items(self, similar: list[Similar]) -> list[dict[str, Any]]:
        return [
            {
                "type": s.kind,
                "label": SINGULAR[s.kind],
                "name": s.name,
                "description": s.description,
                "distance": round(float(s.distance), 4),
                "path": self.urls.entry(s.kind, s.name),
            }
            for s in similar
        ]

    def plan_entry(self, state: _EntryState) -> None:
        u = self.urls
        entry = state.entry
        kind, name = entry.kind, entry.name
        page_path = u.entry(kind, name)
        similar = self.similar_of(entry)
        linked = (
            sorted({n for n in _SIBLING_LINK.findall(entry.body) if (kind, n) in self.known})
            if "../" in entry.body
            else []
        )
        key_parts = (
            entry.etag,
            FACTS_VERSION,
            self.summaries[(kind, name)]["updated"],
            [(s.kind, s.name, round(float(s.distance), 4), s.description) for s in similar],
            linked,
        )

        def detail() -> dict[str, Any]:
            facts = state.facts
            return {
                **self.summaries[(kind, name)],
                "license": entry.license,
                "compatibility": entry.compatibility,
                "allowed_tools": entry.allowed_tools,
                "version": entry.version,
                "author": entry.author,
                "metadata": [
                    {"key": str(k), "value": _display_value(v)}
                    for k, v in sorted(entry.metadata.items(), key=lambda kv: str(kv[0]))
                    if str(k) not in {"version", "author", "tags"}
                ],
                "source": entry.definition_path,
                "definition": entry.definition_file,
                "etag": entry.etag,
                "files": self.file_items(state),
                "archive": {
                    "path": u.archive(kind, name),
                    "filename": f"{name}.zip",
                    "sha256": facts.archive_sha256,
                    "size": facts.archive_size,
                },
                "similar": self.similar_items(similar),
                "headings": [h.as_dict() for h in self.headings_of(state)],
            }

        def context() -> dict[str, Any]:
            rendered = self.site.markdown.render(entry.body, self.link_context(state, page_path))
            state.facts.headings = rendered.headings
            data = detail()
            body_html = rendered.html
            return {
                "entry": data,
                "tree": _tree(data["files"]),
                "body_html": body_html,
                "title": f"{name} · {SINGULAR[kind]}",
                "archive_abs": u.absolute(data["archive"]["path"]),
            }

        def learnt(headings: Any) -> None:
            state.facts.headings = tuple(Heading(*h) for h in headings)

        self.page(
            "entry.html",
            page_path,
            key_parts,
            context,
            lambda: _entry_twin(detail(), entry, page_path),
            extra=lambda: [(h.level, h.id, h.text) for h in state.facts.headings or ()],
            apply=learnt,
        )
        self.add(
            u.archive(kind, name),
            _hash("archive", FACTS_VERSION, entry.etag),
            lambda: self.archive_of(state),
        )
        for info in entry.files:
            self.plan_file(state, info)

    def plan_file(self, state: _EntryState, info: FileInfo) -> None:
        u = self.urls
        entry = state.entry
        kind, name, path = entry.kind, entry.name, info.path
        raw_path = u.file_raw(kind, name, path)
        self.add(raw_path, _hash("raw", info.sha256), lambda: self.files_of(state)[path])
        if path == entry.definition_file or path not in state.facts.text_files:
            return
        page_path = u.file_page(kind, name, path)
        item = {
            "path": path,
            "name": posixpath.basename(path),
            "size": info.size,
            "sha256": info.sha256,
            "raw": raw_path,
        }
        entry_ref = {
            "type": kind,
            "label": SINGULAR[kind],
            "name": name,
            "path": u.entry(kind, name),
        }

        def text() -> str:
            return self.files_of(state)[path].decode("utf-8")

        self.page(
            "file.html",
            page_path,
            (kind, name, path, info.sha256),
            lambda: {
                "entry": entry_ref,
                "file": item,
                "code_html": highlight_file(text(), path),
                "title": f"{path} · {name}",
            },
            lambda: {
                "type": kind,
                "entry": name,
                "entry_url": relative(page_path, entry_ref["path"]),
                "path": path,
                "size": info.size,
                "sha256": info.sha256,
                "raw": relative(page_path, raw_path),
                "text": text(),
            },
        )

    # -- lists, tags, home, search, 404 -------------------------------------------------------

    def plan_lists(self) -> None:
        u = self.urls
        keys = list(self.summaries)
        everything = [self.summaries[k] for k in keys]
        digests = [self.digests[k] for k in keys]
        by_kind: dict[str, list[tuple[str, str]]] = {"roles": [], "skills": []}
        tagged: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for key in keys:
            by_kind[key[0]].append(key)
            for tag in self.summaries[key]["tags"]:
                tagged[tag["name"]].append(key)
        tag_rows: list[dict[str, Any]] = [
            {"name": t, "path": u.tag(t), "count": len(members)}
            for t, members in sorted(tagged.items(), key=lambda kv: (kv[0].lower(), kv[0]))
        ]

        def list_page(path: str, title: str, intro: str, members: list[tuple[str, str]]) -> None:
            items = [self.summaries[k] for k in members]
            kinds = sorted({k for k, _ in members}, reverse=True)

            def context() -> dict[str, Any]:
                counts = Counter(t["name"] for i in items for t in i["tags"])
                return {
                    "title": title,
                    "heading": title,
                    "intro": intro,
                    "items": items,
                    "kinds": kinds,
                    "tag_options": [
                        {"name": t, "count": c}
                        for t, c in sorted(counts.items(), key=lambda kv: (kv[0].lower(), kv[0]))
                    ],
                }

            self.page(
                "list.html",
                path,
                (title, intro, [self.digests[k] for k in members]),
                context,
                lambda: {"title": title, "entries": [_summary_json(i, path) for i in items]},
            )

        list_page(u.all_entries(), "All entries", "Every role and skill in the catalog.", keys)
        list_page(
            u.kind_index("skills"),
            KIND_LABELS["skills"],
            "Skills are folders of instructions, scripts and references an agent loads on demand.",
            by_kind["skills"],
        )
        list_page(
            u.kind_index("roles"),
            KIND_LABELS["roles"],
            "Roles describe an agent persona: what it does, how it works, what it owns.",
            by_kind["roles"],
        )
        for tag, members in tagged.items():
            list_page(u.tag(tag), f"Tag: {tag}", f"Entries tagged “{tag}”.", members)

        tags_path = u.tags_index()
        self.page(
            "tags.html",
            tags_path,
            digests,
            lambda: {"title": "Tags", "tags": tag_rows},
            lambda: {"tags": [{**r, "path": relative(tags_path, r["path"])} for r in tag_rows]},
        )

        home = u.home()
        counts = {"roles": len(by_kind["roles"]), "skills": len(by_kind["skills"])}

        def recent() -> list[dict[str, Any]]:
            dated = [i for i in everything if i["updated"]]
            dated.sort(key=lambda i: (i["updated"], i["type"], i["name"]), reverse=True)
            return dated[:RECENT]

        def top_tags() -> list[dict[str, Any]]:
            return sorted(tag_rows, key=lambda r: (-r["count"], r["name"].lower()))[:TOP_TAGS]

        self.page(
            "home.html",
            home,
            digests,
            lambda: {
                "title": self.site.options.title,
                "counts": counts,
                "total": len(everything),
                "tag_count": len(tag_rows),
                "top_tags": top_tags(),
                "recent": recent(),
            },
            lambda: {
                "title": self.site.options.title,
                "counts": counts,
                "tags": [{**r, "path": relative(home, r["path"])} for r in top_tags()],
                "recent": [_summary_json(i, home) for i in recent()],
                "catalog": relative(home, u.catalog()),
                "agent_skills": relative(home, u.agent_skills_index()),
                "maintainers": relative(home, u.maintainers()),
            },
        )

        self.plan_maintainers()

        search = u.search()
        self.page(
            "search.html",
            search,
            (),
            lambda: {"title": "Search", "pagefind": u.pagefind_script()},
            lambda: {
                "pagefind": relative(search, u.pagefind_script()),
                "api": self.site.options.api_url,
                "catalog": relative(search, u.catalog()),
            },
        )
        not_found = u.not_found()
        self.page(
            "404.html",
            not_found,
            (),
            lambda: {"title": "Page not found", "absolute_links": bool(u.base_url)},
            lambda: {
                "error": "not found",
                "home": u.absolute(u.home()) or relative(not_found, u.home()),
            },
        )

    def plan_maintainers(self) -> None:
        """Pairs of entries an agent may confuse, for the library's maintainers."""
        u = self.urls
        path = u.maintainers()
        rows = [
            c.as_dict()
            for c in self.data.collisions
            if (c.kind_a, c.name_a) in self.known and (c.kind_b, c.name_b) in self.known
        ]
        intro = (
            "Pairs of entries whose descriptions are so close in meaning that an agent may "
            f"pick the wrong one (cosine distance at most {DEFAULT_COLLISION_DISTANCE}). "
            "Reword one of each pair so that it says when to pick it over the other."
        )

        def linked(row: Mapping[str, Any], link: Callable[[str], str]) -> dict[str, Any]:
            out = dict(row)
            for side in ("a", "b"):
                ref = row[side]
                out[side] = {**ref, "path": link(u.entry(ref["type"], ref["name"]))}
            return out

        self.page(
            "maintainers.html",
            path,
            (intro, rows),
            lambda: {
                "title": "For maintainers",
                "intro": intro,
                "pairs": [linked(r, lambda p: p) for r in rows],
            },
            lambda: {
                "max_distance": DEFAULT_COLLISION_DISTANCE,
                "collisions": [linked(r, lambda p: relative(path, p)) for r in rows],
            },
        )

    # -- data files ----------------------------------------------------------------------------

    def plan_data(self) -> None:
        u = self.urls
        digests = [self.digests[(e.kind, e.name)] for e in self.entries]
        catalog_path = u.catalog()
        well_known = u.agent_skills_index()
        index_names = sorted(self.data.index_files)

        def catalog() -> dict[str, Any]:
            rows = []
            for entry in self.entries:
                facts = self.states[(entry.kind, entry.name)].facts
                rows.append(
                    {
                        **_summary_json(self.summaries[(entry.kind, entry.name)], catalog_path),
                        "license": entry.license,
                        "compatibility": entry.compatibility,
                        "allowed_tools": entry.allowed_tools,
                        "version": entry.version,
                        "author": entry.author,
                        "metadata": _plain_json(dict(entry.metadata)),
                        "etag": entry.etag,
                        "files": [
                            {"path": f.path, "size": f.size, "sha256": f.sha256}
                            for f in entry.files
                        ],
                        "archive": {
                            "url": relative(catalog_path, u.archive(entry.kind, entry.name)),
                            "sha256": facts.archive_sha256,
                            "size": facts.archive_size,
                        },
                    }
                )
            return {
                "generator": f"sitegen {__version__}",
                "counts": {
                    "roles": sum(e.kind == "roles" for e in self.entries),
                    "skills": sum(e.kind == "skills" for e in self.entries),
                },
                "index": {
                    name.removesuffix(".parquet"): relative(catalog_path, u.index_file(name))
                    for name in index_names
                },
                "entries": rows,
            }

        def discovery() -> dict[str, Any]:
            skills = []
            for entry in self.entries:
                if entry.kind != "skills":
                    continue
                facts = self.states[(entry.kind, entry.name)].facts
                archive = u.archive(entry.kind, entry.name)
                skills.append(
                    {
                        "name": entry.name,
                        "type": "archive",
                        "description": entry.description,
                        "url": u.absolute(archive) or relative(well_known, archive),
                        "digest": f"sha256:{facts.archive_sha256}",
                    }
                )
            return {"$schema": AGENT_SKILLS_SCHEMA, "skills": skills}

        self.add(
            catalog_path,
            _hash(self.fp, catalog_path, index_names, digests),
            lambda: _json_bytes(catalog()),
        )
        self.add(well_known, _hash(self.fp, well_known, digests), lambda: _json_bytes(discovery()))
        for name, blob in sorted(self.data.index_files.items()):
            self.add(u.index_file(name), _hash("bytes", _sha256(blob)), _const(blob))

        robots = u.robots()
        sitemap_url = u.absolute(u.sitemap())
        self.add(
            robots,
            _hash(self.fp, robots),
            lambda: self.site.render("robots.txt", robots, sitemap_url=sitemap_url),
        )
        if u.base_url:
            sitemap = u.sitemap()

            def rows() -> list[dict[str, Any]]:
                pages = [u.home(), u.all_entries(), u.kind_index("skills"), u.kind_index("roles")]
                pages += [u.tags_index(), u.maintainers(), u.search()]
                out: list[dict[str, Any]] = [{"loc": u.absolute(p), "lastmod": None} for p in pages]
                for s in self.summaries.values():
                    out.append(
                        {"loc": u.absolute(s["path"]), "lastmod": (s["updated"] or "")[:10] or None}
                    )
                tags = sorted({t["name"] for s in self.summaries.values() for t in s["tags"]})
                out += [{"loc": u.absolute(u.tag(t)), "lastmod": None} for t in tags]
                return out

            self.add(
                sitemap,
                _hash(self.fp, sitemap, digests),
                lambda: self.site.render("sitemap.xml", sitemap, urls=rows()),
            )
        # GitHub Pages (Jekyll) would hide .well-known/ without this marker.
        self.add(".nojekyll", _hash("empty"), lambda: b"")

    def plan_assets(self) -> None:
        for name, source in sorted(self.site.assets.items()):
            blob = source.read_bytes()
            self.add(self.urls.asset(name), _hash("asset", _sha256(blob)), _const(blob))
        css = pygments_css().encode("utf-8")
        self.add(self.urls.asset("highlight.css"), _hash("asset", _sha256(css)), lambda: css)

    # -- search --------------------------------------------------------------------------------

    def plan_search(self) -> None:
        """Reuse the previous search bundle if no entry changed; else mark it pending."""
        key = _hash(
            "search",
            RENDERER_VERSION,
            FACTS_VERSION,
            pagefind_version(),
            [(e.kind, e.name, e.etag) for e in self.entries],
        )
        previous = self.previous.get("search") or {}
        if previous.get("key") == key and self._reuse_search(previous, key):
            return
        self.search_job = key

    def _reuse_search(self, previous: Mapping[str, Any], key: str) -> bool:
        recorded: Mapping[str, str] = previous.get("files") or {}
        if not recorded or not all(p in self.existing for p in recorded):
            return False
        for path, digest in recorded.items():
            self.outputs.append(Output(path, digest, _missing(path)))
        self.search_record = {"key": key, "docs": previous.get("docs"), "files": dict(recorded)}
        self.search_job = None
        return True

    def resolve_search(self) -> dict[str, str] | None:
        """Once headings are known: the documents to index, or None if the bundle is reusable.

        An entry whose files changed but whose name, description, tags and headings did not
        (a script fixed, a paragraph reworded) keeps the previous search bundle.
        """
        assert self.search_job is not None
        docs = {
            self.urls.entry(e.kind, e.name): search_document(
                e, self.headings_of(self.states[(e.kind, e.name)])
            )
            for e in self.entries
        }
        self.search_docs = _hash("docs", RENDERER_VERSION, pagefind_version(), sorted(docs.items()))
        previous = self.previous.get("search") or {}
        if previous.get("docs") == self.search_docs and self._reuse_search(
            previous, self.search_job
        ):
            self.search_record["docs"] = self.search_docs
            return None
        return docs

    def search_outputs(self, bundle: Mapping[str, bytes]) -> list[Output]:
        """The pending search bundle's files as outputs; records them for the manifest."""
        assert self.search_job is not None
        files: dict[str, str] = {}
        outputs = []
        for path, blob in sorted(bundle.items()):
            digest = _hash("pagefind", _sha256(blob))
            files[path] = digest
            outputs.append(Output(path, digest, _const(blob)))
        self.search_record = {"key": self.search_job, "docs": self.search_docs, "files": files}
        self.search_job = None
        self.outputs.extend(outputs)
        return outputs


def _without_conflicts(outputs: list[Output]) -> list[Output]:
    """Drop outputs that would clash on disk (first one wins).

    Sanitized file names can in theory collide (a library may hold both `a.html` and
    `a.html.txt`), or a file may sit where another output needs a folder.
    """
    seen: set[str] = set()
    unique = []
    for output in outputs:
        if output.path not in seen:
            seen.add(output.path)
            unique.append(output)
    folders = {p.rsplit("/", 1)[0] for p in seen if "/" in p}
    folders |= {f.rsplit("/", i)[0] for f in list(folders) for i in range(1, f.count("/") + 1)}
    return [o for o in unique if o.path not in folders]


def _const(blob: bytes) -> Callable[[], bytes]:
    return lambda: blob


def _missing(path: str) -> Callable[[], bytes]:
    def produce() -> bytes:
        raise SiteError(f"{path}: search bundle file missing from the previous build")

    return produce


def _summary_json(item: Mapping[str, Any], from_page: str) -> dict[str, Any]:
    return {
        "type": item["type"],
        "name": item["name"],
        "description": item["description"],
        "tags": [t["name"] for t in item["tags"]],
        "url": relative(from_page, item["path"]),
        "json": relative(from_page, twin(item["path"])),
        "updated": item["updated"],
    }


def _entry_twin(detail: Mapping[str, Any], entry: Entry, page: str) -> dict[str, Any]:
    def rel(path: str | None) -> str | None:
        return None if path is None else relative(page, path)

    return {
        "type": detail["type"],
        "name": detail["name"],
        "description": detail["description"],
        "tags": [t["name"] for t in detail["tags"]],
        "url": rel(detail["path"]),
        "updated": detail["updated"],
        "license": detail["license"],
        "compatibility": detail["compatibility"],
        "allowed_tools": detail["allowed_tools"],
        "version": detail["version"],
        "author": detail["author"],
        "metadata": _plain_json(dict(entry.metadata)),
        "source": detail["source"],
        "etag": detail["etag"],
        "archive": {
            "url": rel(detail["archive"]["path"]),
            "sha256": detail["archive"]["sha256"],
            "size": detail["archive"]["size"],
        },
        "files": [
            {
                "path": f["path"],
                "size": f["size"],
                "sha256": f["sha256"],
                "text": f["text"],
                "url": rel(f["page"]),
                "raw": rel(f["raw"]),
            }
            for f in detail["files"]
        ],
        "headings": detail["headings"],
        "similar": [
            {
                "type": s["type"],
                "name": s["name"],
                "description": s["description"],
                "distance": s["distance"],
                "url": rel(s["path"]),
            }
            for s in detail["similar"]
        ],
        "body": entry.body,
    }


def _tree(files: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The file tree as a flat list of events for the template: open a folder, a file, close.

    Folders come before files at each level, both sorted by name.
    """
    root: dict[str, Any] = {"dirs": {}, "files": []}
    for item in files:
        node = root
        for part in item["path"].split("/")[:-1]:
            node = node["dirs"].setdefault(part, {"dirs": {}, "files": []})
        node["files"].append(item)
    events: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        for name in sorted(node["dirs"]):
            events.append({"open": name, "close": False, "file": None})
            walk(node["dirs"][name])
            events.append({"open": "", "close": True, "file": None})
        for item in sorted(node["files"], key=lambda f: f["name"]):
            events.append({"open": "", "close": False, "file": item})

    walk(root)
    return events


# -- search export: Pagefind -------------------------------------------------------------------


def search_document(entry: Entry, headings: Sequence[Heading]) -> str:
    """The small HTML document Pagefind indexes for an entry: name, description, tags, headings.

    Weights rank a name match above a tag match above a description or heading match. Heading
    ids match the entry page's, so Pagefind's sub-results link to the right section.
    """
    parts = [
        '<html lang="en"><body>',
        f'<main data-pagefind-body data-pagefind-filter="kind:{entry.kind}" '
        f'data-pagefind-meta="kind:{entry.kind}">',
        f'<h1 data-pagefind-weight="10">{escape(entry.name)}</h1>',
        f'<p data-pagefind-weight="8">{escape(entry.name.replace("-", " "))}</p>',
        f'<p data-pagefind-meta="description" data-pagefind-weight="2">'
        f"{escape(entry.description)}</p>",
    ]
    if entry.tags:
        tags = " ".join(f'<span data-pagefind-filter="tag">{escape(t)}</span>' for t in entry.tags)
        parts.append(f'<p data-pagefind-weight="5">{tags}</p>')
    for heading in headings:
        parts.append(
            f'<h2 id="{escape(heading.id)}" data-pagefind-weight="2">{escape(heading.text)}</h2>'
        )
    parts.append("</main></body></html>")
    return "".join(parts)


def find_pagefind() -> str | None:
    """The Pagefind binary: $PAGEFIND_BINARY_PATH, the `pagefind[bin]` wheel, or PATH."""
    explicit = os.environ.get("PAGEFIND_BINARY_PATH")
    if explicit:
        return explicit
    try:
        from pagefind_bin import get_executable

        return str(get_executable())
    except (ImportError, FileNotFoundError):
        pass
    return shutil.which("pagefind_extended") or shutil.which("pagefind")


def pagefind_version() -> str:
    try:
        from importlib.metadata import version

        return version("pagefind")
    except Exception:  # the binary may come from PATH without the Python package
        return "unknown"


def _encode(message: Mapping[str, Any]) -> bytes:
    return base64.b64encode(json.dumps(message).encode("utf-8")) + b","


def run_pagefind(docs: Mapping[str, str]) -> dict[str, bytes]:
    """Index `docs` (site path -> HTML) with Pagefind, in memory; return the bundle's files.

    Talks to `pagefind --service` (the protocol behind Pagefind's Node and Python APIs):
    one new index, one AddFile per document with its URL, then GetFiles. No temporary files.
    """
    binary = find_pagefind()
    if binary is None:
        raise SiteError("pagefind binary not found; install it with: pip install 'pagefind[bin]'")
    requests: list[dict[str, Any]] = [
        {
            "message_id": 1,
            "payload": {
                "type": "NewIndex",
                "config": {"keep_index_url": True, "force_language": "en"},
            },
        }
    ]
    try:
        proc = subprocess.Popen(
            [binary, "--service"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise SiteError(f"pagefind could not start: {exc}") from exc
    assert proc.stdin is not None and proc.stdout is not None
    reader = _ServiceReader(proc.stdout)
    try:
        proc.stdin.write(_encode(requests[0]))
        proc.stdin.flush()
        index_id = reader.expect(1, "NewIndex")["index_id"]
        writer_error: list[BaseException] = []
        paths = sorted(docs)

        def write_all() -> None:
            try:
                assert proc.stdin is not None
                for number, path in enumerate(paths, start=2):
                    payload = {
                        "type": "AddFile",
                        "index_id": index_id,
                        "url": "/" + path,
                        "file_path": None,
                        "file_contents": docs[path],
                    }
                    proc.stdin.write(_encode({"message_id": number, "payload": payload}))
                last = len(paths) + 2
                get = {"type": "GetFiles", "index_id": index_id}
                proc.stdin.write(_encode({"message_id": last, "payload": get}))
                proc.stdin.flush()
            except BaseException as exc:  # reported by the reading side
                writer_error.append(exc)

        writer = threading.Thread(target=write_all, daemon=True)
        writer.start()
        for number in range(2, len(paths) + 2):
            reader.expect(number, "IndexedFile")
        files = reader.expect(len(paths) + 2, "GetFiles")["files"]
        writer.join()
        if writer_error:
            raise SiteError(f"pagefind: {writer_error[0]}")
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.kill()
        proc.wait()
    out: dict[str, bytes] = {}
    for item in files:
        rel = str(item["path"]).lstrip("/")
        if rel.startswith(PAGEFIND_SKIP) or ".." in rel.split("/"):
            continue
        out[f"pagefind/{rel}"] = base64.b64decode(item["content"])
    if "pagefind/pagefind.js" not in out:
        raise SiteError("pagefind returned no search bundle")
    return out


class _ServiceReader:
    """Reads the comma-separated base64 JSON responses of `pagefind --service`."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.buffer = b""

    def next(self) -> dict[str, Any]:
        while b"," not in self.buffer:
            chunk = self.stream.read1(1 << 20)
            if not chunk:
                raise SiteError("pagefind stopped unexpectedly")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b",")
        return dict(json.loads(base64.b64decode(raw)))

    def expect(self, message_id: int, kind: str) -> dict[str, Any]:
        while True:
            message = self.next()
            payload = message.get("payload") or {}
            if payload.get("type") == "Error":
                raise SiteError(f"pagefind: {payload.get('message', 'error')}")
            if message.get("message_id") == message_id:
                if payload.get("type") != kind:
                    raise SiteError(f"pagefind: unexpected {payload.get('type')} reply")
                return dict(payload)


# -- rendering the plan ---------------------------------------------------------------------------


def list_files(root: Path) -> set[str]:
    """Every file under `root`, as POSIX paths relative to it."""
    found: set[str] = set()
    if not root.is_dir():
        return found
    prefix = len(str(root)) + 1
    for folder, _dirs, files in os.walk(root):
        for name in files:
            found.add(os.path.join(folder, name)[prefix:].replace(os.sep, "/"))
    return found


def load_manifest(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pending(
    plan: SitePlan, previous: Mapping[str, Any], existing: set[str]
) -> tuple[list[Output], set[str]]:
    """The outputs whose key changed or whose file is missing, and the files to remove."""
    keys: Mapping[str, str] = previous.get("outputs") or {}
    todo = [o for o in plan.outputs if keys.get(o.path) != o.key or o.path not in existing]
    stale = existing - plan.paths - {MANIFEST}
    return todo, stale


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


class Stager(Protocol):
    """Where rendered files go until the build commits (see sitegen.publish)."""

    def path_for(self, index: int, site_path: str) -> Path: ...

    def register(self, site_path: str, index: int) -> None: ...


@dataclass
class RenderResult:
    pages_written: int = 0
    files_written: int = 0
    outputs: int = 0


_JOB: tuple[Sequence[Output], Path, Stager] | None = None  # inherited by forked workers
_MADE: set[Path] = set()  # folders already created in this process (saves mkdir calls)


def _render_one(index: int, output: Output, live: Path, stager: Stager) -> tuple[int, bool, Any]:
    data = output.produce()
    extra = output.extra() if output.extra is not None else None
    if same_bytes(live / output.path, data):
        return index, False, extra
    target = stager.path_for(index, output.path)
    if target.parent not in _MADE:
        target.parent.mkdir(parents=True, exist_ok=True)
        _MADE.add(target.parent)
    with open(target, "wb") as handle:
        handle.write(data)
    return index, True, extra


def _render_task(indices: list[int]) -> list[tuple[int, bool, Any]]:
    assert _JOB is not None
    todo, live, stager = _JOB
    return [_render_one(i, todo[i], live, stager) for i in indices]


def default_jobs() -> int:
    """Worker processes for rendering: one per CPU on Linux machines with 4 CPUs or more.

    Workers are forked (fork is only trusted on Linux); on smaller machines the cost of
    forking a large process and copying its pages on write eats the gain.
    """
    cpus = os.cpu_count() or 1
    if not sys.platform.startswith("linux") or cpus < 4:
        return 1
    return min(cpus, 8)


class _Runner:
    """Renders outputs serially or in forked worker processes (forked once, before threads)."""

    MIN_PARALLEL = 400

    def __init__(
        self,
        todo: Sequence[Output],
        live: Path,
        stager: Stager,
        jobs: int,
        progress: Progress | None,
    ) -> None:
        self.todo = todo
        self.live = live
        self.stager = stager
        self.jobs = jobs if len(todo) >= self.MIN_PARALLEL else 1
        self.progress = progress
        self.pool: Any = None
        self.done = 0
        self.result = RenderResult()

    def __enter__(self) -> _Runner:
        global _JOB
        if self.jobs > 1:
            _JOB = (self.todo, self.live, self.stager)
            self.pool = multiprocessing.get_context("fork").Pool(self.jobs)
        return self

    def __exit__(self, *exc: object) -> None:
        global _JOB
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
        _JOB = None

    def run(self, indices: Sequence[int], total: int) -> None:
        if self.pool is None or len(indices) < 64:
            for index in indices:
                self._record(_render_one(index, self.todo[index], self.live, self.stager), total)
            return
        groups: dict[int, list[int]] = defaultdict(list)
        for index in indices:
            group = self.todo[index].group
            groups[group if group >= 0 else -1 - index].append(index)
        tasks: list[list[int]] = []
        batch: list[int] = []
        size = max(16, len(indices) // (self.jobs * 16))
        for members in groups.values():
            batch.extend(members)
            if len(batch) >= size:
                tasks.append(batch)
                batch = []
        if batch:
            tasks.append(batch)
        for chunk in self.pool.imap_unordered(_render_task, tasks):
            for item in chunk:
                self._record(item, total)

    def _record(self, item: tuple[int, bool, Any], total: int) -> None:
        index, wrote, extra = item
        output = self.todo[index]
        if output.apply is not None and extra is not None:
            output.apply(extra)
        if wrote:
            self.stager.register(output.path, index)
            if output.page:
                self.result.pages_written += 1
            else:
                self.result.files_written += 1
        self.done += 1
        if self.progress is not None and (self.done % 200 == 0 or self.done == total):
            self.progress(self.done, total)


def render_site(
    plan: SitePlan,
    todo: Sequence[Output],
    live: Path,
    stager: Stager,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> RenderResult:
    """Render `todo` (and the search bundle if pending); stage what differs from `live`.

    Entry pages go first: rendering them teaches the planner each changed entry's headings,
    which the search index needs. Pagefind then runs in a background thread (it is its own
    process) while the remaining pages render.
    """
    todo = list(todo)
    total = len(todo)
    _MADE.clear()
    first = [i for i, o in enumerate(todo) if o.extra is not None]
    rest = [i for i, o in enumerate(todo) if o.extra is None]
    bundle: dict[str, bytes] = {}
    failure: list[BaseException] = []
    with _Runner(todo, live, stager, jobs or default_jobs(), progress) as runner:
        runner.run(first, total)
        thread = None
        docs = plan.planner.resolve_search() if plan.search_pending else None
        if docs is not None:
            documents = docs

            def index() -> None:
                try:
                    bundle.update(run_pagefind(documents))
                except BaseException as exc:  # re-raised in the main thread
                    failure.append(exc)

            thread = threading.Thread(target=index, name="pagefind", daemon=True)
            thread.start()
        runner.run(rest, total)
        if thread is not None:
            thread.join()
            if failure:
                raise failure[0]
            extra_outputs = plan.planner.search_outputs(bundle)
            start = len(todo)
            for offset, output in enumerate(extra_outputs):
                wrote = _render_one(start + offset, output, live, stager)
                if wrote[1]:
                    stager.register(output.path, start + offset)
                    runner.result.files_written += 1
        runner.result.outputs = len(plan.outputs)
    return runner.result
