"""Index generations: immutable folders and one small pointer, switched in one atomic step.

An index folder holds::

    index/current.json          the pointer: which generation is current, and its files' sha256
    index/g-<build>/roles.parquet
    index/g-<build>/skills.parquet

A writer creates a new generation folder (nothing references it yet), makes it durable, then
switches the pointer: on a local disk a temp file, fsync, ``os.replace``, fsync of the folder;
on an object store one PUT of a small object, which is atomic. A reader reads the pointer once
and opens that one generation, so it never mixes two builds. The previous generation stays
until the next successful write (a reader that read the old pointer a moment ago still finds
its files); older ones and leftovers of dead runs are swept by the next writer, which holds the
index lock (:mod:`sitegen.locks`).

This module knows files and fsspec only; loading and validating the Parquet content is the
meta store engine's job (:mod:`sitegen.metastore`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import fsspec

from sitegen.errors import SitegenError
from sitegen.storage import is_local

POINTER = "current.json"
POINTER_FORMAT = 1
PREFIX = "g-"
KINDS = ("roles", "skills")
# What earlier sitegen versions left in index/: the flat files and their temp/backup names.
LEGACY_FILES = tuple(f"{kind}.parquet" for kind in KINDS)
_LEFTOVER = re.compile(
    r"^(\.(roles|skills)\.parquet\.(tmp|bak)-.*"  # MetaStore temp and backup files
    r"|(roles|skills)\.parquet\.sitegen-keep-.*"  # build.py's index snapshot links
    r"|\.current\.json\.tmp-.*)$"  # a pointer write cut short
)
_GENERATION = re.compile(r"^g-[A-Za-z0-9_-]{1,80}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class GenerationError(SitegenError):
    """The pointer or a generation file is missing, unreadable or inconsistent (exit 1)."""


class GenerationUnreachable(GenerationError):
    """The index's storage cannot be reached at all (exit 2: the location cannot be used)."""

    exit_code = 2


@dataclass(frozen=True)
class Pointer:
    """What `current.json` says: one generation, its metadata and its files' digests."""

    build: str
    schema: str
    fingerprint: str
    written: str
    files: Mapping[str, str]  # kind -> path relative to the index folder
    sha256: Mapping[str, str]  # kind -> hex digest of that file
    previous: str | None = None  # the generation this one replaced (kept until the next write)
    format: int = POINTER_FORMAT
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def generation(self) -> str:
        return generation_name(self.build)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "generation": self.generation,
            "build": self.build,
            "schema": self.schema,
            "fingerprint": self.fingerprint,
            "written": self.written,
            "files": dict(sorted(self.files.items())),
            "sha256": dict(sorted(self.sha256.items())),
            "previous": self.previous,
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.as_dict(), indent=2) + "\n").encode("utf-8")

    def exported(self) -> Pointer:
        """The pointer as a published site carries it: no previous generation there."""
        return Pointer(
            self.build, self.schema, self.fingerprint, self.written, self.files, self.sha256
        )

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Pointer:
        """Parse and check a pointer; any fault is a GenerationError naming `where`."""
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            reason = "empty file" if not data.strip() else f"not JSON: {exc}"
            raise GenerationError(f"{where}: unreadable index pointer ({reason})") from exc
        if not isinstance(raw, dict):
            raise GenerationError(f"{where}: unreadable index pointer (not a JSON object)")
        if raw.get("format") != POINTER_FORMAT:
            raise GenerationError(
                f"{where}: index pointer format {raw.get('format')!r} is not {POINTER_FORMAT} "
                "(written by another sitegen version)"
            )
        try:
            build = _text(raw, "build")
            files = {kind: _text(raw["files"], kind) for kind in KINDS}
            digests = {kind: _text(raw["sha256"], kind) for kind in KINDS}
            pointer = cls(
                build=build,
                schema=_text(raw, "schema"),
                fingerprint=_text(raw, "fingerprint", allow_empty=True),
                written=_text(raw, "written", allow_empty=True),
                files=files,
                sha256=digests,
                previous=raw.get("previous") if isinstance(raw.get("previous"), str) else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GenerationError(f"{where}: index pointer lacks {exc}") from exc
        if not _GENERATION.match(pointer.generation):
            raise GenerationError(f"{where}: index pointer names a bad build id {build!r}")
        for kind in KINDS:
            rel = files[kind]
            if posixpath.normpath(rel) != rel or rel.startswith(("/", "..")) or "\\" in rel:
                raise GenerationError(f"{where}: index pointer names a path outside: {rel!r}")
            if not _SHA256.match(digests[kind]):
                raise GenerationError(f"{where}: index pointer has a bad sha256 for {kind}")
        return pointer


def _text(raw: Any, key: str, *, allow_empty: bool = False) -> str:
    value = raw[key]
    if not isinstance(value, str) or (not value and not allow_empty):
        raise ValueError(f"a valid {key!r}")
    return value


def new_build_id() -> str:
    return uuid.uuid4().hex


def generation_name(build: str) -> str:
    return f"{PREFIX}{build}"


def file_rel(build: str, kind: str) -> str:
    return f"{generation_name(build)}/{kind}.parquet"


def pointer_path(index_dir: str) -> str:
    return posixpath.join(index_dir.rstrip("/"), POINTER)


def read_pointer_bytes(fs: fsspec.AbstractFileSystem, index_dir: str) -> bytes | None:
    """The pointer's bytes, or None when there is none (a new or legacy index)."""
    path = pointer_path(index_dir)
    try:
        return bytes(fs.cat_file(path))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError as exc:
        raise GenerationError(f"{path}: a folder where the index pointer should be") from exc
    except OSError as exc:
        if _is_dir(fs, path):
            raise GenerationError(f"{path}: a folder where the index pointer should be") from exc
        raise GenerationUnreachable(f"{path}: cannot reach the index ({exc})") from exc


def _is_dir(fs: fsspec.AbstractFileSystem, path: str) -> bool:
    try:
        return bool(fs.isdir(path))
    except OSError:
        return False


def read_pointer(fs: fsspec.AbstractFileSystem, index_dir: str, where: str) -> Pointer | None:
    data = read_pointer_bytes(fs, index_dir)
    return None if data is None else Pointer.from_bytes(data, where)


def sha256_of(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """The digest of a file, streamed (local) or read whole (elsewhere)."""
    if is_local(fs):
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    return hashlib.sha256(fs.cat_file(path)).hexdigest()


def make_pointer(
    *,
    build: str,
    schema: str,
    fingerprint: str,
    written: str,
    digests: Mapping[str, str],
    previous: str | None,
) -> Pointer:
    return Pointer(
        build=build,
        schema=schema,
        fingerprint=fingerprint,
        written=written,
        files={kind: file_rel(build, kind) for kind in KINDS},
        sha256=dict(digests),
        previous=previous,
    )


def make_durable(fs: fsspec.AbstractFileSystem, paths: Iterable[str]) -> None:
    """fsync files (and their folders) on a local disk, so a pointer never outlives them."""
    if not is_local(fs):
        return
    folders: set[str] = set()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        folders.add(os.path.dirname(path))
    for folder in folders:
        _fsync_dir(folder)


def _fsync_dir(folder: str) -> None:
    fd = os.open(folder or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def switch(fs: fsspec.AbstractFileSystem, index_dir: str, pointer: Pointer) -> None:
    """Make `pointer` current in one atomic step (the caller holds the index lock)."""
    path = pointer_path(index_dir)
    data = pointer.to_bytes()
    if not is_local(fs):
        if _is_dir(fs, path):
            fs.rm(path, recursive=True)
        fs.pipe_file(path, data)  # one PUT of a small object: atomic on object stores
        return
    if os.path.isdir(path) and not os.path.islink(path):
        import shutil

        shutil.rmtree(path)  # a folder where the pointer belongs: repair
    temp = os.path.join(index_dir, f".{POINTER}.tmp-{uuid.uuid4().hex[:12]}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(index_dir)


def sweep(fs: fsspec.AbstractFileSystem, index_dir: str, keep: Iterable[str]) -> list[str]:
    """Remove generations not in `keep`, temp files of dead runs and (once a pointer exists)
    the legacy flat files. Unknown files are left alone. Returns the names removed."""
    keep = set(keep)
    try:
        names = [posixpath.basename(p.rstrip("/")) for p in fs.ls(index_dir, detail=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    has_pointer = POINTER in names
    removed: list[str] = []
    for name in sorted(names):
        doomed = (
            (_GENERATION.match(name) and name not in keep)
            or _LEFTOVER.match(name)
            or (has_pointer and name in LEGACY_FILES)
        )
        if not doomed:
            continue
        path = posixpath.join(index_dir, name)
        try:
            if is_local(fs) and os.path.isdir(path) and not os.path.islink(path):
                import shutil

                shutil.rmtree(path)
            else:
                fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass
        removed.append(name)
    return removed


def signature(fs: fsspec.AbstractFileSystem, index_dir: str) -> tuple[Any, ...]:
    """Changes whenever the current index changes: the pointer's bytes, or for a legacy index
    the flat files' size and times. Cheap enough to poll."""
    try:
        data = read_pointer_bytes(fs, index_dir)
    except GenerationError as exc:
        return ("broken", str(exc))
    if data is not None:
        return ("pointer", data)
    parts: list[Any] = ["legacy"]
    for name in LEGACY_FILES:
        try:
            info = fs.info(posixpath.join(index_dir, name))
        except (FileNotFoundError, OSError):
            parts.append(None)
            continue
        parts.append(tuple(info.get(k) for k in ("size", "mtime", "ino", "created")))
    return tuple(parts)


def generation_files(
    fs: fsspec.AbstractFileSystem, index_dir: str, pointer: Pointer
) -> dict[str, bytes]:
    """The files of one generation as a published site carries them: paths relative to
    `index/` (the pointer, without its `previous`, and the Parquet files), checked by digest."""
    files: dict[str, bytes] = {POINTER: pointer.exported().to_bytes()}
    for kind in KINDS:
        rel = pointer.files[kind]
        path = posixpath.join(index_dir, rel)
        try:
            blob = bytes(fs.cat_file(path))
        except (FileNotFoundError, IsADirectoryError, OSError) as exc:
            raise GenerationError(f"{path}: cannot read the index file ({exc})") from exc
        if hashlib.sha256(blob).hexdigest() != pointer.sha256[kind]:
            raise GenerationError(f"{path}: sha256 differs from {POINTER} (file was changed)")
        files[rel] = blob
    return files


def exported_pointer(blobs: Mapping[str, bytes], kv: Mapping[str, Mapping[str, str]]) -> Pointer:
    """A pointer for Parquet files given as bytes with their key-value metadata (by kind)."""
    first = kv[KINDS[0]]
    return make_pointer(
        build=first.get("sitegen.build", ""),
        schema=first.get("sitegen.schema", ""),
        fingerprint=first.get("sitegen.fingerprint", ""),
        written=first.get("sitegen.written", ""),
        digests={kind: hashlib.sha256(blobs[kind]).hexdigest() for kind in KINDS},
        previous=None,
    )
