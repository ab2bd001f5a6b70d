"""The site model: what every page family plans from, worked out once per build.

Entries sorted by (kind, name), each with its facts (see :mod:`sitegen.site.facts`), its
files as pages list them, and its summary as lists show it, plus a digest per entry that
changes whenever its summary does, so a list page's key is the digests of its members; and
where every library path leads on the site, for Markdown links (:mod:`sitegen.site.links`).
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sitegen.entry import Record
from sitegen.library import Entry
from sitegen.markdown import InlineText, LinkContext, LinkTargets
from sitegen.site import links
from sitegen.site.facts import EntryFacts, EntrySource
from sitegen.site.inputs import Similar, SiteInput
from sitegen.site.outputs import key_of
from sitegen.site.theme import Theme
from sitegen.site.views import EntrySummary, FileItem, TagCount, TagRef
from sitegen.urls import SINGULAR

Key = tuple[str, str]  # (kind, name)
INLINE_MAX = 16_384  # bytes: code and text files up to this size show on the entry page


def shown_inline(path: str, size: int) -> bool:
    """Whether a text file is shown as a section of its entry's page, not a page of its own.

    Small scripts and configs read best beside the entry, and each costs one file written
    instead of two (a page and its twin). Markdown always gets its own page: a reference is
    a document, and its headings' ids must not clash with the entry's.
    """
    return size <= INLINE_MAX and not links.is_markdown(path)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


class SiteModel:
    def __init__(self, theme: Theme, data: SiteInput, cached: Mapping[str, Any]) -> None:
        self.theme = theme
        self.urls = theme.urls
        self.options = theme.options
        self.data = data
        self.entries = sorted(data.entries, key=lambda e: (e.kind, e.name))
        self.known: set[Key] = {(e.kind, e.name) for e in self.entries}
        self._file_items: dict[Key, tuple[FileItem, ...]] = {}
        self.sources: dict[Key, EntrySource] = {}
        self.summaries: dict[Key, EntrySummary] = {}
        self.digests: dict[Key, str] = {}
        for entry in self.entries:
            key = (entry.kind, entry.name)
            facts = EntryFacts.from_dict(cached.get(f"{entry.kind}/{entry.name}") or {})
            self.sources[key] = EntrySource(entry, data.read_files, facts, theme.markdown)
        self._descriptions: dict[Key, InlineText] = {}
        self.description_links: dict[Key, list[tuple[str, str | None]]] = {}
        theme.describe = self.description
        for entry in self.entries:
            key = (entry.kind, entry.name)
            summary = self.summaries[key] = self._summary(entry)
            # A description's links to other entries' files: every page that shows it (lists,
            # tags, home, similar lists, the maintainers' page) depends on where they lead.
            linked = self.description_links[key] = self._description_links(entry)
            self.digests[key] = key_of(entry.kind, entry.name, entry.etag, summary.updated, linked)

    def _summary(self, entry: Entry) -> EntrySummary:
        # The index's date moves only when the entry's content changes; else the entry's own
        # (its last commit in a git checkout, else its newest file).
        updated = self.data.updated.get((entry.kind, entry.name))
        stamp = entry.updated if entry.updated is not None else entry.modified
        if updated is None and stamp is not None:
            updated = datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)
        return EntrySummary(
            type=entry.kind,
            label=SINGULAR[entry.kind],
            name=entry.name,
            description=entry.description,
            tags=self._tags(entry),
            path=self.urls.entry(entry.kind, entry.name),
            updated=iso(updated),
            updated_day=updated.strftime("%Y-%m-%d") if updated else None,
        )

    def _tags(self, entry: Entry) -> tuple[TagRef, ...]:
        """The author's tags, else the ones derived from the keyword taxonomy (marked)."""
        if entry.tags:
            return tuple(TagRef(t, self.urls.tag(t)) for t in entry.tags)
        derived = self.data.derived_tags.get((entry.kind, entry.name), ())
        return tuple(TagRef(t, self.urls.tag(t), derived=True) for t in derived)

    def record_of(self, entry: Entry) -> Record:
        """The entry as the one schema describes it: the index's record when the build has
        one for this content, else the library's own view of it."""
        key = (entry.kind, entry.name)
        stored = self.data.records.get(key)
        if stored is not None and stored.etag == entry.etag:
            return stored
        return entry.record(
            derived_tags=self.data.derived_tags.get(key, ()),
            date_updated=self.data.updated.get(key) or entry.record().date_updated,
        )

    def _description_context(self, entry: Entry) -> LinkContext | None:
        """How links in a description resolve: as in its definition file; None without any
        relative link (most descriptions), so plain ones never wait for the link targets."""
        if "](" not in entry.description:
            return None
        return LinkContext(
            page=self.urls.entry(entry.kind, entry.name),
            base=posixpath.dirname(entry.definition_path),
            root=entry.folder,
            targets=self.link_targets,
        )

    def _description_links(self, entry: Entry) -> list[tuple[str, str | None]]:
        ctx = self._description_context(entry)
        if ctx is None:
            return []
        paths = links.linked_paths(entry.description, ctx.base, ctx.root)
        return links.resolved(sorted(paths), self.link_targets)

    def description(self, kind: str, name: str) -> InlineText | None:
        """An entry's description with its inline Markdown parsed and its links resolved,
        once per build (templates show it on many pages); None for an unknown entry."""
        key = (kind, name)
        found = self._descriptions.get(key)
        if found is None and key in self.sources:
            entry = self.sources[key].entry
            ctx = self._description_context(entry)
            found = self._descriptions[key] = self.theme.markdown.inline(entry.description, ctx)
        return found

    def file_items(self, source: EntrySource) -> tuple[FileItem, ...]:
        """The entry's files: the definition links to the entry page, text files to pages."""
        key = (source.entry.kind, source.entry.name)
        if key not in self._file_items:
            self._file_items[key] = self._items_of(source)
        return self._file_items[key]

    def _items_of(self, source: EntrySource) -> tuple[FileItem, ...]:
        u = self.urls
        entry = source.entry
        kind, name = entry.kind, entry.name
        text_files = set(source.facts.text_files)
        items = []
        for info in entry.files:
            is_text = info.path in text_files
            if info.path == entry.definition_file:
                page: str | None = u.entry(kind, name)  # rendered on the entry page itself
            elif is_text and shown_inline(info.path, info.size):
                page = u.file_section(kind, name, info.path)
            elif is_text:
                page = u.file_page(kind, name, info.path)
            else:
                page = None
            items.append(
                FileItem(
                    path=info.path,
                    name=posixpath.basename(info.path),
                    size=info.size,
                    sha256=info.sha256,
                    text=is_text,
                    page=page,
                    raw=u.file_raw(kind, name, info.path),
                )
            )
        return tuple(items)

    @functools.cached_property
    def link_targets(self) -> LinkTargets:
        """Where every library path leads on the site (for Markdown links)."""
        return links.targets(
            (
                s.entry.folder,
                self.urls.entry(s.entry.kind, s.entry.name),
                s.entry.format != "agent",  # agent files share their folder
                self.file_items(s),
            )
            for s in self.sources.values()
        )

    def similar_of(self, entry: Entry) -> list[Similar]:
        """The entry's neighbours that are in this build."""
        me = (entry.kind, entry.name)
        return [
            s
            for s in self.data.similar.get(me, ())
            if (s.kind, s.name) in self.known and (s.kind, s.name) != me
        ]

    def similar_keys(self, entry: Entry) -> list[Key]:
        return [(s.kind, s.name) for s in self.similar_of(entry)]

    def tagged(self) -> dict[str, list[Key]]:
        """Each tag's entries, tags in order of first appearance, entries sorted."""
        members: dict[str, list[Key]] = {}
        for key, summary in self.summaries.items():
            for tag in summary.tags:
                members.setdefault(tag.name, []).append(key)
        return members

    def tag_counts(self) -> tuple[TagCount, ...]:
        """Every tag with its count, sorted by name as people read it (case-insensitive)."""
        rows = sorted(self.tagged().items(), key=lambda kv: (kv[0].lower(), kv[0]))
        return tuple(TagCount(t, self.urls.tag(t), len(members)) for t, members in rows)

    def facts(self) -> dict[str, dict[str, Any]]:
        """Every entry's facts, for the manifest."""
        return {f"{k}/{n}": s.facts.as_dict() for (k, n), s in sorted(self.sources.items())}
