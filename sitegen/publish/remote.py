"""Publishing to an object store (any writable fsspec URL: s3://, gs://, memory://, ...).

An object store has no rename, so a site cannot be switched in one step there. The order
keeps what can be kept: a journal object naming every path about to be written; new and
changed objects; then the site's index pointer (one PUT, atomic: the index and an API reading
it switch as one generation); then the manifest; then deletions of stale objects; then the
journal goes. Pages switch file by file. A build killed half-way leaves the journal: the next
build treats the paths it names as its own (so nothing a dead run uploaded is mistaken for a
user's file) and finishes the job.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

import fsspec

from sitegen.publish.common import (
    INDEX_POINTER,
    MANIFEST,
    Carried,
    FolderStage,
    PublishError,
    PublishUsageError,
)
from sitegen.storage import protocols as protocols_of

JOURNAL = ".sitegen-journal.json"
READ_ONLY = {"http", "https", "zip", "tar", "github", "git", "reference", "libarchive"}
NOTE = (
    "note: on this storage pages switch file by file; the index (and the API reading it) "
    "switches as one generation"
)


class RemoteTarget:
    """An fsspec URL as --out."""

    def __init__(self, out: str) -> None:
        self.display = out.rstrip("/")
        self.lock_key = self.display
        self.note: str | None = NOTE
        try:
            self.fs, root = fsspec.core.url_to_fs(out)
        except ImportError as exc:
            raise PublishUsageError(
                f"{out}: --out needs a filesystem package that is not installed ({exc}); "
                "for s3:// install sitegen[s3]"
            ) from exc
        except (ValueError, OSError) as exc:
            raise PublishUsageError(f"{out}: cannot open --out ({exc})") from exc
        protocols = protocols_of(self.fs)
        if READ_ONLY & set(protocols):
            raise PublishUsageError(
                f"{out}: cannot publish to {protocols[0]}:// (read-only); "
                "choose a folder or a bucket"
            )
        self.root = root.rstrip("/")
        # The renderer compares bytes with the live tree; there is none on this machine.
        self._live = Path(tempfile.gettempdir()) / f"sitegen-no-live-tree-{uuid.uuid4().hex}"
        self.owned: set[str] = set()

    @property
    def live(self) -> Path:
        return self._live

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def check(self, forbidden: Iterable[str]) -> None:
        for other in forbidden:  # the library: --out must not be it or hold it
            other = other.rstrip("/")
            if other == self.display or other.startswith(self.display + "/"):
                raise PublishUsageError(
                    f"{self.display}: --out must not contain the library {other}"
                )
        try:
            if self.fs.isfile(self.root):
                raise PublishUsageError(f"{self.display}: exists and is not a folder")
            existing = self.existing()
        except OSError as exc:
            raise PublishUsageError(f"{self.display}: cannot list --out ({exc})") from exc
        if existing - {JOURNAL} and MANIFEST not in existing and JOURNAL not in existing:
            raise PublishUsageError(
                f"{self.display}: not empty and not built by sitegen (no {MANIFEST}); "
                "choose another --out or empty it"
            )

    def recover(self) -> list[str]:
        """Paths a dead run was writing become ours again (see the module docstring)."""
        try:
            raw = json.loads(self.fs.cat_file(self.path(JOURNAL)))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            raw = {}
        paths = raw.get("paths") if isinstance(raw, dict) else None
        self.owned = {p for p in paths if isinstance(p, str)} if isinstance(paths, list) else set()
        self.owned.add(JOURNAL)  # so a build with nothing else to do still finishes the job
        return [JOURNAL]

    def manifest_bytes(self) -> bytes:
        try:
            return bytes(self.fs.cat_file(self.path(MANIFEST)))
        except OSError:
            return b""

    def existing(self) -> set[str]:
        try:
            found = self.fs.find(self.root)
        except FileNotFoundError:
            return set()
        prefix = len(self.root) + 1
        return {p[prefix:] for p in found if p.startswith(self.root + "/")}

    def begin(self) -> RemoteStage:
        return RemoteStage(self)


class RemoteStage(FolderStage):
    """Rendered files in a local temp folder until the commit uploads them."""

    def __init__(self, target: RemoteTarget) -> None:
        self.target = target
        self.folder = Path(tempfile.mkdtemp(prefix="sitegen-stage-"))
        self.written: set[str] = set()

    def abort(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def commit(self, outputs: set[str], previous: set[str]) -> Carried:
        target, fs = self.target, self.target.fs
        existing = target.existing() - {JOURNAL}
        previous = previous | target.owned
        stale = sorted((previous - outputs - {MANIFEST}) & existing)
        carried = Carried(removed=len(stale))
        foreign = existing - previous - {MANIFEST}
        carried.kept = sorted(foreign - outputs)
        carried.replaced = sorted(foreign & self.written)
        last = [p for p in (INDEX_POINTER, MANIFEST) if p in self.written]
        first = sorted(self.written - set(last))
        try:
            journal = {"paths": sorted(self.written | set(stale))}
            fs.pipe_file(target.path(JOURNAL), json.dumps(journal).encode())
            if first:
                fs.put([str(self.folder / p) for p in first], [target.path(p) for p in first])
            for rel in last:  # the index pointer (one atomic PUT), then the manifest
                fs.pipe_file(target.path(rel), (self.folder / rel).read_bytes())
            if stale:
                fs.rm([target.path(p) for p in stale])
            fs.rm(target.path(JOURNAL))
        except OSError as exc:
            raise PublishError(
                f"{target.display}: cannot publish ({exc}); the next build finishes it"
            ) from exc
        finally:
            self.abort()
        carried.linked = 0
        return carried


