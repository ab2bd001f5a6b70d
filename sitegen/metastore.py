"""The Meta Store: entry metadata and embeddings in DuckDB, persisted as Parquet in `index/`.

As in the seed design, a Bridge: :class:`DuckDBEngine` owns the connection, bootstrapping
from Parquet and the atomic export; :class:`MetaStore` is the session logic (upsert, remove,
get, list, search, transactions) and talks to the engine only through its small interface,
so another engine (Postgres + pgvector, say) could slot in.

Each Parquet file carries key-value metadata: the schema version, the embedding model's
fingerprint and a build id shared by both files of one export, so readers can tell a
consistent pair from a half-replaced one.
"""

from __future__ import annotations

import builtins
import posixpath
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol

import duckdb
import fsspec
import numpy as np

from sitegen.entry import (
    COLUMN_DEFAULTS,
    COLUMN_NAMES,
    COLUMNS,
    DIM,
    LIGHT_COLUMNS,
    SCHEMA_VERSION,
    Record,
    from_row,
    to_row,
)
from sitegen.entry import KINDS as _KINDS
from sitegen.errors import SitegenError

KINDS: tuple[str, ...] = _KINDS  # plain strings in the store's API

# Older schemas a write session upgrades in place (the indexer then rewrites every row).
UPGRADABLE_SCHEMAS = frozenset({"1", "2"})
META_SCHEMA = "sitegen.schema"
META_FINGERPRINT = "sitegen.fingerprint"
META_BUILD = "sitegen.build"
META_WRITTEN = "sitegen.written"
_CASTS = ", ".join(
    f"CAST({name} AS {type_.split(' PRIMARY')[0].split(' NOT NULL')[0]}) AS {name}"
    for name, type_ in COLUMNS
)

__all__ = ["COLUMN_NAMES", "COLUMNS", "KINDS", "SCHEMA_VERSION", "Record"]


class MetaStoreError(SitegenError):
    """The index cannot be read or written; the message names the file and what to do."""


class NoIndexError(MetaStoreError):
    """There is no index yet where one was expected."""


class StaleSchemaError(MetaStoreError):
    """The index was written by an older sitegen; a write session upgrades it."""


@dataclass(frozen=True)
class Hit:
    """A search result: the record (without its vector) and its cosine distance."""

    record: Record
    distance: float


@dataclass(frozen=True)
class Identity:
    """What survives a rewrite of a row: its uuid and dates, judged by its etag."""

    uuid: str
    created: datetime
    updated: datetime
    etag: str


@dataclass(frozen=True)
class IndexInfo:
    """What the key-value metadata of an index says."""

    schema: str
    fingerprint: str
    build: str
    written: str


class Engine(Protocol):
    """What the session logic needs from a storage engine."""

    def bootstrap(self) -> IndexInfo | None: ...
    def rows(self, kind: str, *, with_vectors: bool) -> list[dict[str, Any]]: ...
    def etags(self, kind: str) -> dict[str, str]: ...
    def identities(self, kind: str) -> dict[str, Identity]: ...
    def row(self, kind: str, name: str, *, with_vector: bool) -> dict[str, Any] | None: ...
    def upsert(self, kind: str, rows: Sequence[Mapping[str, Any]]) -> None: ...
    def delete(self, kind: str, names: Sequence[str]) -> None: ...
    def nearest(
        self, kinds: Sequence[str], vector: np.ndarray, limit: int, max_distance: float
    ) -> list[tuple[str, dict[str, Any], float]]: ...
    def persist(self, info: IndexInfo) -> None: ...
    def close(self) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class DuckDBEngine:
    """In-memory DuckDB, bootstrapped from and exported to Parquet through fsspec."""

    def __init__(
        self, fs: fsspec.AbstractFileSystem, index_dir: str, *, read_only: bool = False
    ) -> None:
        self.fs = fs
        self.index_dir = index_dir.rstrip("/")
        # Read-only tables skip the primary-key index: loading is ~4x faster, which is most
        # of a cold `sitegen match`. Names are unique anyway: writers enforce the key.
        self.read_only = read_only
        self.upgraded = False  # loaded from an older schema: every row must be rewritten
        self.con = duckdb.connect(":memory:")
        self._local = "file" in ((fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol)
        if not self._local:
            # DuckDB reaches the library's storage through fsspec: no downloaded extensions.
            self.con.register_filesystem(fs)
        for kind in KINDS:
            ddl = ", ".join(
                f"{name} {type_.replace(' PRIMARY KEY', '') if read_only else type_}"
                for name, type_ in COLUMNS
            )
            self.con.execute(f"CREATE TABLE {kind} ({ddl})")

    # -- paths --------------------------------------------------------------------------

    def file_path(self, kind: str) -> str:
        return posixpath.join(self.index_dir, f"{kind}.parquet")

    def _duck_path(self, path: str) -> str:
        """How DuckDB names a path of our filesystem."""
        return path if self._local else self.fs.unstrip_protocol(path)

    # -- bootstrap ----------------------------------------------------------------------

    def bootstrap(self) -> IndexInfo | None:
        infos: list[IndexInfo] = []
        for kind in KINDS:
            path = self.file_path(kind)
            if not self.fs.exists(path):
                continue
            infos.append(self._load(kind, path))
        if not infos:
            return None
        builds = {i.build for i in infos}
        if len(infos) != len(KINDS) or len(builds) != 1:
            raise MetaStoreError(
                f"{self.index_dir}: index files are from different builds "
                "(a write was interrupted); run `sitegen index --full`"
            )
        return infos[0]

    def _load(self, kind: str, path: str) -> IndexInfo:
        source = self._duck_path(path)
        try:
            kv = {
                bytes(k).decode(): bytes(v).decode()
                for k, v in self.con.execute(
                    "SELECT key, value FROM parquet_kv_metadata(?)", [source]
                ).fetchall()
            }
            relation, params = "read_parquet(?)", [source]
        except duckdb.NotImplementedException:
            # Some fsspec filesystems (HTTP, for a published site) lack calls DuckDB's bridge
            # needs; read the file through fsspec and hand DuckDB an Arrow table instead.
            kv, relation, params = self._load_via_arrow(kind, path), f"_incoming_{kind}", []
        except duckdb.Error as exc:
            reason = _first_line(exc)
            raise MetaStoreError(f"{path}: not a readable Parquet file ({reason})") from exc
        if kv.get(META_SCHEMA) is None:
            raise MetaStoreError(f"{path}: not a sitegen index (foreign Parquet file)")
        columns = ", ".join(COLUMN_NAMES)
        if kv[META_SCHEMA] != SCHEMA_VERSION:
            if kv[META_SCHEMA] not in UPGRADABLE_SCHEMAS:
                raise MetaStoreError(
                    f"{path}: index schema {kv[META_SCHEMA]} is not {SCHEMA_VERSION} (written by "
                    "another sitegen version); delete index/ and run `sitegen index`"
                )
            if self.read_only:
                raise StaleSchemaError(
                    f"{path}: index schema {kv[META_SCHEMA]} is older than {SCHEMA_VERSION}; "
                    "run `sitegen index` to upgrade it"
                )
            columns = self._upgrade_columns(kind, relation, params)
        try:
            if self.read_only:
                self.con.execute(f"DROP TABLE {kind}")
                self.con.execute(f"CREATE TABLE {kind} AS SELECT {_CASTS} FROM {relation}", params)
            else:
                self.con.execute(f"INSERT INTO {kind} SELECT {columns} FROM {relation}", params)
        except duckdb.Error as exc:
            raise MetaStoreError(f"{path}: corrupt index file ({_first_line(exc)})") from exc
        return IndexInfo(
            schema=kv[META_SCHEMA],
            fingerprint=kv.get(META_FINGERPRINT, ""),
            build=kv.get(META_BUILD, ""),
            written=kv.get(META_WRITTEN, ""),
        )

    def _upgrade_columns(self, kind: str, relation: str, params: list[Any]) -> str:
        """A select list that reads an older file, filling in the columns it lacks."""
        try:
            cursor = self.con.execute(f"SELECT * FROM {relation} LIMIT 0", params)
        except duckdb.Error as exc:
            raise MetaStoreError(f"{relation}: corrupt index file ({_first_line(exc)})") from exc
        present = {d[0] for d in cursor.description or ()}
        self.upgraded = True
        return ", ".join(
            name if name in present else COLUMN_DEFAULTS[name].format(kind=kind)
            for name in COLUMN_NAMES
        )

    def _load_via_arrow(self, kind: str, path: str) -> dict[str, str]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(pa.BufferReader(self.fs.cat_file(path)))
        except (OSError, pa.ArrowException) as exc:
            raise MetaStoreError(
                f"{path}: not a readable Parquet file ({_first_line(exc)})"
            ) from exc
        self.con.register(f"_incoming_{kind}", table)
        return {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}

    # -- reads --------------------------------------------------------------------------

    def rows(self, kind: str, *, with_vectors: bool) -> list[dict[str, Any]]:
        columns = COLUMN_NAMES if with_vectors else LIGHT_COLUMNS
        cursor = self.con.cursor()
        result = cursor.execute(f"SELECT {', '.join(columns)} FROM {kind} ORDER BY name")
        return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]

    def etags(self, kind: str) -> dict[str, str]:
        cursor = self.con.cursor()
        return dict(cursor.execute(f"SELECT name, etag FROM {kind}").fetchall())

    def identities(self, kind: str) -> dict[str, Identity]:
        cursor = self.con.cursor()
        rows = cursor.execute(
            f"SELECT name, uuid, date_created, date_updated, etag FROM {kind}"
        ).fetchall()
        return {row[0]: Identity(*row[1:]) for row in rows}

    def row(self, kind: str, name: str, *, with_vector: bool) -> dict[str, Any] | None:
        columns = COLUMN_NAMES if with_vector else LIGHT_COLUMNS
        cursor = self.con.cursor()
        found = cursor.execute(
            f"SELECT {', '.join(columns)} FROM {kind} WHERE name = ?", [name]
        ).fetchone()
        return None if found is None else dict(zip(columns, found, strict=True))

    def nearest(
        self, kinds: Sequence[str], vector: np.ndarray, limit: int, max_distance: float
    ) -> list[tuple[str, dict[str, Any], float]]:
        # Rank on (kind, rowid, distance) alone, then fetch the few winners' columns by rowid:
        # carrying every text column through the scan costs more than the distance math.
        union = " UNION ALL ".join(
            f"SELECT '{kind}' AS kind, rowid AS id, name, "
            f"array_cosine_distance(embedding, $vec::FLOAT[{DIM}]) AS distance FROM {kind}"
            for kind in kinds
        )
        # The distance cut is applied after the top-N: the same rows (the list is sorted), and
        # a WHERE on the computed distance makes DuckDB evaluate it twice (~2.5x slower).
        sql = (
            f"SELECT kind, id, name, distance FROM ({union}) "
            "ORDER BY distance, kind, name LIMIT $limit"
        )
        cursor = self.con.cursor()  # one cursor per call: safe across threads
        vec = vector.astype(np.float32).tolist()
        ranked = [
            row
            for row in cursor.execute(sql, {"vec": vec, "limit": limit}).fetchall()
            if row[3] <= max_distance
        ]
        columns = ", ".join(LIGHT_COLUMNS)
        details: dict[tuple[str, int], dict[str, Any]] = {}
        for kind in {row[0] for row in ranked}:
            ids = ", ".join(str(int(row[1])) for row in ranked if row[0] == kind)
            for found in cursor.execute(
                f"SELECT rowid, {columns} FROM {kind} WHERE rowid IN ({ids})"
            ).fetchall():
                details[(kind, int(found[0]))] = dict(zip(LIGHT_COLUMNS, found[1:], strict=True))
        return [(kind, details[(kind, int(rid))], float(d)) for kind, rid, _, d in ranked]

    # -- writes -------------------------------------------------------------------------

    def upsert(self, kind: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        # One columnar insert: executemany converts row by row and took ~30 s for 5,000
        # entries; an Arrow table goes in at once.
        import pyarrow as pa

        table = pa.table({c: [row[c] for row in rows] for c in COLUMN_NAMES})
        self.con.register("_upserts", table)
        try:
            self.con.execute(
                f"INSERT OR REPLACE INTO {kind} ({', '.join(COLUMN_NAMES)}) "
                f"SELECT {_CASTS} FROM _upserts"
            )
        finally:
            self.con.unregister("_upserts")

    def delete(self, kind: str, names: Sequence[str]) -> None:
        if names:
            self.con.execute(f"DELETE FROM {kind} WHERE list_contains(?, name)", [list(names)])

    def persist(self, info: IndexInfo) -> None:
        """Export every table, then swap the files in; on any failure the old files stay."""
        token = uuid.uuid4().hex[:12]
        kv = {
            META_SCHEMA: info.schema,
            META_FINGERPRINT: info.fingerprint,
            META_BUILD: info.build,
            META_WRITTEN: info.written,
        }
        kv_sql = ", ".join(f"'{k}': '{_sql_quote(v)}'" for k, v in kv.items())
        temps: dict[str, str] = {}
        backups: dict[str, str] = {}
        replaced: list[str] = []
        try:
            self.fs.makedirs(self.index_dir, exist_ok=True)
            for kind in KINDS:
                temp = posixpath.join(self.index_dir, f".{kind}.parquet.tmp-{token}")
                temps[kind] = temp
                self.con.execute(
                    f"COPY (SELECT {', '.join(COLUMN_NAMES)} FROM {kind} ORDER BY name) "
                    f"TO '{_sql_quote(self._duck_path(temp))}' "
                    f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv_sql}}})"
                )
            # Copies (not moves) of the old files, so the live path never goes missing: a
            # reader sees the old file or the new one, and a build-id mismatch between the
            # two files tells it to retry.
            for kind in KINDS:
                final = self.file_path(kind)
                if self.fs.exists(final):
                    backups[kind] = posixpath.join(self.index_dir, f".{kind}.parquet.bak-{token}")
                    self.fs.copy(final, backups[kind])
            for kind in KINDS:
                self.fs.mv(temps[kind], self.file_path(kind))
                del temps[kind]
                replaced.append(kind)
        except Exception as exc:
            self._rollback(temps, backups, replaced)
            raise MetaStoreError(
                f"{self.index_dir}: could not write the index ({_first_line(exc)}); "
                "the previous index is unchanged"
            ) from exc
        for backup in backups.values():
            _quiet_rm(self.fs, backup)

    def _rollback(
        self, temps: Mapping[str, str], backups: Mapping[str, str], replaced: Sequence[str]
    ) -> None:
        for temp in temps.values():
            _quiet_rm(self.fs, temp)
        for kind in replaced:
            if kind in backups:
                self.fs.mv(backups[kind], self.file_path(kind))
            else:
                _quiet_rm(self.fs, self.file_path(kind))
        for kind, backup in backups.items():
            if kind not in replaced:
                _quiet_rm(self.fs, backup)

    def close(self) -> None:
        self.con.close()


class MetaStore:
    """A session on the meta store. Write sessions export to Parquet when they close cleanly.

    Use as a context manager: leaving the block normally commits (for write sessions), an
    exception discards every change and leaves the files as they were.
    """

    def __init__(self, engine: Engine, *, writable: bool, location: str) -> None:
        self.engine = engine
        self.writable = writable
        self.location = location
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
    ) -> MetaStore:
        engine = DuckDBEngine(fs, index_dir, read_only=not writable)
        try:
            return cls(engine, writable=writable, location=location or index_dir)
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
            build=uuid.uuid4().hex,
            written=_utcnow().isoformat(timespec="seconds") + "Z",
        )
        self.engine.persist(info)
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


def _sql_quote(text: str) -> str:
    return text.replace("'", "''")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _quiet_rm(fs: fsspec.AbstractFileSystem, path: str) -> None:
    try:
        if fs.exists(path):
            fs.rm(path)
    except OSError:
        pass
