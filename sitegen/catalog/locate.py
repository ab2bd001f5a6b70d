"""Finding a catalog (the flag, `$SITEGEN_CATALOG`, `sitegen.toml`) and opening it as the
layout it turns out to be: a built site (folder or http(s) URL) or an indexed library folder."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import fsspec

from sitegen.catalog.base import Catalog
from sitegen.catalog.built_site import SiteCatalog
from sitegen.catalog.library_folder import LibraryCatalog
from sitegen.catalog.models import CATALOG_JSON, CatalogUnreachable
from sitegen.catalog.reader import Reader, is_http, reason
from sitegen.entry import KINDS
from sitegen.errors import UsageError

CATALOG_ENV = "SITEGEN_CATALOG"
LIBRARY_ENV = "SITEGEN_LIBRARY"
CONFIG_FILE = "sitegen.toml"
DEFAULT_TIMEOUT = 30.0  # seconds an HTTP connect or read may stall


def default_catalog(*, fallback_to_library: bool = False) -> str | None:
    """`$SITEGEN_CATALOG`, else `catalog = "..."` in ./sitegen.toml, else (for commands that
    read a library too) `$SITEGEN_LIBRARY` or the current folder."""
    env = os.environ.get(CATALOG_ENV)
    if env:
        return env
    config = Path(CONFIG_FILE)
    if config.is_file():
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"{config}: cannot read ({exc})") from exc
        value = data.get("catalog")
        if isinstance(value, str) and value.strip():
            return value.strip()
    if fallback_to_library:
        return os.environ.get(LIBRARY_ENV) or "."
    return None


def canonical_source(location: str) -> str:
    """How a catalog is recorded: URLs as given (no trailing slash), folders absolute."""
    text = location.strip()
    if _is_url(text):
        return text.rstrip("/")
    return str(Path(text).expanduser().resolve())


def _is_url(text: str) -> bool:
    return "://" in text or text.startswith("file:")



def _storage_options(location: str, timeout: float) -> dict[str, Any]:
    if not is_http(location):
        return {}
    import aiohttp

    # No cap on a whole transfer (a big archive on a slow link is fine), but no connect or
    # read may stall longer than the timeout.
    return {
        "client_kwargs": {
            "timeout": aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        }
    }


def open_catalog(location: str, *, timeout: float = DEFAULT_TIMEOUT) -> Catalog:
    """Open a catalog: a built site (folder or URL) or an indexed library folder."""
    text = location.strip()
    if not text:
        raise CatalogUnreachable("catalog location is empty")
    source = canonical_source(text)
    try:
        fs, root = fsspec.core.url_to_fs(source, **_storage_options(source, timeout))
    except (ValueError, ImportError, OSError) as exc:
        raise CatalogUnreachable(f"{text}: cannot open catalog ({reason(exc)})") from exc
    root = root.rstrip("/") or root
    if is_http(source):
        root = source  # HTTP paths are full URLs; keep the user's spelling
    reader = Reader(fs, root, source)
    if is_http(source):
        # One GET tells all: 404 means "not a catalog", anything else "cannot reach it"
        # (fsspec's HTTP exists() folds both into False).
        try:
            first = bytes(fs.cat_file(reader.path(CATALOG_JSON)))
        except FileNotFoundError as exc:
            raise CatalogUnreachable(
                f"{source}: not a sitegen catalog (no {CATALOG_JSON}; point at the site's root)"
            ) from exc
        except Exception as exc:
            raise CatalogUnreachable(
                f"{source}: cannot reach the catalog ({reason(exc)})"
            ) from exc
        return SiteCatalog(reader, catalog_json=first)
    if reader.exists(CATALOG_JSON):
        return SiteCatalog(reader)
    if reader.isdir("") and any(reader.isdir(k) for k in (*KINDS, "index")):
        return LibraryCatalog(reader)
    if not reader.isdir(""):
        raise CatalogUnreachable(f"{text}: no such catalog (folder not found)")
    raise CatalogUnreachable(
        f"{text}: not a catalog (no {CATALOG_JSON}, and no roles/, skills/ or index/ folder)"
    )
