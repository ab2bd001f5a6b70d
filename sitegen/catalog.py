"""Open a catalog of roles and skills wherever it lives, and read it the way a client would.

A catalog is one of:

- a **built site** (a folder or an http(s) URL): `catalog.json`, a JSON twin per entry page,
  per-entry zips, `.well-known/agent-skills/index.json` and the Parquet index in `index/`;
- a **library folder** (roles/ and skills/ with an `index/` written by `sitegen index`): the
  entries are read from their files, and an entry's archive is zipped the way `sitegen build`
  zips it, so its digest equals the published one.

Everything is read through fsspec; http(s) reads have timeouts and a failure becomes one
line naming the catalog. Nothing but the catalog is contacted: archive URLs are resolved
inside the catalog root, never followed elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import fsspec

from sitegen.entry import KINDS, PUBLIC_FIELDS, SINGULAR, public_json
from sitegen.errors import SitegenError, UsageError
from sitegen.suggest import near_names

if TYPE_CHECKING:
    from sitegen.library import Entry, Library
    from sitegen.metastore import MetaStore

CATALOG_ENV = "SITEGEN_CATALOG"
LIBRARY_ENV = "SITEGEN_LIBRARY"
CONFIG_FILE = "sitegen.toml"
CATALOG_JSON = "catalog.json"
DISCOVERY_JSON = ".well-known/agent-skills/index.json"

DEFAULT_FORMATS = {"roles": "role", "skills": "skill"}
DEFAULT_TIMEOUT = 30.0  # seconds an HTTP connect or read may stall
MAX_JSON_BYTES = 256 * 1024 * 1024


class CatalogError(SitegenError):
    """The catalog says something inconsistent or cannot give what was asked."""


class CatalogUnreachable(UsageError):
    """The catalog named by the user cannot be opened or reached."""


class EntryNotFound(UsageError):
    """No entry of that name in the catalog."""


@dataclass(frozen=True)
class CatalogInfo:
    """What identifies a catalog's current state: its index build and embedding model."""

    source: str
    layout: str  # "site" or "library"
    build: str | None
    fingerprint: str | None
    written: str | None
    counts: Mapping[str, int]
    generator: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "layout": self.layout,
            "build": self.build,
            "fingerprint": self.fingerprint,
            "written": self.written,
            "counts": dict(self.counts),
            "generator": self.generator,
        }


@dataclass(frozen=True)
class EntrySummary:
    kind: str
    name: str
    description: str
    tags: tuple[str, ...]
    format: str


@dataclass(frozen=True)
class EntryFile:
    path: str  # relative to the entry folder
    size: int
    sha256: str


@dataclass(frozen=True)
class EntryDetail:
    """An entry with its full definition text and its file list.

    ``properties`` are the entry schema's public fields (:data:`sitegen.entry.PUBLIC_FIELDS`)
    as the catalog publishes them, so readers never copy fields one by one.
    """

    summary: EntrySummary
    definition_file: str
    definition: str
    files: tuple[EntryFile, ...]
    properties: Mapping[str, Any] = field(default_factory=dict)
    archive_sha256: str | None = None


@dataclass(frozen=True)
class Archive:
    """An entry's zip and the digest the catalog vouches for (from the discovery index for
    skills, from catalog.json for roles)."""

    kind: str
    name: str
    format: str
    data: bytes
    expected_sha256: str
    source: str  # where it was read, for messages

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# -- finding the catalog -------------------------------------------------------------------------


def default_catalog(*, fallback_to_library: bool = False) -> str | None:
    """`$SITEGEN_CATALOG`, else `catalog = "..."` in ./sitegen.toml, else (for commands that
    read a library too) `$SITEGEN_LIBRARY` or the current folder."""
    env = os.environ.get(CATALOG_ENV)
    if env:
        return env
    config = Path(CONFIG_FILE)
    if config.is_file():
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"{config}: cannot read ({exc})") from exc
        value = data.get("catalog")
        if isinstance(value, str) and value.strip():
            return value.strip()
    if fallback_to_library:
        return os.environ.get(LIBRARY_ENV) or "."
    return None


def canonical_source(location: str) -> str:
    """How a catalog is recorded: URLs as given (no trailing slash), folders absolute."""
    text = location.strip()
    if _is_url(text):
        return text.rstrip("/")
    return str(Path(text).expanduser().resolve())


def _is_url(text: str) -> bool:
    return "://" in text or text.startswith("file:")


def _is_http(text: str) -> bool:
    return urlsplit(text).scheme in {"http", "https"}


def _storage_options(location: str, timeout: float) -> dict[str, Any]:
    if not _is_http(location):
        return {}
    import aiohttp

    # No cap on a whole transfer (a big archive on a slow link is fine), but no connect or
    # read may stall longer than the timeout.
    return {
        "client_kwargs": {
            "timeout": aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        }
    }


def open_catalog(location: str, *, timeout: float = DEFAULT_TIMEOUT) -> Catalog:
    """Open a catalog: a built site (folder or URL) or an indexed library folder."""
    text = location.strip()
    if not text:
        raise CatalogUnreachable("catalog location is empty")
    source = canonical_source(text)
    try:
        fs, root = fsspec.core.url_to_fs(source, **_storage_options(source, timeout))
    except (ValueError, ImportError, OSError) as exc:
        raise CatalogUnreachable(f"{text}: cannot open catalog ({_reason(exc)})") from exc
    root = root.rstrip("/") or root
    if _is_http(source):
        root = source  # HTTP paths are full URLs; keep the user's spelling
    reader = _Reader(fs, root, source)
    if _is_http(source):
        # One GET tells all: 404 means "not a catalog", anything else "cannot reach it"
        # (fsspec's HTTP exists() folds both into False).
        try:
            first = bytes(fs.cat_file(reader.path(CATALOG_JSON)))
        except FileNotFoundError as exc:
            raise CatalogUnreachable(
                f"{source}: not a sitegen catalog (no {CATALOG_JSON}; point at the site's root)"
            ) from exc
        except Exception as exc:
            raise CatalogUnreachable(
                f"{source}: cannot reach the catalog ({_reason(exc)})"
            ) from exc
        return SiteCatalog(reader, catalog_json=first)
    if reader.exists(CATALOG_JSON):
        return SiteCatalog(reader)
    if reader.isdir("") and any(reader.isdir(k) for k in (*KINDS, "index")):
        return LibraryCatalog(reader)
    if not reader.isdir(""):
        raise CatalogUnreachable(f"{text}: no such catalog (folder not found)")
    raise CatalogUnreachable(
        f"{text}: not a catalog (no {CATALOG_JSON}, and no roles/, skills/ or index/ folder)"
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return "timed out"
    return f"{name}: {text}" if text else name


class _Reader:
    """Reads catalog-relative paths through fsspec; turns transport failures into one line."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, source: str) -> None:
        self.fs = fs
        self.root = root
        self.source = source

    def path(self, rel: str) -> str:
        return f"{self.root.rstrip('/')}/{rel}" if rel else self.root

    def display(self, rel: str) -> str:
        return f"{self.source}/{rel}" if rel else self.source

    def _guard(self, rel: str, exc: BaseException) -> CatalogUnreachable:
        return CatalogUnreachable(f"{self.display(rel)}: cannot read ({_reason(exc)})")

    def exists(self, rel: str) -> bool:
        try:
            return bool(self.fs.exists(self.path(rel)))
        except FileNotFoundError:
            return False
        except Exception as exc:  # aiohttp errors, timeouts, permission problems
            raise self._guard(rel, exc) from exc

    def isdir(self, rel: str) -> bool:
        try:
            return bool(self.fs.isdir(self.path(rel)))
        except FileNotFoundError:
            return False
        except Exception as exc:
            raise self._guard(rel, exc) from exc

    def read(self, rel: str) -> bytes:
        try:
            return bytes(self.fs.cat_file(self.path(rel)))
        except FileNotFoundError as exc:
            raise CatalogError(f"{self.display(rel)}: missing from the catalog") from exc
        except Exception as exc:
            raise self._guard(rel, exc) from exc

    def read_json(self, rel: str) -> Any:
        return self.parse_json(rel, self.read(rel))

    def parse_json(self, rel: str, data: bytes) -> Any:
        if len(data) > MAX_JSON_BYTES:
            raise CatalogError(f"{self.display(rel)}: too large to be a catalog file")
        try:
            return json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CatalogError(f"{self.display(rel)}: not valid JSON ({exc})") from exc

    def index_signature(self) -> tuple[Any, ...]:
        """Changes when the index moves to a new generation (local catalogs); constant over
        HTTP, where polling would cost a request each time."""
        if _is_http(self.source):
            return ()
        from sitegen.generations import signature

        return signature(self.fs, self.path("index"))


def inside(base: str, rel: str) -> str | None:
    """`rel` resolved against the catalog folder `base`, or None if it leaves the catalog
    (an absolute URL, a root path or `..` past the top)."""
    if not rel or "\\" in rel or urlsplit(rel).scheme or rel.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base, rel.split("#", 1)[0].split("?", 1)[0]))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return "" if joined == "." else joined


# -- the two layouts ------------------------------------------------------------------------------


class Catalog:
    """What every catalog offers: entries, one entry in full, its archive, the index."""

    layout = "catalog"

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.source = reader.source
        self._lock = threading.Lock()
        self._store: MetaStore | None = None
        self._store_signature: tuple[Any, ...] | None = None
        self._info: CatalogInfo | None = None
        self._info_signature: tuple[Any, ...] | None = None

    # subclasses implement these
    def entries(self, kind: str | None = None, tag: str | None = None) -> list[EntrySummary]:
        raise NotImplementedError

    def get(self, kind: str, name: str) -> EntryDetail:
        raise NotImplementedError

    def archive(self, kind: str, name: str) -> Archive:
        raise NotImplementedError

    def digest(self, kind: str, name: str) -> str | None:
        """The sha256 of the archive the catalog serves now for an entry; None if it is gone."""
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        found = self.entries()
        return {kind: sum(e.kind == kind for e in found) for kind in KINDS}

    def generator(self) -> str | None:
        return None

    # shared ------------------------------------------------------------------------------

    def find(self, name: str, kind: str | None = None) -> EntrySummary:
        """An entry by name (`name`, or `kind/name`); ambiguous names must say their kind."""
        if "/" in name:
            prefix, _, name = name.partition("/")
            if prefix not in KINDS:
                raise EntryNotFound(f"{prefix}/{name}: the type must be roles or skills")
            kind = prefix
        listed = self.entries(kind)
        found = [e for e in listed if e.name == name]
        if not found:
            what = SINGULAR[kind] if kind else "role or skill"
            near = near_names(name, [(e.kind, e.name) for e in listed])
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise EntryNotFound(f"no {what} named {name!r} in {self.source}{hint}")
        if len(found) > 1:
            raise EntryNotFound(
                f"{name!r} is both a role and a skill in {self.source}; "
                f"say roles/{name} or skills/{name}"
            )
        return found[0]

    def info(self) -> CatalogInfo:
        """Build id and model fingerprint from the index files' metadata (footers only)."""
        signature = self.reader.index_signature()
        with self._lock:
            if self._info is not None and signature == self._info_signature:
                return self._info
        meta = self._index_metadata()
        info = CatalogInfo(
            source=self.source,
            layout=self.layout,
            build=meta.get("sitegen.build"),
            fingerprint=meta.get("sitegen.fingerprint"),
            written=meta.get("sitegen.written"),
            counts=self.counts(),
            generator=self.generator(),
        )
        with self._lock:
            self._info = info
            self._info_signature = signature
        return info

    def _index_metadata(self) -> dict[str, str]:
        """Build, model and time from the index pointer (or, for an index of earlier
        versions, from a Parquet file's footer)."""
        import pyarrow.parquet as pq

        from sitegen.generations import GenerationError, read_pointer

        try:
            pointer = read_pointer(
                self.reader.fs, self.reader.path("index"), self.reader.display("index/current.json")
            )
        except GenerationError as exc:
            raise CatalogError(str(exc)) from exc
        except Exception as exc:
            raise self.reader._guard("index/current.json", exc) from exc
        if pointer is not None:
            return {
                "sitegen.build": pointer.build,
                "sitegen.fingerprint": pointer.fingerprint,
                "sitegen.written": pointer.written,
            }
        for kind in KINDS:
            rel = f"index/{kind}.parquet"
            if not self.reader.exists(rel):
                continue
            try:
                with self.reader.fs.open(self.reader.path(rel), "rb") as handle:
                    raw = pq.read_metadata(handle).metadata or {}
            except Exception as exc:
                raise CatalogError(
                    f"{self.reader.display(rel)}: unreadable ({_reason(exc)})"
                ) from exc
            return {k.decode(): v.decode() for k, v in raw.items()}
        return {}

    def store(self) -> MetaStore:
        """The catalog's index as a read-only meta store, reopened when a build replaces it."""
        from sitegen.metastore import MetaStore, MetaStoreError

        signature = self.reader.index_signature()
        with self._lock:
            if self._store is not None and signature == self._store_signature:
                return self._store
            try:
                store = MetaStore.open(
                    self.reader.fs,
                    self.reader.path("index"),
                    writable=False,
                    location=self.reader.display("index"),
                )
            except MetaStoreError:
                raise
            except Exception as exc:
                raise CatalogUnreachable(
                    f"{self.reader.display('index')}: cannot read the index ({_reason(exc)})"
                ) from exc
            old, self._store, self._store_signature = self._store, store, signature
        if old is not None:
            old.engine.close()
        return store

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.engine.close()


class SiteCatalog(Catalog):
    """A built site: everything comes from its published JSON files and zips."""

    layout = "site"

    def __init__(self, reader: _Reader, *, catalog_json: bytes | None = None) -> None:
        super().__init__(reader)
        self._catalog: dict[str, Any] | None = None
        self._digests: dict[str, str] | None = None
        self._preloaded = catalog_json

    def _rows(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._catalog is None:
                preloaded, self._preloaded = self._preloaded, None
                data = (
                    self.reader.read_json(CATALOG_JSON)
                    if preloaded is None
                    else self.reader.parse_json(CATALOG_JSON, preloaded)
                )
                if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
                    raise CatalogError(f"{self.reader.display(CATALOG_JSON)}: no entries list")
                self._catalog = data
            rows = self._catalog["entries"]
        return [r for r in rows if isinstance(r, dict) and r.get("type") in KINDS]

    def generator(self) -> str | None:
        self._rows()
        assert self._catalog is not None
        value = self._catalog.get("generator")
        return value if isinstance(value, str) else None

    def _row(self, kind: str, name: str) -> dict[str, Any]:
        for row in self._rows():
            if row.get("type") == kind and row.get("name") == name:
                return row
        raise EntryNotFound(f"no {SINGULAR[kind]} named {name!r} in {self.source}")

    @staticmethod
    def _summary(row: Mapping[str, Any]) -> EntrySummary:
        kind = str(row["type"])
        return EntrySummary(
            kind=kind,
            name=str(row.get("name", "")),
            description=str(row.get("description", "")),
            tags=tuple(str(t) for t in row.get("tags") or ()),
            format=str(row.get("format") or DEFAULT_FORMATS[kind]),
        )

    def entries(self, kind: str | None = None, tag: str | None = None) -> list[EntrySummary]:
        found = [self._summary(r) for r in self._rows()]
        if kind is not None:
            found = [e for e in found if e.kind == kind]
        if tag is not None:
            found = [e for e in found if tag in e.tags]
        return sorted(found, key=lambda e: (e.kind, e.name))

    def get(self, kind: str, name: str) -> EntryDetail:
        row = self._row(kind, name)
        twin_rel = inside("", str(row.get("json") or ""))
        if twin_rel is None:
            raise CatalogError(f"{self.reader.display(CATALOG_JSON)}: {kind}/{name} has no twin")
        twin = self.reader.read_json(twin_rel)
        if not isinstance(twin, dict):
            raise CatalogError(f"{self.reader.display(twin_rel)}: not an entry page twin")
        files = tuple(
            EntryFile(str(f.get("path")), int(f.get("size") or 0), str(f.get("sha256") or ""))
            for f in twin.get("files") or ()
            if isinstance(f, dict)
        )
        definition_path = twin.get("definition_path") or twin.get("source")  # "source": 0.1
        definition_file = posixpath.basename(str(definition_path or "")) or (
            "SKILL.md" if kind == "skills" else "ROLE.md"
        )
        raw = next(
            (
                f.get("raw")
                for f in twin.get("files") or ()
                if isinstance(f, dict) and f.get("path") == definition_file
            ),
            None,
        )
        raw_rel = inside(posixpath.dirname(twin_rel), str(raw or ""))
        if raw_rel is None:
            raise CatalogError(f"{self.reader.display(twin_rel)}: no raw copy of {definition_file}")
        definition = self.reader.read(raw_rel).decode("utf-8", errors="replace")
        archive = twin.get("archive") or {}
        return EntryDetail(
            summary=self._summary(row),
            definition_file=definition_file,
            definition=definition,
            files=files,
            properties={k: twin[k] for k in PUBLIC_FIELDS if k in twin},
            archive_sha256=archive.get("sha256") if isinstance(archive, dict) else None,
        )

    def discovery_digests(self) -> dict[str, str]:
        """Skill name -> sha256 hex, from `.well-known/agent-skills/index.json`."""
        with self._lock:
            cached = self._digests
        if cached is not None:
            return cached
        data = self.reader.read_json(DISCOVERY_JSON)
        digests: dict[str, str] = {}
        for item in (data.get("skills") if isinstance(data, dict) else None) or ():
            if not isinstance(item, dict):
                continue
            digest = str(item.get("digest") or "")
            if digest.startswith("sha256:"):
                digests[str(item.get("name"))] = digest.removeprefix("sha256:").lower()
        with self._lock:
            self._digests = digests
        return digests

    def digest(self, kind: str, name: str) -> str | None:
        if kind == "skills":
            return self.discovery_digests().get(name)
        for row in self._rows():
            archive = row.get("archive")
            if row.get("type") == kind and row.get("name") == name and isinstance(archive, dict):
                return str(archive.get("sha256") or "").lower() or None
        return None

    def archive(self, kind: str, name: str) -> Archive:
        row = self._row(kind, name)
        found = row.get("archive")
        meta: dict[str, Any] = found if isinstance(found, dict) else {}
        rel = inside("", str(meta.get("url") or ""))
        if rel is None:
            raise CatalogError(
                f"{self.reader.display(CATALOG_JSON)}: {kind}/{name} names no archive inside "
                "the catalog"
            )
        listed = str(meta.get("sha256") or "").lower()
        if kind == "skills":
            expected = self.discovery_digests().get(name)
            if expected is None:
                raise CatalogError(
                    f"{self.reader.display(DISCOVERY_JSON)}: skill {name!r} is not listed, so its "
                    "archive cannot be verified"
                )
            if listed and listed != expected:
                raise CatalogError(
                    f"{self.source}: {CATALOG_JSON} and the discovery index disagree on the "
                    f"digest of skills/{name}"
                )
        else:
            if not listed:
                raise CatalogError(
                    f"{self.reader.display(CATALOG_JSON)}: {kind}/{name} has no archive digest"
                )
            expected = listed
        summary = self._summary(row)
        return Archive(
            kind, name, summary.format, self.reader.read(rel), expected, self.reader.display(rel)
        )


class LibraryCatalog(Catalog):
    """A library folder: entries read from their files; archives zipped like the site's."""

    layout = "library"

    def __init__(self, reader: _Reader) -> None:
        super().__init__(reader)
        self._entries: dict[tuple[str, str], Entry] | None = None
        self._library: Library | None = None

    def library(self) -> Library:
        from sitegen.library import Library

        if self._library is None:
            self._library = Library(self.source)
        return self._library

    def _all(self) -> dict[tuple[str, str], Entry]:
        from sitegen.library import LibraryError

        with self._lock:
            if self._entries is None:
                try:
                    report = self.library().read()
                except LibraryError as exc:
                    raise CatalogUnreachable(str(exc)) from exc
                self._entries = {(e.kind, e.name): e for e in report.entries}
            return self._entries

    @staticmethod
    def _summary(entry: Entry) -> EntrySummary:
        fmt = getattr(entry, "format", None) or DEFAULT_FORMATS[entry.kind]
        return EntrySummary(entry.kind, entry.name, entry.description, entry.tags, str(fmt))

    def _entry(self, kind: str, name: str) -> Entry:
        entry = self._all().get((kind, name))
        if entry is None:
            raise EntryNotFound(f"no {SINGULAR[kind]} named {name!r} in {self.source}")
        return entry

    def entries(self, kind: str | None = None, tag: str | None = None) -> list[EntrySummary]:
        found = [self._summary(e) for e in self._all().values()]
        if kind is not None:
            found = [e for e in found if e.kind == kind]
        if tag is not None:
            found = [e for e in found if tag in e.tags]
        return sorted(found, key=lambda e: (e.kind, e.name))

    def _definition_file(self, entry: Entry) -> str:
        path = getattr(entry, "definition_path", "") or ""
        return posixpath.basename(path) or entry.definition_file

    @staticmethod
    def _folder(entry: Entry) -> str:
        """The entry's folder relative to the library root: the folder of its definition file
        (true whether `Entry.folder` is kind-relative or library-relative)."""
        return posixpath.dirname(entry.definition_path) or f"{entry.kind}/{entry.folder}"

    def _files(self, entry: Entry) -> dict[str, bytes]:
        library = self.library()
        folder = self._folder(entry)
        paths = {f.path: library.path(folder, f.path) for f in entry.files}
        try:
            blobs = library.fs.cat(list(paths.values()))
        except Exception as exc:
            raise CatalogUnreachable(
                f"{self.source}: cannot read {folder} ({_reason(exc)})"
            ) from exc
        return {rel: bytes(blobs[full]) for rel, full in paths.items()}

    def get(self, kind: str, name: str) -> EntryDetail:
        entry = self._entry(kind, name)
        definition_file = self._definition_file(entry)
        text = self._files(entry).get(definition_file, b"").decode("utf-8", errors="replace")
        return EntryDetail(
            summary=self._summary(entry),
            definition_file=definition_file,
            definition=text,
            files=tuple(EntryFile(f.path, f.size, f.sha256) for f in entry.files),
            properties={
                k: v for k, v in public_json(entry.record()).items() if k in PUBLIC_FIELDS
            },
        )

    def digest(self, kind: str, name: str) -> str | None:
        if (kind, name) not in self._all():
            return None
        return self.archive(kind, name).sha256

    def archive(self, kind: str, name: str) -> Archive:
        from sitegen.site import build_archive

        entry = self._entry(kind, name)
        data = build_archive(self._files(entry), folder=name)
        summary = self._summary(entry)
        return Archive(
            kind,
            name,
            summary.format,
            data,
            hashlib.sha256(data).hexdigest(),
            self.reader.display(self._folder(entry)),
        )
