"""Similar entries and collisions for the site, from the index's vectors; kept in the site's
manifest and reused while the index generation is byte-for-byte the same."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sitegen.collisions import Collision, find_collisions
from sitegen.generations import Pointer
from sitegen.library import Entry
from sitegen.metastore import Record
from sitegen.neighbours import nearest, normalized
from sitegen.search import DEFAULT_MAX_DISTANCE
from sitegen.site import Similar

SIMILAR_LIMIT = 5
SIMILAR_MAX_DISTANCE = DEFAULT_MAX_DISTANCE


def nearest_neighbours(
    records: Sequence[Record],
    *,
    limit: int = SIMILAR_LIMIT,
    max_distance: float = SIMILAR_MAX_DISTANCE,
) -> dict[tuple[str, str], list[Similar]]:
    """For every record, its nearest other records by cosine distance (ties by kind, name)."""
    usable, matrix = _with_vectors(records)
    found = nearest(matrix, limit, max_distance)
    return {
        (r.kind, r.name): [
            Similar(usable[j].kind, usable[j].name, usable[j].description, d) for j, d in near
        ]
        for r, near in zip(usable, found, strict=True)
    }


def _with_vectors(records: Sequence[Record]) -> tuple[list[Record], np.ndarray]:
    """Records with an embedding, in (kind, name) order, and their unit vectors."""
    usable = sorted((r for r in records if r.embedding is not None), key=lambda r: (r.kind, r.name))
    if not usable:
        return usable, np.zeros((0, 0), dtype=np.float32)
    return usable, normalized(np.vstack([np.asarray(r.embedding) for r in usable]))


def record_collisions(records: Sequence[Record]) -> list[Collision]:
    """Pairs of records so close that an agent may pick the wrong one (the maintainers page)."""
    usable, matrix = _with_vectors(records)
    return find_collisions([(r.kind, r.name, r.description) for r in usable], matrix)


def encode_collisions(collisions: Sequence[Collision]) -> list[list[Any]]:
    return [
        [c.kind_a, c.name_a, c.kind_b, c.name_b, c.distance, list(c.shared)] for c in collisions
    ]


def cached_collisions(cache: Mapping[str, Any], digest: str) -> list[Collision] | None:
    """Collisions from the previous build when the index is byte-for-byte the same."""
    stored = cache.get("collisions")
    if cache.get("index") != digest or not isinstance(stored, list):
        return None
    try:
        return [
            Collision(str(ka), str(na), str(kb), str(nb), float(d), tuple(str(w) for w in shared))
            for ka, na, kb, nb, d, shared in stored
        ]
    except (TypeError, ValueError):
        return None


def index_digest(pointer: Pointer) -> str:
    """Identifies an index generation's content (its files' digests)."""
    digest = hashlib.sha256()
    for kind, value in sorted(pointer.sha256.items()):
        digest.update(f"{kind}\0{value}\0".encode())
    return digest.hexdigest()


def encode_similar(similar: Mapping[tuple[str, str], Sequence[Similar]]) -> dict[str, Any]:
    return {
        f"{kind}/{name}": [[s.kind, s.name, s.distance] for s in items]
        for (kind, name), items in sorted(similar.items())
    }


def cached_similar(
    cache: Mapping[str, Any], digest: str, entries: Sequence[Entry]
) -> dict[tuple[str, str], list[Similar]] | None:
    """Similar lists from the previous build when the index is byte-for-byte the same."""
    stored = cache.get("similar")
    if cache.get("index") != digest or not isinstance(stored, dict):
        return None
    descriptions = {(e.kind, e.name): e.description for e in entries}
    out: dict[tuple[str, str], list[Similar]] = {}
    try:
        for key, items in stored.items():
            kind, name = key.split("/", 1)
            out[(kind, name)] = [
                Similar(k, n, descriptions.get((k, n), ""), float(d)) for k, n, d in items
            ]
    except (TypeError, ValueError):
        return None
    return out
