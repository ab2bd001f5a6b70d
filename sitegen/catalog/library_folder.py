"""A library folder as a catalog: entries read from their files, and an entry's archive
zipped the way `sitegen build` zips it, so its digest equals the published one."""

from __future__ import annotations

import hashlib
import posixpath
from typing import TYPE_CHECKING

from sitegen.catalog.base import Catalog
from sitegen.catalog.models import (
    DEFAULT_FORMATS,
    Archive,
    CatalogUnreachable,
    EntryDetail,
    EntryFile,
    EntryNotFound,
    EntrySummary,
)
from sitegen.catalog.reader import Reader, reason
from sitegen.entry import PUBLIC_FIELDS, SINGULAR, public_json

if TYPE_CHECKING:
    from sitegen.library import Entry, Library


class LibraryCatalog(Catalog):
    """A library folder: entries read from their files; archives zipped like the site's."""

    layout = "library"

    def __init__(self, reader: Reader) -> None:
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
                f"{self.source}: cannot read {folder} ({reason(exc)})"
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
