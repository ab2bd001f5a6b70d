"""The home page."""

from __future__ import annotations

from tests.site.helpers import BuiltSite, entries_of, read_json


def test_home_lists_counts_tags_and_recent_entries(site: BuiltSite) -> None:
    html = (site.out / "index.html").read_text()
    twin = read_json(site.out / "index.json")
    roles = len([k for k, _ in entries_of(site.library) if k == "roles"])
    skills = len([k for k, _ in entries_of(site.library) if k == "skills"])
    assert twin["counts"] == {"roles": roles, "skills": skills}
    assert f"{skills} skills and {roles} roles" in html
    assert 'role="search"' in html and 'action="search/index.html"' in html
    assert len(twin["recent"]) == 10 and twin["tags"]
    assert "Recently changed" in html
