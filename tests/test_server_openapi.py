"""The API contract: the generated OpenAPI document against real responses.

Schemathesis generates requests from the document the server publishes and validates every
response against it (status codes, content types, body schemas), over real HTTP to a real
uvicorn on 127.0.0.1. A second test walks real responses field by field: every documented
field occurs in some real response and every field a response carries is documented; every
documented parameter is read by the server (a bad value is a 400 naming it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from sitegen.library import Library
from sitegen.server import create_app, openapi_spec
from tests.server_helpers import RunningServer

schema = schemathesis.openapi.from_dict(openapi_spec())


@pytest.fixture(scope="module")
def fuzz_server(indexed_example: Path, embedder) -> Iterator[RunningServer]:  # type: ignore[no-untyped-def]
    with RunningServer(create_app(Library(indexed_example), embedder)) as server:
        yield server


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[RunningServer]:  # type: ignore[no-untyped-def]
    """A library without an index: every data route is 503."""
    library = tmp_path_factory.mktemp("no-index")
    with RunningServer(create_app(Library(library), embedder)) as server:
        yield server


def test_published_spec_is_the_tested_one(fuzz_server: RunningServer) -> None:
    published = httpx.get(fuzz_server.url + "/api/openapi.json")
    assert published.status_code == 200
    assert published.json() == openapi_spec()
    assert published.json()["openapi"].startswith("3.1")


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_responses_match_the_document(case, fuzz_server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(base_url=fuzz_server.url)


# -- documented fields and parameters against real responses ----------------------------


def _resolve(node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    ref = node.get("$ref")
    if ref is None:
        return None, node
    name = ref.rsplit("/", 1)[-1]
    return name, openapi_spec()["components"]["schemas"][name]


def _object_schema(node: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema in `node` (through anyOf with null, as optional fields have)."""
    if node.get("type") == "object" or "properties" in node:
        return node
    for option in node.get("anyOf", []):
        found = _object_schema(_resolve(option)[1])
        if found is not None:
            return found
    return None


def _walk(node: dict[str, Any], value: Any, seen: dict[str, set[str]], where: str) -> None:
    """Record, per documented object, the fields real values carry."""
    name, node = _resolve(node)
    if isinstance(value, dict):
        obj = _object_schema(node)
        if obj is None or "properties" not in obj:
            return  # a free-form map (e.g. counts per type)
        label = name or where
        seen.setdefault(label, set()).update(value)
        for key, item in value.items():
            if key in obj["properties"]:
                _walk(obj["properties"][key], item, seen, f"{label}.{key}")
    elif isinstance(value, list):
        items = node.get("items") or next(
            (o["items"] for o in node.get("anyOf", []) if "items" in o), None
        )
        for item in value if items else ():
            _walk(items, item, seen, where + "[]")


def _documented(node: dict[str, Any], found: dict[str, set[str]], where: str) -> None:
    name, node = _resolve(node)
    obj = _object_schema(node)
    if obj is not None and "properties" in obj:
        label = name or where
        if label in found:
            return
        found[label] = set(obj["properties"])
        for key, prop in obj["properties"].items():
            _documented(prop, found, f"{label}.{key}")
    items = node.get("items")
    if items:
        _documented(items, found, where + "[]")
    for option in node.get("anyOf", []):
        if "items" in option:
            _documented(option["items"], found, where + "[]")


def _response_schema(path: str, status: int) -> dict[str, Any]:
    responses = openapi_spec()["paths"][path]["get"]["responses"]
    return dict(responses[str(status)]["content"]["application/json"]["schema"])


def test_documented_fields_are_the_fields_of_real_responses(
    fuzz_server: RunningServer, empty_server: RunningServer
) -> None:
    calls = [
        (fuzz_server, "/api/match", {"q": "review my terraform plan", "limit": 10}, 200),
        (fuzz_server, "/api/match", {"q": "terraform-plan-reviewer"}, 200),
        (fuzz_server, "/api/match", {"q": "terafrom plan"}, 200),  # did_you_mean set
        (fuzz_server, "/api/match", {"q": "x", "limit": 0}, 400),
        (fuzz_server, "/api/entries", {}, 200),
        (fuzz_server, "/api/entries/{type}/{name}", {}, 200),
        (fuzz_server, "/api/entries/{type}/{name}", {"missing": True}, 404),
        (fuzz_server, "/healthz", {}, 200),
        (empty_server, "/api/match", {"q": "x"}, 503),
        (empty_server, "/api/entries", {}, 503),
        (empty_server, "/healthz", {}, 503),
    ]
    seen: dict[str, set[str]] = {}
    documented: dict[str, set[str]] = {}
    for server, path, params, status in calls:
        url = path
        if "{name}" in path:
            name = "no-such-entry" if params.pop("missing", False) else "terraform-plan-reviewer"
            url = f"/api/entries/skills/{name}"
        response = httpx.get(server.url + url, params=params, timeout=30)
        assert response.status_code == status, (url, params, response.text[:200])
        node = _response_schema(path, status)
        _walk(node, response.json(), seen, f"{path} {status}")
        _documented(node, documented, f"{path} {status}")
    assert set(seen) == set(documented)
    for label, fields in documented.items():
        assert seen[label] <= fields, f"{label}: undocumented {sorted(seen[label] - fields)}"
        assert fields <= seen[label], f"{label}: never returned {sorted(fields - seen[label])}"


def _invalid(schema_: dict[str, Any]) -> str:
    """A value the parameter's own schema rejects."""
    if "enum" in schema_:
        return "not-one-of-them"
    if schema_.get("type") in ("integer", "number"):
        return str(schema_["maximum"] + 1) if "maximum" in schema_ else "not-a-number"
    if "maxLength" in schema_:
        return "x" * (schema_["maxLength"] + 1)
    raise AssertionError(f"no invalid value for {schema_}")


def test_every_documented_parameter_is_read_and_checked(fuzz_server: RunningServer) -> None:
    """A documented parameter the handler ignored would accept any value; one the handler
    read without documenting it would not be in this list at all (FastAPI documents what the
    handler declares), so each is proven both ways by a 400 that names it."""
    spec = openapi_spec()
    checked = 0
    for path, operations in spec["paths"].items():
        for parameter in operations["get"].get("parameters", []):
            if parameter["in"] != "query" or set(parameter["schema"]) <= {
                "type",
                "title",
                "description",
                "anyOf",
            }:
                continue  # free text (tag) or a path part: no value is invalid
            params = {"q": "terraform"} if path == "/api/match" else {}
            params[parameter["name"]] = _invalid(parameter["schema"])
            response = httpx.get(fuzz_server.url + path, params=params, timeout=30)
            assert response.status_code == 400, (path, parameter["name"])
            assert response.json()["error"]["param"] == parameter["name"]
            checked += 1
    assert checked >= 5
