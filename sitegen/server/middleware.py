"""ASGI middleware of `sitegen serve`: response headers (security, the API's address), CORS on
the read-only API, and live reload for `serve --watch`. Plain ASGI classes: Starlette's
BaseHTTPMiddleware would add a task and a copy per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sitegen.urls import API_MATCH

# The theme's policy (templates/base.html's meta tag, for static hosts) plus what only a
# header can say: no page of the catalog may be framed (clickjacking). A test keeps the two
# policies in step.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
)
# Every response names the match endpoint (relative to the site root), so the static search
# page served here finds semantic search without a rebuild.
API_ANNOUNCEMENT = ((b"x-sitegen-api", API_MATCH.encode()),)


class ResponseHeaders:
    """Adds fixed headers to every HTTP response (a header the app set is left alone)."""

    def __init__(self, app: ASGIApp, headers: Iterable[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = tuple(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, add)


class ApiCors:
    """`Access-Control-Allow-Origin: *` and answered preflights, on `/api/*` only: the API is
    read-only and public, so any page may query it; the site's pages stay same-origin."""

    PREFIX = "/api/"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=["*"], allow_methods=["GET", "HEAD"], max_age=86400
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


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
