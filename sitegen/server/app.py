"""The application factory: the typed API, then MCP, then the built site's files, wrapped in
the response-header, CORS and live-reload middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route

from sitegen.embedder import Embedder
from sitegen.library import Library
from sitegen.server.api import (
    DESCRIPTION,
    TITLE,
    VERSION,
    Api,
    http_error,
    openapi_endpoint,
    router,
    validation_error,
)
from sitegen.server.live import IndexLocation, LiveIndex
from sitegen.server.middleware import (
    API_ANNOUNCEMENT,
    SECURITY_HEADERS,
    ApiCors,
    LiveReload,
    ResponseHeaders,
)
from sitegen.server.static import SiteFiles


def create_app(
    library: Library,
    embedder: Embedder,
    *,
    site_dir: str | Path | None = None,
    poll_seconds: float = 0.5,
    live_reload: Callable[[], str] | None = None,
    mcp_app: Starlette | None = None,
) -> FastAPI:
    """The ASGI app: API routes first, then `/mcp`, then the built site's static files.

    `mcp_app` (from :func:`sitegen.mcp.http_app`) adds its `/mcp` route and runs its lifespan;
    `live_reload` (the build counter of `serve --watch`) makes open pages reload after a build.
    """
    # A served site carries the index generation its pages were built from: answering from
    # it, the API switches with the pages (one exchange), not before them.
    location = IndexLocation.for_site(site_dir) if site_dir is not None else None
    index = LiveIndex(library, embedder, poll_seconds=poll_seconds, location=location)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        index.start()
        try:
            if mcp_app is None:
                yield
            else:
                async with mcp_app.router.lifespan_context(mcp_app):
                    yield
        finally:
            index.stop()

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        openapi_url=None,  # served below from the one generated document
        docs_url=None,  # the docs pages load scripts from a CDN: none at run time
        redoc_url=None,
        redirect_slashes=False,  # Starlette's slash redirects use the Host header
        lifespan=lifespan,
    )
    app.include_router(router)
    app.router.routes.append(Route("/api/openapi.json", openapi_endpoint, methods=["GET"]))
    if mcp_app is not None:
        app.router.routes.extend(mcp_app.routes)
    if site_dir is not None and Path(site_dir).is_dir():
        app.router.routes.append(Mount("/", app=SiteFiles(directory=str(site_dir), html=True)))
    handlers: dict[Any, Any] = {
        HTTPException: http_error,
        RequestValidationError: validation_error,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
    app.state.index = index
    app.state.api = Api(index, embedder)
    # Added last = outermost: headers go on every response, CORS answers before routing.
    if live_reload is not None:
        app.add_middleware(LiveReload, version=live_reload)
    app.add_middleware(ApiCors)
    app.add_middleware(ResponseHeaders, headers=SECURITY_HEADERS + API_ANNOUNCEMENT)
    return app
