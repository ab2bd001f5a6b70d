"""`sitegen serve`: a real uvicorn server on 127.0.0.1, real index, real model."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from sitegen.indexer import index_library, open_store
from sitegen.library import Library
from sitegen.search import match
from sitegen.server import create_app
from tests.conftest import CountingEmbedder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """uvicorn in a thread, the way `sitegen serve` runs it, on a free loopback port."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small stand-in for a built site: pages, a 404 page, a nested folder."""
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text("<!doctype html><title>home</title><body>home</body>")
    (site / "404.html").write_text("<!doctype html><title>missing</title><body>nope</body>")
    (site / "skills" / "alpha").mkdir(parents=True)
    (site / "skills" / "alpha" / "index.html").write_text("<body>alpha page</body>")
    (site / "catalog.json").write_text('{"entries": []}')
    (site / "empty-folder").mkdir()
    return site


@pytest.fixture(scope="module")
def served(indexed_example: Path, embedder, site_dir: Path) -> Iterator[RunningServer]:
    counting = CountingEmbedder(embedder)
    app = create_app(Library(indexed_example), counting, site_dir=site_dir)
    app.state.counting = counting
    with RunningServer(app) as server:
        yield server


def get(server: RunningServer, path: str, **params: object) -> httpx.Response:
    return httpx.get(server.url + path, params=params, timeout=30)  # type: ignore[arg-type]


def test_match_ranks_exactly_like_the_match_function(
    served: RunningServer, indexed_example: Path, embedder
) -> None:
    queries = [
        "review my terraform plan",
        "will this infrastructure change delete my database",
        "someone to write the docs",
        "csv data cleaner",
    ]
    with open_store(Library(indexed_example), writable=False) as store:
        for query in queries:
            expected = match(store, embedder, query, limit=10)
            body = get(served, "/api/match", q=query, limit=10).json()
            assert body["query"] == query
            got = [(r["type"], r["name"]) for r in body["results"]]
            assert got == [(m.kind, m.name) for m in expected.results]
            for result, m in zip(body["results"], expected.results, strict=True):
                assert result["distance"] == pytest.approx(m.distance, abs=1e-6)
                assert result["url"] == f"{m.kind}/{m.name}/"
                assert set(result) >= {"type", "name", "description", "tags", "distance", "url"}


def test_match_filters(served: RunningServer) -> None:
    roles = get(served, "/api/match", q="keep production reliable", type="roles").json()
    assert roles["results"] and {r["type"] for r in roles["results"]} == {"roles"}
    assert len(get(served, "/api/match", q="data", limit=2, max_distance=2).json()["results"]) == 2


def test_repeated_query_costs_no_model_call(served: RunningServer) -> None:
    counting: CountingEmbedder = served.app.state.counting
    query = "a question nobody asked before 7f3a"
    get(served, "/api/match", q=query)
    calls = len(counting.texts)
    for limit in (1, 2, 3):
        assert get(served, "/api/match", q=query, limit=limit).status_code == 200
    assert len(counting.texts) == calls


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 1001}, "q"),
        ({"q": "x", "limit": 0}, "limit"),
        ({"q": "x", "limit": 101}, "limit"),
        ({"q": "x", "limit": "ten"}, "limit"),
        ({"q": "x", "max_distance": -1}, "max_distance"),
        ({"q": "x", "max_distance": "far"}, "max_distance"),
        ({"q": "x", "max_distance": "nan"}, "max_distance"),
        ({"q": "x", "type": "agents"}, "type"),
    ],
)
def test_bad_parameters_are_4xx_naming_the_parameter(
    served: RunningServer, params: dict, param: str
) -> None:
    response = get(served, "/api/match", **params)
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert error["param"] == param and param in error["message"]


def test_entries_endpoints(served: RunningServer, indexed_example: Path) -> None:
    everything = get(served, "/api/entries").json()["entries"]
    library = Library(indexed_example).read()
    assert sorted((e["type"], e["name"]) for e in everything) == sorted(
        (e.kind, e.name) for e in library.entries
    )
    skills = get(served, "/api/entries", type="skills").json()["entries"]
    assert skills and {e["type"] for e in skills} == {"skills"}
    tagged = get(served, "/api/entries", tag="terraform").json()["entries"]
    assert "terraform-plan-reviewer" in {e["name"] for e in tagged}
    assert all("terraform" in e["tags"] for e in tagged)
    one = get(served, "/api/entries/skills/terraform-plan-reviewer").json()
    assert one["name"] == "terraform-plan-reviewer" and "SKILL.md" in one["files"]
    assert get(served, "/api/entries/skills/no-such-thing").status_code == 404
    assert get(served, "/api/entries/agents/x").status_code == 404
    assert get(served, "/api/entries", type="agents").status_code == 400


def test_healthz_and_openapi(served: RunningServer, indexed_example: Path, embedder) -> None:
    health = get(served, "/healthz").json()
    assert health["status"] == "ok"
    assert health["fingerprint"] == embedder.fingerprint.as_string()
    library = Library(indexed_example).read()
    assert health["counts"] == {
        "roles": len(library.of_kind("roles")),
        "skills": len(library.of_kind("skills")),
    }
    spec = get(served, "/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {"/api/match", "/api/entries", "/healthz"}


def test_static_site_files(served: RunningServer) -> None:
    home = get(served, "/")
    assert home.status_code == 200 and "home" in home.text
    assert home.headers["content-type"].startswith("text/html")
    assert "etag" in home.headers and "last-modified" in home.headers
    again = httpx.get(served.url + "/", headers={"If-None-Match": home.headers["etag"]})
    assert again.status_code == 304
    assert "alpha page" in get(served, "/skills/alpha/").text
    assert get(served, "/catalog.json").headers["content-type"].startswith("application/json")
    missing = get(served, "/no/such/page")
    assert missing.status_code == 404 and "nope" in missing.text
    assert get(served, "/empty-folder/").status_code == 404  # no directory listings


def test_paths_cannot_escape_the_site(served: RunningServer) -> None:
    for raw in ("/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/skills/../../x"):
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(f"GET {raw} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        status = int(reply.split(b" ", 2)[1])
        assert status in (400, 404), raw
        assert b"root:" not in reply


def test_methods_other_than_get_and_head(served: RunningServer) -> None:
    for path in ("/api/match?q=x", "/", "/skills/alpha/", "/healthz"):
        assert httpx.post(served.url + path).status_code == 405
        assert httpx.delete(served.url + path).status_code == 405
    assert httpx.head(served.url + "/api/match", params={"q": "terraform"}).status_code == 200
    assert httpx.get(served.url + "/api/nothing").status_code == 404


def test_rebuild_while_querying_swaps_atomically(
    indexed_example: Path, embedder, tmp_path: Path
) -> None:
    """A client keeps asking while a build replaces the index: no failure, no mixed answer."""
    library_dir = tmp_path / "live"
    shutil.copytree(indexed_example, library_dir)
    old_names = {e.name for e in Library(library_dir).read().entries}
    app = create_app(Library(library_dir), embedder, poll_seconds=0.05)
    failures: list[str] = []
    seen: list[frozenset[str]] = []
    stop = threading.Event()

    def client(server: RunningServer) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                response = http.get("/api/entries")
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    continue
                seen.append(frozenset(e["name"] for e in response.json()["entries"]))
                found = http.get("/api/match", params={"q": "formats yaml files", "limit": 3})
                if found.status_code != 200:
                    failures.append(f"{found.status_code} {found.text[:200]}")

    with RunningServer(app) as server:
        worker = threading.Thread(target=client, args=(server,))
        worker.start()
        time.sleep(0.3)
        for i in range(3):
            new = library_dir / "skills" / f"yaml-formatter-{i}"
            new.mkdir()
            (new / "SKILL.md").write_text(
                f"---\nname: yaml-formatter-{i}\ndescription: Formats YAML files, variant {i}. "
                "Use when YAML diffs are noisy.\ntags: [yaml]\n---\n# YAML\n"
            )
            index_library(Library(library_dir), embedder)
            time.sleep(0.3)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            body = httpx.get(server.url + "/api/entries").json()
            if len(body["entries"]) == len(old_names) + 3:
                break
            time.sleep(0.05)
        stop.set()
        worker.join()
    assert failures == []
    valid = [frozenset(old_names | {f"yaml-formatter-{j}" for j in range(i)}) for i in range(4)]
    assert set(seen) <= set(valid), "a response mixed entries of two builds"
    assert valid[-1] in set(seen) and valid[0] in set(seen)


def test_no_index_is_503_not_500(example_copy: Path, embedder) -> None:
    app = create_app(Library(example_copy), embedder)
    with RunningServer(app) as server:
        response = httpx.get(server.url + "/api/match", params={"q": "x"})
        assert response.status_code == 503
        assert "sitegen index" in response.json()["error"]["message"]
        assert httpx.get(server.url + "/healthz").status_code == 503


def test_openapi_spec_is_valid_json(served: RunningServer) -> None:
    assert json.loads(get(served, "/api/openapi.json").text)["info"]["title"]


def test_match_reads_a_published_index_over_http(indexed_example: Path, embedder) -> None:
    """`sitegen match --library <site URL>` reads the exported Parquet index over HTTP."""
    from click.testing import CliRunner

    from sitegen.cli import cli

    app = create_app(Library(indexed_example), embedder, site_dir=indexed_example)
    with RunningServer(app) as server:
        remote = CliRunner().invoke(
            cli, ["match", "review my terraform plan", "--json", "--library", server.url + "/"]
        )
    local = CliRunner().invoke(
        cli, ["match", "review my terraform plan", "--json", "--library", str(indexed_example)]
    )
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == json.loads(local.stdout)


def test_responses_announce_the_match_endpoint(served: RunningServer) -> None:
    assert get(served, "/").headers["x-sitegen-api"] == "api/match"
    assert get(served, "/healthz").headers["x-sitegen-api"] == "api/match"


def test_live_reload_uses_an_external_script(indexed_example: Path, embedder, site_dir) -> None:
    versions = iter(["1", "1", "2"])
    app = create_app(
        Library(indexed_example), embedder, site_dir=site_dir, live_reload=lambda: next(versions)
    )
    with RunningServer(app) as server:
        page = httpx.get(server.url + "/")
        assert '<script src="/_sitegen/reload.js"></script></body>' in page.text
        assert int(page.headers["content-length"]) == len(page.content)
        script = httpx.get(server.url + "/_sitegen/reload.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "/_sitegen/build" in script.text
        assert [httpx.get(server.url + "/_sitegen/build").text for _ in range(3)] == ["1", "1", "2"]
        assert "reload.js" not in httpx.get(server.url + "/catalog.json").text
