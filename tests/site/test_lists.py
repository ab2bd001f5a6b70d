"""Lists of entries and their filter data."""

from __future__ import annotations

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
