"""Entry dates from git history: one `git log` pass for the whole library, not one per entry.

When the library is a local git checkout, an entry was *created* by the first commit that
touched its folder (or agent file) and *updated* by the last one, deletions included.
Uncommitted changes (modified, staged or untracked files) count from their file times.

The git command line is used rather than a Python git library: it is present wherever a
checkout is, and its log walk (in C) is far faster than diffing trees commit by commit in
Python (dulwich) or through a binary dependency (pygit2). :class:`GitDates` starts git
before the library is walked, so git works on one core while Python reads files on another.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

GIT_TIMEOUT = 300
_LOG = ("log", "--format=%x1e%at", "--name-only", "--no-renames", "-z")
# For a library below the top of its repository; the pathspec costs ~2x at the top, where
# every path is the library's anyway.
_BELOW_TOP = ("--relative", "--", ".")
_STATUS = ("status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all", "--", ".")


@dataclass
class History:
    """What git says about the entries under one folder (keys relative to it)."""

    newest: dict[str, float] = field(default_factory=dict)  # key -> latest author time
    oldest: dict[str, float] = field(default_factory=dict)  # key -> earliest author time
    dirty: dict[str, list[str]] = field(default_factory=dict)  # key -> uncommitted paths
    shallow: bool = False


def find_checkout(root: str) -> str | None:
    """The work tree holding `root`, if it is inside one (a `.git` folder or file above)."""
    probe = os.path.abspath(root)
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent


class GitDates:
    """`git log` and `git status` for a library folder, started at once, read when needed."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._shallow = False
        self._prefix = ""
        if shutil.which("git") is None or find_checkout(root) is None:
            return
        head = self._run("rev-parse", "--is-shallow-repository", "--show-prefix")
        if head is None:
            return
        lines = head.decode("utf-8", "surrogateescape").split("\n")
        self._shallow = lines[0].strip() == "true"
        self._prefix = lines[1].strip() if len(lines) > 1 else ""
        log = _LOG + _BELOW_TOP if self._prefix else _LOG
        for name, args in (("log", log), ("status", _STATUS)):
            try:
                self._procs[name] = subprocess.Popen(
                    ["git", "-C", root, *args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=_env(),
                )
            except OSError:
                self.close()
                return

    @property
    def active(self) -> bool:
        return bool(self._procs)

    def _run(self, *args: str) -> bytes | None:
        try:
            proc = subprocess.run(
                ["git", "-C", self.root, *args],
                capture_output=True,
                timeout=GIT_TIMEOUT,
                check=False,
                env=_env(),
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout if proc.returncode == 0 else None

    def _output(self, name: str) -> bytes | None:
        proc = self._procs.pop(name, None)
        if proc is None:
            return None
        try:
            out, _ = proc.communicate(timeout=GIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None
        return out if proc.returncode == 0 else None

    def close(self) -> None:
        for proc in self._procs.values():
            proc.kill()
            proc.communicate()
        self._procs.clear()

    def history(self, owners: Iterable[str]) -> History | None:
        """Wait for git and attribute each changed path to the innermost owner holding it;
        ``owners`` are entry folders or agent-file paths relative to the library root."""
        if not self._procs:
            return None
        log = self._output("log")
        status = self._output("status")
        if log is None and status is None:
            return None
        keys = set(owners)
        history = History(shallow=self._shallow)
        for chunk in (log or b"").split(b"\x1e")[1:]:
            stamp, _, names = chunk.partition(b"\0")
            try:
                when = float(stamp)
            except ValueError:
                continue
            touched = {_owner(os.fsdecode(raw), keys) for raw in names.lstrip(b"\n").split(b"\0")}
            touched.discard(None)
            for key in touched:
                assert key is not None
                history.newest.setdefault(key, when)  # the log runs newest first
                history.oldest[key] = when
        for record in (status or b"").split(b"\0"):
            if len(record) > 3:
                path = os.fsdecode(record[3:])
                if self._prefix and path.startswith(self._prefix):
                    path = path[len(self._prefix) :]
                owner = _owner(path, keys)
                if owner is not None:
                    history.dirty.setdefault(owner, []).append(path)
        return history


def _env() -> dict[str, str]:
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def _owner(path: str, keys: set[str]) -> str | None:
    if not path:
        return None
    if path in keys:
        return path
    probe = posixpath.dirname(path)
    while probe:
        if probe in keys:
            return probe
        probe = posixpath.dirname(probe)
    return "" if "" in keys else None


def entry_dates(
    history: History, key: str, mtime_of: Callable[[str], float | None]
) -> tuple[float, float] | None:
    """(created, updated) for one entry; uncommitted files count from their modification
    time (now, for a deletion not yet committed)."""
    created = history.oldest.get(key)
    updated = history.newest.get(key)
    for path in history.dirty.get(key, ()):
        mtime = mtime_of(path)
        when = mtime if mtime is not None else time.time()
        updated = when if updated is None else max(updated, when)
        created = when if created is None else min(created, when)
    if created is None or updated is None:
        return None
    return created, updated
