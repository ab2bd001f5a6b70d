"""The JSON API, declared once with types: FastAPI validates the parameters and writes the
OpenAPI document (:func:`openapi_spec`) from these declarations.

Limits come from the code (`MAX_QUERY_CHARS`, `search.MAX_LIMIT`, `search.TYPES`, ...), never
from copied literals. Bad parameters are 400 (not FastAPI's 422) in the one error shape
`{"error": {"message", "param"}}`; an unknown entry is 404; no usable index is 503.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException
from starlette.responses import Response

from sitegen.embedder import Embedder
from sitegen.entry import KINDS, SINGULAR, Kind
from sitegen.metastore import MetaStoreError
from sitegen.search import (
    DEFAULT_LIMIT,
    DEFAULT_MAX_DISTANCE,
    MAX_LIMIT,
    TYPES,
    QueryError,
    match,
)
from sitegen.server.batcher import QueryBatcher, batch_invariant
from sitegen.server.cache import ByteLRU
from sitegen.server.live import LiveIndex
from sitegen.server.models import (
    Entry,
    EntryList,
    Error,
    Health,
    Match,
    MatchResponse,
    entry_url,
    error_body,
    record_json,
)

if TYPE_CHECKING:
    TypeFilter = str
else:
    TypeFilter = Literal[TYPES]  # roles, skills or all: from search.TYPES

MAX_QUERY_CHARS = 1000
MAX_COSINE_DISTANCE = 2.0  # cosine distance of unit vectors lies in [0, 2]
QUERY_CACHE_BYTES = 8 * 1024 * 1024  # ~5,000 query vectors (1.5 KB each, plus the text)
RESPONSE_CACHE_BYTES = 32 * 1024 * 1024
TITLE = "sitegen query API"
VERSION = "1"
DESCRIPTION = "Find the agent roles and skills that fit a task."
JSON = "application/json"

Q = Annotated[
    str,
    Query(
        description="What you need done, in your own words.",
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        pattern=r"\S",  # not blank
    ),
]
TypeParam = Annotated[TypeFilter, Query(description="Only roles, only skills, or all.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many results.")]
MaxDistance = Annotated[
    float,
    Query(
        ge=0,
        le=MAX_COSINE_DISTANCE,
        allow_inf_nan=False,
        description="Leave out entries farther than this (cosine distance).",
    ),
]
Tag = Annotated[str | None, Query(description="Only entries with this authored tag.")]
KindPath = Annotated[Kind, Path(description="roles or skills.")]
NamePath = Annotated[str, Path(description="The entry's name.")]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "A bad parameter, named in the error"},
    503: {"model": Error, "description": "No usable index yet"},
}


class Api:
    """What the endpoints do; every one reads from the snapshot pinned for its request."""

    def __init__(
        self,
        index: LiveIndex,
        embedder: Embedder,
        *,
        response_cache_bytes: int = RESPONSE_CACHE_BYTES,
        query_cache_bytes: int = QUERY_CACHE_BYTES,
    ) -> None:
        self.index = index
        self.embedder = embedder
        # Distinct queries share a model call only where that leaves every vector unchanged.
        exact_in_batches = batch_invariant(embedder.embed)
        self.batcher = QueryBatcher(embedder.embed, max_batch=32 if exact_in_batches else 1)
        self.vectors: ByteLRU[np.ndarray] = ByteLRU(query_cache_bytes)
        self.responses: ByteLRU[bytes] = ByteLRU(response_cache_bytes)

    async def query_vector(self, text: str) -> np.ndarray:
        """A query's vector; repeats come from the cache and cost no model call."""
        vector = self.vectors.get(text)
        if vector is None:
            vector = await self.batcher.embed(text)
            self.vectors.put(text, vector, vector.nbytes + len(text))
        return vector

    async def match(self, q: str, kind: str, limit: int, max_distance: float) -> Response:
        text = " ".join(q.split())
        try:
            with self.index.acquire() as snapshot:
                # The build is part of the key: after a swap, answers come from the new index.
                key = (snapshot.build, text, kind, limit, max_distance)
                cached = self.responses.get(key)
                if cached is not None:
                    return Response(cached, media_type=JSON)
                vector = await self.query_vector(text)
                run = functools.partial(
                    match,
                    snapshot.store,
                    self.embedder,
                    text,
                    kind=kind,
                    limit=limit,
                    max_distance=max_distance,
                    vector=vector,
                )
                result = await anyio.to_thread.run_sync(run)
        except QueryError as exc:
            param = "q" if exc.param == "query" else exc.param
            return error(400, f"{param} {exc.message}", param)
        except MetaStoreError as exc:
            return error(503, str(exc))
        body = MatchResponse(
            query=result.query,
            truncated=result.truncated,
            build=snapshot.build,
            did_you_mean=result.did_you_mean,
            results=[
                Match.model_validate({**m.as_dict(), "url": entry_url(m.kind, m.name)})
                for m in result.results
            ],
        )
        payload = body.model_dump_json().encode()
        self.responses.put(key, payload, len(payload) + len(text))
        return Response(payload, media_type=JSON)

    def entries(self, kind: str, tag: str | None) -> Response:
        try:
            with self.index.acquire() as snapshot:
                records = snapshot.store.list(None if kind == "all" else kind, tag=tag or None)
                build = snapshot.build
        except MetaStoreError as exc:
            return error(503, str(exc))
        body = EntryList(build=build, entries=[Entry(record_json(r)) for r in records])
        return Response(body.model_dump_json(), media_type=JSON)

    def entry(self, kind: str, name: str) -> Response:
        try:
            with self.index.acquire() as snapshot:
                record = snapshot.store.get(kind, name)
        except MetaStoreError as exc:
            return error(503, str(exc))
        if record is None:
            return error(404, f"no {SINGULAR[kind]} named {name[:80]!r}", "name")
        return Response(Entry(record_json(record)).model_dump_json(), media_type=JSON)

    def health(self) -> Response:
        try:
            with self.index.acquire() as snapshot:
                info = snapshot.store.info
                body = Health(
                    status="ok",
                    fingerprint=snapshot.store.fingerprint,
                    build=snapshot.build,
                    written=info.written if info else None,
                    counts=snapshot.counts,
                )
        except MetaStoreError as exc:
            unavailable = Health(status="unavailable", error=str(exc))
            return Response(unavailable.model_dump_json(exclude_none=True), 503, media_type=JSON)
        problem = self.index.last_error
        if problem is not None:
            # The index on disk cannot be used; the last good generation still answers.
            body = body.model_copy(update={"status": "unhealthy", "error": problem})
            return Response(body.model_dump_json(exclude_none=True), 503, media_type=JSON)
        return Response(body.model_dump_json(exclude_none=True), media_type=JSON)


def error(status: int, message: str, param: str | None = None) -> Response:
    return Response(error_body(message, param), status, media_type=JSON)


# -- the routes ---------------------------------------------------------------------------

router = APIRouter()


def _get(path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A GET route (documented) and its HEAD twin (not documented, same handler)."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(path, handler, methods=["GET"], **kwargs)
        head = {k: v for k, v in kwargs.items() if k != "operation_id"}
        router.add_api_route(path, handler, methods=["HEAD"], include_in_schema=False, **head)
        return handler

    return register


def _api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


@_get(
    "/api/match",
    operation_id="match",
    summary="Rank roles and skills by closeness in meaning to a query",
    response_model=MatchResponse,
    responses=ERRORS,
)
async def match_endpoint(
    request: Request,
    q: Q,
    type: TypeParam = "all",
    limit: Limit = DEFAULT_LIMIT,
    max_distance: MaxDistance = DEFAULT_MAX_DISTANCE,
) -> Response:
    return await _api(request).match(q, type, limit, max_distance)


@_get(
    "/api/entries",
    operation_id="listEntries",
    summary="List indexed entries, optionally by type and tag",
    response_model=EntryList,
    responses=ERRORS,
)
def entries_endpoint(request: Request, type: TypeParam = "all", tag: Tag = None) -> Response:
    return _api(request).entries(type, tag)


@_get(
    "/api/entries/{type}/{name}",
    operation_id="getEntry",
    summary="One entry's metadata",
    response_model=Entry,
    responses={
        404: {"model": Error, "description": "No such type or entry"},
        503: ERRORS[503],
    },
)
def entry_endpoint(request: Request, type: KindPath, name: NamePath) -> Response:
    return _api(request).entry(type, name)


@_get(
    "/healthz",
    operation_id="health",
    summary="The index being served: model fingerprint, build and entry counts",
    response_model=Health,
    responses={
        503: {
            "model": Health,
            "description": "No usable index, or the one on disk cannot be used (the last "
            "good build still answers)",
        }
    },
)
def health_endpoint(request: Request) -> Response:
    return _api(request).health()


@functools.cache
def openapi_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document, generated from the routes above (the server publishes it)."""
    return get_openapi(
        title=TITLE, version=VERSION, description=DESCRIPTION, routes=router.routes
    )


def openapi_endpoint(request: Request) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(openapi_spec())


# -- errors in the one shape --------------------------------------------------------------

_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda e: "is required",
    "string_pattern_mismatch": lambda e: "must not be blank",
    "string_too_short": lambda e: "must not be empty",
    "string_too_long": lambda e: f"must be at most {e['ctx']['max_length']} characters",
    "int_parsing": lambda e: f"must be an integer, not {_shown(e)}",
    "float_parsing": lambda e: f"must be a number, not {_shown(e)}",
    "finite_number": lambda e: f"must be a finite number, not {_shown(e)}",
    "greater_than_equal": lambda e: f"must be at least {e['ctx']['ge']}, not {_shown(e)}",
    "less_than_equal": lambda e: f"must be at most {e['ctx']['le']}, not {_shown(e)}",
    "literal_error": lambda e: f"must be one of {e['ctx']['expected']}, not {_shown(e)}",
    "enum": lambda e: f"must be one of {e['ctx']['expected']}, not {_shown(e)}",
}


def _shown(err: dict[str, Any]) -> str:
    return repr(str(err.get("input", ""))[:40])


async def validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 becomes our 400 naming the first bad parameter (404 for a bad path)."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    where, param = str(first["loc"][0]), str(first["loc"][-1])
    describe = _MESSAGES.get(first["type"])
    text = describe(first) if describe else str(first.get("msg", "is not valid")).lower()
    if where == "path" and param == "type":
        text = f"must be one of {', '.join(KINDS)}"
    return error(404 if where == "path" else 400, f"{param} {text}", param)


async def http_error(request: Request, exc: Exception) -> Response:
    """404/405 under /api/ and /healthz in the error shape; plain text for pages."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(("/api/", "/healthz")):
        response = error(exc.status_code, str(exc.detail))
    else:
        response = Response(str(exc.detail), exc.status_code, media_type="text/plain")
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response
