"""What a catalog hands out: its identity, entry summaries and details, archives with the
digest the catalog vouches for, and the errors a reader of a catalog can meet."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sitegen.errors import SitegenError, UsageError

CATALOG_JSON = "catalog.json"
DISCOVERY_JSON = ".well-known/agent-skills/index.json"
DEFAULT_FORMATS = {"roles": "role", "skills": "skill"}


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
