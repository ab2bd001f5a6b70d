"""Rendering a plan: make the bytes of the outputs that changed, stage those that differ.

Only outputs whose key differs from the previous build's manifest (or whose file is
missing) are rendered, and only bytes that differ from the published file are staged, so
unchanged files are never rewritten. When the search bundle must be made, Pagefind runs in a
background thread (it is its own process) while the pages render.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sitegen.site.manifest import same_bytes
from sitegen.site.outputs import Output, OutputSet
from sitegen.site.pagefind import run_pagefind
from sitegen.site.plan import SitePlan
from sitegen.site.search_index import bundle_outputs
from sitegen.site.workers import Workers, default_jobs

Progress = Callable[[int, int], None]


class Stager(Protocol):
    """Where rendered files go until the build commits (see sitegen.publish)."""

    def path_for(self, index: int, site_path: str) -> Path: ...

    def register(self, site_path: str, index: int) -> None: ...


@dataclass(frozen=True)
class RenderResult(OutputSet):
    """What was rendered; `outputs` are the plan's and a new search bundle's."""

    manifest: bytes  # the manifest of the site as rendered
    pages_written: int
    files_written: int


class _Writer:
    """Makes one output's bytes and stages them if they differ from the published file."""

    def __init__(self, todo: Sequence[Output], live: Path, stager: Stager) -> None:
        self.todo = todo
        self.live = live
        self.stager = stager
        self.made: set[Path] = set()  # folders already created (in this process)

    def __call__(self, index: int) -> bool:
        return self.write(self.todo[index], index)

    def write(self, output: Output, index: int) -> bool:
        """Stage `output` under number `index` unless the published file has its bytes."""
        data = output.produce()
        if same_bytes(self.live / output.path, data):
            return False
        target = self.stager.path_for(index, output.path)
        if target.parent not in self.made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(target.parent)
        with open(target, "wb") as handle:
            handle.write(data)
        return True


class _Indexer(threading.Thread):
    """Pagefind in the background; the result (or the failure) is read after join()."""

    def __init__(self, docs: Mapping[str, str]) -> None:
        super().__init__(name="pagefind", daemon=True)
        self.docs = docs
        self.bundle: dict[str, bytes] = {}
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self.bundle = run_pagefind(self.docs)
        except BaseException as exc:  # re-raised in the main thread
            self.failure = exc

    def result(self) -> dict[str, bytes]:
        self.join()
        if self.failure is not None:
            raise self.failure
        return self.bundle


def render_site(
    plan: SitePlan,
    todo: Sequence[Output],
    live: Path,
    stager: Stager,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> RenderResult:
    """Render `todo` (and the search bundle if the plan says so); stage what differs."""
    todo = list(todo)
    total = len(todo)
    written = {"pages": 0, "files": 0}
    writer = _Writer(todo, live, stager)
    with Workers(writer, todo, jobs or default_jobs()) as workers:  # forks before the thread
        indexer = _Indexer(plan.search.docs) if plan.search.pending else None
        if indexer is not None:
            indexer.start()
        for done, (index, wrote) in enumerate(workers.run(range(total)), start=1):
            if wrote:
                output = todo[index]
                stager.register(output.path, index)
                written["pages" if output.page else "files"] += 1
            if progress is not None and (done % 200 == 0 or done == total):
                progress(done, total)
        bundle = indexer.result() if indexer is not None else {}
    search_outputs = bundle_outputs(bundle)
    for index, output in enumerate(search_outputs, start=total):
        if writer.write(output, index):
            stager.register(output.path, index)
            written["files"] += 1
    return RenderResult(
        outputs=(*plan.outputs, *search_outputs),
        manifest=plan.manifest_bytes(search_outputs),
        pages_written=written["pages"],
        files_written=written["files"],
    )
