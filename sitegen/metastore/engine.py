"""The Bridge's seam: what the session logic (:mod:`.session`) needs from a storage engine,
and the small records passing between them. :class:`~.duckdb_engine.DuckDBEngine` is the one
engine today; another (Postgres + pgvector, say) would implement :class:`Engine`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from sitegen.entry import KINDS as _KINDS
from sitegen.generations import Pointer

KINDS: tuple[str, ...] = _KINDS  # plain strings in the store's API

# Older schemas a write session upgrades in place (the indexer then rewrites every row).
UPGRADABLE_SCHEMAS = frozenset({"1", "2"})
# The key-value metadata every index Parquet file carries (and the pointer must agree with).
META_SCHEMA = "sitegen.schema"
META_FINGERPRINT = "sitegen.fingerprint"
META_BUILD = "sitegen.build"
META_WRITTEN = "sitegen.written"


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
