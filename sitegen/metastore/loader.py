"""Loading one index generation (or a legacy flat index of earlier versions) from Parquet into
DuckDB's tables, checking every file against the pointer's digest and validating what was read
(:mod:`.validate`). A file of an older schema is upgraded on the way in for a writer."""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
from typing import Any

import duckdb
import fsspec

from sitegen import generations
from sitegen.entry import COLUMN_DEFAULTS, COLUMN_NAMES, COLUMNS, SCHEMA_VERSION
from sitegen.generations import GenerationError, GenerationUnreachable, Pointer
from sitegen.metastore.engine import (
    KINDS,
    META_BUILD,
    META_FINGERPRINT,
    META_SCHEMA,
    META_WRITTEN,
    UPGRADABLE_SCHEMAS,
    IndexInfo,
)
from sitegen.metastore.errors import (
    IndexUnreachableError,
    MetaStoreError,
    StaleSchemaError,
    first_line,
)
from sitegen.metastore.tables import CASTS, duck_path
from sitegen.metastore.validate import check_against_pointer, check_types, check_values
from sitegen.storage import is_local, protocols


class GenerationLoader:
    """Fills a connection's (empty) tables from the index in `index_dir`.

    Read-only loads keep tables without a primary key (loading is ~4x faster, which is most of
    a cold `sitegen match`; validation refuses duplicate names anyway); a writer's tables get
    their keys back once the rows are in. :attr:`upgraded` says an older schema was read, so
    every row must be rewritten.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        fs: fsspec.AbstractFileSystem,
        index_dir: str,
        *,
        read_only: bool,
    ) -> None:
        self.con = con
        self.fs = fs
        self.index_dir = index_dir
        self.read_only = read_only
        self.upgraded = False
        self._local = is_local(fs)
        # Over HTTP a folder is whatever page the server answers (often a listing), which
        # fsspec takes for a file: "is the index folder a file?" has no answer there.
        self._folders_known = not {"http", "https"} & set(protocols(fs))

    def _where(self, name: str) -> str:
        return posixpath.join(self.index_dir, name)

    def file_path(self, kind: str) -> str:
        """Where a legacy (flat) index keeps a kind's file."""
        return self._where(f"{kind}.parquet")

    def read_pointer(self) -> Pointer | None:
        """The index's current generation; None when there is no pointer (a legacy index,
        or none at all)."""
        try:
            found = generations.read_pointer(
                self.fs, self.index_dir, self._where(generations.POINTER)
            )
            if found is None and self._folders_known and self.fs.isfile(self.index_dir):
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
                f"{self.index_dir}: cannot reach the index ({first_line(exc)})"
            ) from exc

    def load_generation(self, pointer: Pointer) -> IndexInfo:
        """Load the generation `pointer` names: every file checked against its digest."""
        for kind in KINDS:
            path = self._where(pointer.files[kind])
            blob = checked_blob(self.fs, path, pointer.sha256[kind], local=self._local)
            self._load(kind, path, blob=blob, expect=pointer)
        self._finish_load()
        return IndexInfo(pointer.schema, pointer.fingerprint, pointer.build, pointer.written)

    def load_legacy(self) -> IndexInfo | None:
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
            check_against_pointer(path, info, expect)
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
            check_types(self.con, path, relation, params)
        try:
            self.con.execute(f"DROP TABLE {kind}")
            self.con.execute(f"CREATE TABLE {kind} AS SELECT {CASTS} FROM ("
                             f"SELECT {columns} FROM {relation})", params)
        except duckdb.Error as exc:
            raise MetaStoreError(f"{path}: corrupt index file ({first_line(exc)})") from exc
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister(f"_incoming_{kind}")
        try:
            check_values(self.con, kind, path)
        except duckdb.Error as exc:
            raise MetaStoreError(f"{path}: corrupt index file ({first_line(exc)})") from exc
        return info

    def _open_parquet(
        self, kind: str, path: str, blob: bytes | None
    ) -> tuple[dict[str, str], str, list[Any]]:
        """The file's key-value metadata and a relation (with parameters) to read it."""
        if blob is not None:
            return self._load_via_arrow(kind, path, blob), f"_incoming_{kind}", []
        source = duck_path(self.fs, path)
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
            reason = first_line(exc)
            raise MetaStoreError(f"{path}: not a readable Parquet file ({reason})") from exc
        return kv, "read_parquet(?)", [source]


    def _upgrade_columns(self, kind: str, path: str, relation: str, params: list[Any]) -> str:
        """A select list that reads an older file, filling in the columns it lacks."""
        try:
            cursor = self.con.execute(f"SELECT * FROM {relation} LIMIT 0", params)
        except duckdb.Error as exc:
            raise MetaStoreError(f"{path}: corrupt index file ({first_line(exc)})") from exc
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
                f"{path}: not a readable Parquet file ({first_line(exc)})"
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


def checked_blob(
    fs: fsspec.AbstractFileSystem, path: str, digest: str, *, local: bool
) -> bytes | None:
    """Check a generation file against the pointer's digest; its bytes when not local
    (they are loaded from memory then, one download instead of two)."""
    pointer_name = generations.POINTER
    try:
        if fs.isdir(path):
            raise MetaStoreError(f"{path}: a folder where an index file should be")
        if local:
            found, blob = generations.sha256_of(fs, path), None
        else:
            blob = bytes(fs.cat_file(path))
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
