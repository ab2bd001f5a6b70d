"""One `match()` for every caller: the CLI, the HTTP endpoint and `sitegen eval`.

Ranking = cosine distance of the query to each entry's vector, then three targeted signals
measured in BENCHMARKS.md (issue 15): an entry whose name the query spells exactly, or within
an edit or two, is pinned first and marked `exact`; the words of an entry's name and authored
tags found in the query lower its score (a name is what authors choose to be found by; BM25
over whole descriptions was measured to hurt); and query words that are neither in the model's
vocabulary nor in the library's are corrected to the closest library word (a typo), the
corrected query embedded too, and offered back as `did_you_mean`.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from sitegen.embedder import Embedder
from sitegen.errors import UsageError
from sitegen.metastore import KINDS, Hit, MetaStore, MetaStoreError, Record
from sitegen.suggest import allowed_edits as _allowed_edits

TYPES = ("roles", "skills", "all")
DEFAULT_LIMIT = 5
MAX_LIMIT = 100
DEFAULT_MAX_DISTANCE = 0.8
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an and any are as at be by can do does for from get has have how i in into is it its "
    "me my need of on or our out so some than that the their them this to up us we what "
    "when where which who why will with you your"
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Ranking:
    """The signals on top of cosine distance. Weights were chosen on the example library's
    queries; the held-out library was only scored afterwards (BENCHMARKS.md has the sweep)."""

    name_weight: float = 0.10  # score bonus when every word of an entry's name is in the query
    tag_weight: float = 0.0  # bonus when one of its authored tags is (measured: no gain, off)
    near_names: bool = True  # pin names within an edit or two of the query, not just equal
    corrections: bool = True  # correct typo'd query words and embed the corrected query too
    pool: int = 10  # semantic candidates re-ranked (and mined for correction vocabulary)


DEFAULT_RANKING = Ranking()
# Cosine order with only exactly named entries pinned: the ranking before issue 15.
COSINE_RANKING = Ranking(
    name_weight=0.0, tag_weight=0.0, near_names=False, corrections=False, pool=0
)


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
    score: float = 0.0  # what ranks (lower first): the distance less the name/tag bonus

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.kind,
            "name": self.name,
            "description": self.description,
            "tags": list(self.tags),
            "derived_tags": list(self.record.derived_tags),
            "distance": round(self.distance, 6),
            "exact": self.exact,
        }


@dataclass(frozen=True)
class MatchResult:
    query: str
    results: tuple[Match, ...]
    truncated: bool
    did_you_mean: str | None = None  # the query with typo'd words corrected, if any were


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
    ranking: Ranking = DEFAULT_RANKING,
) -> MatchResult:
    """Rank entries for a query: exact and near-exact names first, then by score.

    `vector` lets a caller pass a cached query embedding (the server's LRU).
    """
    query = validate(query, kind, limit, max_distance)
    kinds = KINDS if kind == "all" else (kind,)
    truncated = embedder.token_count(query) > embedder.max_seq_length
    if vector is None:
        vector = embedder.embed([query])[0]
    names = _names(store)
    pool = max(limit, ranking.pool)
    hits = {_key(h): h for h in store.search(vector, kinds=kinds, limit=pool, max_distance=2.0)}
    words = name_words(query)
    corrected = _corrections(words, names, hits.values(), embedder) if ranking.corrections else {}
    did_you_mean = None
    if corrected:
        did_you_mean = " ".join(corrected.get(w, w) for w in words)
        again = embedder.embed([did_you_mean])[0]
        for h in store.search(again, kinds=kinds, limit=pool, max_distance=2.0):
            if _key(h) not in hits or h.distance < hits[_key(h)].distance:
                hits[_key(h)] = h
    terms = set(words) | set(corrected.values())
    pinned = _named_hits(store, names, kinds, words, vector, near=ranking.near_names)
    for key in pinned:
        hits.pop(key, None)
    ranked = [(h.distance, h) for h in pinned.values()]
    ranked += sorted(
        (
            (h.distance - _bonus(h.record, terms, ranking), h)
            for h in hits.values()
            if h.distance <= max_distance
        ),
        key=lambda pair: (pair[0], pair[1].record.kind, pair[1].record.name),
    )
    results = tuple(
        Match(
            kind=h.record.kind,
            name=h.record.name,
            description=h.record.description,
            tags=h.record.tags,
            distance=h.distance,
            exact=_key(h) in pinned,
            record=h.record,
            score=score,
        )
        for score, h in ranked[:limit]
    )
    return MatchResult(query, results, truncated, did_you_mean)


def _key(hit: Hit) -> tuple[str, str]:
    return (hit.record.kind, hit.record.name)


class _Names:
    """Every entry name of a store, and the words they are made of."""

    def __init__(self, store: MetaStore) -> None:
        self.by_kind = {kind: sorted(store.names(kind)) for kind in KINDS}
        self.words = frozenset(
            w for names in self.by_kind.values() for n in names for w in n.split("-")
        )


_NAMES: weakref.WeakKeyDictionary[MetaStore, _Names] = weakref.WeakKeyDictionary()


def _names(store: MetaStore) -> _Names:
    """Names of a read-only session are read once (its index cannot change under it)."""
    if store.writable:
        return _Names(store)
    found = _NAMES.get(store)
    if found is None:
        found = _NAMES[store] = _Names(store)
    return found




def _allowed_variation(word: str) -> int:
    """Edits under which two words count as the same for the name bonus (stricter: a
    known word such as "planner" must not become "scanner")."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def _named_hits(
    store: MetaStore,
    names: _Names,
    kinds: Sequence[str],
    words: Sequence[str],
    vector: np.ndarray,
    *,
    near: bool,
) -> dict[tuple[str, str], Hit]:
    """Entries the query names exactly, else within a few edits (closest spelling first)."""
    if not words:
        return {}
    slug = "-".join(words)
    found: list[tuple[int, float, Hit]] = []
    exact = [k for k in kinds if slug in names.by_kind[k]]
    candidates: list[tuple[str, str, int]] = [(k, slug, 0) for k in exact]
    if not exact and near and _allowed_edits(slug):
        for kind in kinds:
            for name, edits, _ in process.extract(
                slug,
                names.by_kind[kind],
                scorer=OSA.distance,
                score_cutoff=_allowed_edits(slug),
                limit=3,
            ):
                candidates.append((kind, name, int(edits)))
        best = min((e for _, _, e in candidates), default=0)
        candidates = [c for c in candidates if c[2] == best]
    for kind, name, edits in candidates:
        record = store.get(kind, name, with_vector=True)
        if record is not None and record.embedding is not None:
            distance = float(1.0 - np.dot(record.embedding, vector))
            found.append((edits, distance, Hit(record, distance)))
    found.sort(key=lambda item: (item[0], item[1]))
    return {_key(h): h for _, _, h in found}


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ers", "er", "ors", "or", "es", "s", "ed"):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _same_word(query_word: str, word: str) -> bool:
    if query_word == word or _stem(query_word) == _stem(word):
        return True
    allowed = min(_allowed_variation(query_word), _allowed_variation(word))
    return allowed > 0 and OSA.distance(query_word, word, score_cutoff=allowed) <= allowed


def _bonus(record: Record, terms: set[str], ranking: Ranking) -> float:
    """How much of an entry's name (and whether one of its tags) the query mentions."""
    content = [t for t in terms if t not in _STOP]
    if not content or not (ranking.name_weight or ranking.tag_weight):
        return 0.0
    name = [w for w in record.name.split("-") if w not in _STOP] or record.name.split("-")
    covered = sum(any(_same_word(q, w) for q in content) for w in name) / len(name)
    tagged = bool(ranking.tag_weight) and any(
        all(any(_same_word(q, w) for q in content) for w in name_words(tag))
        for tag in record.tags
        if name_words(tag)
    )
    return ranking.name_weight * covered + ranking.tag_weight * tagged


def _corrections(
    words: Sequence[str], names: _Names, hits: Iterable[Hit], embedder: Embedder
) -> dict[str, str]:
    """Query words that look like typos, mapped to the closest word the library uses.

    A word is suspect when it is neither a whole word of the model's vocabulary nor a word of
    an entry name or of the nearest entries' text; only then is it matched by edit distance.
    """
    suspects = [
        w for w in words if len(w) >= 4 and w.isalpha() and w not in _STOP and w not in names.words
    ]
    if not suspects:
        return {}
    vocabulary = set(names.words)
    for hit in hits:
        vocabulary.update(name_words(hit.record.description))
        for tag in hit.record.tags:
            vocabulary.update(name_words(tag))
    choices = sorted(vocabulary)
    out = {}
    for word in suspects:
        if word in vocabulary or embedder.token_count(word) <= 3:
            continue  # a word the model or the library knows: not a typo
        allowed = _allowed_edits(word)
        best = process.extractOne(word, choices, scorer=OSA.distance, score_cutoff=allowed)
        if best is not None:
            out[word] = str(best[0])
    return out
