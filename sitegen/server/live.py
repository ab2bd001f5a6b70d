"""The live index: one loaded generation of the Parquet index, swapped whole when a build
switches the index pointer (:mod:`sitegen.generations`).

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
from pathlib import Path
from typing import Any

from sitegen import generations
from sitegen.config import INDEX_DIR
from sitegen.embedder import Embedder
from sitegen.library import Library
from sitegen.metastore import KINDS, MetaStore, MetaStoreError
from sitegen.search import check_compatible

log = logging.getLogger("sitegen.server")


@dataclass(frozen=True)
class IndexLocation:
    """Where an index folder is: its filesystem, path and how messages name it."""

    fs: Any
    path: str
    display: str

    @classmethod
    def for_library(cls, library: Library) -> IndexLocation:
        return cls(library.fs, library.path(INDEX_DIR), library.display(INDEX_DIR))

    @classmethod
    def for_site(cls, site_dir: str | Path) -> IndexLocation | None:
        """The index a built site carries, if it carries one."""
        import fsspec

        folder = Path(site_dir) / INDEX_DIR
        if not (folder / generations.POINTER).exists() and not folder.is_dir():
            return None
        return cls(fsspec.filesystem("file"), str(folder), str(folder))


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
    """The current index generation, reloaded when its pointer moves.

    It reads `index/` of `location` (a library, or the served site, which carries the index
    generation its pages were built from: pages and API then switch together). Each poll
    compares the pointer's bytes; a new generation is loaded whole before it is swapped in.
    """

    def __init__(
        self,
        library: Library,
        embedder: Embedder,
        *,
        poll_seconds: float = 0.5,
        location: IndexLocation | None = None,
    ):
        self.library = library
        self.embedder = embedder
        self.poll_seconds = poll_seconds
        self.location = location or IndexLocation.for_library(library)
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.refresh()

    def _signature(self) -> tuple[Any, ...]:
        return generations.signature(self.location.fs, self.location.path)

    def refresh(self) -> bool:
        """Load the index if its pointer moved; keep serving the old one if loading fails."""
        signature = self._signature()
        current = self._current
        if current is not None and current.signature == signature:
            return False
        try:
            store = MetaStore.open(
                self.location.fs, self.location.path, location=self.location.display
            )
        except MetaStoreError as exc:
            # An unusable index: /healthz says so; the last good generation keeps serving.
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
                    self.last_error or f"no index at {self.location.display}; "
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
