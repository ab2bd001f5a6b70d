"""`sitegen match`: rank a library's (or a published catalog's) entries for one query.

Besides the ranking, two cheap hints: names within a few typing slips of a short query
("did you mean"), and whether the library changed after the index was written (by file
times only: nothing is read or embedded, so a cold match stays fast).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sitegen.commands.library import library_location, open_library
from sitegen.config import INDEX_DIR
from sitegen.embedder import load_embedder_for
from sitegen.entry import Record
from sitegen.indexer import open_store
from sitegen.library import Library
from sitegen.library.model import DEFINITION_FILES, FileInfo, compute_etag
from sitegen.search import (
    DEFAULT_LIMIT,
    DEFAULT_MAX_DISTANCE,
    MatchResult,
    check_compatible,
    match,
    validate,
)
from sitegen.suggest import near_names

if TYPE_CHECKING:
    from sitegen.model_prepare import Progress


_DEFINITIONS = (*DEFINITION_FILES.values(), "skill.md")


@dataclass(frozen=True)
class LibraryMatch:
    result: MatchResult
    window: int  # the model's token window, for the "query was cut" warning
    near: tuple[str, ...] = ()  # names a short query may have misspelt
    changed: int = 0  # entries (or folders of entries) changed since the index was written


def match_library(
    url: str | None,
    query: str,
    *,
    kind: str = "all",
    limit: int = DEFAULT_LIMIT,
    max_distance: float = DEFAULT_MAX_DISTANCE,
    model: str | None = None,
    progress: Progress | None = None,
) -> LibraryMatch:
    """Open the index, load the model it was built with, and rank; reads only `index/`."""
    validate(query, kind, limit, max_distance)  # before any file is opened
    location = library_location(url)
    library = open_library(location, index_only=True)
    with open_store(library, writable=False) as store:
        store.require_index()
        embedder = load_embedder_for(
            store.fingerprint or "", sources=(location,), model_path=model, progress=progress
        )
        check_compatible(store, embedder)
        result = match(store, embedder, query, kind=kind, limit=limit, max_distance=max_distance)
        records = store.list()
    names = [(r.kind, r.name) for r in records]
    top = result.results[0].name if result.results else None
    near = tuple(n for n in near_names(query, names, kind) if n != top)
    return LibraryMatch(
        result, embedder.max_seq_length, near, changed_since_index(library, records)
    )


def changed_since_index(library: Library, records: Sequence[Record]) -> int:
    """How many entries changed since the index was written, 0 off this machine.

    File times pick the suspects (a definition file or an entry folder newer than the
    index, a folder of entries newer than the index); only suspects are read: an entry
    counts when its files hash to another etag or are gone, a folder when it holds an entry
    the index lacks. A touched but unchanged file costs one hash and warns of nothing.
    """
    if not library.is_local:
        return 0
    index = library.path(INDEX_DIR)
    try:
        written = max(e.stat().st_mtime for e in os.scandir(index) if e.name.endswith(".parquet"))
    except (OSError, ValueError):
        return 0
    changed = 0
    folders = {library.path(r.folder) for r in records}
    parents = {os.path.dirname(f) for f in folders} - {library.root, index}
    for record in records:
        try:
            newest = max(
                os.stat(library.path(record.definition_path)).st_mtime,
                os.stat(library.path(record.folder)).st_mtime,
            )
        except OSError:
            changed += 1
            continue
        if newest > written and _etag_now(library, record) != record.etag:
            changed += 1
    for parent in parents:
        if not parent.startswith(library.root + "/"):
            continue  # the library is itself one skill: its parent is not ours
        try:
            if os.stat(parent).st_mtime <= written:
                continue
            children = [e.path for e in os.scandir(parent) if e.is_dir()]
        except OSError:
            continue
        changed += sum(
            child not in folders
            and any(os.path.isfile(os.path.join(child, n)) for n in _DEFINITIONS)
            for child in children
        )
    return changed


def _etag_now(library: Library, record: Record) -> str | None:
    """The entry's etag as its files are now (None when one cannot be read)."""
    files = []
    for rel in record.files:
        try:
            with open(library.path(record.folder, rel), "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        files.append(FileInfo(rel, len(blob), hashlib.sha256(blob).hexdigest()))
    return compute_etag(files)
