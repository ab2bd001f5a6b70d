"""Reading catalog-relative paths through fsspec, with every transport failure turned into
one line naming the catalog, and resolving links so that nothing outside the catalog is read."""

from __future__ import annotations

import json
import posixpath
from typing import Any
from urllib.parse import urlsplit

import fsspec

from sitegen.catalog.models import CatalogError, CatalogUnreachable

MAX_JSON_BYTES = 256 * 1024 * 1024


def is_http(text: str) -> bool:
    return urlsplit(text).scheme in {"http", "https"}


def reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return "timed out"
    return f"{name}: {text}" if text else name


class Reader:
    """Reads catalog-relative paths through fsspec; turns transport failures into one line."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, source: str) -> None:
        self.fs = fs
        self.root = root
        self.source = source

    def path(self, rel: str) -> str:
        return f"{self.root.rstrip('/')}/{rel}" if rel else self.root

    def display(self, rel: str) -> str:
        return f"{self.source}/{rel}" if rel else self.source

    def guard(self, rel: str, exc: BaseException) -> CatalogUnreachable:
        return CatalogUnreachable(f"{self.display(rel)}: cannot read ({reason(exc)})")

    def exists(self, rel: str) -> bool:
        try:
            return bool(self.fs.exists(self.path(rel)))
        except FileNotFoundError:
            return False
        except Exception as exc:  # aiohttp errors, timeouts, permission problems
            raise self.guard(rel, exc) from exc

    def isdir(self, rel: str) -> bool:
        try:
            return bool(self.fs.isdir(self.path(rel)))
        except FileNotFoundError:
            return False
        except Exception as exc:
            raise self.guard(rel, exc) from exc

    def read(self, rel: str) -> bytes:
        try:
            return bytes(self.fs.cat_file(self.path(rel)))
        except FileNotFoundError as exc:
            raise CatalogError(f"{self.display(rel)}: missing from the catalog") from exc
        except Exception as exc:
            raise self.guard(rel, exc) from exc

    def read_json(self, rel: str) -> Any:
        return self.parse_json(rel, self.read(rel))

    def parse_json(self, rel: str, data: bytes) -> Any:
        if len(data) > MAX_JSON_BYTES:
            raise CatalogError(f"{self.display(rel)}: too large to be a catalog file")
        try:
            return json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CatalogError(f"{self.display(rel)}: not valid JSON ({exc})") from exc

    def index_signature(self) -> tuple[Any, ...]:
        """Changes when the index moves to a new generation (local catalogs); constant over
        HTTP, where polling would cost a request each time."""
        if is_http(self.source):
            return ()
        from sitegen.generations import signature

        return signature(self.fs, self.path("index"))


def inside(base: str, rel: str) -> str | None:
    """`rel` resolved against the catalog folder `base`, or None if it leaves the catalog
    (an absolute URL, a root path or `..` past the top)."""
    if not rel or "\\" in rel or urlsplit(rel).scheme or rel.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base, rel.split("#", 1)[0].split("?", 1)[0]))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return "" if joined == "." else joined
