"""What an entry's files yield (archive digest, text files, headings, links), by etag.

Facts are what other pages need to know of an entry without rendering it: catalog.json and
the discovery index need the archive's digest, the entry page which files have pages, the
search index the headings, and the keys of its pages where their links lead outside the
entry. They are worked out once per changed entry, at planning, and kept in the manifest,
so an unchanged entry is never read again.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sitegen.library import Entry
from sitegen.markdown import Heading, MarkdownRenderer
from sitegen.site.archive import build_archive
from sitegen.site.links import is_markdown, linked_paths

FACTS_VERSION = "2"


def is_text(data: bytes) -> bool:
    """Whether a file can be shown as text: UTF-8 without NUL bytes."""
    if b"\x00" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class EntryFacts:
    etag: str
    archive_sha256: str
    archive_size: int
    text_files: tuple[str, ...]
    headings: tuple[Heading, ...]
    # Per Markdown file (the definition included): the library paths it links to outside
    # the entry's own files.
    outbound: Mapping[str, tuple[str, ...]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": FACTS_VERSION,
            "etag": self.etag,
            "archive_sha256": self.archive_sha256,
            "archive_size": self.archive_size,
            "text_files": list(self.text_files),
            "headings": [[h.level, h.id, h.text] for h in self.headings],
            "outbound": {path: list(targets) for path, targets in self.outbound.items()},
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
                outbound={
                    str(path): tuple(str(t) for t in targets)
                    for path, targets in data["outbound"].items()
                },
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


class EntrySource:
    """One entry of this build: its facts, and its files' bytes once something needs them."""

    def __init__(
        self,
        entry: Entry,
        read_files: Callable[[Entry], Mapping[str, bytes]],
        cached: EntryFacts | None,
        markdown: MarkdownRenderer,
    ) -> None:
        self.entry = entry
        self._read_files = read_files
        self._files: Mapping[str, bytes] | None = None
        self._archive: bytes | None = None
        if cached is not None and cached.etag == entry.etag:
            self.facts = cached
        else:  # new or changed: read its files once, zip them, find headings and links
            archive = self.archive()
            text_files = tuple(sorted(p for p, b in self.files().items() if is_text(b)))
            self.facts = EntryFacts(
                etag=entry.etag,
                archive_sha256=hashlib.sha256(archive).hexdigest(),
                archive_size=len(archive),
                text_files=text_files,
                headings=markdown.headings(entry.body),
                outbound=self._outbound(text_files),
            )

    def _outbound(self, text_files: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        entry = self.entry
        own = {posixpath.join(entry.folder, f.path) for f in entry.files}
        out: dict[str, tuple[str, ...]] = {}
        for path in text_files:
            if path == entry.definition_file:
                text = entry.body
            elif is_markdown(path):
                text = self.files()[path].decode("utf-8")
            else:
                continue
            document = posixpath.join(entry.folder, path)
            found = linked_paths(text, posixpath.dirname(document), entry.folder) - own
            if found:
                out[path] = tuple(sorted(found))
        return out

    def files(self) -> Mapping[str, bytes]:
        if self._files is None:
            self._files = self._read_files(self.entry)
        return self._files

    def archive(self) -> bytes:
        if self._archive is None:
            self._archive = build_archive(self.files(), folder=self.entry.name)
        return self._archive
