"""Query embeddings for concurrent requests: one model call at a time, shared where that is
exact.

Identical queries that arrive together are embedded once (single flight). *Distinct* queries
go into one model call only when the model gives a text the same vector alone and in a batch:
one call for 8 queries costs about half the CPU per query of 8 calls, but the prepared int8
model quantizes activations with one scale per batch tensor, so a query's vector (and, on
near ties, its ranking) would depend on which other queries shared its call: answers would
change with other people's traffic and differ from `sitegen match`. :func:`batch_invariant`
asks the model at start-up; BENCHMARKS.md ("Query server") has the figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import anyio.to_thread
import numpy as np

Embed = Callable[[Sequence[str]], np.ndarray]
PROBES = ("review my terraform plan", "a much longer query about cleaning csv data files")


def batch_invariant(embed: Embed) -> bool:
    """Whether each text's vector is the same alone and batched with a longer text."""
    alone = [embed([text])[0] for text in PROBES]
    together = embed(list(PROBES))
    return all(np.allclose(a, b, rtol=0, atol=1e-6) for a, b in zip(alone, together, strict=True))


class QueryBatcher:
    """Embeds single queries for async callers; concurrent ones share model calls.

    `max_batch` distinct texts go in one call (1 keeps every vector exactly as computed
    alone); `window` seconds let the queries of one moment arrive before a call starts.
    """

    def __init__(self, embed: Embed, *, max_batch: int = 1, window: float = 0.002) -> None:
        self.embed_many = embed
        self.max_batch = max(1, max_batch)
        self.window = window
        self.calls = 0  # model calls made (tests and benchmarks read it)
        self._pending: dict[str, list[asyncio.Future[np.ndarray]]] = {}
        self._worker: asyncio.Task[None] | None = None

    async def embed(self, text: str) -> np.ndarray:
        """The vector of one query (read-only)."""
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(text, []).append(future)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        if self.max_batch > 1:
            await asyncio.sleep(self.window)  # let the queries of this moment join the call
        while self._pending:
            texts = list(self._pending)[: self.max_batch]  # oldest first
            waiting = {text: self._pending.pop(text) for text in texts}
            try:
                vectors = await anyio.to_thread.run_sync(self.embed_many, texts)
            except Exception as exc:  # every waiting request gets the model's error
                for futures in waiting.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            self.calls += 1
            for text, vector in zip(texts, vectors, strict=True):
                vector.setflags(write=False)
                for future in waiting[text]:
                    if not future.done():
                        future.set_result(vector)
