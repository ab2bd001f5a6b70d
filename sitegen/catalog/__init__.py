"""Open a catalog of roles and skills wherever it lives, and read it the way a client would.

A catalog is one of:

- a **built site** (a folder or an http(s) URL): `catalog.json`, a JSON twin per entry page,
  per-entry zips, `.well-known/agent-skills/index.json` and the Parquet index in `index/`;
- a **library folder** (roles/ and skills/ with an `index/` written by `sitegen index`): the
  entries are read from their files, and an entry's archive is zipped the way `sitegen build`
  zips it, so its digest equals the published one.

Everything is read through fsspec; http(s) reads have timeouts and a failure becomes one
line naming the catalog. Nothing but the catalog is contacted: archive URLs are resolved
inside the catalog root, never followed elsewhere.

Rooms: :mod:`.locate` finds and opens a catalog; :mod:`.reader` reads its files through
fsspec; :mod:`.models` holds what it hands out; :mod:`.base` is what every catalog offers;
:mod:`.built_site` and :mod:`.library_folder` are its two layouts.
"""

from __future__ import annotations

from sitegen.catalog.base import Catalog
from sitegen.catalog.built_site import SiteCatalog
from sitegen.catalog.library_folder import LibraryCatalog
from sitegen.catalog.locate import (
    CATALOG_ENV,
    CONFIG_FILE,
    DEFAULT_TIMEOUT,
    LIBRARY_ENV,
    canonical_source,
    default_catalog,
    open_catalog,
)
from sitegen.catalog.models import (
    CATALOG_JSON,
    DEFAULT_FORMATS,
    DISCOVERY_JSON,
    Archive,
    CatalogError,
    CatalogInfo,
    CatalogUnreachable,
    EntryDetail,
    EntryFile,
    EntryNotFound,
    EntrySummary,
)
from sitegen.catalog.reader import MAX_JSON_BYTES, Reader, inside

__all__ = [
    "CATALOG_ENV",
    "CATALOG_JSON",
    "CONFIG_FILE",
    "DEFAULT_FORMATS",
    "DEFAULT_TIMEOUT",
    "DISCOVERY_JSON",
    "LIBRARY_ENV",
    "MAX_JSON_BYTES",
    "Archive",
    "Catalog",
    "CatalogError",
    "CatalogInfo",
    "CatalogUnreachable",
    "EntryDetail",
    "EntryFile",
    "EntryNotFound",
    "EntrySummary",
    "LibraryCatalog",
    "Reader",
    "SiteCatalog",
    "canonical_source",
    "default_catalog",
    "inside",
    "open_catalog",
]
