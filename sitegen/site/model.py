"""The site model: what every page family plans from, worked out once per build.

Entries sorted by (kind, name), each with its facts (see :mod:`sitegen.site.facts`) and its
summary as lists show it, plus a digest per entry that changes whenever its summary does, so
a list page's key is the digests of its members.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sitegen.library import Entry
from sitegen.site.facts import EntryFacts, EntrySource
from sitegen.site.inputs import Similar, SiteInput
from sitegen.site.outputs import key_of
from sitegen.site.theme import Theme
from sitegen.site.views import EntrySummary, TagCount, TagRef
from sitegen.urls import SINGULAR

Key = tuple[str, str]  # (kind, name)


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
        self.siblings: dict[str, dict[str, str]] = {"roles": {}, "skills": {}}
        for e in self.entries:
            self.siblings[e.kind][e.name] = self.urls.entry(e.kind, e.name)
        self.sources: dict[Key, EntrySource] = {}
        self.summaries: dict[Key, EntrySummary] = {}
        self.digests: dict[Key, str] = {}
        for entry in self.entries:
            key = (entry.kind, entry.name)
            facts = EntryFacts.from_dict(cached.get(f"{entry.kind}/{entry.name}") or {})
            self.sources[key] = EntrySource(entry, data.read_files, facts, theme.markdown)
        for entry in self.entries:
            key = (entry.kind, entry.name)
            summary = self.summaries[key] = self._summary(entry)
            self.digests[key] = key_of(entry.kind, entry.name, entry.etag, summary.updated)

    def _summary(self, entry: Entry) -> EntrySummary:
        updated = self.data.updated.get((entry.kind, entry.name))
        if updated is None and entry.modified is not None:
            updated = datetime.fromtimestamp(entry.modified, UTC).replace(tzinfo=None)
        return EntrySummary(
            type=entry.kind,
            label=SINGULAR[entry.kind],
            name=entry.name,
            description=entry.description,
            tags=tuple(TagRef(t, self.urls.tag(t)) for t in entry.tags),
            path=self.urls.entry(entry.kind, entry.name),
            updated=iso(updated),
            updated_day=updated.strftime("%Y-%m-%d") if updated else None,
        )

    def similar_of(self, entry: Entry) -> list[Similar]:
        """The entry's neighbours that are in this build."""
        me = (entry.kind, entry.name)
        return [
            s
            for s in self.data.similar.get(me, ())
            if (s.kind, s.name) in self.known and (s.kind, s.name) != me
        ]

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
