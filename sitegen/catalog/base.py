"""What every catalog offers, whatever its layout: entries, one entry in full, its archive,
and the index (its identity, and a read-only meta store reopened when a build replaces it)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from sitegen.catalog.models import (
    Archive,
    CatalogError,
    CatalogInfo,
    CatalogUnreachable,
    EntryDetail,
    EntryNotFound,
    EntrySummary,
)
from sitegen.catalog.reader import Reader, reason
from sitegen.entry import KINDS, SINGULAR
from sitegen.suggest import near_names

if TYPE_CHECKING:
    from sitegen.metastore import MetaStore


class Catalog:
    """What every catalog offers: entries, one entry in full, its archive, the index."""

    layout = "catalog"

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.source = reader.source
        self._lock = threading.Lock()
        self._store: MetaStore | None = None
        self._store_signature: tuple[Any, ...] | None = None
        self._info: CatalogInfo | None = None
        self._info_signature: tuple[Any, ...] | None = None

    # subclasses implement these
    def entries(self, kind: str | None = None, tag: str | None = None) -> list[EntrySummary]:
        raise NotImplementedError

    def get(self, kind: str, name: str) -> EntryDetail:
        raise NotImplementedError

    def archive(self, kind: str, name: str) -> Archive:
        raise NotImplementedError

    def digest(self, kind: str, name: str) -> str | None:
        """The sha256 of the archive the catalog serves now for an entry; None if it is gone."""
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        found = self.entries()
        return {kind: sum(e.kind == kind for e in found) for kind in KINDS}

    def generator(self) -> str | None:
        return None

    # shared ------------------------------------------------------------------------------

    def find(self, name: str, kind: str | None = None) -> EntrySummary:
        """An entry by name (`name`, or `kind/name`); ambiguous names must say their kind."""
        if "/" in name:
            prefix, _, name = name.partition("/")
            if prefix not in KINDS:
                raise EntryNotFound(f"{prefix}/{name}: the type must be roles or skills")
            kind = prefix
        listed = self.entries(kind)
        found = [e for e in listed if e.name == name]
        if not found:
            what = SINGULAR[kind] if kind else "role or skill"
            near = near_names(name, [(e.kind, e.name) for e in listed])
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise EntryNotFound(f"no {what} named {name!r} in {self.source}{hint}")
        if len(found) > 1:
            raise EntryNotFound(
                f"{name!r} is both a role and a skill in {self.source}; "
                f"say roles/{name} or skills/{name}"
            )
        return found[0]

    def info(self) -> CatalogInfo:
        """Build id and model fingerprint from the index files' metadata (footers only)."""
        signature = self.reader.index_signature()
        with self._lock:
            if self._info is not None and signature == self._info_signature:
                return self._info
        meta = self._index_metadata()
        info = CatalogInfo(
            source=self.source,
            layout=self.layout,
            build=meta.get("sitegen.build"),
            fingerprint=meta.get("sitegen.fingerprint"),
            written=meta.get("sitegen.written"),
            counts=self.counts(),
            generator=self.generator(),
        )
        with self._lock:
            self._info = info
            self._info_signature = signature
        return info

    def _index_metadata(self) -> dict[str, str]:
        """Build, model and time from the index pointer (or, for an index of earlier
        versions, from a Parquet file's footer)."""
        import pyarrow.parquet as pq

        from sitegen.generations import GenerationError, read_pointer

        try:
            pointer = read_pointer(
                self.reader.fs, self.reader.path("index"), self.reader.display("index/current.json")
            )
        except GenerationError as exc:
            raise CatalogError(str(exc)) from exc
        except Exception as exc:
            raise self.reader.guard("index/current.json", exc) from exc
        if pointer is not None:
            return {
                "sitegen.build": pointer.build,
                "sitegen.fingerprint": pointer.fingerprint,
                "sitegen.written": pointer.written,
            }
        for kind in KINDS:
            rel = f"index/{kind}.parquet"
            if not self.reader.exists(rel):
                continue
            try:
                with self.reader.fs.open(self.reader.path(rel), "rb") as handle:
                    raw = pq.read_metadata(handle).metadata or {}
            except Exception as exc:
                raise CatalogError(
                    f"{self.reader.display(rel)}: unreadable ({reason(exc)})"
                ) from exc
            return {k.decode(): v.decode() for k, v in raw.items()}
        return {}

    def store(self) -> MetaStore:
        """The catalog's index as a read-only meta store, reopened when a build replaces it."""
        from sitegen.metastore import MetaStore, MetaStoreError

        signature = self.reader.index_signature()
        with self._lock:
            if self._store is not None and signature == self._store_signature:
                return self._store
            try:
                store = MetaStore.open(
                    self.reader.fs,
                    self.reader.path("index"),
                    writable=False,
                    location=self.reader.display("index"),
                )
            except MetaStoreError:
                raise
            except Exception as exc:
                raise CatalogUnreachable(
                    f"{self.reader.display('index')}: cannot read the index ({reason(exc)})"
                ) from exc
            old, self._store, self._store_signature = self._store, store, signature
        if old is not None:
            old.engine.close()
        return store

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.engine.close()
