"""Query embeddings in micro-batches: queries that arrive together share one model call.

One model call on a batch of queries costs about half the CPU per query of one call each
(BENCHMARKS.md, "Query server"). The batcher runs at most one model call at a time: while it
runs, new queries wait and go in the next call together, so a busy server batches more and an
idle one adds only `window` seconds (a few ms) to a lone query.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import anyio.to_thread
import numpy as np

Embed = Callable[[Sequence[str]], np.ndarray]


class QueryBatcher:
    """Embeds single queries for async callers, batching those that arrive within `window`."""

    def __init__(self, embed: Embed, *, window: float = 0.002, max_batch: int = 32) -> None:
        self.embed_many = embed
        self.window = window
        self.max_batch = max_batch
        self.calls = 0  # model calls made (tests and benchmarks read it)
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def embed(self, text: str) -> np.ndarray:
        """The vector of one query (read-only), computed in a batch with its neighbours."""
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._pending.append((text, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(self.window)  # let the queries of this moment join the batch
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            live = [(text, future) for text, future in batch if not future.done()]
            if not live:
                continue
            texts = list(dict.fromkeys(text for text, _ in live))  # a repeat is embedded once
            try:
                vectors = await anyio.to_thread.run_sync(self.embed_many, texts)
            except Exception as exc:  # every waiting request gets the model's error
                for _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.calls += 1
            by_text = dict(zip(texts, vectors, strict=True))
            for text, future in live:
                if not future.done():
                    vector = by_text[text]
                    vector.setflags(write=False)
                    future.set_result(vector)
