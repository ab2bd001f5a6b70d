"""robots.txt and sitemap.xml; absolute URLs with a base URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.site.helpers import BuiltSite, build, read_json


def test_base_url_adds_sitemap_and_absolute_discovery_urls(
    tmp_path: Path, site: BuiltSite, embedder: Any
) -> None:
    out = tmp_path / "site"
    build(site.library, out, embedder, base_url="https://team.example/catalog")
    sitemap = (out / "sitemap.xml").read_text()
    assert "<loc>https://team.example/catalog/skills/terraform-plan-reviewer/</loc>" in sitemap
    assert "<loc>https://team.example/catalog/</loc>" in sitemap
    robots = (out / "robots.txt").read_text()
    assert "Sitemap: https://team.example/catalog/sitemap.xml" in robots
    data = read_json(out / ".well-known" / "agent-skills" / "index.json")
    assert data["skills"][0]["url"].startswith("https://team.example/catalog/skills/")
    not_found = (out / "404.html").read_text()
    assert 'href="https://team.example/catalog/static/sitegen.css"' in not_found
    entry = (out / "skills" / "terraform-plan-reviewer" / "index.html").read_text()
    assert (
        "'https://team.example/catalog/skills/terraform-plan-reviewer/"
        "terraform-plan-reviewer.zip'" in entry
    )
    assert 'href="../../static/sitegen.css"' in entry  # pages stay relative
