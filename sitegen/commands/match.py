"""`sitegen match`: rank a library's (or a published catalog's) entries for one query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sitegen.commands.library import library_location, open_library
from sitegen.embedder import load_embedder_for
from sitegen.indexer import open_store
from sitegen.search import (
    DEFAULT_LIMIT,
    DEFAULT_MAX_DISTANCE,
    MatchResult,
    check_compatible,
    match,
    validate,
)

if TYPE_CHECKING:
    from sitegen.model_prepare import Progress


@dataclass(frozen=True)
class LibraryMatch:
    result: MatchResult
    window: int  # the model's token window, for the "query was cut" warning


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
    return LibraryMatch(result, embedder.max_seq_length)
