"""Schemathesis against the server's OpenAPI description: no generated request gets a 5xx.

The schema is the one the server publishes at /api/openapi.json (the same function builds
both); the requests go over real HTTP to a real uvicorn server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from sitegen.library import Library
from sitegen.server import create_app, openapi_spec
from tests.test_server import RunningServer

schema = schemathesis.openapi.from_dict(openapi_spec())


@pytest.fixture(scope="module")
def fuzz_server(indexed_example: Path, embedder) -> Iterator[RunningServer]:
    with RunningServer(create_app(Library(indexed_example), embedder)) as server:
        yield server


def test_published_spec_is_the_tested_one(fuzz_server: RunningServer) -> None:
    assert httpx.get(fuzz_server.url + "/api/openapi.json").json() == openapi_spec()


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, fuzz_server: RunningServer) -> None:  # type: ignore
    response = case.call(base_url=fuzz_server.url)
    assert response.status_code < 500, (case.path, case.query, response.text[:300])
    content_type = response.headers["content-type"]  # schemathesis keeps header lists
    if isinstance(content_type, list):
        content_type = content_type[0]
    assert str(content_type).startswith("application/json"), (case.method, case.path)
