"""The search page announces the semantic API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.site.helpers import BuiltSite, build, read_json


def test_api_url_is_announced_to_the_search_page(
    tmp_path: Path, site: BuiltSite, embedder: Any
) -> None:
    out = tmp_path / "site"
    build(site.library, out, embedder, api_url="api/match")
    html = (out / "search" / "index.html").read_text()
    assert '<meta name="sitegen-api" content="api/match">' in html
    assert read_json(out / "search" / "index.json")["api"] == "api/match"
    external = tmp_path / "site2"
    build(site.library, external, embedder, api_url="https://search.example/api/match")
    html = (external / "search" / "index.html").read_text()
    assert "connect-src 'self' https://search.example/api/match" in html
