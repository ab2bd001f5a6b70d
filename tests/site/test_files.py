"""An entry's files: raw copies and file pages."""

from __future__ import annotations

import hashlib
import zipfile

from tests.site.helpers import BuiltSite, parse, read_json


def test_file_tree_pages_and_downloads(site: BuiltSite) -> None:
    entry = site.out / "skills" / "terraform-plan-reviewer"
    twin = read_json(entry / "index.json")
    paths = {f["path"] for f in twin["files"]}
    assert paths == {"SKILL.md", "references/destructive-changes.md", "scripts/check_plan.py"}
    library = site.library / "skills" / "terraform-plan-reviewer"
    for item in twin["files"]:
        raw = entry / item["raw"]
        assert raw.read_bytes() == (library / item["path"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(raw.read_bytes()).hexdigest()
        assert (entry / item["url"]).is_file()
    script_page = entry / "files" / "scripts" / "check_plan.py.html"
    html = script_page.read_text()
    assert '<pre class="highlight"><code>' in html and '<span class="k">' in html  # Python
    assert 'download="check_plan.py"' in html
    file_twin = read_json(script_page.with_suffix(".json"))
    assert file_twin["text"] == (library / "scripts" / "check_plan.py").read_text()


# -- files as they are meant to be read (content_library) ----------------------------------------


def test_markdown_files_are_pages_with_ids_and_working_links(content: BuiltSite) -> None:
    alpha = content.out / "skills" / "alpha"
    page = alpha / "files" / "references" / "guide.md.html"
    html = page.read_text()
    prose = html.split('<article class="sg-prose sg-file-prose"', 1)[1].split("</article>", 1)[0]
    assert '<h2 id="the-guide">The guide</h2>' in prose  # demoted under the page's <h1>
    assert '<h3 id="first-steps">First steps</h3>' in prose
    assert 'href="other.md.html#details"' in prose
    assert 'href="../../index.html"' in prose  # ../SKILL.md is the entry page
    assert 'href="../scripts/run.py.html"' in prose
    assert 'href="../../../beta/files/references/notes.md.html"' in prose  # another entry
    assert '<pre class="highlight"><code class="language-python">' in prose  # fences still
    assert "# The guide" not in html  # rendered, not shown as source
    for _tag, _attr, value, in_prose, _attrs in parse(page).urls:
        if in_prose and not value.startswith("#"):
            target = (page.parent / value.split("#")[0]).resolve()
            assert target.is_file(), value
    twin = read_json(page.with_suffix(".json"))
    assert twin["view"] == "markdown"
    assert twin["text"] == (content.library / "skills/alpha/references/guide.md").read_text()


def test_code_is_highlighted_and_text_wraps(content: BuiltSite) -> None:
    files = content.out / "skills" / "alpha" / "files"
    code = (files / "scripts" / "run.py.html").read_text()
    assert '<section class="sg-code sg-code-code"' in code and '<span class="k">def</span>' in code
    notes = (files / "data" / "notes.txt.html").read_text()
    assert '<section class="sg-code sg-code-text"' in notes
    assert '<pre class="sg-plain"><code>Plain notes.' in notes
    huge = (files / "data" / "huge.md.html").read_text()  # too large to render: plain
    assert '<pre class="sg-plain"><code># Huge' in huge and 'id="huge"' not in huge
    assert read_json(files / "data" / "huge.md.json")["view"] == "text"


def test_hidden_files_are_published_and_zipped(content: BuiltSite) -> None:
    alpha = content.out / "skills" / "alpha"
    twin = read_json(alpha / "index.json")
    hidden = next(f for f in twin["files"] if f["path"] == ".env.example")
    assert (alpha / hidden["raw"]).read_text() == "API_TOKEN=change-me\n"
    assert (alpha / hidden["url"]).is_file()
    assert 'download=".env.example"' in (alpha / "index.html").read_text()
    with zipfile.ZipFile(alpha / "alpha.zip") as archive:
        assert archive.read("alpha/.env.example") == b"API_TOKEN=change-me\n"
