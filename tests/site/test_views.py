"""View models: every page has a JSON twin rendered from its view."""

from __future__ import annotations

from sitegen.entry import PUBLIC_FIELDS
from tests.site.helpers import BuiltSite, entries_of, html_pages, read_json


def test_json_twins_parse_and_every_page_has_one(site: BuiltSite) -> None:
    pages = html_pages(site.out)
    assert len(pages) > 50
    for page in pages:
        if "/files/" in page.as_posix():  # file pages: the entry's twin lists the file
            assert not page.with_suffix(".json").exists()
            continue
        twin = page.with_suffix(".json")
        assert twin.is_file(), f"no JSON twin for {page}"
        read_json(twin)
        assert f'href="{twin.name}"' in page.read_text() or page.name == "404.html"
    catalog = read_json(site.out / "catalog.json")
    assert {(e["type"], e["name"]) for e in catalog["entries"]} == set(entries_of(site.library))
    assert all("embedding" not in e for e in catalog["entries"])
    generation = read_json(site.out / "index" / "current.json")["generation"]
    assert catalog["index"] == {
        "current": "index/current.json",
        "roles": f"index/{generation}/roles.parquet",
        "skills": f"index/{generation}/skills.parquet",
    }


def test_an_entry_twin_and_its_catalog_row_say_the_same(site: BuiltSite) -> None:
    """Both are renderings of one view model: the fields they share agree exactly."""
    catalog = read_json(site.out / "catalog.json")
    for row in catalog["entries"]:
        twin_path = site.out / row["json"]
        twin = read_json(twin_path)
        shared = set(row) & set(twin) - {"url", "files", "archive"}
        assert shared >= {"name", "description", "tags", "updated", "license", "metadata", "etag"}
        # Both carry the entry schema's public fields, derived from one declaration.
        assert set(PUBLIC_FIELDS) <= set(row) and set(PUBLIC_FIELDS) <= set(twin)
        assert {k: row[k] for k in shared} == {k: twin[k] for k in shared}
        assert row["files"] == [
            {k: f[k] for k in ("path", "size", "sha256")} for f in twin["files"]
        ]
        for data, where in ((row, site.out), (twin, twin_path.parent)):
            assert (where / data["url"]).resolve() == (twin_path.parent / "index.html").resolve()
            archive = (where / data["archive"]["url"]).resolve()
            assert archive.is_file() and data["archive"]["size"] == archive.stat().st_size


def test_views_render_the_same_data_as_html_and_json() -> None:
    """A list view: the HTML context and the twin come from the same items."""
    from sitegen.site.views import EntrySummary, ListView, TagOption, TagRef

    item = EntrySummary(
        type="skills",
        label="skill",
        name="x",
        description="Does x.",
        tags=(TagRef("t", "tags/t/index.html"),),
        path="skills/x/index.html",
        updated="2025-01-01T00:00:00Z",
        updated_day="2025-01-01",
    )
    view = ListView("Skills", "Intro.", (item,), ("skills",), (TagOption("t", 1),))
    assert view.context()["items"] == (item,)
    assert view.to_json("skills/index.html") == {
        "title": "Skills",
        "entries": [
            {
                "type": "skills",
                "name": "x",
                "description": "Does x.",
                "tags": ["t"],
                "derived_tags": [],
                "url": "x/index.html",
                "json": "x/index.json",
                "updated": "2025-01-01T00:00:00Z",
            }
        ],
    }
