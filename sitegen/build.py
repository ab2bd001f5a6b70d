"""`sitegen build`: read → index → render → publish, as one generation of index and site.

- The library is read and checked; entries with errors are left out (``strict`` fails instead).
- Under the index lock and the --out lock (:mod:`sitegen.locks`), leftovers of dead runs are
  healed first (:mod:`sitegen.publish`, :func:`sitegen.metastore.sweep_index`).
- The index step runs incrementally (only changed entries are embedded) and writes a new
  index generation, but does not switch `index/current.json` to it yet.
- The site is planned against the previous build's manifest. If nothing changed, the build
  stops there and the published folder is not touched at all.
- Otherwise only changed outputs are rendered, and the site is published as one generation
  (:mod:`sitegen.publish`); the site carries the index generation it was built from, so pages
  and the API reading the site's index switch together. Unchanged files keep their inode and
  mtime; files sitegen did not write are kept.
- Only then does the library's index switch to the new generation. On any failure (or a kill)
  before that, the new generation is simply abandoned and swept by the next run: the previous
  site and index stay as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.batch import few_collections
from sitegen.collisions import Collision, find_collisions
from sitegen.config import INDEX_DIR
from sitegen.embedder import Embedder, EmbedderError
from sitegen.errors import SitegenError, UsageError
from sitegen.generations import GenerationError, Pointer, generation_files, read_pointer
from sitegen.indexer import (
    IndexAbort,
    IndexResult,
    index_dir,
    index_library,
    index_lock,
    open_store,
)
from sitegen.library import KINDS, Entry, Library, LibraryError, LibraryReport, Problem
from sitegen.locks import exclusive
from sitegen.metastore import MetaStoreError, Record, discard_generation, switch_generation
from sitegen.neighbours import nearest, normalized
from sitegen.publish import LocalTarget, PublishError, Target, is_remote, open_target
from sitegen.publish.common import MANIFEST, ours
from sitegen.search import DEFAULT_MAX_DISTANCE
from sitegen.site import (
    PassThrough,
    Similar,
    Site,
    SiteError,
    SiteInput,
    SiteOptions,
    pending,
    render_site,
)

SIMILAR_LIMIT = 5
SIMILAR_MAX_DISTANCE = DEFAULT_MAX_DISTANCE
Log = Callable[[str], None]
Progress = Callable[[int, int], None]


class BuildError(SitegenError):
    """The build failed; nothing was published. The message is one line."""


class BuildUsageError(BuildError, UsageError):
    """The build was asked for something unsafe or impossible (exit 2)."""

    exit_code = 2


@dataclass
class WriteResult:
    pages_written: int = 0
    pages_unchanged: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    removed: int = 0
    kept: str | None = None  # one line about files in --out that sitegen did not write


@dataclass
class BuildResult:
    out: Path | str
    entries: int
    skipped: int
    index: IndexResult | None
    write: WriteResult
    seconds: float
    published: bool
    problems: Sequence[Problem] = field(default_factory=tuple)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # lines for the log (kept files, backend)

    def summary(self) -> str:
        w = self.write
        pages = f"{w.pages_written} page(s) written, {w.pages_unchanged} unchanged"
        files = f"{w.files_written} other file(s) written, {w.files_unchanged} unchanged"
        if w.removed:
            files += f", {w.removed} removed"
        state = "built" if self.published else "up to date, nothing rewritten"
        skipped = f" ({self.skipped} left out with errors)" if self.skipped else ""
        return (
            f"{self.out}: {state}: {self.entries} entries{skipped}; {pages}; {files}; "
            f"{self.seconds:.2f} s"
        )


# -- similar entries ---------------------------------------------------------------------------


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


def _encode_collisions(collisions: Sequence[Collision]) -> list[list[Any]]:
    return [
        [c.kind_a, c.name_a, c.kind_b, c.name_b, c.distance, list(c.shared)] for c in collisions
    ]


def _cached_collisions(cache: Mapping[str, Any], digest: str) -> list[Collision] | None:
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


def _digest(pointer: Pointer) -> str:
    """Identifies an index generation's content (its files' digests)."""
    digest = hashlib.sha256()
    for kind, value in sorted(pointer.sha256.items()):
        digest.update(f"{kind}\0{value}\0".encode())
    return digest.hexdigest()


def _encode_similar(similar: Mapping[tuple[str, str], Sequence[Similar]]) -> dict[str, Any]:
    return {
        f"{kind}/{name}": [[s.kind, s.name, s.distance] for s in items]
        for (kind, name), items in sorted(similar.items())
    }


def _cached_similar(
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


# -- the transaction ---------------------------------------------------------------------------


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


def read_entry_files(library: Library) -> Callable[[Entry], Mapping[str, bytes]]:
    """How the site reads an entry's files: all at once, failing loudly on any change."""

    def read(entry: Entry) -> Mapping[str, bytes]:
        paths = {library.path(entry.folder, f.path): f.path for f in entry.files}
        if not paths:
            return {}
        try:
            blobs = library.fs.cat(list(paths), on_error="return")
        except OSError as exc:
            raise BuildError(f"{library.display(entry.folder)}: {exc}") from exc
        if not isinstance(blobs, dict):  # a single path comes back as bytes
            blobs = {next(iter(paths)): blobs}
        out: dict[str, bytes] = {}
        for full, rel in paths.items():
            blob = blobs.get(full)
            if not isinstance(blob, bytes):
                shown = library.display(posixpath.join(entry.folder, rel))
                raise BuildError(f"{shown}: file changed or vanished during the build ({blob})")
            out[rel] = blob
        return out

    return read


def _model_files(embedder: Embedder) -> list[PassThrough]:
    """The query-time model the index was made with, so the catalog carries it (issue 18).

    An embedder without a prepared folder (a test double) publishes none.
    """
    model_dir = getattr(embedder, "model_dir", None)
    if model_dir is None:
        return []
    from sitegen.model_catalog import published_model

    return [PassThrough(f.path, f.sha256, f.read) for f in published_model(model_dir)]


def _semantic(
    options: SiteOptions,
    embedder: Embedder,
    store: Any,
    records: Sequence[Record],
    entries: Sequence[Entry],
) -> Any:
    """The in-browser semantic bundle's input when the build asks for one (else None)."""
    if not options.semantic:
        return None
    from sitegen.browser_bundle import semantic_input

    if not any(r.embedding is not None for r in records):
        records = store.list(with_vectors=True)
    published = {(e.kind, e.name) for e in entries}
    chosen = [r for r in records if (r.kind, r.name) in published]
    return semantic_input(options.semantic, embedder, chosen)


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
            data = _site_input(
                library, embedder, site, report, target, pointer, index_files, timings
            )
            write, published = _publish_locked(site, data, target, say, progress, timings, jobs)
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


def _site_input(
    library: Library,
    embedder: Embedder,
    site: Site,
    report: LibraryReport,
    target: Target,
    pointer: Pointer,
    index_files: Mapping[str, bytes],
    timings: dict[str, float],
) -> SiteInput:
    """What the site is made of, with similar lists and collisions from this generation."""
    mark = time.perf_counter()
    digest = _digest(pointer)
    cache = _manifest(target).get("cache") or {}
    try:
        with open_store(library, writable=False, pointer=pointer) as store:
            similar = _cached_similar(cache, digest, report.entries)
            collisions = _cached_collisions(cache, digest)
            if similar is None or collisions is None:
                records = store.list(with_vectors=True)
                similar = nearest_neighbours(records)
                collisions = record_collisions(records)
            else:
                records = store.list(with_vectors=False)
            semantic = _semantic(site.options, embedder, store, records, report.entries)
    except (MetaStoreError, EmbedderError) as exc:
        raise BuildError(str(exc)) from exc
    updated: dict[tuple[str, str], datetime | None] = {
        (r.kind, r.name): r.date_updated for r in records
    }
    timings["similar"] = time.perf_counter() - mark
    return SiteInput(
        entries=report.entries,
        read_files=read_entry_files(library),
        similar=similar,
        collisions=collisions,
        updated=updated,
        index_files=index_files,
        derived_tags={(r.kind, r.name): r.derived_tags for r in records if r.derived_tags},
        records={(r.kind, r.name): r for r in records},
        files=_model_files(embedder),
        semantic=semantic,
        cache={
            "index": digest,
            "similar": _encode_similar(similar),
            "collisions": _encode_collisions(collisions),
        },
    )


def _manifest(target: Target) -> dict[str, Any]:
    try:
        data = json.loads(target.manifest_bytes() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def publish_site(
    site: Site,
    data: SiteInput,
    out: str | os.PathLike[str],
    *,
    log: Log | None = None,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
    jobs: int | None = None,
) -> tuple[WriteResult, bool]:
    """The site stage alone: plan; if anything changed, render a new generation, switch."""
    say = log or (lambda message: None)
    spent = {} if timings is None else timings
    target = open_target(os.fspath(out))
    with exclusive(target.lock_key, what=target.display, wait=say):
        target.recover()
        return _publish_locked(site, data, target, say, progress, spent, jobs)


def _publish_locked(
    site: Site,
    data: SiteInput,
    target: Target,
    say: Log,
    progress: Progress | None,
    timings: dict[str, float],
    jobs: int | None,
) -> tuple[WriteResult, bool]:
    mark = time.perf_counter()
    say("planning pages")
    before = target.manifest_bytes()
    previous = _manifest(target)
    # Planned against sitegen's own files only: files it did not write are carried over
    # untouched at the commit, and must not make every build plan in full (a CNAME in --out
    # would otherwise defeat the no-op skip).
    existing = target.existing() & (ours(previous) | target.owned)
    try:
        plan = site.plan(data, previous, existing=existing)
    except SiteError as exc:
        raise BuildError(str(exc)) from exc
    todo, _ = pending(plan, previous, existing)
    stale = existing - plan.paths - {MANIFEST}
    timings["plan"] = time.perf_counter() - mark
    nothing_to_do = not todo and not stale and not plan.search_pending
    if nothing_to_do and before == plan.manifest_bytes():
        pages = plan.pages
        unchanged = WriteResult(pages_unchanged=pages, files_unchanged=len(plan.outputs) - pages)
        return unchanged, False
    mark = time.perf_counter()
    say(f"rendering {len(todo)} file(s)")
    stage = target.begin()
    try:
        try:
            rendered = render_site(plan, todo, target.live, stage, jobs=jobs, progress=progress)
        except SiteError as exc:
            raise BuildError(str(exc)) from exc
        site.theme.fragments.flush()  # what was rendered, for the next build
        timings["render"] = time.perf_counter() - mark
        mark = time.perf_counter()
        stage.stage(MANIFEST, rendered.manifest, len(rendered.outputs))
        try:
            carried = stage.commit(rendered.paths | {MANIFEST}, ours(previous))
        except (PublishError, OSError) as exc:
            raise BuildError(str(exc)) from exc
        timings["commit"] = time.perf_counter() - mark
    finally:
        stage.abort()
    pages = rendered.pages
    others = len(rendered.outputs) - pages
    result = WriteResult(
        pages_written=rendered.pages_written,
        pages_unchanged=pages - rendered.pages_written,
        files_written=rendered.files_written,
        files_unchanged=others - rendered.files_written,
        removed=carried.removed,
        kept=carried.report(),
    )
    return result, True
