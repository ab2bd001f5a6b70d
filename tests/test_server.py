"""The typed API on a real uvicorn server on 127.0.0.1, real index, real model.

The built site's files, headers and the `sitegen serve` command itself are tested in
test_server_site.py, test_server_hardening.py and test_server_command.py.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sitegen.indexer import index_library, open_store
from sitegen.library import Library
from sitegen.search import MAX_LIMIT, match
from sitegen.server import MAX_QUERY_CHARS, create_app
from tests.conftest import CountingEmbedder
from tests.server_helpers import RunningServer, free_port

__all__ = ["RunningServer", "free_port"]  # other suites import the server from here


@pytest.fixture(scope="module")
def served(indexed_example: Path, embedder) -> Iterator[RunningServer]:
    counting = CountingEmbedder(embedder)
    app = create_app(Library(indexed_example), counting)
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


def test_match_offers_the_corrected_query(served: RunningServer) -> None:
    typo = get(served, "/api/match", q="terafrom plan").json()
    assert typo["did_you_mean"] == "terraform plan"
    assert "terraform-plan-reviewer" in [r["name"] for r in typo["results"]]
    assert get(served, "/api/match", q="review my terraform plan").json()["did_you_mean"] is None


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
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * (MAX_QUERY_CHARS + 1)}, "q"),
        ({"q": "x", "limit": 0}, "limit"),
        ({"q": "x", "limit": MAX_LIMIT + 1}, "limit"),
        ({"q": "x", "limit": "ten"}, "limit"),
        ({"q": "x", "limit": "2.5"}, "limit"),
        ({"q": "x", "max_distance": -1}, "max_distance"),
        ({"q": "x", "max_distance": 2.01}, "max_distance"),
        ({"q": "x", "max_distance": "far"}, "max_distance"),
        ({"q": "x", "max_distance": "nan"}, "max_distance"),
        ({"q": "x", "max_distance": "inf"}, "max_distance"),
        ({"q": "x", "type": "agents"}, "type"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    served: RunningServer, params: dict, param: str
) -> None:
    response = get(served, "/api/match", **params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["param"] == param and error["message"].startswith(f"{param} ")
    assert set(response.json()) == {"error"} and set(error) == {"message", "param"}


def test_the_query_length_limit_is_the_documented_one(served: RunningServer) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"`q` of 1-{MAX_QUERY_CHARS:,} characters" in readme
    too_long = get(served, "/api/match", q="x" * (MAX_QUERY_CHARS + 1))
    assert too_long.status_code == 400 and too_long.json()["error"]["param"] == "q"


def test_limits_at_their_bounds_are_accepted(served: RunningServer) -> None:
    for params in (
        {"q": "x" * MAX_QUERY_CHARS},
        {"q": "x", "limit": 1},
        {"q": "x", "limit": MAX_LIMIT},
        {"q": "x", "max_distance": 0},
        {"q": "x", "max_distance": 2},
    ):
        assert get(served, "/api/match", **params).status_code == 200, params


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
    assert one["url"] == "skills/terraform-plan-reviewer/"
    missing = get(served, "/api/entries/skills/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"] == {"message": "no skill named 'no-such-thing'", "param": "name"}
    wrong_type = get(served, "/api/entries/agents/x")
    assert wrong_type.status_code == 404 and wrong_type.json()["error"]["param"] == "type"
    assert get(served, "/api/entries", type="agents").status_code == 400


def test_healthz(served: RunningServer, indexed_example: Path, embedder) -> None:
    health = get(served, "/healthz").json()
    assert health["status"] == "ok"
    assert health["fingerprint"] == embedder.fingerprint.as_string()
    with open_store(Library(indexed_example), writable=False) as store:
        assert store.info is not None
        assert (health["build"], health["written"]) == (store.info.build, store.info.written)
    library = Library(indexed_example).read()
    assert health["counts"] == {
        "roles": len(library.of_kind("roles")),
        "skills": len(library.of_kind("skills")),
    }


def test_methods_other_than_get_and_head(served: RunningServer) -> None:
    for path in ("/api/match?q=x", "/api/entries", "/healthz"):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response = httpx.request(method, served.url + path)
            assert response.status_code == 405, (method, path)
            assert response.json()["error"]["message"] == "Method Not Allowed"
            assert "GET" in response.headers["allow"]
    head = httpx.head(served.url + "/api/match", params={"q": "terraform"})
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0
    nothing = httpx.get(served.url + "/api/nothing")
    assert nothing.status_code == 404 and nothing.json()["error"]["message"] == "Not Found"


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


def test_a_replaced_snapshot_closes_only_after_its_last_request(
    indexed_example: Path, embedder, tmp_path: Path
) -> None:
    """A request pins the generation it started on; a reload retires that snapshot, and its
    DuckDB connection closes when the last pinned request lets go, not before."""
    from sitegen.server.live import LiveIndex

    library_dir = tmp_path / "live"
    shutil.copytree(indexed_example, library_dir)
    live = LiveIndex(Library(library_dir), embedder)
    with live.acquire() as first, live.acquire() as again:
        assert first is again and first.refs == 2 and not first.closed
        new = library_dir / "skills" / "yaml-formatter"
        new.mkdir()
        (new / "SKILL.md").write_text(
            "---\nname: yaml-formatter\ndescription: Formats YAML files.\n---\n# YAML\n"
        )
        index_library(Library(library_dir), embedder)
        assert live.refresh() and not live.refresh()  # loaded once, then unchanged
        with live.acquire() as second:
            assert second is not first and second.counts["skills"] == first.counts["skills"] + 1
        assert first.retired and not first.closed and first.refs == 2
        assert first.store.get("skills", "yaml-formatter") is None  # still the old generation
    assert first.refs == 0 and first.closed
    assert second.refs == 0 and not second.closed  # current: stays open for the next request
    live.stop()
    assert second.closed
