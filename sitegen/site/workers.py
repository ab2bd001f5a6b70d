"""Render workers: forked processes that each render batches of outputs.

What a worker needs (the outputs and how to write them) is handed to it as the process's
arguments, which `fork` passes by memory, never by pickling, so outputs may hold closures.
Workers send back only (index, written?) pairs. Fork is only trusted on Linux, and must
happen before the build starts threads (the Pagefind thread starts after).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any

from sitegen.site.inputs import SiteError
from sitegen.site.outputs import Output

Done = tuple[int, bool]  # (index of the output, whether it was written)
RenderOne = Callable[[int], bool]
MIN_PARALLEL = 400  # below this many outputs, forking costs more than it saves
_POLL = 0.5  # seconds between checks that the workers are still alive


def default_jobs() -> int:
    """Worker processes for rendering: one per CPU on Linux machines with 4 CPUs or more.

    On smaller machines the cost of forking a large process and copying its pages on write
    eats the gain (measured: slower than one process on a 2-vCPU VM).
    """
    cpus = os.cpu_count() or 1
    if not sys.platform.startswith("linux") or cpus < 4:
        return 1
    return min(cpus, 8)


def _serve(render: RenderOne, tasks: Any, results: Any) -> None:
    """A worker's loop: render each batch it is given until told to stop (None)."""
    while (batch := tasks.get()) is not None:
        try:
            results.put((True, [(i, render(i)) for i in batch]))
        except BaseException as exc:  # sent to the parent, which raises it
            try:
                pickle.dumps(exc)
            except Exception:
                exc = SiteError(f"{type(exc).__name__}: {exc}")
            results.put((False, exc))


def batches(todo: Sequence[Output], indices: Sequence[int], jobs: int) -> list[list[int]]:
    """Indices in batches; one entry's outputs stay in one batch (its files are read once)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for index in indices:
        group = todo[index].group
        groups[group if group >= 0 else -1 - index].append(index)
    out: list[list[int]] = []
    batch: list[int] = []
    size = max(16, len(indices) // (jobs * 16))
    for members in groups.values():
        batch.extend(members)
        if len(batch) >= size:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


class Workers:
    """Renders outputs in this process, or in `jobs` forked processes when there are enough."""

    def __init__(self, render: RenderOne, todo: Sequence[Output], jobs: int) -> None:
        self.render = render
        self.todo = todo
        self.jobs = jobs if len(todo) >= MIN_PARALLEL else 1
        self.processes: list[Any] = []
        self.tasks: Any = None
        self.results: Any = None

    def __enter__(self) -> Workers:
        if self.jobs > 1:
            context = multiprocessing.get_context("fork")
            self.tasks, self.results = context.Queue(), context.Queue()
            for _ in range(self.jobs):
                process = context.Process(
                    target=_serve, args=(self.render, self.tasks, self.results), daemon=True
                )
                process.start()
                self.processes.append(process)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.processes:
            return
        if kind is None:
            for _ in self.processes:
                self.tasks.put(None)
            for process in self.processes:
                process.join(timeout=5)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
                process.join()
        self.processes.clear()

    def run(self, indices: Sequence[int]) -> Iterator[Done]:
        """Render the outputs at `indices`; yields each as it is done, in any order."""
        if not self.processes or len(indices) < 64:
            for index in indices:
                yield index, self.render(index)
            return
        work = batches(self.todo, indices, self.jobs)
        for batch in work:
            self.tasks.put(batch)
        for _ in work:
            ok, payload = self._next_result()
            if not ok:
                raise payload
            yield from payload

    def _next_result(self) -> tuple[bool, Any]:
        while True:
            try:
                result: tuple[bool, Any] = self.results.get(timeout=_POLL)
                return result
            except queue.Empty:
                if not all(p.is_alive() for p in self.processes):
                    raise SiteError("a render worker stopped unexpectedly") from None
