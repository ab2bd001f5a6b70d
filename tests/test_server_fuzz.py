"""Schemathesis against the served OpenAPI description: no generated request gets a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from sitegen.library import Library
from sitegen.server import create_app
from tests.test_server import RunningServer


@pytest.fixture(scope="module")
def fuzz_server(indexed_example: Path, embedder) -> Iterator[RunningServer]:
    with RunningServer(create_app(Library(indexed_example), embedder)) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzz_server: RunningServer):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_url(fuzz_server.url + "/api/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    assert response.status_code < 500, (case.path, case.query, response.text[:300])
    if case.method.upper() == "GET":
        assert response.headers["content-type"].startswith("application/json")
