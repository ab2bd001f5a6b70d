"""Lists of entries and their filter data."""

from __future__ import annotations

from sitegen.urls import SiteUrls
from tests.site.helpers import BuiltSite, entries_of, read_json


def test_lists_carry_filter_data(site: BuiltSite) -> None:
    html = (site.out / "entries" / "index.html").read_text()
    assert html.count("data-sg-item") == len(entries_of(site.library))
    assert 'data-type="skills"' in html and 'data-type="roles"' in html
    assert 'name="kind" value="roles"' in html  # kind filter on the mixed list
    skills = (site.out / "skills" / "index.html").read_text()
    assert 'name="kind"' not in skills  # one kind only: no kind filter
    assert '<option value="terraform">terraform (1)</option>' in skills
    tag = read_json(site.out / "tags" / "terraform" / "index.json")
    assert [e["name"] for e in tag["entries"]] == ["terraform-plan-reviewer"]


def test_tag_pages_show_derived_tags_of_an_entry_without_tags(site) -> None:
    """dockerfile-hardener has no authored tags: its derived tags are shown, marked, and
    each one's tag page lists it."""
    twin = read_json(site.out / "skills" / "dockerfile-hardener" / "index.json")
    assert twin["tags"] == []
    derived = twin["derived_tags"]
    assert derived, "an entry without tags gets tags from the keyword taxonomy"
    page = (site.out / "skills" / "dockerfile-hardener" / "index.html").read_text()
    assert page.count("sg-tag-derived") == len(derived)
    for tag in derived:
        listing = read_json(site.out / SiteUrls().tag(tag).replace("index.html", "index.json"))
        names = [e["name"] for e in listing["entries"]]
        assert "dockerfile-hardener" in names
        assert all(tag in e["derived_tags"] or tag in e["tags"] for e in listing["entries"])
    tagged = read_json(site.out / "skills" / "secret-scanner" / "index.json")
    assert tagged["tags"] and tagged["derived_tags"] == []
