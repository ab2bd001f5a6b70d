"""A built site as a catalog: everything comes from its published JSON files and zips, and a
skill's archive is verified against the digest of the discovery index."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from sitegen.catalog.base import Catalog
from sitegen.catalog.models import (
    CATALOG_JSON,
    DEFAULT_FORMATS,
    DISCOVERY_JSON,
    Archive,
    CatalogError,
    EntryDetail,
    EntryFile,
    EntryNotFound,
    EntrySummary,
)
from sitegen.catalog.reader import Reader, inside
from sitegen.entry import KINDS, PUBLIC_FIELDS, SINGULAR


class SiteCatalog(Catalog):
    """A built site: everything comes from its published JSON files and zips."""

    layout = "site"

    def __init__(self, reader: Reader, *, catalog_json: bytes | None = None) -> None:
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
