"""The Meta Store: entry metadata and embeddings in DuckDB, persisted as Parquet in `index/`.

As in the seed design, a Bridge: the engine (:mod:`.duckdb_engine`) owns the connection,
loading from Parquet (:mod:`.loader`) and the atomic export (:mod:`.persist`); the session
(:mod:`.session`, :class:`MetaStore`) is the logic (upsert, remove, get, list, search,
transactions) and talks to the engine only through its small interface (:mod:`.engine`), so
another engine (Postgres + pgvector, say) could slot in.

The index is a series of generations (:mod:`sitegen.generations`): each export writes a new
generation folder and then switches `index/current.json` to it in one atomic step, so a
reader sees one whole generation. Each Parquet file also carries key-value metadata (schema,
model fingerprint, build id) that must agree with the pointer. What is read is validated
(:mod:`.validate`): types, NULLs, duplicate names, NaN/zero vectors, digests; any fault is a
MetaStoreError naming the file, and a writer repairs it by rebuilding from the library.

Import from here: the submodules are the house's rooms, this is its front door.
"""

from __future__ import annotations

from sitegen.entry import COLUMN_NAMES, COLUMNS, DIM, SCHEMA_VERSION, Record
from sitegen.metastore.duckdb_engine import DuckDBEngine
from sitegen.metastore.engine import (
    KINDS,
    META_BUILD,
    META_FINGERPRINT,
    META_SCHEMA,
    META_WRITTEN,
    UPGRADABLE_SCHEMAS,
    Engine,
    Identity,
    IndexInfo,
)
from sitegen.metastore.errors import (
    IndexUnreachableError,
    MetaStoreError,
    NoIndexError,
    StaleSchemaError,
)
from sitegen.metastore.persist import discard_generation, sweep_index, switch_generation
from sitegen.metastore.session import Hit, MetaStore

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "DIM",
    "KINDS",
    "META_BUILD",
    "META_FINGERPRINT",
    "META_SCHEMA",
    "META_WRITTEN",
    "SCHEMA_VERSION",
    "UPGRADABLE_SCHEMAS",
    "DuckDBEngine",
    "Engine",
    "Hit",
    "Identity",
    "IndexInfo",
    "IndexUnreachableError",
    "MetaStore",
    "MetaStoreError",
    "NoIndexError",
    "Record",
    "StaleSchemaError",
    "discard_generation",
    "sweep_index",
    "switch_generation",
]
