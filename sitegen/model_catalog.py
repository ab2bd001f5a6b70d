"""A catalog carries its model: publish the prepared query-time files, fetch and verify them.

``sitegen build`` prepares the model once (torch, a minute); everyone else only queries. So a
published catalog holds, next to its ``index/``, the query-time files of the model that made
the index, once per fingerprint::

    <catalog>/model/<key>/manifest.json     fingerprint + each file's size and sha256
    <catalog>/model/<key>/model.onnx         int8 graph
    <catalog>/model/<key>/tokenizer.json
    <catalog>/model/<key>/taxonomy.npy|json  the keyword taxonomy's vectors (derived tags)

where ``key`` names the fingerprint (:func:`model_key`). A query-side machine with no prepared
model for the index's fingerprint fetches these files from the catalog the user named (and
only from it), checks the manifest against the index's fingerprint and every file against its
sha256, and only then installs the folder in its cache; any mismatch is one clear error and
nothing is cached.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sitegen.model_cache import (
    MANIFEST_FILE,
    QUERY_FILES,
    EmbedderError,
    Fingerprint,
    building,
    prepared_dir,
    read_json,
)

MODEL_DIR = "model"  # beside index/ in a published catalog
TIMEOUT = 30.0  # seconds an HTTP connect or read may stall
MAX_FILE_BYTES = 512 * 1024 * 1024
# Fields of the prepared manifest that describe this machine, not the model: not published.
_LOCAL_FIELDS = ("source", "created")


def model_key(fingerprint: str) -> str:
    """The folder name of a fingerprint's model inside a catalog."""
    return hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PublishedFile:
    """One file a catalog publishes for its model, read only when it must be written."""

    path: str  # site-relative, POSIX
    sha256: str
    read: Callable[[], bytes]


def published_model(prepared: Path) -> list[PublishedFile]:
    """The files a catalog publishes for a prepared model, keyed by the manifest's sha256.

    For ``sitegen build``'s plan: the keys come from the manifest, so an incremental build
    reads none of the ~60 MB unless the fingerprint changed. ``prepared`` is the embedder's
    ``model_dir``; the manifest comes last, so a reader that finds it finds every file.
    """
    manifest = read_json(prepared / MANIFEST_FILE)
    fingerprint = str(manifest.get("fingerprint", ""))
    files = manifest.get("files")
    if not fingerprint or not isinstance(files, dict) or set(files) != set(QUERY_FILES):
        raise EmbedderError(f"{prepared / MANIFEST_FILE}: not a complete prepared model")
    base = f"{MODEL_DIR}/{model_key(fingerprint)}"
    out = [
        PublishedFile(
            f"{base}/{name}", str(files[name]["sha256"]), functools.partial(_read, prepared / name)
        )
        for name in QUERY_FILES
    ]
    published = {k: v for k, v in manifest.items() if k not in _LOCAL_FIELDS}
    text = (json.dumps(published, indent=2, sort_keys=True) + "\n").encode("utf-8")
    digest = hashlib.sha256(text).hexdigest()
    out.append(PublishedFile(f"{base}/{MANIFEST_FILE}", digest, lambda: text))
    return out


def _read(path: Path) -> bytes:
    return path.read_bytes()


def published_files(prepared: Path) -> list[tuple[str, bytes]]:
    """:func:`published_model` with the bytes read: (site-relative POSIX path, bytes)."""
    return [(f.path, f.read()) for f in published_model(prepared)]


def publish_model(prepared: Path, out_dir: Path) -> list[Path]:
    """Write :func:`published_files` under ``out_dir`` (a site folder); returns their paths
    relative to ``out_dir``. For builds outside the site's transaction and for tests."""
    written = []
    for rel, data in published_files(prepared):
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(Path(rel))
    return written


class _Remote:
    """Reads files under one catalog root (folder or URL) through fsspec, with timeouts."""

    def __init__(self, source: str) -> None:
        import fsspec

        self.source = source.rstrip("/")
        options: dict[str, Any] = {}
        if urlsplit(self.source).scheme in {"http", "https"}:
            import aiohttp

            timeout = aiohttp.ClientTimeout(total=None, connect=TIMEOUT, sock_read=TIMEOUT)
            options = {"client_kwargs": {"timeout": timeout}}
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.source, **options)
        except (ValueError, ImportError, OSError) as exc:
            raise EmbedderError(f"{source}: cannot open the catalog ({exc})") from None
        if urlsplit(self.source).scheme in {"http", "https"}:
            self.root = self.source

    def url(self, rel: str) -> str:
        return f"{self.source}/{rel}"

    def read(self, rel: str) -> bytes:
        try:
            size = self.fs.size(f"{self.root.rstrip('/')}/{rel}")
            if size is not None and size > MAX_FILE_BYTES:
                raise EmbedderError(f"{self.url(rel)}: too large to be a model file")
            return bytes(self.fs.cat_file(f"{self.root.rstrip('/')}/{rel}"))
        except FileNotFoundError:
            raise
        except EmbedderError:
            raise
        except Exception as exc:  # aiohttp errors, timeouts, permissions
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EmbedderError(f"{self.url(rel)}: cannot read ({reason[:200]})") from None


def fetch_model(source: str, fingerprint: str, cache_root: Path) -> Path | None:
    """Fetch the model for ``fingerprint`` from the catalog at ``source`` into the cache.

    Returns the installed folder, or None when the catalog carries no model for it. Raises
    EmbedderError, having cached nothing, if the manifest or any file does not check out.
    """
    remote = _Remote(source)
    base = f"{MODEL_DIR}/{model_key(fingerprint)}"
    try:
        raw = remote.read(f"{base}/{MANIFEST_FILE}")
    except FileNotFoundError:
        return None
    manifest, fp = _check_manifest(remote.url(f"{base}/{MANIFEST_FILE}"), raw, fingerprint)
    target = prepared_dir(cache_root, fp)
    with building(target) as tmp:
        for name in QUERY_FILES:
            (tmp / name).write_bytes(_verified(remote, f"{base}/{name}", manifest["files"][name]))
        local = {**manifest, "fetched_from": remote.url(base)}
        text = json.dumps(local, indent=2, sort_keys=True) + "\n"
        (tmp / MANIFEST_FILE).write_text(text, encoding="utf-8")
    return target


def _check_manifest(url: str, raw: bytes, fingerprint: str) -> tuple[dict[str, Any], Fingerprint]:
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise EmbedderError(f"{url}: not valid JSON ({exc}); nothing was cached") from None
    if not isinstance(manifest, dict) or manifest.get("fingerprint") != fingerprint:
        found = manifest.get("fingerprint") if isinstance(manifest, dict) else None
        raise EmbedderError(
            f"{url}: the catalog's model is {found or 'unnamed'}, but its index was built with "
            f"{fingerprint}; nothing was cached"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(QUERY_FILES):
        raise EmbedderError(f"{url}: does not list {', '.join(QUERY_FILES)}; nothing was cached")
    try:
        fp = Fingerprint.from_manifest(manifest)
    except (TypeError, ValueError) as exc:
        raise EmbedderError(f"{url}: {exc}; nothing was cached") from None
    return manifest, fp


def _verified(remote: _Remote, rel: str, expected: Any) -> bytes:
    """A file's bytes, or an error if it is missing or differs from the manifest."""
    url = remote.url(rel)
    try:
        data = remote.read(rel)
    except FileNotFoundError:
        raise EmbedderError(f"{url}: missing from the catalog; nothing was cached") from None
    want = expected.get("sha256") if isinstance(expected, dict) else None
    got = hashlib.sha256(data).hexdigest()
    if got != want or len(data) != expected.get("bytes"):
        raise EmbedderError(
            f"{url}: sha256 {got[:16]}... does not match the catalog's manifest "
            f"({str(want)[:16]}...): the file is corrupt or was changed; nothing was cached"
        )
    return data
