"""The typed results of reading a library: entries, their files, and problems."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

from sitegen.entry import FORMATS, KINDS, Format, Kind, Record
from sitegen.errors import SitegenError, UsageError

# "note" is advice: printed by `check`, never an error, not even with --strict.
Level = Literal["error", "warning", "note"]

KIND_OF_FORMAT: Mapping[Format, Kind] = MappingProxyType(
    {"skill": "skills", "role": "roles", "agent": "roles"}
)
DEFINITION_FILES: Mapping[Kind, str] = MappingProxyType({"roles": "ROLE.md", "skills": "SKILL.md"})


class LibraryError(UsageError):
    """The library itself cannot be read (no such root, unreachable storage): exit 2."""


class LibraryConfigError(LibraryError):
    """The library's `sitegen.toml` cannot be used; the message is `file:line: key: ...`."""


class EmptyLibraryError(LibraryError):
    """The root holds no entry at all; the message says where sitegen looked."""


@dataclass(frozen=True)
class Problem:
    """One defect, addressed the way compilers do so editors can jump to it."""

    path: str
    line: int
    level: Level
    code: str
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "level": self.level,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class FileInfo:
    """A file of an entry; ``path`` is relative to the entry folder, POSIX style."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Entry:
    """One role or skill, immutable once read.

    ``folder`` is library-relative (``skills/foo``, ``plugins/p/agents``); ``files`` are
    relative to it; ``definition_path`` is the library-relative definition file. Dates are
    POSIX seconds: ``created``/``updated`` from git when the library is a checkout, else
    from file times; ``modified`` is the newest file time.
    """

    kind: Kind
    name: str
    folder: str
    description: str
    tags: tuple[str, ...]
    license: str | None
    compatibility: str | None
    allowed_tools: str | None
    metadata: Mapping[str, Any]
    body: str
    body_line: int
    files: tuple[FileInfo, ...]
    etag: str
    definition_path: str
    key_lines: Mapping[str, int]
    modified: float | None = None
    frontmatter: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    format: Format = "skill"
    tools: tuple[str, ...] = ()
    model: str | None = None
    created: float | None = None
    updated: float | None = None

    @property
    def definition_file(self) -> str:
        """The definition file's path relative to ``folder`` (``SKILL.md``, ``api.md``)."""
        return posixpath.basename(self.definition_path)

    @property
    def version(self) -> str | None:
        value = self.metadata.get("version")
        return None if value is None else str(value)

    def record(self, **index: Any) -> Record:
        """The entry as the one schema describes it (:class:`sitegen.entry.Record`).

        This is the only mapping from what the library read to the schema's fields. ``index``
        supplies what only the index knows (uuid, stored dates, derived tags, the vector);
        dates default to the library's own (git or file times).
        """
        fields: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "format": self.format,
            "description": self.description,
            "tags": self.tags,
            "folder": self.folder,
            "definition_path": self.definition_path,
            "files": tuple(f.path for f in self.files),
            "etag": self.etag,
            "date_created": _utc(self.created),
            "date_updated": _utc(self.updated if self.updated is not None else self.modified),
            "version": self.version,
            "author": self.author,
            "license": self.license,
            "compatibility": self.compatibility,
            "allowed_tools": self.allowed_tools,
            "tools": self.tools,
            "model": self.model,
            "metadata": dict(self.metadata),
            "modified": _utc(self.modified),
        }
        fields.update(index)
        if self.tags:
            fields["derived_tags"] = ()  # derived tags stand in only where none were written
        return Record(**fields)

    @property
    def author(self) -> str | None:
        value = self.metadata.get("author")
        return None if value is None else str(value)


@dataclass(frozen=True)
class Scan:
    """What the walk saw, so an empty result can say where sitegen looked."""

    root: str
    folders: int = 0
    files: int = 0
    skipped: tuple[str, ...] = ()
    agent_globs: tuple[str, ...] = ()
    excluded: int = 0

    def describe(self) -> str:
        skipped = ", ".join(self.skipped) if self.skipped else "nothing"
        excluded = f"; {self.excluded} left out by sitegen.toml globs" if self.excluded else ""
        return (
            f"looked for SKILL.md and ROLE.md at any depth and agent files matching "
            f"{', '.join(self.agent_globs) or '(none)'}; walked {self.folders} folder(s) and "
            f"{self.files} file(s); skipped {skipped}{excluded}"
        )


@dataclass(frozen=True)
class LibraryReport:
    """What a read found: valid entries, and every problem (errors, warnings and notes).

    ``found`` counts every entry sitegen recognised, valid or not, so the summaries of
    check, index and build agree on how many were left out.
    """

    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]
    found: int = -1
    scan: Scan | None = None

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "warning")

    @property
    def notes(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "note")

    @property
    def left_out(self) -> int:
        """Entries found but not kept because of errors."""
        return max(self.found - len(self.entries), 0) if self.found >= 0 else 0

    def of_kind(self, kind: Kind) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)

    def strict_problems(self) -> tuple[Problem, ...]:
        """The problems that fail a strict run: every error and warning (notes never do)."""
        return tuple(p for p in self.problems if p.level != "note")

    def summary(self, *, strict: bool = False) -> str:
        """One line shared by check, index and build, so their counts agree."""
        errors = len(self.strict_problems()) if strict else len(self.errors)
        warnings = 0 if strict else len(self.warnings)
        valid = self.strict_entries() if strict else self.entries
        failed = self.left_out + len(self.entries) - len(valid)
        left = f", {failed} {'with errors' if strict else 'left out with errors'}" if failed else ""
        notes = f", {len(self.notes)} note(s)" if self.notes else ""
        roles = sum(e.kind == "roles" for e in valid)
        return (
            f"{roles} roles, {len(valid) - roles} skills valid"
            f"{left}; {errors} error(s), {warnings} warning(s){notes}"
        )

    def strict_entries(self) -> tuple[Entry, ...]:
        """The entries with no error or warning: those a strict run would accept."""
        failing: set[str] = set()
        for problem in self.strict_problems():
            parts = problem.path.split("/")
            failing.update("/".join(parts[i:]) for i in range(len(parts)))
        return tuple(e for e in self.entries if e.definition_path not in failing)

    def require_entries(self) -> None:
        """Raise EmptyLibraryError (exit 2) when the walk recognised no entry at all."""
        if self.found == 0 and self.scan is not None:
            raise EmptyLibraryError(
                f"{self.scan.root}: no roles or skills found; {self.scan.describe()}"
            )


def _utc(timestamp: float | None) -> datetime | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def compute_etag(files: Iterable[FileInfo]) -> str:
    """A stable hash of an entry's file paths and contents, independent of listing order."""
    digest = hashlib.sha256()
    for info in sorted(files, key=lambda f: f.path):
        digest.update(info.path.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
        digest.update(info.sha256.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


__all__ = [
    "DEFINITION_FILES",
    "FORMATS",
    "KINDS",
    "KIND_OF_FORMAT",
    "EmptyLibraryError",
    "Entry",
    "LibraryConfigError",
    "FileInfo",
    "Format",
    "Kind",
    "Level",
    "LibraryError",
    "LibraryReport",
    "Problem",
    "Scan",
    "SitegenError",
    "compute_etag",
]
