"""The live index: one loaded snapshot of the Parquet index, swapped whole when a build
replaces it.

Each request pins the snapshot it started with, so no response mixes old and new entries, and a
snapshot is closed only when its last request is done. How the index is found and loaded is
:meth:`LiveIndex.refresh`'s job alone, so a new storage layout changes this module only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sitegen.embedder import Embedder
from sitegen.indexer import open_store
from sitegen.library import Library
from sitegen.metastore import KINDS, MetaStore, MetaStoreError
from sitegen.search import check_compatible

log = logging.getLogger("sitegen.server")


@dataclass
class Snapshot:
    """One loaded index, shared by the requests that started while it was current."""

    store: MetaStore
    signature: tuple[Any, ...]
    build: str
    counts: dict[str, int]
    refs: int = 0
    retired: bool = False
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self) -> None:
        with self.lock:
            self.refs -= 1
        self._close_if_done()

    def retire(self) -> None:
        """No new request will pin this snapshot; close it once the last one is done."""
        with self.lock:
            self.retired = True
        self._close_if_done()

    def _close_if_done(self) -> None:
        with self.lock:
            close = self.retired and self.refs == 0 and not self.closed
            if close:
                self.closed = True
        if close:
            self.store.engine.close()


class LiveIndex:
    """The current index snapshot, reloaded atomically when the files change on disk."""

    def __init__(self, library: Library, embedder: Embedder, *, poll_seconds: float = 0.5):
        self.library = library
        self.embedder = embedder
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.refresh()

    def _signature(self) -> tuple[Any, ...]:
        parts: list[Any] = []
        for kind in KINDS:
            path = self.library.path("index", f"{kind}.parquet")
            try:
                info = self.library.fs.info(path)
            except (FileNotFoundError, OSError):
                parts.append(None)
                continue
            parts.append(tuple(info.get(k) for k in ("size", "mtime", "ino", "created")))
        return tuple(parts)

    def refresh(self) -> bool:
        """Load the index if its files changed; keep serving the old one if loading fails."""
        signature = self._signature()
        current = self._current
        if current is not None and current.signature == signature:
            return False
        try:
            store = open_store(self.library, writable=False)
        except MetaStoreError as exc:
            # A build may be swapping the files right now; the next poll will see them whole.
            self.last_error = str(exc)
            return False
        try:
            check_compatible(store, self.embedder)
        except MetaStoreError as exc:
            store.engine.close()
            self.last_error = str(exc)
            return False
        counts = {kind: len(store.etags(kind)) for kind in KINDS}
        snapshot = Snapshot(store, signature, store.info.build if store.info else "", counts)
        with self._lock:
            old, self._current = self._current, snapshot
        self.last_error = None
        if old is not None:
            old.retire()
        log.info("index loaded: build %s, %s", snapshot.build, counts)
        return True

    @contextmanager
    def acquire(self) -> Iterator[Snapshot]:
        """Pin the current snapshot for the duration of one request."""
        with self._lock:
            snapshot = self._current
            if snapshot is None:
                raise MetaStoreError(
                    self.last_error or f"no index at {self.library.display('index')}; "
                    "run `sitegen index`"
                )
            with snapshot.lock:
                snapshot.refs += 1
        try:
            yield snapshot
        finally:
            snapshot.release()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll, name="index-watch", daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # pragma: no cover - keep serving whatever happens
                log.exception("index reload failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            current.retire()
