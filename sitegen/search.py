"""One `match()` for every caller: the CLI, the HTTP endpoint and `sitegen eval`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from sitegen.embedder import Embedder
from sitegen.errors import UsageError
from sitegen.metastore import KINDS, Hit, MetaStore, MetaStoreError, Record

TYPES = ("roles", "skills", "all")
DEFAULT_LIMIT = 5
MAX_LIMIT = 100
DEFAULT_MAX_DISTANCE = 0.8
_WORD = re.compile(r"[a-z0-9]+")


class QueryError(UsageError, ValueError):
    """A bad query parameter; `param` names it so the CLI and the API can point at it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


class IndexMismatchError(MetaStoreError):
    """The index was built with another embedding model than the one loaded now."""


@dataclass(frozen=True)
class Match:
    kind: str
    name: str
    description: str
    tags: tuple[str, ...]
    distance: float
    exact: bool
    record: Record

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.kind,
            "name": self.name,
            "description": self.description,
            "tags": list(self.tags),
            "distance": round(self.distance, 6),
            "exact": self.exact,
        }


@dataclass(frozen=True)
class MatchResult:
    query: str
    results: tuple[Match, ...]
    truncated: bool


def validate(query: str, kind: str, limit: int, max_distance: float) -> str:
    """Check parameters the way every front end needs them checked; returns the clean query."""
    if query is None or not query.strip():
        raise QueryError("query", "must not be empty")
    if kind not in TYPES:
        raise QueryError("type", f"must be one of {', '.join(TYPES)}, not {kind!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}, not {limit}")
    if math.isnan(max_distance) or not 0 <= max_distance <= 2:
        raise QueryError("max_distance", f"must be between 0 and 2, not {max_distance}")
    return " ".join(query.split())


def name_words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def check_compatible(store: MetaStore, embedder: Embedder) -> None:
    """Refuse to compare vectors from two different models."""
    store.require_index()
    expected = embedder.fingerprint.as_string()
    if store.fingerprint != expected:
        raise IndexMismatchError(
            f"index at {store.location} was built with model {store.fingerprint or 'unknown'}, "
            f"not {expected}; run `sitegen index --full`"
        )


def match(
    store: MetaStore,
    embedder: Embedder,
    query: str,
    *,
    kind: str = "all",
    limit: int = DEFAULT_LIMIT,
    max_distance: float = DEFAULT_MAX_DISTANCE,
    vector: np.ndarray | None = None,
) -> MatchResult:
    """Rank entries by cosine distance; an entry named exactly like the query comes first.

    `vector` lets a caller pass a cached query embedding (the server's LRU).
    """
    query = validate(query, kind, limit, max_distance)
    kinds = KINDS if kind == "all" else (kind,)
    truncated = embedder.token_count(query) > embedder.max_seq_length
    if vector is None:
        vector = embedder.embed([query])[0]
    hits = store.search(vector, kinds=kinds, limit=limit, max_distance=max_distance)
    exact = _exact_hits(store, kinds, query, vector)
    exact_keys = {(h.record.kind, h.record.name) for h in exact}
    ranked = exact + [h for h in hits if (h.record.kind, h.record.name) not in exact_keys]
    results = tuple(
        Match(
            kind=h.record.kind,
            name=h.record.name,
            description=h.record.description,
            tags=h.record.tags,
            distance=h.distance,
            exact=(h.record.kind, h.record.name) in exact_keys,
            record=h.record,
        )
        for h in ranked[:limit]
    )
    return MatchResult(query=query, results=results, truncated=truncated)


def _exact_hits(
    store: MetaStore, kinds: tuple[str, ...], query: str, vector: np.ndarray
) -> list[Hit]:
    words = name_words(query)
    if not words:
        return []
    slug = "-".join(words)
    found = []
    for kind in kinds:
        if not store.has(kind, slug):
            continue
        record = store.get(kind, slug, with_vector=True)
        if record is not None and record.embedding is not None:
            distance = float(1.0 - np.dot(record.embedding, vector))
            found.append(Hit(record, distance))
    return sorted(found, key=lambda h: h.distance)
