"""`sitegen serve` on an open port: slow clients, connection cap, header limits, CORS, caches.

Slow clients are raw sockets that dribble a request (or nothing) at a real uvicorn built by the
same `build_server` the command uses, with short limits so the test takes seconds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from sitegen.library import Library
from sitegen.server import ServerSettings, create_app
from sitegen.server.cache import ENTRY_OVERHEAD, ByteLRU
from tests.server_helpers import RunningServer

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def guarded(indexed_example: Path, embedder) -> Iterator[RunningServer]:  # type: ignore[no-untyped-def]
    settings = ServerSettings(request_timeout=TIMEOUT, keep_alive=1, max_header_bytes=8192)
    with RunningServer(create_app(Library(indexed_example), embedder), settings) as server:
        yield server


def _connect(server: RunningServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection open."""
    sock.settimeout(within)
    reply = b""
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return reply


def _read_response(sock: socket.socket) -> bytes:
    """One whole response (headers and a content-length body) from a kept-alive socket."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":", 1)[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_slow_clients_are_cut_off_and_others_still_served(guarded: RunningServer) -> None:
    silent = [_connect(guarded) for _ in range(30)]
    dribbling = [_connect(guarded) for _ in range(40)]
    slow_body = [_connect(guarded) for _ in range(30)]
    for sock in slow_body:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
    stop = threading.Event()

    def dribble() -> None:
        partial = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
        for sock in dribbling:
            sock.sendall(partial)
        while not stop.is_set():  # a header byte every 0.2 s, forever: never a whole request
            for sock in dribbling:
                with contextlib.suppress(OSError):
                    sock.sendall(b"a")
            time.sleep(0.2)

    worker = threading.Thread(target=dribble, daemon=True)
    worker.start()
    started = time.monotonic()
    try:
        while time.monotonic() - started < TIMEOUT + 0.5:  # served all along
            assert httpx.get(guarded.url + "/healthz", timeout=5).status_code == 200
            time.sleep(0.1)
        for sock in silent + dribbling + slow_body:
            reply = _closed_by_server(sock, within=TIMEOUT + 3)
            assert reply is not None, "a slow client kept its connection"
            if sock not in slow_body:  # a request never seen whole: 408 or nothing
                assert reply == b"" or reply.startswith(b"HTTP/1.1 408"), reply[:80]
    finally:
        stop.set()
        worker.join()
        for sock in silent + dribbling + slow_body:
            sock.close()
    assert time.monotonic() - started < TIMEOUT + 6


def test_a_slow_request_gets_a_408(guarded: RunningServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        reply = _closed_by_server(sock, within=TIMEOUT + 3)
    assert reply is not None and reply.startswith(b"HTTP/1.1 408")


def test_a_whole_request_is_not_cut_off(guarded: RunningServer) -> None:
    """The deadline is for receiving a request; kept-alive requests each get a fresh one."""
    with _connect(guarded) as sock:
        for _ in range(3):
            time.sleep(TIMEOUT * 0.6)  # idle, but within keep-alive
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_response(sock).startswith(b"HTTP/1.1 200")


def test_idle_kept_alive_connections_are_closed(guarded: RunningServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(sock).startswith(b"HTTP/1.1 200")
        assert _closed_by_server(sock, within=3) == b""


def test_oversized_headers_are_refused(guarded: RunningServer) -> None:
    """Headers are buffered up to the limit (plus one read); past it the client gets a 400."""
    with _connect(guarded) as sock:
        with contextlib.suppress(OSError):  # the server may close before all is sent
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000)
        reply = _closed_by_server(sock, within=5)
    assert reply is not None and reply.startswith(b"HTTP/1.1 400")


def test_connections_beyond_the_cap_get_503(indexed_example: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = ServerSettings(request_timeout=30, max_connections=10)
    with RunningServer(create_app(Library(indexed_example), embedder), settings) as server:
        held = [_connect(server) for _ in range(12)]
        try:
            time.sleep(0.2)
            assert httpx.get(server.url + "/healthz", timeout=5).status_code == 503
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.2)
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


def test_cors_on_the_api_only(guarded: RunningServer) -> None:
    origin = {"Origin": "https://elsewhere.example"}
    api = httpx.get(guarded.url + "/api/match", params={"q": "terraform"}, headers=origin)
    assert api.status_code == 200 and api.headers["access-control-allow-origin"] == "*"
    preflight = httpx.options(
        guarded.url + "/api/match",
        headers={**origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    refused = httpx.options(
        guarded.url + "/api/match",
        headers={**origin, "Access-Control-Request-Method": "DELETE"},
    )
    assert refused.status_code == 400  # the API is read-only
    health = httpx.get(guarded.url + "/healthz", headers=origin)
    assert "access-control-allow-origin" not in health.headers


def test_byte_lru_holds_at_most_its_budget() -> None:
    cache: ByteLRU[bytes] = ByteLRU(100_000)
    for i in range(1_000):
        cache.put(i, b"x" * 1_000, 1_000)
        assert cache.bytes <= 100_000
    assert len(cache) == 100_000 // (1_000 + ENTRY_OVERHEAD)
    assert cache.get(999) == b"x" * 1_000 and cache.get(0) is None  # oldest went first
    cache.get(len(cache) and 999 - len(cache) + 1)  # touch the oldest survivor
    cache.put("new", b"y", 1)
    assert cache.get(999 - len(cache) + 2) is not None
    cache.put("huge", b"z", 200_000)  # larger than the whole budget: not stored
    assert cache.get("huge") is None and cache.bytes <= 100_000


def test_vector_cache_counts_vector_bytes(indexed_example: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Library(indexed_example), embedder)
    vector = np.zeros(384, dtype=np.float32)
    for i in range(20_000):
        app.state.api.vectors.put(f"query {i}", vector, vector.nbytes + 8)
    assert app.state.api.vectors.bytes <= app.state.api.vectors.max_bytes


def test_the_response_cache_counts_each_answer_and_its_query(
    indexed_example: Path, embedder  # type: ignore[no-untyped-def]
) -> None:
    app = create_app(Library(indexed_example), embedder)
    with TestClient(app) as client:
        query = "review my terraform plan"
        answer = client.get("/api/match", params={"q": query})
        assert answer.status_code == 200
        cache = app.state.api.responses
        assert len(cache) == 1
        # What it holds is the body, the query text that keyed it and the entry's overhead.
        assert cache.bytes == len(answer.content) + len(query) + ENTRY_OVERHEAD
        again = client.get("/api/match", params={"q": query})
        assert again.content == answer.content and len(cache) == 1


def test_live_reload_passes_lifespan_and_mcp_streams_through_unbuffered() -> None:
    """`serve --watch` rewrites HTML pages, so it buffers answers; it must not touch the
    app's lifespan (which starts the index poller) nor hold back an MCP event stream."""
    import asyncio

    from sitegen.server.middleware import LiveReload

    reached: list[str] = []
    sent: list[dict] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        reached.append(scope["type"])
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"event: 1\n\n", "more_body": True})
        reached.append(f"first event out: {len(sent)}")
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    middleware = LiveReload(app, lambda: "build-1")
    asyncio.run(middleware({"type": "lifespan"}, receive, send))
    assert reached == ["lifespan"]
    asyncio.run(middleware({"type": "http", "path": "/mcp", "method": "GET"}, receive, send))
    assert reached[1:] == ["http", "first event out: 2"]  # start and first chunk already sent
    sent.clear()
    reached.clear()
    asyncio.run(middleware({"type": "http", "path": "/page", "method": "GET"}, receive, send))
    assert reached == ["http", "first event out: 0"]  # a page is held until it is whole
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
