"""The File Store: read a library of roles and skills through fsspec and validate it.

A library root is any fsspec URL or path. Reading never raises on bad content: every defect
becomes a :class:`Problem` naming the file and line, and entries with errors are left out of
:attr:`LibraryReport.entries` so nothing downstream (index, site) ever sees them.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import fsspec
import fsspec.core

from sitegen import storage
from sitegen.config import CONFIG_FILE, Config, ConfigError, parse_config
from sitegen.library.discover import discover, skip_set, walk_fs, walk_local
from sitegen.library.entries import EntryReader, date_key, drop_duplicates
from sitegen.library.files import FileReader, escape
from sitegen.library.gitdates import GitDates, entry_dates
from sitegen.library.model import (
    Entry,
    LibraryConfigError,
    LibraryError,
    LibraryReport,
    Problem,
)


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
        return storage.is_local(self.fs)

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
        reader = EntryReader(
            FileReader(
                self.fs,
                self.root,
                self.is_local,
                self.max_file_size,
                self.display,
                self.display_root,
            )
        )
        built: list[Entry] = []
        for candidate in found.candidates:
            seen += 1
            item, entry_problems = reader.read_entry(candidate)
            problems.extend(entry_problems)
            if item is not None:
                built.append(item)
        for candidate in found.agents:
            item, entry_problems, is_agent = reader.read_agent(candidate)
            seen += is_agent
            problems.extend(entry_problems)
            if item is not None:
                built.append(item)
        if git is not None and git.active and built:
            built, notes = self._git_dates(git, built, tree.files)
            problems.extend(notes)
        built, dup_problems = drop_duplicates(built, self.display)
        problems.extend(dup_problems)
        problems.sort(key=lambda p: (p.path, p.line, p.level, p.code))
        entries = sorted(built, key=lambda e: (e.kind, e.name))
        return LibraryReport(tuple(entries), tuple(problems), seen, found.scan)

    def _git_dates(
        self, git: GitDates, built: list[Entry], files: Mapping[str, Mapping[str, Any]]
    ) -> tuple[list[Entry], list[Problem]]:
        """Dates from the one git log: created by the first commit, updated by the last."""
        history = git.history(date_key(e) for e in built)
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
            dates = entry_dates(history, date_key(entry), mtime_of)
            if dates is not None and dates != (entry.created, entry.updated):
                entry = replace(entry, created=dates[0], updated=dates[1])
            dated.append(entry)
        return dated, notes
