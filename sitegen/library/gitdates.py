"""Entry dates from git history: one `git log` pass for the whole library, not one per entry.

When the library is a local git checkout, an entry was *created* by the first commit that
touched its folder (or agent file) and *updated* by the last one, deletions included.
Uncommitted changes (modified, staged or untracked files) count from their file times. The
git command line is used rather than a Python git library: it is present wherever a
checkout is, and its log walk (in C) is far faster than diffing trees commit by commit in
Python (dulwich) or through libgit2 bindings (pygit2, a binary dependency).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

GIT_TIMEOUT = 120


@dataclass
class History:
    """What git says about the paths under one folder (paths relative to it)."""

    newest: dict[str, float] = field(default_factory=dict)  # key -> latest author time
    oldest: dict[str, float] = field(default_factory=dict)  # key -> earliest author time
    dirty: dict[str, list[str]] = field(default_factory=dict)  # owner -> uncommitted paths
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


def _git(root: str, *args: str) -> bytes | None:
    try:
        proc = subprocess.run(
            ["git", "-C", root, *args],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def read_history(root: str, owners: Iterable[str]) -> History | None:
    """Walk the log once; ``owners`` are entry keys (folders or agent-file paths, relative to
    `root`), and each changed path counts for the innermost owner holding it."""
    if shutil.which("git") is None or find_checkout(root) is None:
        return None
    head = _git(root, "rev-parse", "--is-shallow-repository", "--show-prefix")
    if head is None:
        return None
    lines = head.decode("utf-8", "surrogateescape").split("\n")
    shallow = lines[0].strip() == "true"
    prefix = lines[1].strip() if len(lines) > 1 else ""
    log = _git(
        root,
        "log",
        "--format=%x1e%at",
        "--name-only",
        "--no-renames",
        "-z",
        "--relative",
        "--",
        ".",
    )
    if log is None:  # e.g. a repository without any commit yet
        log = b""
    keys = set(owners)
    history = History(shallow=shallow)
    for chunk in log.split(b"\x1e")[1:]:
        stamp, _, names = chunk.partition(b"\0")
        try:
            when = float(stamp)
        except ValueError:
            continue
        touched: set[str] = set()
        for raw in names.lstrip(b"\n").split(b"\0"):
            if raw:
                key = _owner(os.fsdecode(raw), keys)
                if key is not None:
                    touched.add(key)
        for key in touched:
            history.newest.setdefault(key, when)  # the log runs newest first
            history.oldest[key] = when
    status = _git(
        root, "status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all", "--", "."
    )
    for record in (status or b"").split(b"\0"):
        if len(record) > 3:
            path = os.fsdecode(record[3:])
            if prefix and path.startswith(prefix):
                path = path[len(prefix) :]
            owner = _owner(path, keys)
            if owner is not None:
                history.dirty.setdefault(owner, []).append(path)
    return history


def _owner(path: str, keys: set[str]) -> str | None:
    if path in keys:
        return path
    probe = posixpath.dirname(path)
    while probe:
        if probe in keys:
            return probe
        probe = posixpath.dirname(probe)
    return "" if "" in keys else None


def entry_dates(
    history: History,
    key: str,
    files: Mapping[str, float | None],
) -> tuple[float, float] | None:
    """(created, updated) for one entry; ``files`` maps its root-relative paths to mtimes.

    Uncommitted files count from their modification time (now, if unknown)."""
    import time

    created = history.oldest.get(key)
    updated = history.newest.get(key)
    for path in history.dirty.get(key, ()):
        mtime = files.get(path)
        when = mtime if mtime is not None else time.time()  # None: deleted, not committed
        updated = when if updated is None else max(updated, when)
        created = when if created is None else min(created, when)
    if created is None or updated is None:
        return None
    return created, updated
