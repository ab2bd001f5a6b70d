"""The session logic of the Bridge: upsert, remove, get, list, search and the commit of a
write session, over any :class:`~.engine.Engine` (today :class:`~.duckdb_engine.DuckDBEngine`)."""

from __future__ import annotations

import builtins
import posixpath
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import fsspec
import numpy as np

from sitegen import generations
from sitegen.entry import SCHEMA_VERSION, Record, from_row, to_row
from sitegen.generations import Pointer
from sitegen.metastore.duckdb_engine import DuckDBEngine
from sitegen.metastore.engine import KINDS, Engine, Identity, IndexInfo
from sitegen.metastore.errors import MetaStoreError, NoIndexError


@dataclass(frozen=True)
class Hit:
    """A search result: the record (without its vector) and its cosine distance."""

    record: Record
    distance: float


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class MetaStore:
    """A session on the meta store. Write sessions export a new generation when they close
    cleanly and switch the index to it, unless `defer_switch`: then the written generation is
    left in :attr:`pending` for the caller to switch once its own commit succeeded (a build
    switches after the site is published).

    Use as a context manager: leaving the block normally commits (for write sessions), an
    exception discards every change and leaves the current generation as it was.
    """

    def __init__(
        self, engine: Engine, *, writable: bool, location: str, defer_switch: bool = False
    ) -> None:
        self.engine = engine
        self.writable = writable
        self.location = location
        self.defer_switch = defer_switch
        self.pending: Pointer | None = None
        self.info = engine.bootstrap()
        self.fingerprint: str | None = self.info.fingerprint if self.info else None
        self._dirty = False
        self._names: dict[str, frozenset[str]] = {}

    @classmethod
    def open(
        cls,
        fs: fsspec.AbstractFileSystem,
        index_dir: str,
        *,
        writable: bool = False,
        location: str | None = None,
        pointer: Pointer | None = None,
        ignore_existing: bool = False,
        defer_switch: bool = False,
    ) -> MetaStore:
        """Open the current index (or the generation `pointer` names; or none at all with
        `ignore_existing`, to rebuild an unusable index from scratch)."""
        engine = DuckDBEngine(
            fs,
            index_dir,
            read_only=not writable,
            pointer=pointer,
            ignore_existing=ignore_existing,
        )
        try:
            return cls(
                engine,
                writable=writable,
                location=location or index_dir,
                defer_switch=defer_switch,
            )
        except BaseException:
            engine.close()
            raise

    def __enter__(self) -> MetaStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self.writable and self._dirty:
                self.commit()
        finally:
            self.engine.close()

    @property
    def exists(self) -> bool:
        """Whether an index was found on disk when the session opened."""
        return self.info is not None

    @property
    def layout(self) -> str | None:
        """"generation", "legacy" (a flat index of earlier versions) or None (no index)."""
        return getattr(self.engine, "layout", None)

    @property
    def upgraded(self) -> bool:
        """Whether the index was loaded from an older schema (rewrite every row, then)."""
        return bool(getattr(self.engine, "upgraded", False))

    @property
    def has_changes(self) -> bool:
        """Whether closing this session will export the tables."""
        return self._dirty

    def require_index(self) -> None:
        if self.info is None:
            raise NoIndexError(f"no index at {self.location}; run `sitegen index`")

    # -- session logic ------------------------------------------------------------------

    def etags(self, kind: str) -> dict[str, str]:
        return self.engine.etags(kind)

    def locations(self) -> builtins.list[tuple[str, str, str, str, str]]:
        """(kind, name, folder, definition_path, etag) of every entry, without building
        records: cheap enough for `match` to compare the library's file times with."""
        return [
            (k, r["name"], r["folder"], r["definition_path"], r["etag"])
            for k in KINDS
            for r in self.engine.rows(k, with_vectors=False)
        ]

    def index_files(self) -> builtins.list[str]:
        """The Parquet files this session was loaded from: the current generation's (or a
        legacy index's flat files); none without an index. `match` compares file times
        with them."""
        layout = getattr(self.engine, "layout", None)
        pointer: Pointer | None = getattr(self.engine, "pointer", None)
        index_dir = str(getattr(self.engine, "index_dir", ""))
        if layout == "generation" and pointer is not None:
            return [posixpath.join(index_dir, pointer.files[k]) for k in KINDS]
        if layout == "legacy":
            return [posixpath.join(index_dir, f"{k}.parquet") for k in KINDS]
        return []

    def has(self, kind: str, name: str) -> bool:
        return name in self.names(kind)

    def names(self, kind: str) -> frozenset[str]:
        """Entry names of one kind; read-only sessions compute them once (the index cannot
        change under them), so name lookups on the query path cost no scan."""
        if self.writable:
            return frozenset(self.engine.etags(kind))
        cached = self._names.get(kind)
        if cached is None:
            cached = self._names[kind] = frozenset(self.engine.etags(kind))
        return cached

    def get(self, kind: str, name: str, *, with_vector: bool = False) -> Record | None:
        row = self.engine.row(kind, name, with_vector=with_vector)
        return None if row is None else from_row(kind, row)

    def list(
        self, kind: str | None = None, *, tag: str | None = None, with_vectors: bool = False
    ) -> builtins.list[Record]:
        kinds = KINDS if kind is None else (kind,)
        records = [
            from_row(k, row)
            for k in kinds
            for row in self.engine.rows(k, with_vectors=with_vectors)
        ]
        if tag is not None:
            records = [r for r in records if tag in r.all_tags]
        return records

    def search(
        self,
        vector: np.ndarray,
        *,
        kinds: Sequence[str] = KINDS,
        limit: int = 5,
        max_distance: float = 2.0,
    ) -> builtins.list[Hit]:
        return [
            Hit(from_row(kind, row), distance)
            for kind, row, distance in self.engine.nearest(kinds, vector, limit, max_distance)
        ]

    def upsert(self, records: Iterable[Record]) -> None:
        """Insert or replace records, keeping each existing entry's uuid.

        Dates follow the content: a record whose etag is unchanged keeps its stored dates
        (so `index --full` or a schema upgrade moves none); a new or changed one takes the
        dates the library gave it (git or file times, in ``date_created``/``date_updated``),
        else now. Creation never moves later than it was.
        """
        self._check_writable()
        now = _utcnow()
        by_kind: dict[str, list[Record]] = {}
        for record in records:
            by_kind.setdefault(record.kind, []).append(record)
        for kind, group in by_kind.items():
            existing = self.engine.identities(kind)
            rows = []
            for record in group:
                if record.embedding is None:
                    raise ValueError(f"{kind}/{record.name}: a record needs its embedding")
                uuid_, created, updated = _dates(existing.get(record.name), record, now)
                rows.append(to_row(record, uuid=uuid_, date_created=created, date_updated=updated))
            self.engine.upsert(kind, rows)
            self._dirty = True

    def remove(self, kind: str, names: Iterable[str]) -> None:
        self._check_writable()
        names = list(names)
        if names:
            self.engine.delete(kind, names)
            self._dirty = True

    def set_fingerprint(self, fingerprint: str) -> None:
        self._check_writable()
        if fingerprint != self.fingerprint:
            self.fingerprint = fingerprint
            self._dirty = True

    def mark_dirty(self) -> None:
        """Force an export on close (e.g. to write an empty index for a new library)."""
        self._check_writable()
        self._dirty = True

    def commit(self) -> None:
        self._check_writable()
        info = IndexInfo(
            schema=SCHEMA_VERSION,
            fingerprint=self.fingerprint or "",
            build=generations.new_build_id(),
            written=_utcnow().isoformat(timespec="seconds") + "Z",
        )
        pointer = self.engine.write_generation(info)
        if self.defer_switch:
            self.pending = pointer
        else:
            self.engine.switch(pointer)
        self.info = info
        self._dirty = False

    def _check_writable(self) -> None:
        if not self.writable:
            raise MetaStoreError(f"{self.location}: this session is read-only")


def _dates(
    old: Identity | None, record: Record, now: datetime
) -> tuple[str, datetime, datetime]:
    """(uuid, created, updated) for a row about to be written; see MetaStore.upsert."""
    created = record.date_created or now
    updated = record.date_updated or now
    if old is None:
        return record.uuid or str(uuid.uuid4()), min(created, updated), updated
    if old.etag == record.etag:
        return old.uuid, old.created, old.updated
    return old.uuid, min(old.created, created, updated), updated

