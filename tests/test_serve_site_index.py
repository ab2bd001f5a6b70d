"""`serve --site` answers from the served site's own index generation: the API changes when
the pages change (one exchange), not when the library's index moves before the site does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from starlette.testclient import TestClient

from sitegen.build import build_site
from sitegen.indexer import index_library
from sitegen.library import Library
from sitegen.server import create_app


def names(client: TestClient) -> set[str]:
    return {e["name"] for e in client.get("/api/entries").json()["entries"]}


def test_api_switches_with_the_pages(example_copy: Path, tmp_path: Path, embedder) -> None:
    site = tmp_path / "site"
    build_site(Library(example_copy), embedder, site)
    twin = example_copy / "skills" / "csv-twin"
    shutil.copytree(example_copy / "skills" / "csv-data-cleaner", twin)
    text = (twin / "SKILL.md").read_text().replace("name: csv-data-cleaner", "name: csv-twin")
    (twin / "SKILL.md").write_text(text)
    index_library(Library(example_copy), embedder)  # the library's index moves first

    app = create_app(Library(example_copy), embedder, site_dir=site, poll_seconds=60)
    with TestClient(app) as client:
        site_build = json.loads((site / "index" / "current.json").read_text())["build"]
        assert client.get("/healthz").json()["build"] == site_build
        assert "csv-twin" not in names(client), "the pages do not list it yet: nor does the API"
        assert not (site / "skills" / "csv-twin").exists()

        build_site(Library(example_copy), embedder, site)  # the pages and the index switch
        app.state.index.refresh()
        assert "csv-twin" in names(client) and (site / "skills" / "csv-twin").is_dir()
        site_build = json.loads((site / "index" / "current.json").read_text())["build"]
        assert client.get("/healthz").json()["build"] == site_build


def test_an_unusable_index_on_disk_is_unhealthy_while_the_last_good_one_answers(
    example_copy: Path, embedder
) -> None:
    library = Library(example_copy)
    index_library(library, embedder)
    pointer = example_copy / "index" / "current.json"
    app = create_app(library, embedder, poll_seconds=60)
    with TestClient(app) as client:
        good = client.get("/healthz").json()
        assert good["status"] == "ok" and "error" not in good
        before = names(client)

        pointer.write_text("{ cut short")  # the pointer moves to something unreadable
        app.state.index.refresh()
        health = client.get("/healthz")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "unhealthy" and "current.json" in body["error"]
        assert body["build"] == good["build"], "the last good generation still answers"
        assert names(client) == before

        index_library(Library(example_copy), embedder)  # repairs: a new generation
        app.state.index.refresh()
        healed = client.get("/healthz")
        assert healed.status_code == 200 and healed.json()["status"] == "ok"
        assert healed.json()["build"] != good["build"]
