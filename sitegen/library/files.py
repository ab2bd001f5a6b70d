"""An entry's files: which listed paths are content, and their bytes, read in one call.

Links, odd names and sizes become problems naming the file, never exceptions: a symlink that
points outside the library or nowhere, a name that is not UTF-8, a file over the size limit.
Remote filesystems read an entry's files concurrently (one `fs.cat` call).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fsspec

from sitegen.library.discover import Candidate, Listed
from sitegen.library.model import Level, LibraryError, Problem


@dataclass
class Collector:
    """Gathers problems for one entry so the entry can be dropped on any error."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, path: str, line: int, level: Level, code: str, message: str) -> None:
        self.problems.append(Problem(path, line, level, code, message))

    @property
    def failed(self) -> bool:
        return any(p.level == "error" for p in self.problems)


@dataclass
class RawFile:
    rel: str  # relative to the entry folder
    lib_rel: str  # relative to the library root
    full: str  # path on the filesystem
    size: int
    mtime: float | None
    content: bytes | None = None


@dataclass
class FileReader:
    """Reads entries' files from one library root, within its size limit."""

    fs: fsspec.AbstractFileSystem
    root: str
    is_local: bool
    max_file_size: int
    display: Callable[[str], str]  # how a library-relative path is shown to the user
    display_root: str

    def accept_files(self, candidate: Candidate, out: Collector) -> list[RawFile]:
        prefix = f"{candidate.folder}/" if candidate.folder else ""
        if not is_utf8(candidate.folder):
            out.add(
                self.display(candidate.folder),
                1,
                "error",
                "not-utf8-name",
                "folder name is not valid UTF-8; rename it",
            )
            return []
        accepted: list[RawFile] = []
        for listed in sorted(candidate.files, key=lambda f: f.rel):
            raw = self.accept_file(prefix + listed.rel, listed, out)
            if raw is not None:
                accepted.append(raw)
        return accepted

    def accept_file(self, rel: str, listed: Listed, out: Collector) -> RawFile | None:
        """Decide whether a listed path is a content file; report links, odd names and sizes."""
        shown = self.display(rel)
        if not is_utf8(rel):
            out.add(shown, 1, "error", "not-utf8-name", "file name is not valid UTF-8; rename it")
            return None
        size = listed.size
        if listed.islink:
            target = self.resolve_link(listed.full)
            if target is None:
                out.add(shown, 1, "error", "broken-symlink", "symbolic link points nowhere")
                return None
            if not _is_within(target, os.path.realpath(self.root)):
                out.add(
                    shown,
                    1,
                    "error",
                    "symlink-outside",
                    "symbolic link points outside the library root",
                )
                return None
            if os.path.isdir(target):
                out.add(shown, 1, "warning", "symlink-dir", "symlinked folder is not followed")
                return None
            size = os.path.getsize(target)
        elif not listed.regular:
            out.add(shown, 1, "warning", "special-file", "not a regular file; ignored")
            return None
        if size > self.max_file_size:
            out.add(
                shown,
                1,
                "error",
                "file-too-large",
                f"file is {size:,} bytes, over the {self.max_file_size:,}-byte limit",
            )
            return None
        return RawFile(listed.rel, rel, listed.full, size, listed.mtime)

    def resolve_link(self, full: str) -> str | None:
        if not self.is_local:
            return full
        target = os.path.realpath(full)
        return target if os.path.exists(target) else None

    def load_contents(self, files: list[RawFile], out: Collector) -> None:
        """Read all files of an entry in one call, which remote filesystems run concurrently."""
        if not files:
            return
        if self.is_local:
            blobs: Any = _read_local([f.full for f in files])
        else:
            try:
                blobs = self.fs.cat([f.full for f in files], on_error="return")
            except OSError as exc:  # pragma: no cover - storage failure, not content
                raise LibraryError(f"{self.display_root}: cannot read files: {exc}") from exc
            if not isinstance(blobs, dict):
                blobs = {files[0].full: blobs}
        for f in files:
            blob = blobs.get(f.full)
            shown = self.display(f.lib_rel)
            if isinstance(blob, bytes):
                f.content = blob
                f.size = len(blob)
                if f.size > self.max_file_size:
                    out.add(
                        shown,
                        1,
                        "error",
                        "file-too-large",
                        f"file is {f.size:,} bytes, over the {self.max_file_size:,}-byte limit",
                    )
            else:
                out.add(shown, 1, "error", "unreadable", f"cannot read file: {blob}")


def _read_local(paths: list[str]) -> dict[str, bytes | Exception]:
    """Local twin of ``fs.cat(paths, on_error="return")``."""
    blobs: dict[str, bytes | Exception] = {}
    for path in paths:
        try:
            with open(path, "rb") as fh:
                blobs[path] = fh.read()
        except OSError as exc:
            blobs[path] = exc
    return blobs


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def is_utf8(text: str) -> bool:
    """False for names holding bytes that are not UTF-8 (kept as surrogates by os APIs)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escape(text: str) -> str:
    """Show undecodable bytes of a name as \\xNN instead of crashing on print."""
    if is_utf8(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
