"""Descriptions render their inline Markdown on every page that shows them, at build time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import make_colliding_library
from tests.site.helpers import BuiltSite, build, parse, read_json

CODE = "Reviews <code>terraform plan</code> output"


def test_every_page_that_shows_a_description_renders_it(site: BuiltSite) -> None:
    pages = {
        "home (recently changed)": "index.html",
        "list of skills": "skills/index.html",
        "list of all entries": "entries/index.html",
        "tag page": "tags/terraform/index.html",
        "entry header": "skills/terraform-plan-reviewer/index.html",
        "similar entries": "skills/api-changelog-writer/index.html",
    }
    for where, path in pages.items():
        html = (site.out / path).read_text()
        assert CODE in html, f"{where}: the description's `code` is not rendered"
        assert "`terraform plan`" not in html.split("<footer", 1)[0], f"{where}: raw backticks"
    # machines get the Markdown as written; the meta tag gets plain text
    entry = site.out / "skills" / "terraform-plan-reviewer"
    assert read_json(entry / "index.json")["description"].startswith("Reviews `terraform plan`")
    assert (
        '<meta name="description" content="Reviews terraform plan output'
        in (entry / "index.html").read_text()
    )


def test_hostile_descriptions_render_inert(hostile: BuiltSite) -> None:
    pages = [
        "index.html",
        "skills/index.html",
        "tags/markdown/index.html",
        "skills/markdown-description/index.html",
    ]
    for path in pages:
        page = hostile.out / path
        html = page.read_text()
        start = html.index("Pwnedsearch <em>inline</em>")  # rendered ...
        shown = html[start : html.index("</p>", start)]
        assert "<code>code</code>" in shown and "<strong>payloads</strong>" in shown
        fine = '<a href="https://example.com/docs" rel="nofollow noopener noreferrer">fine</a>'
        assert fine in shown or path == "index.html", path  # the home page shortens it
        # ... and inert: no tag but ours, no attribute but href and rel, no unsafe link
        tags = re.findall(r"<(/?)([a-zA-Z0-9]+)([^>]*)>", shown)
        assert {t[1] for t in tags} <= {"em", "strong", "code", "a"}, (path, tags)
        for _close, tag, attrs in tags:
            names = re.findall(r'\s([\w-]+)="', attrs)
            assert set(names) <= ({"href", "rel"} if tag == "a" else set()), (path, attrs)
        for href in re.findall(r'href="([^"]*)"', shown):
            assert href.startswith("https://example.com/"), (path, href)
        if path != "index.html":  # shown whole: the payloads are there, as text
            assert "&lt;img src=x onerror=window.__pwned=73&gt;" in shown
            assert (
                "<code>&lt;/code&gt;&lt;script&gt;window.__pwned=74&lt;/script&gt;</code>" in shown
            )
        for _tag, _attr, value, _prose, _attrs in parse(page).urls:
            assert not value.lower().startswith(("javascript:", "data:", "//")), (path, value)


def test_descriptions_link_into_the_library_from_every_page(tmp_path: Path, embedder: Any) -> None:
    library = tmp_path / "library"
    linked = library / "skills" / "linked"
    linked.mkdir(parents=True)
    (linked / "SKILL.md").write_text(
        "---\nname: linked\ndescription: Follows [the guide](../other/references/guide.md) "
        "with [the script](../other/scripts/run.py) and [plain](plain/) *closely*. Use when "
        "testing links in descriptions.\ntags: [linky]\n---\n\n# L\n"
    )  # tagged alone: its tag's page shows it, not the entry its links lead to
    guide = library / "skills" / "other" / "references" / "guide.md"  # another entry's file
    guide.parent.mkdir(parents=True)
    guide.write_text("# Guide\n")
    script = guide.parent.parent / "scripts" / "run.py"  # small: a section of its entry page
    script.parent.mkdir()
    script.write_text("print('run')\n")
    (guide.parent.parent / "SKILL.md").write_text(
        "---\nname: other\ndescription: Another skill. Use when testing.\n---\n\n# Other\n"
    )
    out = tmp_path / "site"
    build(library, out, embedder)
    entry = (out / "skills" / "linked" / "index.html").read_text()
    assert '<a href="../other/files/references/guide.md.html">the guide</a>' in entry
    assert '<a href="../other/index.html#file-scripts/run.py">the script</a>' in entry
    tagged = (out / "tags" / "linky" / "index.html").read_text()
    assert '<a href="../../skills/other/index.html#file-scripts/run.py">the script</a>' in tagged
    listed = (out / "skills" / "index.html").read_text()
    assert '<a href="other/files/references/guide.md.html">the guide</a>' in listed
    home = (out / "index.html").read_text()
    assert '<a href="skills/other/files/references/guide.md.html">the guide</a>' in home
    assert "plain" in home and 'href="skills/linked/plain' not in home  # nowhere: words only
    # The target goes (the linking entry is unchanged): every page that shows the
    # description is rendered again, and the link becomes words.
    guide.unlink()
    script.unlink()
    build(library, out, embedder)
    for page in (
        "index.html",
        "skills/index.html",
        "entries/index.html",
        "tags/linky/index.html",
        "skills/linked/index.html",
    ):
        html = (out / page).read_text()
        assert "the guide" in html and "guide.md.html" not in html, page
        assert "the script" in html and "#file-scripts/run.py" not in html, page


def test_the_maintainers_page_shows_both_descriptions(tmp_path: Path, embedder: Any) -> None:
    library = make_colliding_library(tmp_path / "colliding")
    description = library / "skills" / "pull-request-reviewer" / "SKILL.md"
    text = description.read_text().replace("Reviews one pull request", "Reviews *one* pull request")
    description.write_text(text)
    out = tmp_path / "site"
    build(library, out, embedder)
    html = (out / "maintainers" / "index.html").read_text()
    assert '<p class="sg-muted sg-pair-desc">Reviews <em>one</em> pull request' in html
    assert '<p class="sg-muted sg-pair-desc">Reviews one merge request' in html
