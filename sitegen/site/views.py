"""Typed view models: what a page shows, once, with its two renderings.

Each page's data is one of these frozen dataclasses (as Datasette builds one data dict per
view). The HTML page gets the model's fields (:meth:`context`); the JSON twin is the same
model rendered by :meth:`to_json`, with site paths turned into URLs relative to the twin.
Site paths in models are paths from the site root (see :mod:`sitegen.urls`); templates make
them relative with ``url()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sitegen.entry import Record, public_json
from sitegen.markdown import Heading
from sitegen.urls import relative, twin

JSON = dict[str, Any]


def _rel(page: str, path: str | None) -> str | None:
    return None if path is None else relative(page, path)


@dataclass(frozen=True)
class TagRef:
    name: str
    path: str
    derived: bool = False  # from the keyword taxonomy: the author wrote no tags


@dataclass(frozen=True)
class TagCount:
    """A tag with how many entries carry it (tag pages, home)."""

    name: str
    path: str
    count: int

    def to_json(self, page: str) -> JSON:
        return {"name": self.name, "path": relative(page, self.path), "count": self.count}


@dataclass(frozen=True)
class TagOption:
    """A choice of the list filter's tag menu."""

    name: str
    count: int


@dataclass(frozen=True)
class EntryRef:
    """A link to an entry page."""

    type: str
    label: str
    name: str
    path: str


@dataclass(frozen=True)
class EntrySummary:
    """An entry as lists show it."""

    type: str
    label: str
    name: str
    description: str
    tags: tuple[TagRef, ...]
    path: str
    updated: str | None  # ISO 8601, UTC, "Z"
    updated_day: str | None

    def to_json(self, page: str) -> JSON:
        return {
            "type": self.type,
            "name": self.name,
            "description": self.description,
            "tags": [t.name for t in self.tags if not t.derived],
            "derived_tags": [t.name for t in self.tags if t.derived],
            "url": relative(page, self.path),
            "json": relative(page, twin(self.path)),
            "updated": self.updated,
        }


@dataclass(frozen=True)
class FileItem:
    """One file of an entry: its page (text files), its raw copy, its digest."""

    path: str
    name: str
    size: int
    sha256: str
    text: bool
    page: str | None
    raw: str

    def to_json(self, page: str) -> JSON:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "text": self.text,
            "url": _rel(page, self.page),
            "raw": relative(page, self.raw),
        }


def _file_url(page: str, item: FileItem) -> str:
    return relative(page, item.page or item.raw)


@dataclass(frozen=True)
class ArchiveInfo:
    """The entry's zip."""

    path: str
    filename: str
    sha256: str
    size: int

    def to_json(self, page: str) -> JSON:
        return {"url": relative(page, self.path), "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class SimilarItem:
    type: str
    label: str
    name: str
    description: str
    distance: float
    path: str

    def to_json(self, page: str) -> JSON:
        return {
            "type": self.type,
            "name": self.name,
            "description": self.description,
            "distance": self.distance,
            "url": relative(page, self.path),
        }


@dataclass(frozen=True)
class MetadataRow:
    key: str
    value: str


@dataclass(frozen=True)
class EntryDetail(EntrySummary):
    """Everything the entry page shows. Its JSON twin and catalog row are the entry schema's
    public JSON (:func:`sitegen.entry.public_json` of :attr:`record`) plus what the site adds:
    URLs, the files with their pages, the archive, headings, similar entries, the body."""

    record: Record  # the entry as the one schema describes it
    license_file: FileItem | None  # the entry's file the license names, when there is one
    metadata: tuple[MetadataRow, ...]  # shown in the details table
    definition: str
    files: tuple[FileItem, ...]
    archive: ArchiveInfo
    install_folder: str  # where the install snippet unpacks the archive
    similar: tuple[SimilarItem, ...]
    headings: tuple[Heading, ...]
    body: str  # the definition's Markdown

    # The schema's fields, for templates.
    @property
    def format(self) -> str:
        return self.record.format

    @property
    def license(self) -> str | None:
        return self.record.license

    @property
    def compatibility(self) -> str | None:
        return self.record.compatibility

    @property
    def allowed_tools(self) -> str | None:
        return self.record.allowed_tools

    @property
    def tools(self) -> tuple[str, ...]:
        return self.record.tools

    @property
    def model(self) -> str | None:
        return self.record.model

    @property
    def version(self) -> str | None:
        return self.record.version

    @property
    def author(self) -> str | None:
        return self.record.author

    @property
    def source(self) -> str:
        return self.record.definition_path

    @property
    def etag(self) -> str:
        return self.record.etag

    def _site_fields(self, page: str) -> JSON:
        license_file = self.license_file
        return {
            "url": relative(page, self.path),
            "updated": self.updated,
            "license_url": None if license_file is None else _file_url(page, license_file),
            "archive": self.archive.to_json(page),
        }

    def to_json(self, page: str) -> JSON:
        return public_json(
            self.record,
            **self._site_fields(page),
            files=[f.to_json(page) for f in self.files],
            headings=[h.as_dict() for h in self.headings],
            similar=[s.to_json(page) for s in self.similar],
            body=self.body,
        )

    def catalog_json(self, page: str) -> JSON:
        """The entry's row in catalog.json."""
        return public_json(
            self.record,
            **self._site_fields(page),
            json=relative(page, twin(self.path)),
            files=[{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        )


@dataclass(frozen=True)
class FileView:
    """A text file of an entry, on a page of its own."""

    entry: EntryRef
    file: FileItem
    view: str  # "markdown" (rendered), "code" (highlighted) or "text" (wrapped, plain)
    text: str

    def to_json(self, page: str) -> JSON:
        return {
            "type": self.entry.type,
            "entry": self.entry.name,
            "entry_url": relative(page, self.entry.path),
            "path": self.file.path,
            "size": self.file.size,
            "sha256": self.file.sha256,
            "raw": relative(page, self.file.raw),
            "view": self.view,
            "text": self.text,
        }


@dataclass(frozen=True)
class ListView:
    """A list of entries: all, one kind, or one tag."""

    title: str
    intro: str
    items: tuple[EntrySummary, ...]
    kinds: tuple[str, ...]
    tag_options: tuple[TagOption, ...]

    def context(self) -> JSON:
        return {
            "title": self.title,
            "heading": self.title,
            "intro": self.intro,
            "items": self.items,
            "kinds": self.kinds,
            "tag_options": self.tag_options,
        }

    def to_json(self, page: str) -> JSON:
        return {"title": self.title, "entries": [i.to_json(page) for i in self.items]}


@dataclass(frozen=True)
class TagsView:
    tags: tuple[TagCount, ...]

    def context(self) -> JSON:
        return {"title": "Tags", "tags": self.tags}

    def to_json(self, page: str) -> JSON:
        return {"tags": [t.to_json(page) for t in self.tags]}


@dataclass(frozen=True)
class HomeView:
    title: str
    counts: Mapping[str, int]  # roles, skills
    total: int
    tag_count: int
    top_tags: tuple[TagCount, ...]
    recent: tuple[EntrySummary, ...]
    catalog: str
    agent_skills: str
    maintainers: str

    def context(self) -> JSON:
        return {
            "title": self.title,
            "counts": self.counts,
            "total": self.total,
            "tag_count": self.tag_count,
            "top_tags": self.top_tags,
            "recent": self.recent,
        }

    def to_json(self, page: str) -> JSON:
        return {
            "title": self.title,
            "counts": dict(self.counts),
            "tags": [t.to_json(page) for t in self.top_tags],
            "recent": [i.to_json(page) for i in self.recent],
            "catalog": relative(page, self.catalog),
            "agent_skills": relative(page, self.agent_skills),
            "maintainers": relative(page, self.maintainers),
        }


@dataclass(frozen=True)
class CollisionRow:
    """Two entries an agent may confuse, with a hint for the maintainer."""

    a: EntryRef
    b: EntryRef
    distance: float
    shared_words: tuple[str, ...]
    suggestion: str

    def to_json(self, page: str) -> JSON:
        def side(ref: EntryRef) -> JSON:
            return {"type": ref.type, "name": ref.name, "path": relative(page, ref.path)}

        return {
            "a": side(self.a),
            "b": side(self.b),
            "distance": self.distance,
            "shared_words": list(self.shared_words),
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class MaintainersView:
    intro: str
    max_distance: float
    pairs: tuple[CollisionRow, ...]

    def context(self) -> JSON:
        return {"title": "For maintainers", "intro": self.intro, "pairs": self.pairs}

    def to_json(self, page: str) -> JSON:
        return {
            "max_distance": self.max_distance,
            "collisions": [p.to_json(page) for p in self.pairs],
        }


@dataclass(frozen=True)
class SearchView:
    pagefind: str
    api: str | None
    catalog: str
    names: str = ""  # every entry's kind and name, for "did you mean"
    semantic: str | None = None  # the in-browser semantic bundle's manifest, when built

    def context(self) -> JSON:
        return {
            "title": "Search",
            "pagefind": self.pagefind,
            "names": self.names,
            "semantic": self.semantic,
        }

    def to_json(self, page: str) -> JSON:
        return {
            "pagefind": relative(page, self.pagefind),
            "api": self.api,
            "catalog": relative(page, self.catalog),
            "names": relative(page, self.names),
            "semantic": relative(page, self.semantic) if self.semantic else None,
        }


@dataclass(frozen=True)
class NotFoundView:
    """The 404 page: served at any depth. With a base URL its links are absolute; without
    one `locate` is a small inline script that finds the site's root in the page's own URL
    and sets `<base>` to it, so the links (written from the site root) work at any depth."""

    home: str
    home_absolute: str | None
    locate: str | None = None
    locate_hash: str | None = None  # its CSP hash ('sha256-...')

    def context(self) -> JSON:
        return {
            "title": "Page not found",
            "absolute_links": self.home_absolute is not None,
            "locate_script": self.locate,
            "inline_script_hash": self.locate_hash,
        }

    def to_json(self, page: str) -> JSON:
        return {"error": "not found", "home": self.home_absolute or relative(page, self.home)}
