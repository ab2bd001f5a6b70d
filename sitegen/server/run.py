"""Running the app on uvicorn with limits fit for an open port.

uvicorn closes idle kept-alive connections but gives a client unlimited time to *send* a
request, so a few hundred slow clients (a byte every few seconds) hold the server's connections
for as long as they like. :class:`GuardedH11` gives each request a deadline from its first byte
to its last; :class:`ServerSettings` holds that and uvicorn's own limits. The socket is bound
before anything else, so a port in use is one clear error (exit 2), not a traceback after a
"serving" line.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from sitegen.errors import SitegenError, UsageError


class ServeError(SitegenError):
    """The server cannot run (a socket that cannot be bound, ...)."""


class PortInUseError(UsageError, ServeError):
    """Another process listens on the port asked for."""


@dataclass(frozen=True)
class ServerSettings:
    """Limits of `sitegen serve`; the defaults suit a catalog's small read-only API."""

    request_timeout: float = 10.0  # s from a request's first byte to its last (headers + body)
    keep_alive: int = 5  # s an idle kept-alive connection stays open
    max_connections: int = 512  # open connections (and running requests) before answering 503
    max_header_bytes: int = 16 * 1024  # a request line and headers larger than this are 400


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on receiving each request.

    The deadline starts at a connection's first moment and at the first byte of each later
    request; when it passes while the request's headers or body are still incomplete, the
    client gets a 408 and the connection closes. A request received whole is not limited here:
    its handler runs to the end.
    """

    request_timeout = ServerSettings.request_timeout

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()
        super().data_received(data)

    def on_response_complete(self) -> None:
        if self.conn.their_state is not h11.SEND_BODY:  # answered before its body came: keep
            self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY):  # still sending its request
            if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):  # we have sent nothing
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n"
                    b"content-length: 0\r\n\r\n"
                )
            self.transport.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0 picks a free one); a taken port is exit 2."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: cannot be resolved ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(256)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"port {port} on {host} is already in use; stop what listens there or "
                "choose another with --port"
            ) from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def address_of(sock: socket.socket) -> str:
    """The URL a bound socket answers on (the real port when 0 was asked for)."""
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/"


def build_server(app: Any, settings: ServerSettings = ServerSettings()) -> uvicorn.Server:
    """A uvicorn server for `app` with the settings' limits (run it with `.run(sockets=...)`)."""
    protocol = type("GuardedH11", (GuardedH11,), {"request_timeout": settings.request_timeout})
    config = uvicorn.Config(
        app,
        http=protocol,
        timeout_keep_alive=settings.keep_alive,
        limit_concurrency=settings.max_connections,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        server_header=False,
        log_level="warning",
    )
    return uvicorn.Server(config)


def serve_app(app: Any, sock: socket.socket, settings: ServerSettings = ServerSettings()) -> None:
    """Serve `app` on a socket from :func:`bind` until interrupted."""
    build_server(app, settings).run(sockets=[sock])
