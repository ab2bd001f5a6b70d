"""The DuckDB tables of the store, one per kind, shaped by the entry schema's columns."""

from __future__ import annotations

import duckdb
import fsspec

from sitegen.entry import COLUMNS
from sitegen.metastore.engine import KINDS
from sitegen.storage import is_local


def base_type(type_: str) -> str:
    """A column's SQL type without its constraints."""
    return type_.split(" PRIMARY")[0].split(" NOT NULL")[0]


# Every column cast to its type: what an insert selects from an Arrow table or a Parquet file.
CASTS = ", ".join(f"CAST({name} AS {base_type(type_)}) AS {name}" for name, type_ in COLUMNS)


def create_tables(con: duckdb.DuckDBPyConnection, *, primary_key: bool) -> None:
    """(Re)create one empty table per kind; without the primary key for read-only sessions."""
    for kind in KINDS:
        ddl = ", ".join(
            f"{name} {type_ if primary_key else type_.replace(' PRIMARY KEY', '')}"
            for name, type_ in COLUMNS
        )
        con.execute(f"DROP TABLE IF EXISTS {kind}")
        con.execute(f"CREATE TABLE {kind} ({ddl})")


def sql_quote(text: str) -> str:
    return text.replace("'", "''")


def duck_path(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """How DuckDB names a path of our filesystem (non-local ones through fsspec, registered
    with the connection: no downloaded extensions)."""
    return path if is_local(fs) else fs.unstrip_protocol(path)
