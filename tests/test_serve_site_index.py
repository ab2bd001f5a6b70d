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
