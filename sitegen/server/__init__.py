"""`sitegen serve`: the published site's files plus a typed JSON query API, on FastAPI/uvicorn.

Where things are:

| module | job |
| --- | --- |
| `app` | :func:`create_app`: routes, MCP, static site, middleware, lifespan |
| `api` | typed routes, handlers (:class:`Api`), the generated OpenAPI document, errors |
| `models` | response types; the entry JSON and schema from `sitegen.entry` |
| `live` | :class:`LiveIndex`: the index generation served, swapped whole when its pointer moves |
| `cache` | caches bounded in bytes (responses, query vectors) |
| `batcher` | query embeddings in micro-batches |
| `middleware` | security and API headers, CORS on `/api/*`, live reload |
| `static` | the built site's files, with host-free redirects |
| `run` | uvicorn with limits (request deadline, connections), binding the port |
"""

from __future__ import annotations

from sitegen.server.api import MAX_QUERY_CHARS, Api, openapi_spec
from sitegen.server.app import create_app
from sitegen.server.live import IndexLocation, LiveIndex, Snapshot
from sitegen.server.models import entry_schema, record_json
from sitegen.server.run import (
    PortInUseError,
    ServeError,
    ServerSettings,
    address_of,
    bind,
    build_server,
    serve_app,
)

__all__ = [
    "MAX_QUERY_CHARS",
    "Api",
    "IndexLocation",
    "LiveIndex",
    "PortInUseError",
    "ServeError",
    "ServerSettings",
    "Snapshot",
    "address_of",
    "bind",
    "build_server",
    "create_app",
    "entry_schema",
    "openapi_spec",
    "record_json",
    "serve_app",
]
