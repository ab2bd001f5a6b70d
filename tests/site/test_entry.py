"""The entry page: rendered definition, details, links, similar entries."""

from __future__ import annotations

from tests.site.helpers import BuiltSite, read_json


def test_entry_page_content(site: BuiltSite) -> None:
    page = site.out / "skills" / "terraform-plan-reviewer" / "index.html"
    html = page.read_text()
    assert "<h1>terraform-plan-reviewer</h1>" in html
    assert "Reviews <code>" not in html  # the description is text, not Markdown
    assert "destructive changes" in html
    # metadata table
    for label, value in (
        ("License", "Apache-2.0"),
        ("Version", "1.2.0"),
        ("Author", "platform-team"),
        ("Compatibility", "Requires Python 3.10+ and terraform 1.5 or newer"),
    ):
        assert f'<th scope="row">{label}</th><td>{value}</td>' in html
    assert "Bash(terraform:*) Bash(python3:*) Read" in html
    assert '<time datetime="' in html  # last change
    # Markdown: tables, highlighted fenced code, heading anchors, demoted headings
    assert "<table>" in html and "<th>Action in plan</th>" in html
    assert '<pre class="highlight"><code class="language-hcl">' in html
    assert '<span class="' in html
    assert '<h2 id="terraform-plan-reviewer">Terraform Plan Reviewer</h2>' in html
    assert '<h3 id="risk-classification">Risk classification</h3>' in html
    assert 'href="#risk-classification"' in html  # table of contents
    # relative links to the skill's own files point at the site's file pages
    assert 'href="files/references/destructive-changes.md.html"' in html
    # tags link to tag pages
    assert 'href="../../tags/terraform/index.html"' in html
    # similar entries come from the index
    twin = read_json(page.with_suffix(".json"))
    assert twin["similar"], "expected nearest neighbours from the index"
    assert all(s["distance"] <= 0.8 for s in twin["similar"])
    assert all((page.parent / s["url"]).is_file() for s in twin["similar"])
    assert twin["similar"][0]["name"] in html
