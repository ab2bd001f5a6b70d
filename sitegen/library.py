"""The File Store: read a library of roles and skills through fsspec and validate it.

A library root is any fsspec URL or path. Reading never raises on bad content: every defect
becomes a :class:`Problem` naming the file and line, and entries with errors are left out of
:attr:`LibraryReport.entries` so nothing downstream (index, site) ever sees them.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

import fsspec
import fsspec.core
import yaml

from sitegen.config import DEFAULT_MAX_FILE_SIZE

try:  # the C loader is ~10x faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]

Kind = Literal["roles", "skills"]
Level = Literal["error", "warning"]

KINDS: tuple[Kind, ...] = ("roles", "skills")
DEFINITION_FILES: Mapping[Kind, str] = MappingProxyType({"roles": "ROLE.md", "skills": "SKILL.md"})
KNOWN_KEYS = frozenset(
    {"name", "description", "license", "compatibility", "allowed-tools", "metadata", "tags"}
)
NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
MAX_LINES = 500
# Folders and files that are tooling noise, never content.
IGNORED_NAMES = frozenset({"__pycache__", "node_modules"})


class LibraryError(Exception):
    """The library itself cannot be read (no such root, unreachable storage)."""


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
    """One role or skill, immutable once read."""

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

    @property
    def definition_file(self) -> str:
        return DEFINITION_FILES[self.kind]

    @property
    def version(self) -> str | None:
        value = self.metadata.get("version")
        return None if value is None else str(value)

    @property
    def author(self) -> str | None:
        value = self.metadata.get("author")
        return None if value is None else str(value)


@dataclass(frozen=True)
class LibraryReport:
    """What a read found: valid entries, and every problem (errors and warnings)."""

    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "warning")

    def of_kind(self, kind: Kind) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)


@dataclass
class _RawFile:
    rel: str  # relative to the entry folder
    full: str  # path on the filesystem
    size: int
    mtime: float | None
    content: bytes | None = None


@dataclass
class _Collector:
    """Gathers problems for one entry so the entry can be dropped on any error."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, path: str, line: int, level: Level, code: str, message: str) -> None:
        self.problems.append(Problem(path, line, level, code, message))

    @property
    def failed(self) -> bool:
        return any(p.level == "error" for p in self.problems)


class Library:
    """A library root on any fsspec filesystem."""

    def __init__(
        self,
        url: str | os.PathLike[str],
        *,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = os.fspath(url)
        self.max_file_size = max_file_size
        try:
            fs, root = fsspec.core.url_to_fs(self.url, **dict(storage_options or {}))
        except (ValueError, ImportError, OSError) as exc:
            raise LibraryError(f"{self.url}: cannot open library: {exc}") from exc
        self.fs: fsspec.AbstractFileSystem = fs
        self.root: str = root.rstrip("/") or root
        self.display_root = self.url.rstrip("/") or self.url

    @property
    def is_local(self) -> bool:
        return "file" in _protocols(self.fs)

    def path(self, *parts: str) -> str:
        """A path on this library's filesystem, for other components (index, site)."""
        return posixpath.join(self.root, *parts)

    def display(self, rel: str) -> str:
        """How a path inside the library is shown to the user."""
        return f"{self.display_root}/{rel}"

    def exists(self) -> bool:
        try:
            return bool(self.fs.isdir(self.root))
        except OSError:
            return False

    def read(self) -> LibraryReport:
        """Find, parse and validate every entry. Raises only if the root itself is unusable."""
        if not self.exists():
            raise LibraryError(f"{self.display_root}: no such library (folder not found)")
        entries: list[Entry] = []
        problems: list[Problem] = []
        for kind in KINDS:
            kind_entries, kind_problems = self._read_kind(kind)
            entries.extend(kind_entries)
            problems.extend(kind_problems)
        entries, dup_problems = _drop_duplicates(entries, self.display)
        problems.extend(dup_problems)
        problems.sort(key=lambda p: (p.path, p.line, p.level, p.code))
        entries.sort(key=lambda e: (e.kind, e.name))
        return LibraryReport(tuple(entries), tuple(problems))

    # -- walking --------------------------------------------------------------------------

    def _read_kind(self, kind: Kind) -> tuple[list[Entry], list[Problem]]:
        base = self.path(kind)
        try:
            if not self.fs.isdir(base):
                return [], []
            listing: dict[str, dict[str, Any]] = (
                _scan_local(base)
                if self.is_local
                else self.fs.find(base, withdirs=True, detail=True)
            )
        except OSError as exc:
            raise LibraryError(f"{self.display(kind)}: cannot list folder: {exc}") from exc
        folders: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        problems: list[Problem] = []
        prefix = base.rstrip("/") + "/"
        for full, info in listing.items():
            full = full.rstrip("/")
            if not full.startswith(prefix):
                continue
            rel = full[len(prefix) :]
            parts = rel.split("/")
            if any(p.startswith(".") or p in IGNORED_NAMES for p in parts):
                continue
            if len(parts) == 1:
                if info.get("type") != "directory":
                    problems.append(
                        Problem(
                            self.display(f"{kind}/{rel}"),
                            1,
                            "warning",
                            "stray-file",
                            f"file directly under {kind}/ is ignored; "
                            f"entries live in {kind}/<name>/{DEFINITION_FILES[kind]}",
                        )
                    )
                else:
                    folders.setdefault(rel, [])
                continue
            folders[parts[0]].append(("/".join(parts[1:]), info))
        entries: list[Entry] = []
        for folder in sorted(folders):
            entry, entry_problems = self._read_entry(kind, folder, folders[folder])
            problems.extend(entry_problems)
            if entry is not None:
                entries.append(entry)
        return entries, problems

    def _read_entry(
        self, kind: Kind, folder: str, items: list[tuple[str, dict[str, Any]]]
    ) -> tuple[Entry | None, list[Problem]]:
        out = _Collector()
        definition = DEFINITION_FILES[kind]
        definition_rel = f"{kind}/{folder}/{definition}"
        definition_display = self.display(definition_rel)
        files: list[_RawFile] = []
        for rel, info in sorted(items, key=lambda item: item[0]):
            raw = self._accept_file(kind, folder, rel, info, out)
            if raw is not None:
                files.append(raw)
        by_rel = {f.rel: f for f in files}
        if definition not in by_rel:
            if not out.failed:
                other = [r for r in by_rel if r.lower() == definition.lower()]
                hint = f" (found {other[0]}; the name is case-sensitive)" if other else ""
                out.add(
                    definition_display,
                    1,
                    "error",
                    "missing-definition",
                    f"no {definition} in {kind}/{folder}/{hint}",
                )
            return None, out.problems
        self._load_contents(files, out)
        if out.failed:
            return None, out.problems
        entry = _parse_definition(
            kind, folder, by_rel[definition], definition_display, definition_rel, out
        )
        if entry is None or out.failed:
            return None, out.problems
        infos = tuple(
            FileInfo(f.rel, f.size, hashlib.sha256(f.content or b"").hexdigest()) for f in files
        )
        mtimes = [f.mtime for f in files if f.mtime is not None]
        entry = replace(
            entry,
            files=infos,
            etag=compute_etag(infos),
            modified=max(mtimes) if mtimes else None,
        )
        return entry, out.problems

    def _accept_file(
        self, kind: Kind, folder: str, rel: str, info: dict[str, Any], out: _Collector
    ) -> _RawFile | None:
        """Decide whether a listed path is a content file; report links and oversize files."""
        full = str(info.get("name", "")).rstrip("/") or self.path(kind, folder, rel)
        shown = self.display(f"{kind}/{folder}/{rel}")
        ftype = info.get("type")
        if info.get("islink"):
            target = self._resolve_link(full)
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
            ftype = "file"
            size = os.path.getsize(target)
        else:
            size = int(info.get("size") or 0)
        if ftype == "directory":
            return None
        if ftype not in (None, "file"):
            out.add(shown, 1, "warning", "special-file", f"not a regular file ({ftype}); ignored")
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
        return _RawFile(rel, full, size, _mtime(info))

    def _resolve_link(self, full: str) -> str | None:
        if not self.is_local:
            return full
        target = os.path.realpath(full)
        return target if os.path.exists(target) else None

    def _load_contents(self, files: list[_RawFile], out: _Collector) -> None:
        """Read all files of an entry in one call, which remote filesystems run concurrently."""
        if not files:
            return
        if self.is_local:
            blobs: Any = _read_local([f.full for f in files])
        else:
            blobs = self._cat([f.full for f in files])
        self._take_contents(files, blobs, out)

    def _cat(self, paths: list[str]) -> Any:
        try:
            return self.fs.cat(paths, on_error="return")
        except OSError as exc:  # pragma: no cover - storage failure, not content
            raise LibraryError(f"{self.display_root}: cannot read files: {exc}") from exc

    def _take_contents(self, files: list[_RawFile], blobs: Any, out: _Collector) -> None:
        for f in files:
            blob = blobs.get(f.full) if isinstance(blobs, dict) else None
            if isinstance(blob, bytes):
                f.content = blob
                f.size = len(blob)
                if f.size > self.max_file_size:
                    out.add(
                        self.display(_display_rel(self.root, f.full)),
                        1,
                        "error",
                        "file-too-large",
                        f"file is {f.size:,} bytes, over the {self.max_file_size:,}-byte limit",
                    )
            else:
                out.add(
                    self.display(_display_rel(self.root, f.full)),
                    1,
                    "error",
                    "unreadable",
                    f"cannot read file: {blob}",
                )


# -- parsing -------------------------------------------------------------------------------

_FRONTMATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


def _parse_definition(
    kind: Kind,
    folder: str,
    raw: _RawFile,
    shown: str,
    definition_rel: str,
    out: _Collector,
) -> Entry | None:
    data = raw.content or b""
    if data.startswith(b"\xef\xbb\xbf"):
        out.add(shown, 1, "warning", "bom", "file starts with a UTF-8 byte-order mark")
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        out.add(shown, 1, "error", "not-utf8", "file is UTF-16; save it as UTF-8")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        out.add(shown, line, "error", "not-utf8", f"file is not valid UTF-8 (byte {exc.start})")
        return None
    if "\x00" in text:
        out.add(shown, 1, "error", "binary", "file is binary, not Markdown")
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    line_count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if line_count > MAX_LINES:
        out.add(
            shown,
            MAX_LINES + 1,
            "warning",
            "too-long",
            f"{line_count} lines; keep definition files under {MAX_LINES} lines "
            "(move detail into references/)",
        )
    if not text.strip():
        out.add(shown, 1, "error", "empty", "file is empty; expected YAML frontmatter")
        return None
    first, _, rest = text.partition("\n")
    if first.rstrip() != "---":
        out.add(shown, 1, "error", "no-frontmatter", "no YAML frontmatter (first line must be ---)")
        return None
    end = _FRONTMATTER_END.search(rest)
    if end is None:
        out.add(shown, 1, "error", "no-frontmatter", "frontmatter is not closed by a --- line")
        return None
    yaml_text = rest[: end.start()]
    body = rest[end.end() :].lstrip("\n")
    body_line = text.count("\n", 0, len(text) - len(body)) + 1
    try:
        meta = yaml.load(yaml_text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            problem = f"{problem} ({context} started on line {context_mark.line + 2})"
        out.add(shown, line, "error", "yaml", f"frontmatter is not valid YAML: {problem}")
        return None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        out.add(shown, 2, "error", "frontmatter-type", "frontmatter must be a mapping of keys")
        return None
    key_lines = _key_lines(yaml_text)

    def at(key: str) -> int:
        return key_lines.get(key, 1)

    for key in meta:
        if not isinstance(key, str) or key not in KNOWN_KEYS:
            out.add(shown, at(str(key)), "warning", "unknown-key", f"unknown key {key!r}")

    name = _check_name(meta, folder, shown, at, out)
    description = _check_description(meta, shown, at, out)
    metadata = meta.get("metadata")
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict):
        out.add(shown, at("metadata"), "warning", "field-type", "metadata must be a mapping")
        metadata = {}
    tags = _check_tags(meta, metadata, shown, at, out)
    license_ = _optional_string(meta, "license", shown, at, out)
    compatibility = _optional_string(meta, "compatibility", shown, at, out)
    if compatibility is not None and len(compatibility) > MAX_COMPATIBILITY:
        out.add(
            shown,
            at("compatibility"),
            "warning",
            "compatibility-too-long",
            f"compatibility is {len(compatibility)} characters (max {MAX_COMPATIBILITY})",
        )
    tools = meta.get("allowed-tools")
    if isinstance(tools, list) and all(isinstance(t, str) for t in tools):
        tools = " ".join(tools)
    allowed_tools = _optional_string({"allowed-tools": tools}, "allowed-tools", shown, at, out)
    if name is None or description is None:
        return None
    return Entry(
        kind=kind,
        name=name,
        folder=folder,
        description=description,
        tags=tags,
        license=license_,
        compatibility=compatibility,
        allowed_tools=allowed_tools,
        metadata=MappingProxyType({str(k): v for k, v in metadata.items()}),
        body=body,
        body_line=body_line,
        files=(),
        etag="",
        definition_path=definition_rel,
        key_lines=MappingProxyType(key_lines),
        frontmatter=MappingProxyType({str(k): v for k, v in meta.items()}),
    )


def _key_lines(yaml_text: str) -> dict[str, int]:
    """Line numbers (in the whole file) of top-level keys; frontmatter starts on line 2."""
    lines: dict[str, int] = {}
    for number, line in enumerate(yaml_text.split("\n"), start=2):
        match = re.match(r"^([^\s#:][^:]*?)\s*:(?:\s|$)", line)
        if match:
            lines.setdefault(match.group(1).strip("'\""), number)
    return lines


def _check_name(
    meta: dict[Any, Any], folder: str, shown: str, at: Any, out: _Collector
) -> str | None:
    if "name" not in meta or meta["name"] is None or meta["name"] == "":
        out.add(shown, 1, "warning", "name-missing", f"no name; using the folder name {folder!r}")
        name: Any = folder
    else:
        name = meta["name"]
    if not isinstance(name, str):
        out.add(
            shown,
            at("name"),
            "error",
            "name-type",
            f"name must be a string, not {_type_name(name)}",
        )
        return None
    if len(name) > MAX_NAME:
        out.add(
            shown,
            at("name"),
            "error",
            "name-too-long",
            f"name is {len(name)} characters (max {MAX_NAME})",
        )
        return None
    if not NAME_RE.match(name):
        out.add(
            shown,
            at("name"),
            "error",
            "name-invalid",
            f"name {name!r} must be lowercase letters, digits and single hyphens, "
            "not starting or ending with a hyphen",
        )
        return None
    if name != folder:
        out.add(
            shown,
            at("name"),
            "warning",
            "name-mismatch",
            f"name {name!r} differs from its folder {folder!r}",
        )
    return name


def _check_description(meta: dict[Any, Any], shown: str, at: Any, out: _Collector) -> str | None:
    description = meta.get("description")
    if description is None or (isinstance(description, str) and not description.strip()):
        out.add(shown, at("description"), "error", "description-missing", "description is missing")
        return None
    if not isinstance(description, str):
        out.add(
            shown,
            at("description"),
            "error",
            "description-type",
            f"description must be a string, not {_type_name(description)}",
        )
        return None
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        out.add(
            shown,
            at("description"),
            "error",
            "description-too-long",
            f"description is {len(description)} characters (max {MAX_DESCRIPTION})",
        )
        return None
    if "<" in description or ">" in description:
        out.add(
            shown,
            at("description"),
            "warning",
            "description-angle",
            "description contains < or >, which agents may read as markup",
        )
    return description


def _check_tags(
    meta: dict[Any, Any], metadata: dict[Any, Any], shown: str, at: Any, out: _Collector
) -> tuple[str, ...]:
    if "tags" in meta:
        raw, line = meta["tags"], at("tags")
    else:
        raw, line = metadata.get("tags"), at("metadata")
    if isinstance(raw, str):
        values: list[Any] = raw.split(",")
    elif isinstance(raw, list):
        values = raw
    elif raw is None:
        values = []
    else:
        out.add(shown, line, "warning", "field-type", "tags must be a list or a comma list")
        values = []
    tags: list[str] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            out.add(shown, line, "warning", "field-type", f"tag {value!r} is not a string")
            continue
        tag = str(value).strip()
        if tag and tag not in tags:
            tags.append(tag)
    if not tags:
        out.add(shown, line, "warning", "no-tags", "no tags; tags make entries easier to find")
    return tuple(tags)


def _optional_string(
    meta: Mapping[Any, Any], key: str, shown: str, at: Any, out: _Collector
) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        out.add(
            shown,
            at(key),
            "warning",
            "field-type",
            f"{key} must be a string, not {_type_name(value)}; ignored",
        )
        return None
    return str(value).strip() or None


def _drop_duplicates(entries: list[Entry], display: Any) -> tuple[list[Entry], list[Problem]]:
    """Two entries of one kind that declare one name are ambiguous: drop them all."""
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.kind, entry.name)].append(entry)
    kept: list[Entry] = []
    problems: list[Problem] = []
    for (kind, name), group in groups.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        paths = [e.definition_path for e in group]
        for entry in group:
            others = ", ".join(p for p in paths if p != entry.definition_path)
            problems.append(
                Problem(
                    display(entry.definition_path),
                    entry.key_lines.get("name", 1),
                    "error",
                    "duplicate-name",
                    f"{kind[:-1]} name {name!r} is also declared by {others}",
                )
            )
    return kept, problems


# -- helpers -------------------------------------------------------------------------------


def _scan_local(base: str) -> dict[str, dict[str, Any]]:
    """What ``fs.find(base, withdirs=True, detail=True)`` returns for a local folder, ~3x
    faster (os.scandir, no per-entry info call); skips hidden and tooling folders early."""
    found: dict[str, dict[str, Any]] = {}
    stack = [base]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for item in entries:
            try:
                stat = item.stat(follow_symlinks=False)
            except OSError:
                continue
            link = item.is_symlink()
            if item.is_dir(follow_symlinks=False):
                found[item.path] = {
                    "name": item.path,
                    "type": "directory",
                    "size": 0,
                    "islink": False,
                    "mtime": stat.st_mtime,
                }
                if not (item.name.startswith(".") or item.name in IGNORED_NAMES):
                    stack.append(item.path)
                continue
            regular = not link and item.is_file(follow_symlinks=False)
            found[item.path] = {
                "name": item.path,
                "type": "file" if regular else "other",
                "size": stat.st_size,
                "islink": link,
                "mtime": stat.st_mtime,
            }
    return found


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


def compute_etag(files: Iterable[FileInfo]) -> str:
    """A stable hash of an entry's file paths and contents, independent of listing order."""
    digest = hashlib.sha256()
    for info in sorted(files, key=lambda f: f.path):
        digest.update(info.path.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
        digest.update(info.sha256.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _mtime(info: Mapping[str, Any]) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        timestamp = getattr(value, "timestamp", None)
        if callable(timestamp):
            return float(timestamp())
    return None


def _display_rel(root: str, full: str) -> str:
    prefix = root.rstrip("/") + "/"
    return full[len(prefix) :] if full.startswith(prefix) else full


def _type_name(value: Any) -> str:
    return {list: "a list", dict: "a mapping", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
