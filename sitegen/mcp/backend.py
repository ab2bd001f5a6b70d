"""The catalog and the model behind the MCP server, opened on first use and shared by calls.

Start-up stays light: no model, no DuckDB, and for an http(s) catalog not even a request
until the first call. The model loads on the first `match`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sitegen.catalog import Catalog, open_catalog

if TYPE_CHECKING:
    from sitegen.embedder import Embedder


class Backend:
    """The catalog and the model, opened on first use and shared by every call."""

    def __init__(
        self,
        location: str,
        *,
        catalog: Catalog | None = None,
        embedder: Embedder | None = None,
        model: str | None = None,
    ) -> None:
        self.location = location
        self._catalog = catalog
        self._embedder = embedder
        self.model = model
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()

    def catalog(self) -> Catalog:
        with self._lock:
            if self._catalog is None:
                self._catalog = open_catalog(self.location)
            return self._catalog

    def embedder(self, fingerprint: str | None = None) -> Embedder:
        with self._model_lock:
            if self._embedder is None:
                from sitegen.embedder import load_embedder, load_embedder_for

                # Stray prints cannot corrupt the protocol: the SDK's stdio transport diverts
                # fd 1 to stderr and writes messages on a private duplicate.
                if fingerprint:  # the index's own model: cached, or fetched from the catalog
                    self._embedder = load_embedder_for(
                        fingerprint, sources=(self.location,), model_path=self.model
                    )
                else:
                    self._embedder = load_embedder(self.model)
            return self._embedder

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
