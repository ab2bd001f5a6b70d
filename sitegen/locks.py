"""One writer at a time: an OS file lock (the `filelock` package) per index folder and per --out.

The kernel drops a lock when its process dies, however it dies, so there is no stale lock to
take over and no race between two runs that both find one (the hand-written pid lock had
both). Lock files live in a private folder of the system's temp directory, named by a hash of
what they protect (the resolved path, or the URL of an object store), so nothing is ever
written into the library or the site for the lock's sake. On an object store the lock keeps
out other runs on the same machine only; the index pointer keeps readers safe regardless.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator

import filelock

from sitegen.errors import SitegenError

DEFAULT_WAIT_SECONDS = 900.0


def wait_seconds() -> float:
    """How long a run waits for another one's lock ($SITEGEN_LOCK_TIMEOUT, default 15 min)."""
    try:
        return float(os.environ.get("SITEGEN_LOCK_TIMEOUT", DEFAULT_WAIT_SECONDS))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


class LockBusy(SitegenError):
    """Another sitegen run kept the lock for longer than we were willing to wait."""


def lock_dir() -> str:
    folder = os.path.join(tempfile.gettempdir(), f"sitegen-locks-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def lock_path(target: str) -> str:
    """The lock file for `target`: a local path (resolved) or a URL."""
    key = target if "://" in target else os.path.realpath(target)
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", key.rstrip("/").rsplit("/", 1)[-1])[:40]
    return os.path.join(lock_dir(), f"{label}-{digest}.lock")


@contextlib.contextmanager
def exclusive(
    target: str, *, what: str, wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the lock on `target` (`what` names it in messages); wait if another run has it."""
    lock = filelock.FileLock(lock_path(target), is_singleton=True)
    try:
        lock.acquire(blocking=False)
    except filelock.Timeout:
        if wait is not None:
            wait(f"waiting for another sitegen run to finish writing {what}")
        limit = wait_seconds()
        try:
            lock.acquire(timeout=limit)
        except filelock.Timeout as exc:
            raise LockBusy(
                f"{what}: another sitegen run has been writing it for over "
                f"{limit:.0f} s; try again later"
            ) from exc
    try:
        yield
    finally:
        lock.release()
