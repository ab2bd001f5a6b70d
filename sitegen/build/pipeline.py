"""`sitegen build` as one transaction: read → index (a new generation, not yet switched) →
site input → site stage → switch the library's index; see :mod:`sitegen.build`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sitegen.batch import few_collections
from sitegen.build.inputs import site_input
from sitegen.build.results import BuildError, BuildResult, BuildUsageError, Log, Progress
from sitegen.build.site_stage import publish_locked
from sitegen.config import INDEX_DIR
from sitegen.embedder import Embedder, EmbedderError
from sitegen.errors import UsageError
from sitegen.generations import GenerationError, Pointer, generation_files, read_pointer
from sitegen.indexer import IndexAbort, index_dir, index_library, index_lock
from sitegen.library import KINDS, Library, LibraryError, LibraryReport
from sitegen.locks import exclusive
from sitegen.metastore import MetaStoreError, discard_generation, switch_generation
from sitegen.publish import LocalTarget, Target, is_remote, open_target
from sitegen.site import Site, SiteError, SiteOptions


def _check_out(target: Target, library: Library) -> None:
    """Refuse an --out that would overwrite the library or is not a previous sitegen build."""
    if not is_remote(target.display) and library.is_local:
        resolved = Path(target.display).resolve()
        lib_root = Path(library.root).resolve()
        if resolved == lib_root or resolved in lib_root.parents:
            raise BuildUsageError(
                f"{target.display}: --out must not contain the library {library.root}"
            )
        for kind in KINDS:
            if resolved == lib_root / kind or lib_root / kind in resolved.parents:
                raise BuildUsageError(
                    f"{target.display}: --out must not be inside the library's {kind}/"
                )
    forbidden = [] if library.is_local else [library.url]
    try:
        target.check(forbidden)
    except UsageError as exc:
        raise BuildUsageError(str(exc)) from exc


@few_collections()
def build_site(
    library: Library,
    embedder: Embedder,
    out: str | os.PathLike[str],
    *,
    options: SiteOptions | None = None,
    strict: bool = False,
    report: LibraryReport | None = None,
    log: Log | None = None,
    progress: Progress | None = None,
    embed_progress: Progress | None = None,
    jobs: int | None = None,
    background_cleanup: bool = False,
) -> BuildResult:
    """Build the catalog site of `library` into `out` (a folder or an fsspec URL); raises
    BuildError, publishing nothing, and leaving the index as it was.

    `background_cleanup` leaves removing the previous local site tree to a background process
    once the new one is live (the CLI's choice: see :mod:`sitegen.publish.cleanup`)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    say = log or (lambda message: None)
    try:
        target = open_target(os.fspath(out))
    except UsageError as exc:
        raise BuildUsageError(str(exc)) from exc
    if isinstance(target, LocalTarget):
        target.background_cleanup = background_cleanup
    _check_out(target, library)
    try:
        site = Site(options or SiteOptions())  # template errors surface before any work
    except SiteError as exc:
        raise BuildError(str(exc)) from exc

    mark = time.perf_counter()
    if report is None:
        try:
            report = library.read()
        except LibraryError as exc:
            raise BuildError(str(exc)) from exc
    timings["read"] = time.perf_counter() - mark
    if strict and report.strict_problems():
        first = report.strict_problems()[0]
        raise BuildError(
            f"{len(report.strict_problems())} problem(s) in strict mode, first: "
            f"{first.format()}; nothing built"
        )
    with index_lock(library, say), exclusive(target.lock_key, what=target.display, wait=say):
        target.recover()
        mark = time.perf_counter()
        say("indexing")
        try:
            index_result = index_library(
                library,
                embedder,
                strict=strict,
                report=report,
                progress=embed_progress,
                switch=False,
                locked=True,
                warn=lambda line: say(f"warning: {line}"),
            )
            pointer = index_result.pending or _current_pointer(library)
            index_files = generation_files(library.fs, index_dir(library), pointer)
        except (IndexAbort, MetaStoreError, EmbedderError, GenerationError) as exc:
            raise BuildError(str(exc)) from exc
        timings["index"] = time.perf_counter() - mark
        try:
            data = site_input(
                library, embedder, site, report, target, pointer, index_files, timings
            )
            write, published = publish_locked(site, data, target, say, progress, timings, jobs)
        except BaseException:
            if index_result.pending is not None:  # abandoned: no reader ever saw it
                discard_generation(library.fs, index_dir(library), index_result.pending)
            raise
        if index_result.pending is not None:
            # The site is out: now the library's index may move to the same generation.
            switch_generation(library.fs, index_dir(library), index_result.pending)
    notes = [line for line in (write.kept, target.note if published else None) if line]
    return BuildResult(
        out=Path(target.display) if not is_remote(target.display) else target.display,
        entries=len(report.entries),
        skipped=report.left_out,
        index=index_result,
        write=write,
        seconds=time.perf_counter() - started,
        published=published,
        problems=report.problems,
        timings=timings,
        notes=notes,
    )


def _current_pointer(library: Library) -> Pointer:
    where = library.display(f"{INDEX_DIR}/current.json")
    pointer = read_pointer(library.fs, index_dir(library), where)
    if pointer is None:  # pragma: no cover - the index step always leaves a generation
        raise BuildError(f"{where}: no index generation after the index step")
    return pointer
