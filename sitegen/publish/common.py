"""What every publisher shares: errors, the report of carried-over files, the interface."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from sitegen.errors import SitegenError, UsageError

MANIFEST = ".sitegen-manifest.json"
INDEX_POINTER = "index/current.json"  # the site's exported index pointer (published last)


class PublishError(SitegenError):
    """The site could not be published; the previous site is as it was."""


class PublishUsageError(UsageError):
    """--out names something a site cannot be published to (exit 2)."""


def is_remote(out: str) -> bool:
    """Whether `out` is an fsspec URL other than a local path (file:// counts as local)."""
    scheme = urlsplit(str(out)).scheme
    return "://" in str(out) and scheme not in ("", "file")


@dataclass
class Carried:
    """What a commit did besides writing: files sitegen did not write (kept), stale files."""

    kept: list[str] = field(default_factory=list)  # in --out, never written by sitegen
    replaced: list[str] = field(default_factory=list)  # not ours, but an output needed the path
    removed: int = 0  # outputs of the previous build that this one no longer has
    linked: int = 0  # unchanged files carried over by hard link (local)

    def report(self) -> str | None:
        """One line about files sitegen kept for their owner; None when there are none."""
        if not (self.kept or self.replaced):
            return None
        parts = []
        if self.kept:
            shown = ", ".join(sorted(self.kept)[:5]) + (", ..." if len(self.kept) > 5 else "")
            parts.append(f"kept {len(self.kept)} file(s) sitegen did not write ({shown})")
        if self.replaced:
            shown = ", ".join(sorted(self.replaced)[:5])
            parts.append(f"replaced {len(self.replaced)} file(s) where the site needs them "
                         f"({shown})")
        return "; ".join(parts)


class Stage(Protocol):
    """A build's staged files until the commit (rendering code writes through it)."""

    def path_for(self, index: int, site_path: str) -> Path: ...
    def register(self, site_path: str, index: int) -> None: ...
    def stage(self, site_path: str, data: bytes, index: int) -> None: ...
    def commit(self, outputs: set[str], previous: set[str]) -> Carried: ...
    def abort(self) -> None: ...


class FolderStage:
    """Staging into one local folder, the site's paths below it: the part every stage shares
    (a local `--out` stages beside it, an object store in a temp folder)."""

    folder: Path
    written: set[str]

    def path_for(self, index: int, site_path: str) -> Path:
        return self.folder / site_path

    def register(self, site_path: str, index: int) -> None:
        self.written.add(site_path)

    def stage(self, site_path: str, data: bytes, index: int) -> None:
        target = self.path_for(index, site_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.register(site_path, index)


class Target(Protocol):
    """Where a site is published: a local folder or an object store."""

    display: str  # how messages name it
    lock_key: str  # what the --out lock is keyed on
    note: str | None  # one line a build prints when it publishes here
    owned: set[str]  # paths a dead run was writing (from its journal): sitegen's, not a user's

    @property
    def live(self) -> Path:
        """Where the renderer compares bytes (a folder that does not exist: compare none)."""

    def check(self, forbidden: Iterable[str]) -> None: ...
    def recover(self) -> list[str]: ...
    def manifest_bytes(self) -> bytes: ...
    def existing(self) -> set[str]: ...
    def begin(self) -> Stage: ...


def ours(manifest: dict[str, Any]) -> set[str]:
    """The files a manifest says its build wrote (the manifest itself included)."""
    outputs = manifest.get("outputs")
    found = set(outputs) if isinstance(outputs, dict) else set()
    return found | {MANIFEST}


def parents(path: str) -> list[str]:
    """Every folder above a site path: `a/b/c` -> [`a`, `a/b`]."""
    parts = posixpath.dirname(path).split("/") if "/" in path else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
