"""Planning: every page family has its outputs in a build."""

from __future__ import annotations

from sitegen.site import MANIFEST
from tests.site.helpers import BuiltSite, entries_of


def test_every_page_type_is_built(site: BuiltSite) -> None:
    out = site.out
    for path in (
        "index.html",
        "entries/index.html",
        "skills/index.html",
        "roles/index.html",
        "tags/index.html",
        "tags/terraform/index.html",
        "maintainers/index.html",
        "maintainers/index.json",
        "search/index.html",
        "404.html",
        "robots.txt",
        "catalog.json",
        ".well-known/agent-skills/index.json",
        "index/roles.parquet",
        "index/skills.parquet",
        "pagefind/pagefind.js",
        "static/sitegen.css",
        "static/search.js",
        ".nojekyll",
        MANIFEST,
    ):
        assert (out / path).is_file(), path
    for kind, name in entries_of(site.library):
        assert (out / kind / name / "index.html").is_file()
        assert (out / kind / name / f"{name}.zip").is_file()
    # No --base-url: no absolute URLs to put in a sitemap, so there is none.
    assert not (out / "sitemap.xml").exists()
    assert "Sitemap:" not in (out / "robots.txt").read_text()
    assert site.result.entries == len(entries_of(site.library))
