"""The File Store: read a library of roles and skills through fsspec and validate it.

A library root is any fsspec URL or path. Reading never raises on bad content: every defect
becomes a :class:`Problem` naming the file and line, and entries with errors are left out of
:attr:`LibraryReport.entries` so nothing downstream (index, site) ever sees them.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import fsspec
import fsspec.core

from sitegen.config import CONFIG_FILE, Config, ConfigError, parse_config
from sitegen.entry import SINGULAR
from sitegen.library import frontmatter
from sitegen.library.agents import check_agent, is_agent_candidate
from sitegen.library.discover import (
    Candidate,
    Listed,
    discover,
    skip_set,
    walk_fs,
    walk_local,
)
from sitegen.library.frontmatter import Document
from sitegen.library.gitdates import GitDates, entry_dates
from sitegen.library.model import (
    KIND_OF_FORMAT,
    Entry,
    FileInfo,
    Level,
    LibraryConfigError,
    LibraryError,
    LibraryReport,
    Problem,
    compute_etag,
)
from sitegen.library.rules import Fields, check_role, check_skill


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
        max_file_size: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
        config: Config | None = None,
        ignore: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.url = os.fspath(url)
        try:
            fs, root = fsspec.core.url_to_fs(self.url, **dict(storage_options or {}))
        except (ValueError, ImportError, OSError) as exc:
            raise LibraryError(f"{self.url}: cannot open library: {exc}") from exc
        self.fs: fsspec.AbstractFileSystem = fs
        self.root: str = root.rstrip("/") or root
        self.display_root = self.url.rstrip("/") or self.url
        self._config = config
        self._max_file_size = max_file_size
        self._ignore = [os.fspath(p) for p in ignore]

    # -- settings ---------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The library's `sitegen.toml` (defaults when there is none); ConfigError if bad."""
        if self._config is None:
            try:
                self._config = self._load_config()
            except ConfigError as exc:  # a LibraryError, for callers that catch only those
                raise LibraryConfigError(str(exc)) from exc
        return self._config

    def _load_config(self) -> Config:
        path = self.path(CONFIG_FILE)
        shown = self.display(CONFIG_FILE)
        try:
            if self.is_local:
                if not os.path.isfile(path):
                    return Config()
                with open(path, "rb") as fh:
                    data = fh.read()
            elif self.fs.isfile(path):
                data = self.fs.cat_file(path)
            else:
                return Config()
        except OSError as exc:
            raise ConfigError(f"{shown}: cannot read: {exc}") from exc
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{shown}:1: not valid UTF-8 (byte {exc.start})") from exc
        return parse_config(text, shown)

    @property
    def max_file_size(self) -> int:
        if self._max_file_size is not None:
            return self._max_file_size
        return self.config.max_file_size

    # -- paths ------------------------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        protocol = self.fs.protocol
        return "file" in ((protocol,) if isinstance(protocol, str) else tuple(protocol))

    def path(self, *parts: str) -> str:
        """A path on this library's filesystem, for other components (index, site)."""
        return posixpath.join(self.root, *[p for p in parts if p])

    def display(self, rel: str) -> str:
        """How a path inside the library is shown to the user (undecodable bytes escaped)."""
        return escape(f"{self.display_root}/{rel}" if rel else self.display_root)

    def exists(self) -> bool:
        try:
            return bool(self.fs.isdir(self.root))
        except OSError:
            return False

    def _skip(self) -> frozenset[str]:
        extra = []
        for item in self._ignore:
            if self.is_local:
                rel = os.path.relpath(os.path.abspath(item), os.path.abspath(self.root))
                if rel != "." and not rel.startswith(".."):
                    extra.append(rel.replace(os.sep, "/"))
            else:
                extra.append(item)
        return skip_set(self.config, extra)

    # -- reading ----------------------------------------------------------------------------

    def read(self) -> LibraryReport:
        """Find, parse and validate every entry. Raises only if the root itself is unusable."""
        if not self.exists():
            raise LibraryError(f"{self.display_root}: no such library (folder not found)")
        config = self.config
        skip = self._skip()
        # git runs on its own while the tree is walked and read
        git = GitDates(self.root) if self.is_local else None
        try:
            return self._read(config, skip, git)
        finally:
            if git is not None:
                git.close()

    def _read(self, config: Config, skip: frozenset[str], git: GitDates | None) -> LibraryReport:
        try:
            tree = (
                walk_local(self.root, skip) if self.is_local else walk_fs(self.fs, self.root, skip)
            )
        except OSError as exc:
            raise LibraryError(f"{self.display_root}: cannot list folder: {exc}") from exc
        found = discover(tree, config, posixpath.basename(self.root), self.display_root)
        problems = [
            Problem(self.display(f.rel), 1, f.level, f.code, f.message)  # type: ignore[arg-type]
            for f in found.findings
        ]
        seen = sum(f.level == "error" for f in found.findings)
        built: list[Entry] = []
        for candidate in found.candidates:
            seen += 1
            item, entry_problems = self._read_entry(candidate)
            problems.extend(entry_problems)
            if item is not None:
                built.append(item)
        for candidate in found.agents:
            item, entry_problems, is_agent = self._read_agent(candidate)
            seen += is_agent
            problems.extend(entry_problems)
            if item is not None:
                built.append(item)
        if git is not None and git.active and built:
            built, notes = self._git_dates(git, built, tree.files)
            problems.extend(notes)
        built, dup_problems = _drop_duplicates(built, self.display)
        problems.extend(dup_problems)
        problems.sort(key=lambda p: (p.path, p.line, p.level, p.code))
        entries = sorted(built, key=lambda e: (e.kind, e.name))
        return LibraryReport(tuple(entries), tuple(problems), seen, found.scan)

    def _git_dates(
        self, git: GitDates, built: list[Entry], files: Mapping[str, Mapping[str, Any]]
    ) -> tuple[list[Entry], list[Problem]]:
        """Dates from the one git log: created by the first commit, updated by the last."""
        history = git.history(_date_key(e) for e in built)
        if history is None:
            return built, []
        notes = []
        if history.shallow:
            notes.append(
                Problem(
                    self.display_root,
                    1,
                    "note",
                    "shallow-clone",
                    "shallow git clone: entry dates go back only to the oldest fetched "
                    "commit (fetch the full history for true dates)",
                )
            )

        def mtime_of(rel: str) -> float | None:
            info = files.get(rel)
            return None if info is None else info.get("mtime")

        dated = []
        for entry in built:
            dates = entry_dates(history, _date_key(entry), mtime_of)
            if dates is not None and dates != (entry.created, entry.updated):
                entry = replace(entry, created=dates[0], updated=dates[1])
            dated.append(entry)
        return dated, notes

    def _read_entry(self, candidate: Candidate) -> tuple[Entry | None, list[Problem]]:
        out = _Collector()
        files = self._accept_files(candidate, out)
        self._load_contents(files, out)
        definition_rel = candidate.definition
        shown = self.display(definition_rel)
        by_rel = {f.rel: f for f in files}
        own = posixpath.basename(definition_rel)
        if out.failed or own not in by_rel:
            return None, out.problems
        fields, doc = _parse(candidate, by_rel[own].content or b"", shown, out)
        if fields is None or doc is None or out.failed:
            return None, out.problems
        return self._build(candidate, fields, files, doc), out.problems

    def _read_agent(self, candidate: Candidate) -> tuple[Entry | None, list[Problem], bool]:
        """An agent candidate is a role only if its frontmatter names one; else it is skipped."""
        out = _Collector()
        files = self._accept_files(candidate, out)
        self._load_contents(files, out)
        if out.failed or not files:
            return None, out.problems, bool(out.failed)
        shown = self.display(candidate.definition)
        report = _reporter(shown, out)
        text = frontmatter.decode(files[0].content or b"", report)
        if text is None:
            return None, out.problems, True
        if not frontmatter.has_frontmatter(text):
            return None, [], False  # plain Markdown (a README): not an agent
        doc = frontmatter.parse(text, report)
        if doc is None:
            return None, out.problems, True
        if not is_agent_candidate(doc.data):
            return None, [], False
        fields = check_agent(doc, candidate.definition, report)
        if fields is None or out.failed:
            return None, out.problems, True
        return self._build(candidate, fields, files, doc), out.problems, True

    def _build(
        self,
        candidate: Candidate,
        fields: Fields,
        files: list[_RawFile],
        doc: Document,
    ) -> Entry:
        infos = tuple(
            FileInfo(f.rel, f.size, hashlib.sha256(f.content or b"").hexdigest()) for f in files
        )
        mtimes = [f.mtime for f in files if f.mtime is not None]
        return Entry(
            kind=KIND_OF_FORMAT[candidate.format],
            name=fields.name,
            folder=candidate.folder,
            description=fields.description,
            tags=fields.tags,
            license=fields.license,
            compatibility=fields.compatibility,
            allowed_tools=fields.allowed_tools,
            metadata=MappingProxyType(fields.metadata),
            body=doc.body,
            body_line=doc.body_line,
            files=infos,
            etag=compute_etag(infos),
            definition_path=candidate.definition,
            key_lines=MappingProxyType(dict(doc.key_lines)),
            modified=max(mtimes) if mtimes else None,
            frontmatter=MappingProxyType(dict(doc.data)),
            format=candidate.format,
            tools=fields.tools,
            model=fields.model,
            created=min(mtimes) if mtimes else None,  # git dates replace these in a checkout
            updated=max(mtimes) if mtimes else None,
        )

    # -- files ------------------------------------------------------------------------------

    def _accept_files(self, candidate: Candidate, out: _Collector) -> list[_RawFile]:
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
        accepted: list[_RawFile] = []
        for listed in sorted(candidate.files, key=lambda f: f.rel):
            raw = self._accept_file(prefix + listed.rel, listed, out)
            if raw is not None:
                accepted.append(raw)
        return accepted

    def _accept_file(self, rel: str, listed: Listed, out: _Collector) -> _RawFile | None:
        """Decide whether a listed path is a content file; report links, odd names and sizes."""
        shown = self.display(rel)
        if not is_utf8(rel):
            out.add(shown, 1, "error", "not-utf8-name", "file name is not valid UTF-8; rename it")
            return None
        size = listed.size
        if listed.islink:
            target = self._resolve_link(listed.full)
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
        return _RawFile(listed.rel, rel, listed.full, size, listed.mtime)

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

    # -- dates ------------------------------------------------------------------------------


@dataclass
class _RawFile:
    rel: str  # relative to the entry folder
    lib_rel: str  # relative to the library root
    full: str  # path on the filesystem
    size: int
    mtime: float | None
    content: bytes | None = None


def _date_key(entry: Entry) -> str:
    """What git dates an entry by: its folder, or its own file for an agent."""
    return entry.definition_path if entry.format == "agent" else entry.folder


def _reporter(shown: str, out: _Collector) -> frontmatter.Report:
    def report(line: int, level: Level, code: str, message: str) -> None:
        out.add(shown, line, level, code, message)

    return report


def _parse(
    candidate: Candidate, data: bytes, shown: str, out: _Collector
) -> tuple[Fields | None, Document | None]:
    report = _reporter(shown, out)
    text = frontmatter.decode(data, report)
    if text is None:
        return None, None
    doc = frontmatter.parse(text, report, strict=candidate.format == "skill")
    if doc is None:
        return None, None
    if candidate.format == "skill":
        return check_skill(doc, candidate.folder_name, report), doc
    return check_role(doc, candidate.folder_name, report), doc


def _drop_duplicates(built: list[Entry], display: Any) -> tuple[list[Entry], list[Problem]]:
    """Two entries of one kind that declare one name are ambiguous: drop them all."""
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for item in built:
        groups[(item.kind, item.name)].append(item)
    kept: list[Entry] = []
    problems: list[Problem] = []
    for (kind, name), group in groups.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        paths = [b.definition_path for b in group]
        for item in group:
            others = ", ".join(display(p) for p in paths if p != item.definition_path)
            problems.append(
                Problem(
                    display(item.definition_path),
                    item.key_lines.get("name", 1),
                    "error",
                    "duplicate-name",
                    f"{SINGULAR[kind]} name {name!r} is also declared by {others}",
                )
            )
    return kept, problems


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
