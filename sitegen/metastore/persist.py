"""Writing the index: export the tables as a new generation folder, switch `current.json` to
it in one atomic step (:mod:`sitegen.generations`), and sweep what no reader needs any more.
A failure at any point leaves the previous generation current and whole."""

from __future__ import annotations

import contextlib
import posixpath

import duckdb
import fsspec

from sitegen import generations
from sitegen.entry import COLUMN_NAMES
from sitegen.generations import GenerationError, Pointer
from sitegen.metastore.engine import (
    KINDS,
    META_BUILD,
    META_FINGERPRINT,
    META_SCHEMA,
    META_WRITTEN,
    IndexInfo,
)
from sitegen.metastore.errors import MetaStoreError, first_line
from sitegen.metastore.tables import duck_path, sql_quote


def write_generation(
    con: duckdb.DuckDBPyConnection,
    fs: fsspec.AbstractFileSystem,
    index_dir: str,
    info: IndexInfo,
    *,
    previous: Pointer | None,
) -> Pointer:
    """Export every table into a new generation folder, durable but not yet current.

    Nothing references the folder until :func:`switch_generation`; on any failure it is
    removed here (or, after a kill, by the next writer's sweep), and the current index is
    untouched. `previous` is the generation the tables were loaded from, if any.
    """
    kv = {
        META_SCHEMA: info.schema,
        META_FINGERPRINT: info.fingerprint,
        META_BUILD: info.build,
        META_WRITTEN: info.written,
    }
    kv_sql = ", ".join(f"'{k}': '{sql_quote(v)}'" for k, v in kv.items())
    folder = posixpath.join(index_dir, generations.generation_name(info.build))
    paths = {
        kind: posixpath.join(index_dir, generations.file_rel(info.build, kind)) for kind in KINDS
    }
    try:
        if fs.exists(index_dir) and not fs.isdir(index_dir):
            fs.rm(index_dir)  # a file where the index folder belongs: repair
        fs.makedirs(folder, exist_ok=True)
        for kind in KINDS:
            con.execute(
                f"COPY (SELECT {', '.join(COLUMN_NAMES)} FROM {kind} ORDER BY name) "
                f"TO '{sql_quote(duck_path(fs, paths[kind]))}' "
                f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv_sql}}})"
            )
        generations.make_durable(fs, paths.values())
        digests = {kind: generations.sha256_of(fs, paths[kind]) for kind in KINDS}
    except Exception as exc:
        with contextlib.suppress(Exception):
            fs.rm(folder, recursive=True)
        raise MetaStoreError(
            f"{index_dir}: could not write the index ({first_line(exc)}); "
            "the previous index is unchanged"
        ) from exc
    return generations.make_pointer(
        build=info.build,
        schema=info.schema,
        fingerprint=info.fingerprint,
        written=info.written,
        digests=digests,
        previous=previous.generation if previous is not None else None,
    )


def switch_generation(fs: fsspec.AbstractFileSystem, index_dir: str, pointer: Pointer) -> None:
    """Make a written generation current, then sweep what no reader needs any more: every
    generation but this one and the one it replaced, leftovers of dead runs, legacy files."""
    index_dir = index_dir.rstrip("/")
    try:
        generations.switch(fs, index_dir, pointer)
    except Exception as exc:
        raise MetaStoreError(
            f"{index_dir}: could not switch to the new index ({first_line(exc)}); "
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


