"""`sitegen match`: rank a library's (or a published catalog's) entries for one query.

Besides the ranking (which already corrects typos: `MatchResult.did_you_mean`, and near-exact
names ranked first), one cheap hint: whether the library changed after the index was written
(by file times; only suspects are hashed, nothing is embedded, so a cold match stays fast).
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
from sitegen.errors import UsageError
from sitegen.indexer import open_store
from sitegen.library import Library
from sitegen.library.model import DEFINITION_FILES, FileInfo, compute_etag
from sitegen.metastore import MetaStore
from sitegen.search import (
    DEFAULT_LIMIT,
    DEFAULT_MAX_DISTANCE,
    MatchResult,
    check_compatible,
    match,
    name_words,
    validate,
)

if TYPE_CHECKING:
    from sitegen.model_prepare import Progress


_DEFINITIONS = (*DEFINITION_FILES.values(), "skill.md")


@dataclass(frozen=True)
class LibraryMatch:
    result: MatchResult
    window: int  # the model's token window, for the "query was cut" warning
    near: tuple[str, ...] = ()  # the name a query misspelt (ranked first by `match`)
    changed: int = 0  # entries (or folders of entries) changed since the index was written


def unusable_location(library: Library, given: str) -> str | None:
    """Why a library location cannot be used at all (missing, a file, unreachable), or None."""
    try:
        if library.fs.isfile(library.root):
            return f"{given}: is a file, not a library folder"
        if not library.fs.exists(library.root):
            return f"{given}: no such library (not found)"
    except Exception as exc:  # transport errors of remote filesystems
        lines = str(exc).strip().splitlines()
        return f"{given}: cannot reach the library ({lines[0] if lines else type(exc).__name__})"
    return None


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
        if not store.exists:
            # No index where one was looked for: say why when the location is the problem.
            unusable = unusable_location(library, location)
            if unusable is not None:
                raise UsageError(unusable)
        store.require_index()
        embedder = load_embedder_for(
            store.fingerprint or "", sources=(location,), model_path=model, progress=progress
        )
        check_compatible(store, embedder)
        result = match(store, embedder, query, kind=kind, limit=limit, max_distance=max_distance)
        places = store.locations()
        changed = changed_since_index(library, places, store)
    best = result.results[0] if result.results else None
    slug = "-".join(name_words(query))
    near = (best.name,) if best is not None and best.exact and best.name != slug else ()
    return LibraryMatch(result, embedder.max_seq_length, near, changed)


def changed_since_index(
    library: Library, places: Sequence[tuple[str, str, str, str, str]], store: MetaStore
) -> int:
    """How many entries changed since the index was written, 0 off this machine.

    `places` are the index's (kind, name, folder, definition_path, etag). File times pick
    the suspects (against the current generation's files): a definition file newer than the
    index, one gone, a folder of entries newer than the index. Only suspects are read: an
    entry counts when its files hash to another etag, a folder when it holds an entry the
    index lacks. A touched but unchanged file costs one hash and warns of nothing.
    """
    if not library.is_local:
        return 0
    index = library.path(INDEX_DIR)
    try:
        written = max(os.stat(path).st_mtime for path in store.index_files())
    except (OSError, ValueError):
        return 0
    changed = 0
    folders = {library.path(folder) for _, _, folder, _, _ in places}
    parents = {os.path.dirname(f) for f in folders} - {library.root, index}
    for kind, name, folder, definition, etag in places:
        try:
            newer = os.stat(library.path(definition)).st_mtime > written
        except OSError:
            changed += 1
            continue
        if newer:
            record = store.get(kind, name)
            files = record.files if record is not None else ()
            changed += _etag_now(library, folder, files) != etag
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


def _etag_now(library: Library, folder: str, files: Sequence[str]) -> str | None:
    """An entry's etag as its files are now (None when one cannot be read)."""
    infos = []
    for rel in files:
        try:
            with open(library.path(folder, rel), "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        infos.append(FileInfo(rel, len(blob), hashlib.sha256(blob).hexdigest()))
    return compute_etag(infos)
