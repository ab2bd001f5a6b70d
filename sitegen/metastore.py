"""The Meta Store: entry metadata and embeddings in DuckDB, persisted as Parquet in `index/`.

As in the seed design, a Bridge: :class:`DuckDBEngine` owns the connection, bootstrapping
from Parquet and the atomic export; :class:`MetaStore` is the session logic (upsert, remove,
get, list, search, transactions) and talks to the engine only through its small interface,
so another engine (Postgres + pgvector, say) could slot in.

The index is a series of generations (:mod:`sitegen.generations`): each export writes a new
generation folder and then switches `index/current.json` to it in one atomic step, so a
reader sees one whole generation. Each Parquet file also carries key-value metadata (schema,
model fingerprint, build id) that must agree with the pointer. What is read is validated:
types, NULLs, duplicate names, NaN/zero vectors, digests; any fault is a MetaStoreError
naming the file, and a writer repairs it by rebuilding from the library.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
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

from sitegen import generations
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
from sitegen.generations import GenerationError, GenerationUnreachable, Pointer

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
    """The index cannot be read or written; the message names the file and the fault."""


class NoIndexError(MetaStoreError):
    """There is no index yet where one was expected."""


class IndexUnreachableError(MetaStoreError):
    """The index's location cannot be reached at all (exit 2: the library cannot be used)."""

    exit_code = 2


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
    def write_generation(self, info: IndexInfo) -> Pointer: ...
    def switch(self, pointer: Pointer) -> None: ...
    def close(self) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class DuckDBEngine:
    """In-memory DuckDB, bootstrapped from one index generation and exported as a new one.

    `pointer` opens that generation rather than the current one (a build reads the generation
    it has written but not yet switched to); `ignore_existing` starts empty (a writer repairing
    an unusable index rebuilds it from the library).
    """

    def __init__(
        self,
        fs: fsspec.AbstractFileSystem,
        index_dir: str,
        *,
        read_only: bool = False,
        pointer: Pointer | None = None,
        ignore_existing: bool = False,
    ) -> None:
        self.fs = fs
        self.index_dir = index_dir.rstrip("/")
        # Read-only tables skip the primary-key index: loading is ~4x faster, which is most
        # of a cold `sitegen match`. Names are unique anyway: validation refuses duplicates.
        self.read_only = read_only
        self.upgraded = False  # loaded from an older schema: every row must be rewritten
        self.pointer = pointer  # the generation loaded (None: a legacy flat index, or none)
        self.layout: str | None = None  # "generation" or "legacy" once bootstrapped
        self._given = pointer
        self._ignore_existing = ignore_existing
        self.con = duckdb.connect(":memory:")
        self._local = generations.is_local(fs)
        if not self._local:
            # DuckDB reaches the library's storage through fsspec: no downloaded extensions.
            self.con.register_filesystem(fs)
        self._create_tables(primary_key=not read_only)

    def _create_tables(self, *, primary_key: bool) -> None:
        for kind in KINDS:
            ddl = ", ".join(
                f"{name} {type_ if primary_key else type_.replace(' PRIMARY KEY', '')}"
                for name, type_ in COLUMNS
            )
            self.con.execute(f"DROP TABLE IF EXISTS {kind}")
            self.con.execute(f"CREATE TABLE {kind} ({ddl})")

    # -- paths --------------------------------------------------------------------------

    def file_path(self, kind: str) -> str:
        """Where a legacy (flat) index keeps a kind's file."""
        return posixpath.join(self.index_dir, f"{kind}.parquet")

    def _duck_path(self, path: str) -> str:
        """How DuckDB names a path of our filesystem."""
        return path if self._local else self.fs.unstrip_protocol(path)

    def _where(self, name: str) -> str:
        return posixpath.join(self.index_dir, name)

    # -- bootstrap ----------------------------------------------------------------------

    def bootstrap(self) -> IndexInfo | None:
        """Load the current generation (or a legacy flat index); None when there is none.

        Every fault is a MetaStoreError naming the file and the fault. A file that vanished
        or changed under us is retried once the pointer has moved (a writer switched it).
        """
        if self._ignore_existing:
            return None
        if self._given is not None:
            return self._load_generation(self._given)
        last: MetaStoreError | None = None
        for _attempt in range(3):
            pointer = self._read_pointer()
            if pointer is None:
                return self._bootstrap_legacy()
            try:
                return self._load_generation(pointer)
            except MetaStoreError as exc:
                last = exc
                if self._read_pointer() == pointer:
                    raise
                self._create_tables(primary_key=not self.read_only)  # the pointer moved
        assert last is not None
        raise last

    def _read_pointer(self) -> Pointer | None:
        try:
            found = generations.read_pointer(
                self.fs, self.index_dir, self._where(generations.POINTER)
            )
            if found is None and self.fs.isfile(self.index_dir):
                raise MetaStoreError(f"{self.index_dir}: a file where the index folder should be")
            return found
        except GenerationUnreachable as exc:
            raise IndexUnreachableError(str(exc)) from exc
        except GenerationError as exc:
            raise MetaStoreError(str(exc)) from exc
        except MetaStoreError:
            raise
        except Exception as exc:  # a remote filesystem's transport error: one line
            raise IndexUnreachableError(
                f"{self.index_dir}: cannot reach the index ({_first_line(exc)})"
            ) from exc

    def _load_generation(self, pointer: Pointer) -> IndexInfo:
        for kind in KINDS:
            path = self._where(pointer.files[kind])
            blob = self._checked_blob(path, pointer.sha256[kind])
            self._load(kind, path, blob=blob, expect=pointer)
        self._finish_load()
        self.pointer, self.layout = pointer, "generation"
        return IndexInfo(pointer.schema, pointer.fingerprint, pointer.build, pointer.written)

    def _checked_blob(self, path: str, digest: str) -> bytes | None:
        """Check a generation file against the pointer's digest; its bytes when not local
        (they are loaded from memory then, one download instead of two)."""
        pointer_name = generations.POINTER
        try:
            if self.fs.isdir(path):
                raise MetaStoreError(f"{path}: a folder where an index file should be")
            if self._local:
                found, blob = generations.sha256_of(self.fs, path), None
            else:
                blob = bytes(self.fs.cat_file(path))
                found = hashlib.sha256(blob).hexdigest()
        except FileNotFoundError as exc:
            raise MetaStoreError(
                f"{path}: missing (named by {pointer_name}; the index is incomplete)"
            ) from exc
        except OSError as exc:
            raise MetaStoreError(f"{path}: cannot read the index file ({exc})") from exc
        if found != digest:
            raise MetaStoreError(
                f"{path}: sha256 differs from {pointer_name} (the file was changed or cut short)"
            )
        return blob

    def _bootstrap_legacy(self) -> IndexInfo | None:
        """A flat index of earlier versions: both files, one build; `index` migrates it."""
        infos: list[IndexInfo] = []
        for kind in KINDS:
            path = self.file_path(kind)
            try:
                present = self.fs.exists(path)
            except OSError:
                present = False
            if present:
                if self.fs.isdir(path):
                    raise MetaStoreError(f"{path}: a folder where an index file should be")
                infos.append(self._load(kind, path))
        if not infos:
            return None
        builds = {i.build for i in infos}
        if len(infos) != len(KINDS) or len(builds) != 1:
            raise MetaStoreError(
                f"{self.index_dir}: index files are from different builds "
                "(a write was interrupted); run `sitegen index`"
            )
        fingerprints = {i.fingerprint for i in infos}
        if len(fingerprints) != 1:
            raise MetaStoreError(
                f"{self.file_path(KINDS[-1])}: written with another model than "
                f"{self.file_path(KINDS[0])}; run `sitegen index`"
            )
        self._finish_load()
        self.layout = "legacy"
        return infos[0]

    def _load(
        self, kind: str, path: str, *, blob: bytes | None = None, expect: Pointer | None = None
    ) -> IndexInfo:
        kv, relation, params = self._open_parquet(kind, path, blob)
        schema = kv.get(META_SCHEMA)
        if schema is None:
            raise MetaStoreError(f"{path}: not a sitegen index (foreign Parquet file)")
        info = IndexInfo(
            schema=schema,
            fingerprint=kv.get(META_FINGERPRINT, ""),
            build=kv.get(META_BUILD, ""),
            written=kv.get(META_WRITTEN, ""),
        )
        if expect is not None:
            _check_against_pointer(path, info, expect)
        columns = ", ".join(COLUMN_NAMES)
        if schema != SCHEMA_VERSION:
            if schema not in UPGRADABLE_SCHEMAS:
                raise MetaStoreError(
                    f"{path}: index schema {schema} is not {SCHEMA_VERSION} (written by "
                    "another sitegen version); run `sitegen index --full`"
                )
            if self.read_only:
                raise StaleSchemaError(
                    f"{path}: index schema {schema} is older than {SCHEMA_VERSION}; "
                    "run `sitegen index` to upgrade it"
                )
            columns = self._upgrade_columns(kind, path, relation, params)
        else:
            self._check_types(path, relation, params)
        try:
            self.con.execute(f"DROP TABLE {kind}")
            self.con.execute(f"CREATE TABLE {kind} AS SELECT {_CASTS} FROM ("
                             f"SELECT {columns} FROM {relation})", params)
        except duckdb.Error as exc:
            raise MetaStoreError(f"{path}: corrupt index file ({_first_line(exc)})") from exc
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister(f"_incoming_{kind}")
        try:
            _check_values(self.con, kind, path)
        except duckdb.Error as exc:
            raise MetaStoreError(f"{path}: corrupt index file ({_first_line(exc)})") from exc
        return info

    def _open_parquet(
        self, kind: str, path: str, blob: bytes | None
    ) -> tuple[dict[str, str], str, list[Any]]:
        """The file's key-value metadata and a relation (with parameters) to read it."""
        if blob is not None:
            return self._load_via_arrow(kind, path, blob), f"_incoming_{kind}", []
        source = self._duck_path(path)
        try:
            kv = {
                bytes(k).decode(): bytes(v).decode()
                for k, v in self.con.execute(
                    "SELECT key, value FROM parquet_kv_metadata(?)", [source]
                ).fetchall()
            }
        except duckdb.NotImplementedException:
            # Some fsspec filesystems (HTTP, for a published site) lack calls DuckDB's bridge
            # needs; read the file through fsspec and hand DuckDB an Arrow table instead.
            return self._load_via_arrow(kind, path, None), f"_incoming_{kind}", []
        except (duckdb.Error, UnicodeDecodeError) as exc:
            reason = _first_line(exc)
            raise MetaStoreError(f"{path}: not a readable Parquet file ({reason})") from exc
        return kv, "read_parquet(?)", [source]

    def _check_types(self, path: str, relation: str, params: list[Any]) -> None:
        """Every column present with its type: a `name` of integers is a fault, not a cast."""
        try:
            found = {
                row[0]: row[1]
                for row in self.con.execute(
                    f"DESCRIBE SELECT * FROM {relation}", params
                ).fetchall()
            }
        except duckdb.Error as exc:
            raise MetaStoreError(f"{path}: corrupt index file ({_first_line(exc)})") from exc
        for name, type_ in COLUMNS:
            want = _base_type(type_)
            have = found.get(name)
            if have is None:
                raise MetaStoreError(f"{path}: column {name!r} is missing")
            if have != want and not (name == "embedding" and have == "FLOAT[]"):
                raise MetaStoreError(f"{path}: column {name!r} is {have}, not {want}")

    def _upgrade_columns(self, kind: str, path: str, relation: str, params: list[Any]) -> str:
        """A select list that reads an older file, filling in the columns it lacks."""
        try:
            cursor = self.con.execute(f"SELECT * FROM {relation} LIMIT 0", params)
        except duckdb.Error as exc:
            raise MetaStoreError(f"{path}: corrupt index file ({_first_line(exc)})") from exc
        present = {d[0] for d in cursor.description or ()}
        self.upgraded = True
        return ", ".join(
            name if name in present else f"{COLUMN_DEFAULTS[name].format(kind=kind)} AS {name}"
            for name in COLUMN_NAMES
        )

    def _load_via_arrow(self, kind: str, path: str, blob: bytes | None) -> dict[str, str]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            data = blob if blob is not None else self.fs.cat_file(path)
            table = pq.read_table(pa.BufferReader(data))
            kv = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise MetaStoreError(
                f"{path}: not a readable Parquet file ({_first_line(exc)})"
            ) from exc
        self.con.register(f"_incoming_{kind}", table)
        return kv

    def _finish_load(self) -> None:
        """Writers get their primary keys back once the (validated) rows are in."""
        if self.read_only:
            return
        for kind in KINDS:
            ddl = ", ".join(f"{name} {type_}" for name, type_ in COLUMNS)
            self.con.execute(f"CREATE TABLE _keyed_{kind} ({ddl})")
            self.con.execute(f"INSERT INTO _keyed_{kind} SELECT * FROM {kind}")
            self.con.execute(f"DROP TABLE {kind}")
            self.con.execute(f"ALTER TABLE _keyed_{kind} RENAME TO {kind}")

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

    def write_generation(self, info: IndexInfo) -> Pointer:
        """Export every table into a new generation folder, durable but not yet current.

        Nothing references the folder until :meth:`switch`; on any failure it is removed here
        (or, after a kill, by the next writer's sweep), and the current index is untouched.
        """
        kv = {
            META_SCHEMA: info.schema,
            META_FINGERPRINT: info.fingerprint,
            META_BUILD: info.build,
            META_WRITTEN: info.written,
        }
        kv_sql = ", ".join(f"'{k}': '{_sql_quote(v)}'" for k, v in kv.items())
        folder = self._where(generations.generation_name(info.build))
        paths = {kind: self._where(generations.file_rel(info.build, kind)) for kind in KINDS}
        try:
            if self.fs.exists(self.index_dir) and not self.fs.isdir(self.index_dir):
                self.fs.rm(self.index_dir)  # a file where the index folder belongs: repair
            self.fs.makedirs(folder, exist_ok=True)
            for kind in KINDS:
                self.con.execute(
                    f"COPY (SELECT {', '.join(COLUMN_NAMES)} FROM {kind} ORDER BY name) "
                    f"TO '{_sql_quote(self._duck_path(paths[kind]))}' "
                    f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv_sql}}})"
                )
            generations.make_durable(self.fs, paths.values())
            digests = {kind: generations.sha256_of(self.fs, paths[kind]) for kind in KINDS}
        except Exception as exc:
            with contextlib.suppress(Exception):
                self.fs.rm(folder, recursive=True)
            raise MetaStoreError(
                f"{self.index_dir}: could not write the index ({_first_line(exc)}); "
                "the previous index is unchanged"
            ) from exc
        current = self.pointer.generation if self.pointer is not None else None
        return generations.make_pointer(
            build=info.build,
            schema=info.schema,
            fingerprint=info.fingerprint,
            written=info.written,
            digests=digests,
            previous=current,
        )

    def switch(self, pointer: Pointer) -> None:
        switch_generation(self.fs, self.index_dir, pointer)
        self.pointer, self.layout = pointer, "generation"

    def persist(self, info: IndexInfo) -> None:
        """Write a new generation and make it current; on failure the old one stays."""
        self.switch(self.write_generation(info))

    def close(self) -> None:
        self.con.close()


def switch_generation(fs: fsspec.AbstractFileSystem, index_dir: str, pointer: Pointer) -> None:
    """Make a written generation current, then sweep what no reader needs any more: every
    generation but this one and the one it replaced, leftovers of dead runs, legacy files."""
    index_dir = index_dir.rstrip("/")
    try:
        generations.switch(fs, index_dir, pointer)
    except Exception as exc:
        raise MetaStoreError(
            f"{index_dir}: could not switch to the new index ({_first_line(exc)}); "
            "the previous index is unchanged"
        ) from exc
    keep = {pointer.generation} | ({pointer.previous} if pointer.previous else set())
    with contextlib.suppress(OSError):
        generations.sweep(fs, index_dir, keep)


def discard_generation(
    fs: fsspec.AbstractFileSystem, index_dir: str, pointer: Pointer
) -> None:
    """Remove a written generation that will never be switched to (its build failed)."""
    with contextlib.suppress(OSError):
        fs.rm(posixpath.join(index_dir.rstrip("/"), pointer.generation), recursive=True)


def sweep_index(fs: fsspec.AbstractFileSystem, index_dir: str) -> list[str]:
    """A writer's first step (under the lock): remove generations and temp files that no
    pointer names (a dead run's), keeping the current and previous generations."""
    index_dir = index_dir.rstrip("/")
    try:
        pointer = generations.read_pointer(fs, index_dir, index_dir)
    except GenerationError:
        return []  # an unusable pointer: the repair writes a new one, then sweeps
    if pointer is None:
        keep: set[str] = set()
    else:
        keep = {pointer.generation} | ({pointer.previous} if pointer.previous else set())
    try:
        return generations.sweep(fs, index_dir, keep)
    except OSError:
        return []


def _base_type(type_: str) -> str:
    return type_.split(" PRIMARY")[0].split(" NOT NULL")[0]


def _check_against_pointer(path: str, info: IndexInfo, expect: Pointer) -> None:
    """A file of a generation must say what the pointer says (build, model, schema)."""
    if info.build != expect.build:
        raise MetaStoreError(
            f"{path}: from build {info.build or 'unknown'}, not {expect.build} as "
            f"{generations.POINTER} says (files from different builds)"
        )
    if info.fingerprint != expect.fingerprint:
        raise MetaStoreError(
            f"{path}: written with model {info.fingerprint or 'unknown'}, not "
            f"{expect.fingerprint or 'unknown'} as {generations.POINTER} says (foreign fingerprint)"
        )
    if info.schema != expect.schema:
        raise MetaStoreError(
            f"{path}: schema {info.schema}, not {expect.schema} as {generations.POINTER} says"
        )


_NOT_NULL = tuple(name for name, type_ in COLUMNS if "NOT NULL" in type_ or "PRIMARY" in type_)


def _check_values(con: duckdb.DuckDBPyConnection, kind: str, path: str) -> None:
    """Rows a search would silently get wrong: NULLs, duplicate names, unusable vectors."""
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c} IS NULL)" for c in _NOT_NULL)
        + f" FROM {kind}"
    ).fetchone()
    assert counts is not None
    for column, count in zip(_NOT_NULL, counts, strict=True):
        if count:
            raise MetaStoreError(f"{path}: {count} row(s) with a NULL {column}")
    duplicate = con.execute(
        f"SELECT name, count(*) FROM {kind} GROUP BY name HAVING count(*) > 1 "
        "ORDER BY name LIMIT 1"
    ).fetchone()
    if duplicate is not None:
        raise MetaStoreError(f"{path}: duplicate name {duplicate[0]!r} ({duplicate[1]} rows)")
    bad = con.execute(
        "SELECT name, fault, count(*) OVER () FROM ("
        "  SELECT name, CASE"
        f"    WHEN len(v) <> {DIM} THEN 'an embedding of ' || len(v) || ' values, not {DIM}'"
        "    WHEN list_count(v) < len(v) THEN 'NULL values in its embedding'"
        "    WHEN NOT isfinite(list_sum(v)) THEN 'NaN or infinite values in its embedding'"
        "    WHEN list_min(v) = 0 AND list_max(v) = 0 THEN 'an all-zero embedding'"
        "  END AS fault"
        f"  FROM (SELECT name, embedding::FLOAT[] AS v FROM {kind})"
        ") WHERE fault IS NOT NULL ORDER BY name LIMIT 1"
    ).fetchone()
    if bad is not None:
        others = f" (and {bad[2] - 1} more)" if bad[2] > 1 else ""
        raise MetaStoreError(f"{path}: entry {bad[0]!r} has {bad[1]}{others}")


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


def _sql_quote(text: str) -> str:
    return text.replace("'", "''")


def _first_line(exc: BaseException) -> str:
    """One line for a message: the first, or the last of an embedded Python traceback (what
    DuckDB relays from an fsspec filesystem that failed)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]

