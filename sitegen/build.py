"""`sitegen build`: read → index → render → publish, as one transaction.

- The library is read and checked; entries with errors are left out (``strict`` fails instead).
- The index step runs incrementally (only changed entries are embedded).
- The site is planned against the previous build's manifest. If nothing changed, the build
  stops there and the published folder is not touched at all.
- Otherwise only changed outputs are rendered, and only files whose bytes differ are staged
  in a transaction folder beside ``--out``; the commit (:mod:`sitegen.publish`) then swaps
  them in with renames, all or nothing. Unchanged files keep their inode and mtime.
- On any failure nothing is published, the previous site stays byte-for-byte as it was, and
  an index the build had just rewritten is put back as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.batch import few_collections
from sitegen.collisions import Collision, find_collisions
from sitegen.config import INDEX_DIR
from sitegen.embedder import Embedder, EmbedderError
from sitegen.errors import SitegenError
from sitegen.indexer import IndexAbort, IndexResult, index_library, open_store
from sitegen.library import KINDS, Entry, Library, LibraryError, LibraryReport, Problem
from sitegen.metastore import MetaStoreError, Record
from sitegen.neighbours import nearest, normalized
from sitegen.publish import PublishError, Transaction, recover
from sitegen.search import DEFAULT_MAX_DISTANCE
from sitegen.site import (
    MANIFEST,
    PassThrough,
    Similar,
    Site,
    SiteError,
    SiteInput,
    SiteOptions,
    list_files,
    load_manifest,
    pending,
    render_site,
    same_bytes,
)

SIMILAR_LIMIT = 5
SIMILAR_MAX_DISTANCE = DEFAULT_MAX_DISTANCE
Log = Callable[[str], None]
Progress = Callable[[int, int], None]


class BuildError(SitegenError):
    """The build failed; nothing was published. The message is one line."""


class BuildUsageError(BuildError):
    """The build was asked for something unsafe or impossible (exit 2)."""

    exit_code = 2


@dataclass
class WriteResult:
    pages_written: int = 0
    pages_unchanged: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    removed: int = 0


@dataclass
class BuildResult:
    out: Path
    entries: int
    skipped: int
    index: IndexResult | None
    write: WriteResult
    seconds: float
    published: bool
    problems: Sequence[Problem] = field(default_factory=tuple)
    timings: dict[str, float] = field(default_factory=dict)

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


def _read_index(library: Library) -> dict[str, bytes]:
    files = {}
    for kind in KINDS:
        path = library.path(INDEX_DIR, f"{kind}.parquet")
        try:
            files[f"{kind}.parquet"] = library.fs.cat_file(path)
        except (FileNotFoundError, OSError) as exc:
            raise BuildError(f"{library.display(INDEX_DIR)}: cannot read the index: {exc}") from exc
    return files


def _digest(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
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


def _check_out(out: Path, library: Library) -> None:
    """Refuse to replace a folder that is not a previous sitegen build (or is the library)."""
    resolved = out.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise BuildUsageError(f"{out}: refusing to use this folder as --out")
    if library.is_local:
        lib_root = Path(library.root).resolve()
        if resolved == lib_root or resolved in lib_root.parents:
            raise BuildUsageError(f"{out}: --out must not contain the library {library.root}")
        for kind in KINDS:
            if resolved == lib_root / kind or lib_root / kind in resolved.parents:
                raise BuildUsageError(f"{out}: --out must not be inside the library's {kind}/")
    if out.exists() and not out.is_dir():
        raise BuildUsageError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise BuildUsageError(
            f"{out}: folder exists and was not built by sitegen (no {MANIFEST}); "
            "choose another --out or empty it"
        )


class _IndexSnapshot:
    """The index files as they were before the build, to put back if the build fails later.

    On a local library the files themselves are kept (hard links: the index step replaces
    files, it never rewrites them in place), so a restore brings back the same inode and mtime.
    Elsewhere their bytes are kept.
    """

    def __init__(self, library: Library) -> None:
        self.library = library
        self.token = uuid.uuid4().hex[:10]
        self.links: dict[str, str | None] = {}
        self.files: dict[str, bytes | None] = {}
        if library.is_local:  # keeps left behind by a build that was killed
            for stale in Path(library.path(INDEX_DIR)).glob("*.parquet.sitegen-keep-*"):
                with contextlib.suppress(OSError):
                    stale.unlink()
        for kind in KINDS:
            path = library.path(INDEX_DIR, f"{kind}.parquet")
            if library.is_local:
                backup = f"{path}.sitegen-keep-{self.token}"
                try:
                    os.link(path, backup)
                    self.links[path] = backup
                except FileNotFoundError:
                    self.links[path] = None
                except OSError:
                    self.links.clear()
                    break
        if not self.links:
            for kind in KINDS:
                path = library.path(INDEX_DIR, f"{kind}.parquet")
                try:
                    self.files[path] = library.fs.cat_file(path)
                except (FileNotFoundError, OSError):
                    self.files[path] = None

    def restore(self) -> None:
        for path, backup in self.links.items():
            try:
                if backup is None:
                    if os.path.exists(path):
                        os.unlink(path)
                else:
                    os.replace(backup, path)
            except OSError:  # pragma: no cover - best effort on a failing disk
                continue
        fs = self.library.fs
        for path, blob in self.files.items():
            try:
                if blob is None:
                    if fs.exists(path):
                        fs.rm(path)
                    continue
                if fs.exists(path) and fs.cat_file(path) == blob:
                    continue
                temp = f"{path}.restore-{self.token}"
                fs.pipe_file(temp, blob)
                fs.mv(temp, path)
            except OSError:  # pragma: no cover - best effort on a failing store
                continue

    def discard(self) -> None:
        for backup in self.links.values():
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.unlink(backup)


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
) -> BuildResult:
    """Build the catalog site of `library` into `out`; raises BuildError, publishing nothing."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    say = log or (lambda message: None)
    out_path = Path(out)
    _check_out(out_path, library)
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

    snapshot = _IndexSnapshot(library)
    index_result: IndexResult | None = None
    try:
        mark = time.perf_counter()
        say("indexing")
        try:
            index_result = index_library(
                library, embedder, strict=strict, report=report, progress=embed_progress
            )
            index_files = _read_index(library)
            digest = _digest(index_files)
            cache = load_manifest(out_path).get("cache") or {}
            with open_store(library, writable=False) as store:
                timings["index"] = time.perf_counter() - mark
                mark = time.perf_counter()
                similar = _cached_similar(cache, digest, report.entries)
                collisions = _cached_collisions(cache, digest)
                if similar is None or collisions is None:
                    records = store.list(with_vectors=True)
                    similar = nearest_neighbours(records)
                    collisions = record_collisions(records)
                else:
                    records = store.list(with_vectors=False)
                semantic = _semantic(site.options, embedder, store, records, report.entries)
        except (IndexAbort, MetaStoreError, EmbedderError) as exc:
            raise BuildError(str(exc)) from exc
        updated: dict[tuple[str, str], datetime | None] = {
            (r.kind, r.name): r.date_updated for r in records
        }
        timings["similar"] = time.perf_counter() - mark
        data = SiteInput(
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
        write, published = publish_site(
            site, data, out_path, log=say, progress=progress, timings=timings, jobs=jobs
        )
    except BaseException:
        if index_result is not None and index_result.wrote:
            snapshot.restore()
        snapshot.discard()
        raise
    snapshot.discard()
    return BuildResult(
        out=out_path,
        entries=len(report.entries),
        skipped=report.left_out,
        index=index_result,
        write=write,
        seconds=time.perf_counter() - started,
        published=published,
        problems=report.problems,
        timings=timings,
    )


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One build at a time per --out (a lock file beside it; stale locks are taken over)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out.parent / f".{out.name}.sitegen-lock"
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _alive(pid):
                raise BuildError(f"{out}: another build (process {pid}) is writing it") from None
            with contextlib.suppress(OSError):
                lock.unlink()
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        break
    else:
        raise BuildError(f"{out}: cannot take the build lock {lock}")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours (EPERM)
        return True
    return True


def publish_site(
    site: Site,
    data: SiteInput,
    out: Path,
    *,
    log: Log | None = None,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
    jobs: int | None = None,
) -> tuple[WriteResult, bool]:
    """The site stage alone: plan; if anything changed, render into a transaction, commit."""
    say = log or (lambda message: None)
    spent = {} if timings is None else timings
    with _exclusive(out):
        return _publish_locked(site, data, out, say, progress, spent, jobs)


def _publish_locked(
    site: Site,
    data: SiteInput,
    out: Path,
    say: Log,
    progress: Progress | None,
    timings: dict[str, float],
    jobs: int | None,
) -> tuple[WriteResult, bool]:
    recover(out)
    mark = time.perf_counter()
    say("planning pages")
    previous = load_manifest(out)
    existing = list_files(out)
    try:
        plan = site.plan(data, previous, existing=existing)
    except SiteError as exc:
        raise BuildError(str(exc)) from exc
    todo, stale = pending(plan, previous, existing)
    timings["plan"] = time.perf_counter() - mark
    nothing_to_do = not todo and not stale and not plan.search_pending
    if nothing_to_do and same_bytes(out / MANIFEST, plan.manifest_bytes()):
        pages = plan.pages
        unchanged = WriteResult(pages_unchanged=pages, files_unchanged=len(plan.outputs) - pages)
        return unchanged, False
    mark = time.perf_counter()
    say(f"rendering {len(todo)} file(s)")
    txn = Transaction(out)
    try:
        try:
            rendered = render_site(plan, todo, out, txn, jobs=jobs, progress=progress)
        except SiteError as exc:
            raise BuildError(str(exc)) from exc
        site.theme.fragments.flush()  # what was rendered, for the next build
        timings["render"] = time.perf_counter() - mark
        mark = time.perf_counter()
        stale = existing - rendered.paths - {MANIFEST}
        manifest = rendered.manifest
        if not same_bytes(out / MANIFEST, manifest):
            txn.stage(MANIFEST, manifest, len(rendered.outputs))  # after every output's number
        try:
            txn.commit(stale)
        except (PublishError, OSError) as exc:
            raise BuildError(str(exc)) from exc
        timings["commit"] = time.perf_counter() - mark
    finally:
        txn.abort()
    pages = rendered.pages
    others = len(rendered.outputs) - pages
    result = WriteResult(
        pages_written=rendered.pages_written,
        pages_unchanged=pages - rendered.pages_written,
        files_written=rendered.files_written,
        files_unchanged=others - rendered.files_written,
        removed=len(stale),
    )
    return result, True
