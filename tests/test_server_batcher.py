"""Query embeddings in micro-batches: concurrent queries share model calls and get the very
vectors (and rankings) they would get alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from sitegen.embedder import EmbedderError
from sitegen.indexer import open_store
from sitegen.library import Library
from sitegen.search import match
from sitegen.server import create_app
from sitegen.server.batcher import QueryBatcher, batch_invariant
from tests.server_helpers import RunningServer

QUERIES = [
    "review my terraform plan",
    "will this infrastructure change delete my database",
    "someone to write the docs",
    "csv data cleaner",
    "keep production reliable",
    "format yaml files",
    "find security holes in my code",
    "plan a database migration",
]


class Calls:
    """The real embedder, recording each model call's batch."""

    def __init__(self, embedder) -> None:  # type: ignore[no-untyped-def]
        self.embedder = embedder
        self.batches: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return np.asarray(self.embedder.embed(texts))


def test_the_int8_model_is_not_batch_invariant(embedder) -> None:  # type: ignore[no-untyped-def]
    """Why distinct queries are not batched with the shipped model: a query's vector changes
    with the texts that share its model call (one activation scale per batch tensor)."""
    assert not batch_invariant(embedder.embed)
    alone = embedder.embed([QUERIES[0]])[0]
    shared = embedder.embed(QUERIES)[0]
    assert not np.allclose(alone, shared, atol=1e-4)


def test_a_batch_invariant_model_shares_calls_between_distinct_queries() -> None:
    """A model whose rows do not interact (here a hash of each text) is batched."""

    def per_row(texts: Sequence[str]) -> np.ndarray:
        rows = [np.frombuffer(text.encode().ljust(16, b"."), np.uint8)[:16] for text in texts]
        return np.asarray(rows, dtype=np.float32)

    calls: list[int] = []

    def recorded(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return per_row(texts)

    assert batch_invariant(per_row)
    batcher = QueryBatcher(recorded, max_batch=3, window=0.01)

    async def everyone() -> list[np.ndarray]:
        return list(await asyncio.gather(*(batcher.embed(q) for q in QUERIES)))

    vectors = asyncio.run(everyone())
    assert calls == [3, 3, 2]  # max_batch holds; nobody waits for a call of its own
    for query, vector in zip(QUERIES, vectors, strict=True):
        np.testing.assert_array_equal(vector, per_row([query])[0])


def test_identical_concurrent_queries_share_one_call_and_keep_exact_vectors(embedder) -> None:  # type: ignore[no-untyped-def]
    calls = Calls(embedder)
    batcher = QueryBatcher(calls)  # the shipped model: one distinct text per call

    async def everyone() -> list[np.ndarray]:
        asked = [q for q in QUERIES[:4] for _ in range(3)]
        return list(await asyncio.gather(*(batcher.embed(q) for q in asked)))

    vectors = asyncio.run(everyone())
    assert sorted(b[0] for b in calls.batches) == sorted(QUERIES[:4])
    assert all(len(b) == 1 for b in calls.batches)
    for i, vector in enumerate(vectors):
        np.testing.assert_array_equal(vector, embedder.embed([QUERIES[i // 3]])[0])
        assert not vector.flags.writeable  # shared with the cache: nobody may change it


def test_a_failed_model_call_fails_every_waiting_query() -> None:
    def broken(texts: Sequence[str]) -> np.ndarray:
        raise EmbedderError("model exploded (injected)")

    batcher = QueryBatcher(broken)

    async def both() -> list[object]:
        return list(
            await asyncio.gather(batcher.embed("a"), batcher.embed("b"), return_exceptions=True)
        )

    results = asyncio.run(both())
    assert all(isinstance(r, EmbedderError) for r in results)


@pytest.fixture(scope="module")
def served(indexed_example: Path, embedder):  # type: ignore[no-untyped-def]
    with RunningServer(create_app(Library(indexed_example), embedder)) as server:
        yield server


def test_concurrent_http_queries_rank_exactly_as_alone(
    served: RunningServer, indexed_example: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    """Many distinct queries at once: each answer is the one `sitegen match` gives alone."""
    suffixed = [f"{q} ({i})" for i, q in enumerate(QUERIES * 3)]  # all distinct, never cached

    def ask(query: str) -> dict:
        return httpx.get(served.url + "/api/match", params={"q": query}, timeout=60).json()

    with ThreadPoolExecutor(len(suffixed)) as pool:
        answers = list(pool.map(ask, suffixed))
    with open_store(Library(indexed_example), writable=False) as store:
        for query, answer in zip(suffixed, answers, strict=True):
            alone = match(store, embedder, query)
            assert [r["name"] for r in answer["results"]] == [m.name for m in alone.results]
            for got, m in zip(answer["results"], alone.results, strict=True):
                assert got["distance"] == round(m.distance, 6)
