"""What the site is made of (:class:`~sitegen.site.SiteInput`): the library's entries and a
reader of their files, similar lists and collisions of this index generation, the model the
catalog carries, and the in-browser semantic bundle when asked for."""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sitegen.build.results import BuildError
from sitegen.build.similar import (
    cached_collisions,
    cached_similar,
    encode_collisions,
    encode_similar,
    index_digest,
    nearest_neighbours,
    record_collisions,
)
from sitegen.build.site_stage import read_manifest
from sitegen.embedder import Embedder, EmbedderError
from sitegen.generations import Pointer
from sitegen.indexer import open_store
from sitegen.library import Entry, Library, LibraryReport
from sitegen.metastore import MetaStoreError, Record
from sitegen.publish import Target
from sitegen.site import PassThrough, Site, SiteInput, SiteOptions


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



def site_input(
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
    digest = index_digest(pointer)
    cache = read_manifest(target).get("cache") or {}
    try:
        with open_store(library, writable=False, pointer=pointer) as store:
            similar = cached_similar(cache, digest, report.entries)
            collisions = cached_collisions(cache, digest)
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
            "similar": encode_similar(similar),
            "collisions": encode_collisions(collisions),
        },
    )
