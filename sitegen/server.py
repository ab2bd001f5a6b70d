"""`sitegen serve`: the published site's files plus a JSON query API, on Starlette/uvicorn.

The index is read-only here. :class:`LiveIndex` holds one loaded snapshot of the Parquet
index and swaps in a new snapshot when a build replaces the files; each request pins the
snapshot it started with, so no response mixes old and new entries, and a snapshot is closed
only when its last request is done.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from sitegen.embedder import Embedder
from sitegen.entry import public_json, public_json_schema
from sitegen.indexer import open_store
from sitegen.library import Library
from sitegen.metastore import KINDS, MetaStore, MetaStoreError, Record
from sitegen.search import (
    DEFAULT_LIMIT,
    DEFAULT_MAX_DISTANCE,
    MAX_LIMIT,
    TYPES,
    QueryError,
    check_compatible,
    match,
)
from sitegen.urls import SiteUrls

log = logging.getLogger("sitegen.server")

MAX_QUERY_CHARS = 1000
QUERY_CACHE_SIZE = 2048
RESPONSE_CACHE_SIZE = 4096
_URLS = SiteUrls()


# -- the live index ------------------------------------------------------------------------


@dataclass
class Snapshot:
    """One loaded index, shared by the requests that started while it was current."""

    store: MetaStore
    signature: tuple[Any, ...]
    build: str
    counts: dict[str, int]
    refs: int = 0
    retired: bool = False
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self) -> None:
        with self.lock:
            self.refs -= 1
        self._close_if_done()

    def retire(self) -> None:
        """No new request will pin this snapshot; close it once the last one is done."""
        with self.lock:
            self.retired = True
        self._close_if_done()

    def _close_if_done(self) -> None:
        with self.lock:
            close = self.retired and self.refs == 0 and not self.closed
            if close:
                self.closed = True
        if close:
            self.store.engine.close()


class LiveIndex:
    """The current index snapshot, reloaded atomically when the files change on disk."""

    def __init__(self, library: Library, embedder: Embedder, *, poll_seconds: float = 0.5):
        self.library = library
        self.embedder = embedder
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.refresh()

    def _signature(self) -> tuple[Any, ...]:
        parts: list[Any] = []
        for kind in KINDS:
            path = self.library.path("index", f"{kind}.parquet")
            try:
                info = self.library.fs.info(path)
            except (FileNotFoundError, OSError):
                parts.append(None)
                continue
            parts.append(tuple(info.get(k) for k in ("size", "mtime", "ino", "created")))
        return tuple(parts)

    def refresh(self) -> bool:
        """Load the index if its files changed; keep serving the old one if loading fails."""
        signature = self._signature()
        current = self._current
        if current is not None and current.signature == signature:
            return False
        try:
            store = open_store(self.library, writable=False)
        except MetaStoreError as exc:
            # A build may be swapping the files right now; the next poll will see them whole.
            self.last_error = str(exc)
            return False
        try:
            check_compatible(store, self.embedder)
        except MetaStoreError as exc:
            store.engine.close()
            self.last_error = str(exc)
            return False
        counts = {kind: len(store.etags(kind)) for kind in KINDS}
        snapshot = Snapshot(store, signature, store.info.build if store.info else "", counts)
        with self._lock:
            old, self._current = self._current, snapshot
        self.last_error = None
        if old is not None:
            old.retire()
        log.info("index loaded: build %s, %s", snapshot.build, counts)
        return True

    @contextmanager
    def acquire(self) -> Iterator[Snapshot]:
        """Pin the current snapshot for the duration of one request."""
        with self._lock:
            snapshot = self._current
            if snapshot is None:
                raise MetaStoreError(
                    self.last_error or f"no index at {self.library.display('index')}; "
                    "run `sitegen index`"
                )
            with snapshot.lock:
                snapshot.refs += 1
        try:
            yield snapshot
        finally:
            snapshot.release()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll, name="index-watch", daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # pragma: no cover - keep serving whatever happens
                log.exception("index reload failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            current.retire()


class _LRU:
    """A small thread-safe LRU map; functools.lru_cache cannot key on the index build."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


# -- the API -------------------------------------------------------------------------------


def _error(status: int, param: str | None, message: str) -> JSONResponse:
    body: dict[str, Any] = {"error": {"message": message}}
    if param is not None:
        body["error"]["param"] = param
    return JSONResponse(body, status_code=status)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(name, f"must be an integer, not {raw[:40]!r}") from None


def _float_param(request: Request, name: str, default: float) -> float:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise QueryError(name, f"must be a number, not {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise QueryError(name, f"must be a finite number, not {raw[:40]!r}")
    return value


def record_json(record: Record) -> dict[str, Any]:
    """The API's view of an entry: the schema's public fields and the entry page's URL."""
    return public_json(record, url=_URLS.entry_dir(record.kind, record.name) + "/")


def entry_schema() -> dict[str, Any]:
    """The JSON Schema of :func:`record_json`, derived from the one entry schema."""
    schema = public_json_schema()
    schema["properties"]["url"] = {
        "type": "string",
        "description": "The entry's page, relative to the site root.",
    }
    schema["required"].append("url")
    return schema


class Api:
    """The JSON endpoints; every one reads from the snapshot pinned for its request."""

    def __init__(self, index: LiveIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self._vectors = _LRU(QUERY_CACHE_SIZE)
        self._responses = _LRU(RESPONSE_CACHE_SIZE)

    def query_vector(self, query: str) -> np.ndarray:
        """Embed a query once; repeats come from the LRU and cost no model call."""
        vector = self._vectors.get(query)
        if vector is None:
            vector = self.embedder.embed([query])[0]
            vector.setflags(write=False)
            self._vectors.put(query, vector)
        return vector

    def match(self, request: Request) -> Response:
        try:
            query = request.query_params.get("q")
            if query is None or not query.strip():
                raise QueryError("q", "is required and must not be blank")
            if len(query) > MAX_QUERY_CHARS:
                raise QueryError("q", f"must be at most {MAX_QUERY_CHARS} characters")
            kind = request.query_params.get("type", "all")
            limit = _int_param(request, "limit", DEFAULT_LIMIT)
            max_distance = _float_param(request, "max_distance", DEFAULT_MAX_DISTANCE)
            with self.index.acquire() as snapshot:
                key = (snapshot.build, query, kind, limit, max_distance)
                cached = self._responses.get(key)
                if cached is not None:
                    return Response(cached, media_type="application/json")
                result = match(
                    snapshot.store,
                    self.embedder,
                    query,
                    kind=kind,
                    limit=limit,
                    max_distance=max_distance,
                    vector=self.query_vector(" ".join(query.split())),
                )
        except QueryError as exc:
            param = "q" if exc.param == "query" else exc.param
            return _error(400, param, f"{param} {exc.message}")
        except MetaStoreError as exc:
            return _error(503, None, str(exc))
        body = {
            "query": result.query,
            "truncated": result.truncated,
            "build": snapshot.build,
            "results": [
                {**m.as_dict(), "url": _URLS.entry_dir(m.kind, m.name) + "/"}
                for m in result.results
            ],
        }
        payload = json.dumps(body).encode()
        self._responses.put(key, payload)
        return Response(payload, media_type="application/json")

    def entries(self, request: Request) -> Response:
        kind = request.query_params.get("type", "all")
        tag = request.query_params.get("tag") or None
        if kind not in TYPES:
            return _error(400, "type", f"type must be one of {', '.join(TYPES)}")
        try:
            with self.index.acquire() as snapshot:
                records = snapshot.store.list(None if kind == "all" else kind, tag=tag)
                build = snapshot.build
        except MetaStoreError as exc:
            return _error(503, None, str(exc))
        return JSONResponse({"build": build, "entries": [record_json(r) for r in records]})

    def entry(self, request: Request) -> Response:
        kind = request.path_params["type"]
        name = request.path_params["name"]
        if kind not in KINDS:
            return _error(404, "type", f"type must be one of {', '.join(KINDS)}")
        try:
            with self.index.acquire() as snapshot:
                record = snapshot.store.get(kind, name)
        except MetaStoreError as exc:
            return _error(503, None, str(exc))
        if record is None:
            return _error(404, "name", f"no {kind[:-1]} named {name[:80]!r}")
        return JSONResponse(record_json(record))

    def health(self, request: Request) -> Response:
        try:
            with self.index.acquire() as snapshot:
                info = snapshot.store.info
                body = {
                    "status": "ok",
                    "fingerprint": snapshot.store.fingerprint,
                    "build": snapshot.build,
                    "written": info.written if info else None,
                    "counts": snapshot.counts,
                }
        except MetaStoreError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        return JSONResponse(body)

    def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_spec())


def openapi_spec() -> dict[str, Any]:
    """The API's OpenAPI 3.1 description, written by hand to match the handlers above."""
    error = {"$ref": "#/components/schemas/Error"}
    entry_ref = {"$ref": "#/components/schemas/Entry"}

    def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    errors = {
        "400": json_response("A bad parameter, named in the error", error),
        "503": json_response("No usable index yet", error),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sitegen query API",
            "version": "1",
            "description": "Find the agent roles and skills that fit a task.",
        },
        "paths": {
            "/api/match": {
                "get": {
                    "operationId": "match",
                    "summary": "Rank roles and skills by semantic closeness to a query",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 1000},
                        },
                        {
                            "name": "type",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(TYPES), "default": "all"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIMIT,
                                "default": DEFAULT_LIMIT,
                            },
                        },
                        {
                            "name": "max_distance",
                            "in": "query",
                            "schema": {
                                "type": "number",
                                "minimum": 0,
                                "maximum": 2,
                                "default": DEFAULT_MAX_DISTANCE,
                            },
                        },
                    ],
                    "responses": {
                        "200": json_response(
                            "Ranked matches", {"$ref": "#/components/schemas/MatchResponse"}
                        ),
                        **errors,
                    },
                }
            },
            "/api/entries": {
                "get": {
                    "operationId": "listEntries",
                    "summary": "List indexed entries, optionally by type and tag",
                    "parameters": [
                        {
                            "name": "type",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(TYPES), "default": "all"},
                        },
                        {"name": "tag", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": json_response(
                            "Entries",
                            {
                                "type": "object",
                                "properties": {
                                    "build": {"type": "string"},
                                    "entries": {"type": "array", "items": entry_ref},
                                },
                            },
                        ),
                        **errors,
                    },
                }
            },
            "/api/entries/{type}/{name}": {
                "get": {
                    "operationId": "getEntry",
                    "summary": "One entry's metadata",
                    "parameters": [
                        {
                            "name": "type",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": list(KINDS)},
                        },
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": json_response("The entry", entry_ref),
                        "404": json_response("No such entry", error),
                        "503": errors["503"],
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Index fingerprint and entry counts",
                    "responses": {
                        "200": json_response("Serving", {"type": "object"}),
                        "503": json_response("No usable index", {"type": "object"}),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "message": {"type": "string"},
                                "param": {"type": "string"},
                            },
                        }
                    },
                },
                "Match": {
                    "type": "object",
                    "required": ["type", "name", "description", "tags", "distance", "url"],
                    "properties": {
                        "type": {"type": "string", "enum": list(KINDS)},
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "distance": {"type": "number"},
                        "exact": {"type": "boolean"},
                        "url": {"type": "string"},
                    },
                },
                "MatchResponse": {
                    "type": "object",
                    "required": ["query", "results"],
                    "properties": {
                        "query": {"type": "string"},
                        "truncated": {"type": "boolean"},
                        "build": {"type": "string"},
                        "results": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Match"},
                        },
                    },
                },
                "Entry": entry_schema(),
            }
        },
    }


# -- the application -----------------------------------------------------------------------


class _SiteFiles(StaticFiles):
    """The built site: index.html for folders, the theme's 404.html, nothing outside it."""


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(("/api/", "/healthz")):
        return _error(exc.status_code, None, str(exc.detail))
    return Response(str(exc.detail), status_code=exc.status_code, media_type="text/plain")


class LiveReload:
    """ASGI middleware for `serve --watch`: injects a tiny script that reloads on a new build."""

    # An external script, not an inline one: the theme's Content-Security-Policy allows
    # scripts from 'self' only.
    SCRIPT = b'<script src="/_sitegen/reload.js"></script>'
    JS = (
        "(function(){var b=null;setInterval(function(){fetch('/_sitegen/build')"
        ".then(function(r){return r.text()}).then(function(t){if(b!==null&&t!==b)"
        "location.reload();b=t}).catch(function(){})},1000)})();\n"
    )

    def __init__(self, app: ASGIApp, version: Callable[[], str]) -> None:
        self.app = app
        self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/mcp":  # MCP streams: never buffer
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/_sitegen/build":
            await Response(self.version(), media_type="text/plain")(scope, receive, send)
            return
        if scope["path"] == "/_sitegen/reload.js":
            await Response(self.JS, media_type="text/javascript")(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            body = b"".join(chunks)
            is_html = any(
                k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers
            )
            if is_html:
                body = body.replace(b"</body>", self.SCRIPT + b"</body>", 1)
                headers = [(k, v) for k, v in headers if k.lower() != b"etag"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)  # type: ignore[arg-type]


class ApiAnnouncer:
    """ASGI middleware: every response names the match endpoint (relative to the site root),
    so the static search page served here finds semantic search without a rebuild."""

    HEADER = (b"x-sitegen-api", b"api/match")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def announce(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.HEADER]}
            await send(message)

        await self.app(scope, receive, announce)


def create_app(
    library: Library,
    embedder: Embedder,
    *,
    site_dir: str | Path | None = None,
    poll_seconds: float = 0.5,
    live_reload: Callable[[], str] | None = None,
    mcp_app: Starlette | None = None,
) -> Starlette:
    """The ASGI app: API routes first, then the built site's static files.

    `mcp_app` (from :func:`sitegen.mcp.http_app`) adds its `/mcp` route and runs its lifespan.
    """
    index = LiveIndex(library, embedder, poll_seconds=poll_seconds)
    api = Api(index, embedder)
    routes: list[Any] = [
        Route("/api/match", api.match, methods=["GET", "HEAD"]),
        Route("/api/entries", api.entries, methods=["GET", "HEAD"]),
        Route("/api/entries/{type}/{name}", api.entry, methods=["GET", "HEAD"]),
        Route("/api/openapi.json", api.openapi, methods=["GET", "HEAD"]),
        Route("/healthz", api.health, methods=["GET", "HEAD"]),
    ]
    if mcp_app is not None:
        routes.extend(mcp_app.routes)
    if site_dir is not None and Path(site_dir).is_dir():
        routes.append(Mount("/", app=_SiteFiles(directory=str(site_dir), html=True)))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        index.start()
        try:
            if mcp_app is None:
                yield
            else:
                async with mcp_app.router.lifespan_context(mcp_app):
                    yield
        finally:
            index.stop()

    app = Starlette(
        routes=routes, exception_handlers={HTTPException: _http_error}, lifespan=lifespan
    )
    app.state.index = index
    app.state.api = api
    app.add_middleware(ApiAnnouncer)
    if live_reload is not None:
        app.add_middleware(LiveReload, version=live_reload)
    return app
