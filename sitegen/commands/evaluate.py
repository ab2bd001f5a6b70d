"""`sitegen eval`: score matching on a file of labelled queries against an indexed library."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.commands.library import open_library
from sitegen.embedder import load_embedder
from sitegen.evaluate import EvalReport, QueriesError, evaluate, load_queries
from sitegen.indexer import open_store
from sitegen.search import check_compatible

if TYPE_CHECKING:
    from sitegen.model_prepare import Progress


def evaluate_library(
    queries: str,
    url: str | None = None,
    *,
    model: str | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Load QUERIES, then run each through `match()` on the library (default: the folder
    holding QUERIES). Every defect of the file is a QueriesError (exit 2) naming it."""
    if not Path(queries).is_file():
        raise QueriesError(f"{queries}: no such file")
    items = load_queries(queries)
    library = open_library(url or str(Path(queries).resolve().parent))
    embedder = load_embedder(model, progress=progress)
    with open_store(library, writable=False) as store:
        check_compatible(store, embedder)
        try:
            return evaluate(store, embedder, items)
        except QueriesError as exc:
            raise QueriesError(f"{queries}: {exc}") from exc
