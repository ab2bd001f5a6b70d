"""What an entry's files yield (archive digest, text files, headings), cached by etag.

Facts are what other pages need to know of an entry without rendering it: catalog.json and
the discovery index need the archive's digest, the entry page which files have pages, the
search index the headings. They are worked out once per changed entry, at planning, and kept
in the manifest, so an unchanged entry is never read again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sitegen.library import Entry
from sitegen.markdown import Heading, MarkdownRenderer
from sitegen.site.archive import build_archive

FACTS_VERSION = "1"


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": FACTS_VERSION,
            "etag": self.etag,
            "archive_sha256": self.archive_sha256,
            "archive_size": self.archive_size,
            "text_files": list(self.text_files),
            "headings": [[h.level, h.id, h.text] for h in self.headings],
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
        else:  # new or changed: read its files once, zip them, find its headings
            archive = self.archive()
            self.facts = EntryFacts(
                etag=entry.etag,
                archive_sha256=hashlib.sha256(archive).hexdigest(),
                archive_size=len(archive),
                text_files=tuple(sorted(p for p, b in self.files().items() if is_text(b))),
                headings=markdown.headings(entry.body),
            )

    def files(self) -> Mapping[str, bytes]:
        if self._files is None:
            self._files = self._read_files(self.entry)
        return self._files

    def archive(self) -> bytes:
        if self._archive is None:
            self._archive = build_archive(self.files())
        return self._archive
