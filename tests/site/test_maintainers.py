"""The maintainers page: collisions with their JSON twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import make_colliding_library
from tests.site.helpers import BuiltSite, build, read_json


def test_maintainers_page_without_collisions(site: BuiltSite) -> None:
    html = (site.out / "maintainers" / "index.html").read_text()
    twin = read_json(site.out / "maintainers" / "index.json")
    assert twin["collisions"] == [] and twin["max_distance"] == 0.3
    assert "No collisions" in html and "<table" not in html
    assert 'href="index.json"' in html
    home = (site.out / "index.html").read_text()
    assert 'href="maintainers/index.html"' in home
    assert read_json(site.out / "index.json")["maintainers"] == "maintainers/index.html"


def test_maintainers_page_lists_colliding_pairs(tmp_path: Path, embedder: Any) -> None:
    library = make_colliding_library(tmp_path / "colliding")
    out = tmp_path / "site"
    build(library, out, embedder)
    page = out / "maintainers" / "index.html"
    html = page.read_text()
    twin = read_json(out / "maintainers" / "index.json")
    pair = next(
        p
        for p in twin["collisions"]
        if {p["a"]["name"], p["b"]["name"]} == {"merge-request-reviewer", "pull-request-reviewer"}
    )
    assert pair["a"]["type"] == pair["b"]["type"] == "skills"
    assert pair["distance"] < 0.3 and pair["shared_words"] and pair["suggestion"]
    assert {pair["a"]["path"], pair["b"]["path"]} == {
        "../skills/merge-request-reviewer/index.html",
        "../skills/pull-request-reviewer/index.html",
    }
    assert "No collisions" not in html
    assert 'href="../skills/merge-request-reviewer/index.html"' in html
    assert 'href="../skills/pull-request-reviewer/index.html"' in html
    assert f"{pair['distance']:.3f}" in html
    # The collisions are cached with the index: a second build rewrites nothing.
    before = page.stat().st_mtime_ns
    result = build(library, out, embedder)
    assert not result.published and page.stat().st_mtime_ns == before
