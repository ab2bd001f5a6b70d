"""The index step: read the library, plan by etag, embed only what changed, write the store.

One transaction: the meta store session writes a new generation on a clean exit only, and
the index switches to it in one atomic step, so a failure at any stage (a strict-mode
problem, the embedder, the write itself, a kill) leaves the current generation as it was.
One writer at a time holds the index lock (:mod:`sitegen.locks`); it first sweeps what dead
runs left behind. An index that cannot be used (a corrupt file, a foreign model in one file,
NaN vectors, a pointer to nothing...) is reported and rebuilt from the library.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sitegen import storage
from sitegen.batch import few_collections
from sitegen.config import INDEX_DIR
from sitegen.embedder import Embedder, EmbedderError
from sitegen.errors import SitegenError
from sitegen.generations import Pointer
from sitegen.library import KINDS, Entry, Library, LibraryReport
from sitegen.locks import exclusive
from sitegen.metastore import MetaStore, MetaStoreError, Record, StaleSchemaError, sweep_index

EMBED_BATCH = 256
Progress = Callable[[int, int], None]
Warn = Callable[[str], None]


class IndexAbort(SitegenError):
    """The index was not written; the message says why (the old index is untouched)."""


class ReadOnlyLibrary(IndexAbort):
    """The library's storage cannot be written (zip://, http(s)://): no index there (exit 2)."""

    exit_code = 2


READ_ONLY_PROTOCOLS = frozenset({"zip", "tar", "http", "https", "github", "git", "libarchive"})


@dataclass(frozen=True)
class IndexPlan:
    """What an index run will do, decided by comparing etags."""

    added: tuple[Entry, ...]
    updated: tuple[Entry, ...]
    unchanged: tuple[Entry, ...]
    removed: tuple[tuple[str, str], ...]  # (kind, name)

    @property
    def to_embed(self) -> tuple[Entry, ...]:
        return self.added + self.updated


@dataclass(frozen=True)
class IndexResult:
    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int
    wrote: bool
    fingerprint: str
    report: LibraryReport = field(repr=False)
    # The generation written but not switched to (`switch=False`); None when nothing was written.
    pending: Pointer | None = None
    # Why the index found on disk could not be used (it was rebuilt from the library).
    repaired: str | None = None

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, "
            f"removed {self.removed}, unchanged {self.unchanged}"
        )


def embedding_text(entry: Entry) -> str:
    """The text whose vector represents an entry: its name in words, then its description."""
    return f"{entry.name.replace('-', ' ')} - {entry.description}"


def index_dir(library: Library) -> str:
    return library.path(INDEX_DIR)


def open_store(
    library: Library,
    *,
    writable: bool,
    pointer: Pointer | None = None,
    ignore_existing: bool = False,
    defer_switch: bool = False,
) -> MetaStore:
    return MetaStore.open(
        library.fs,
        index_dir(library),
        writable=writable,
        location=library.display(INDEX_DIR),
        pointer=pointer,
        ignore_existing=ignore_existing,
        defer_switch=defer_switch,
    )


def lock_target(library: Library) -> str:
    """What the index lock is keyed on: the folder's path, or the URL of a remote one."""
    path = index_dir(library)
    return path if library.is_local else library.fs.unstrip_protocol(path)


@contextlib.contextmanager
def index_lock(library: Library, warn: Warn | None = None) -> Iterator[None]:
    """Hold the library's index lock, then sweep what dead writers left in index/."""
    with exclusive(lock_target(library), what=library.display(INDEX_DIR), wait=warn):
        sweep_index(library.fs, index_dir(library))
        yield


def plan_index(
    entries: Sequence[Entry], stored: Mapping[str, Mapping[str, str]], *, rebuild: bool
) -> IndexPlan:
    """Compare the library's entries with the stored etags, kind by kind."""
    added: list[Entry] = []
    updated: list[Entry] = []
    unchanged: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        seen.add((entry.kind, entry.name))
        old = stored.get(entry.kind, {}).get(entry.name)
        if old is None:
            added.append(entry)
        elif rebuild or old != entry.etag:
            updated.append(entry)
        else:
            unchanged.append(entry)
    removed = tuple(
        (kind, name)
        for kind in KINDS
        for name in sorted(stored.get(kind, {}))
        if (kind, name) not in seen
    )
    return IndexPlan(tuple(added), tuple(updated), tuple(unchanged), removed)


def embed_entries(
    embedder: Embedder, entries: Sequence[Entry], progress: Progress | None = None
) -> np.ndarray:
    """Embed in batches so a progress bar can move and memory stays flat."""
    texts = [embedding_text(e) for e in entries]
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), EMBED_BATCH):
        parts.append(embedder.embed(texts[start : start + EMBED_BATCH]))
        if progress is not None:
            progress(min(start + EMBED_BATCH, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.embed([]).shape[1]), dtype=np.float32)
    return np.vstack(parts)


def derive_tags(
    embedder: Embedder, entries: Sequence[Entry], vectors: np.ndarray
) -> list[tuple[str, ...]]:
    """Taxonomy tags for the entries whose author wrote none (empty for the others).

    The taxonomy's vectors live in the prepared model folder, so they always come from the
    model that embedded the entries; an embedder without one (a bare model folder) derives
    nothing.
    """
    untagged = [i for i, e in enumerate(entries) if not e.tags]
    found: list[tuple[str, ...]] = [() for _ in entries]
    model_dir = getattr(embedder, "model_dir", None)
    if not untagged or model_dir is None:
        return found
    from sitegen.taxonomy import load_taxonomy

    try:
        taxonomy = load_taxonomy(model_dir)
    except EmbedderError:
        return found
    for i, tags in zip(untagged, taxonomy.derive_tags(vectors[untagged]), strict=True):
        found[i] = tags
    return found


def to_record(
    entry: Entry, vector: np.ndarray, derived_tags: tuple[str, ...] = ()
) -> Record:
    """The row for an entry (:meth:`Entry.record`) with its vector; its dates are the
    library's (git or file times), which the store applies only when the content changed."""
    return entry.record(
        derived_tags=derived_tags, embedded_text=embedding_text(entry), embedding=vector
    )


@few_collections()
def index_library(
    library: Library,
    embedder: Embedder,
    *,
    full: bool = False,
    strict: bool = False,
    report: LibraryReport | None = None,
    progress: Progress | None = None,
    switch: bool = True,
    locked: bool = False,
    warn: Warn | None = None,
) -> IndexResult:
    """Bring `index/` in line with the library; raises IndexAbort without writing on failure.

    With `switch=False` the new generation is written but left in `result.pending` for the
    caller to switch (:func:`sitegen.metastore.switch_generation`); `locked` says the caller
    already holds the index lock.
    """
    protocols = storage.protocols(library.fs)
    if READ_ONLY_PROTOCOLS & set(protocols):
        raise ReadOnlyLibrary(
            f"{library.display_root}: a {protocols[0]}:// library is read-only, so no index can "
            "be written into it; copy the library to a folder or a bucket and index that"
        )
    report = report if report is not None else library.read()
    if strict and report.strict_problems():
        failing = report.strict_problems()
        raise IndexAbort(
            f"{len(failing)} problem(s) in strict mode, first: {failing[0].format()}; "
            "index not written"
        )
    with contextlib.nullcontext() if locked else index_lock(library, warn):
        return _index_locked(library, embedder, report, full, progress, switch, warn)


def _index_locked(
    library: Library,
    embedder: Embedder,
    report: LibraryReport,
    full: bool,
    progress: Progress | None,
    switch: bool,
    warn: Warn | None,
) -> IndexResult:
    fingerprint = embedder.fingerprint.as_string()
    repaired: str | None = None
    # A cheap read-only look first: most CI runs change nothing, and a read-only session
    # loads without building the primary-key index.
    try:
        with open_store(library, writable=False) as probe:
            current = probe.exists and probe.layout == "generation"
            if current and probe.fingerprint == fingerprint and not full:
                stored_now: dict[str, dict[str, str]] = {k: probe.etags(k) for k in KINDS}
                noop = plan_index(report.entries, stored_now, rebuild=False)
                if not (noop.to_embed or noop.removed):
                    return IndexResult(
                        added=0,
                        updated=0,
                        removed=0,
                        unchanged=len(noop.unchanged),
                        embedded=0,
                        wrote=False,
                        fingerprint=fingerprint,
                        report=report,
                    )
    except StaleSchemaError:
        pass  # an older index: the write session below upgrades it
    except MetaStoreError as exc:
        repaired = str(exc)
    if repaired is None:
        try:
            store = open_store(library, writable=True, defer_switch=not switch)
        except MetaStoreError as exc:
            repaired = str(exc)
    if repaired is not None:
        if warn is not None:
            warn(f"{repaired}; rebuilding the index from the library")
        store = open_store(library, writable=True, ignore_existing=True, defer_switch=not switch)
    with store:
        stale_model = store.fingerprint is not None and store.fingerprint != fingerprint
        stored: dict[str, dict[str, str]] = {kind: store.etags(kind) for kind in KINDS}
        plan = plan_index(report.entries, stored, rebuild=full or stale_model)
        vectors = embed_entries(embedder, plan.to_embed, progress)
        tags = derive_tags(embedder, plan.to_embed, vectors)
        store.upsert(
            to_record(e, v, t) for e, v, t in zip(plan.to_embed, vectors, tags, strict=True)
        )
        if store.upgraded and plan.unchanged:
            # New columns, same content: rewrite the rows with their stored vectors.
            kept = {
                (r.kind, r.name): r.embedding
                for r in store.list(with_vectors=True)
                if r.embedding is not None
            }
            entries = [e for e in plan.unchanged if (e.kind, e.name) in kept]
            stored_vectors = np.array([kept[(e.kind, e.name)] for e in entries])
            store.upsert(
                to_record(e, v, t)
                for e, v, t in zip(
                    entries,
                    stored_vectors,
                    derive_tags(embedder, entries, stored_vectors),
                    strict=True,
                )
            )
        if store.upgraded or store.layout != "generation":
            store.mark_dirty()  # an older schema or a legacy flat index: migrate it
        for kind in KINDS:
            store.remove(kind, [name for k, name in plan.removed if k == kind])
        store.set_fingerprint(fingerprint)
        wrote = store.has_changes
    return IndexResult(
        added=len(plan.added),
        updated=len(plan.updated),
        removed=len(plan.removed),
        unchanged=len(plan.unchanged),
        embedded=len(plan.to_embed),
        wrote=wrote,
        fingerprint=fingerprint,
        report=report,
        pending=store.pending,
        repaired=repaired,
    )


def current_vectors(
    library: Library, entries: Sequence[Entry], embedder: Embedder
) -> np.ndarray:
    """Vectors for `entries` without writing anything: stored ones where the index is fresh
    for that entry (same model, same etag), freshly embedded otherwise."""
    vectors = np.zeros((len(entries), embedder.embed([]).shape[1]), dtype=np.float32)
    missing: list[int] = []
    with open_store(library, writable=False) as store:
        fresh = store.exists and store.fingerprint == embedder.fingerprint.as_string()
        # One scan of the store, not one lookup per entry (each a table scan when read-only).
        stored = {(r.kind, r.name): r for r in store.list(with_vectors=True)} if fresh else {}
    for i, entry in enumerate(entries):
        record = stored.get((entry.kind, entry.name))
        if record is not None and record.etag == entry.etag and record.embedding is not None:
            vectors[i] = record.embedding
        else:
            missing.append(i)
    if missing:
        vectors[missing] = embed_entries(embedder, [entries[i] for i in missing])
    return vectors
