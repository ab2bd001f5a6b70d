"""Validation of what is read: an index file must say what the pointer says, have every column
with its type, and hold no row a search would silently get wrong. Every fault is a
:class:`MetaStoreError` naming the file; a writer repairs it by rebuilding from the library."""

from __future__ import annotations

from typing import Any

import duckdb

from sitegen import generations
from sitegen.entry import COLUMNS, DIM
from sitegen.generations import Pointer
from sitegen.metastore.engine import IndexInfo
from sitegen.metastore.errors import MetaStoreError, first_line
from sitegen.metastore.tables import base_type


def check_types(
    con: duckdb.DuckDBPyConnection, path: str, relation: str, params: list[Any]
) -> None:
    """Every column present with its type: a `name` of integers is a fault, not a cast."""
    try:
        found = {
            row[0]: row[1]
            for row in con.execute(f"DESCRIBE SELECT * FROM {relation}", params).fetchall()
        }
    except duckdb.Error as exc:
        raise MetaStoreError(f"{path}: corrupt index file ({first_line(exc)})") from exc
    for name, type_ in COLUMNS:
        want = base_type(type_)
        have = found.get(name)
        if have is None:
            raise MetaStoreError(f"{path}: column {name!r} is missing")
        if have != want and not (name == "embedding" and have == "FLOAT[]"):
            raise MetaStoreError(f"{path}: column {name!r} is {have}, not {want}")


def check_against_pointer(path: str, info: IndexInfo, expect: Pointer) -> None:
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


def check_values(con: duckdb.DuckDBPyConnection, kind: str, path: str) -> None:
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


