"""An entry's files: raw copies, file pages, and small files shown on the entry page."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from tests.site.helpers import BuiltSite, parse, read_json


def lands(page: Path, url: str) -> bool:
    """Whether a relative URL from `page` names a file, and its fragment an id in it."""
    path, _, fragment = url.partition("#")
    target = (page.parent / path).resolve() if path else page
    if not target.is_file():
        return False
    return not fragment or f'id="{fragment}"' in target.read_text()


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
        assert lands(entry / "index.html", item["url"]), item["url"]
    # A small script is a section of the entry page: no page, no twin of its own.
    assert not (entry / "files" / "scripts").exists()
    script = next(f for f in twin["files"] if f["path"] == "scripts/check_plan.py")
    assert script["url"] == "index.html#file-scripts/check_plan.py"
    html = (entry / "index.html").read_text()
    section = html.split('id="file-scripts/check_plan.py"', 1)[1].split("</section>", 1)[0]
    assert '<pre class="highlight sg-numbered"><code>' in section  # the viewer's line numbers
    assert '<span class="k">' in section  # Python
    assert 'download="check_plan.py"' in section
    # The reference is a page; its data is the entry twin's row and its raw copy.
    page = entry / "files" / "references" / "destructive-changes.md.html"
    assert page.is_file() and not page.with_suffix(".json").exists()
    assert "application/json" not in page.read_text().split("</head>", 1)[0]


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
    assert 'href="../../index.html#file-scripts/run.py"' in prose  # a section of the entry
    assert 'href="../../../beta/files/references/notes.md.html"' in prose  # another entry
    assert '<pre class="highlight"><code class="language-python">' in prose  # fences still
    assert "# The guide" not in html  # rendered, not shown as source
    for _tag, _attr, value, in_prose, _attrs in parse(page).urls:
        if in_prose and not value.startswith("#"):
            target = (page.parent / value.split("#")[0]).resolve()
            assert target.is_file(), value
    assert not page.with_suffix(".json").exists()  # the entry twin lists it


def test_code_is_highlighted_and_text_wraps(content: BuiltSite) -> None:
    alpha = content.out / "skills" / "alpha"
    html = (alpha / "index.html").read_text()

    def section(path: str) -> str:
        return html.split(f'id="file-{path}"', 1)[1].split("</section>", 1)[0]

    # Sections on the entry page are shown by the same viewer as file pages.
    code = section("scripts/run.py")
    assert '<div id="sg-code-scripts/run.py" class="sg-code sg-code-code">' in code
    assert '<span class="sg-line"><span class="k">def</span>' in code  # a span per line
    assert 'data-sg-copy="sg-code-scripts/run.py"' in code
    assert 'data-sg-wrap="sg-code-scripts/run.py" aria-pressed="false"' in code
    assert 'class="sg-file-raw"' in code
    notes = section("data/notes.txt")
    assert '<div id="sg-code-data/notes.txt" class="sg-code sg-code-text sg-wrapped">' in notes
    assert '<pre class="sg-plain sg-numbered"><code><span class="sg-line">Plain notes.\n' in notes
    assert 'data-sg-wrap="sg-code-data/notes.txt" aria-pressed="true"' in notes  # wraps by default
    huge = (alpha / "files" / "data" / "huge.md.html").read_text()  # too large to render: plain
    assert (
        '<pre class="sg-plain sg-numbered sg-digits-4"><code><span class="sg-line"># Huge' in huge
    )
    assert '<section id="sg-file-code" class="sg-code sg-code-text sg-wrapped"' in huge
    assert 'id="huge"' not in huge
    assert not (alpha / "files" / "scripts").exists()


def test_only_small_code_and_text_files_are_sections(content: BuiltSite) -> None:
    """Markdown of any size, and code past INLINE_MAX, keep pages of their own."""
    from sitegen.site.model import INLINE_MAX, shown_inline

    assert shown_inline("scripts/run.py", INLINE_MAX)
    assert not shown_inline("scripts/run.py", INLINE_MAX + 1)
    assert not shown_inline("references/tiny.md", 10)
    twin = read_json(content.out / "skills" / "alpha" / "index.json")
    pages = {f["path"]: f["url"] for f in twin["files"]}
    assert pages["references/guide.md"] == "files/references/guide.md.html"
    assert pages["scripts/run.py"] == "index.html#file-scripts/run.py"


def test_hidden_files_are_published_and_zipped(content: BuiltSite) -> None:
    alpha = content.out / "skills" / "alpha"
    twin = read_json(alpha / "index.json")
    hidden = next(f for f in twin["files"] if f["path"] == ".env.example")
    assert (alpha / hidden["raw"]).read_text() == "API_TOKEN=change-me\n"
    assert lands(alpha / "index.html", hidden["url"])
    assert 'download=".env.example"' in (alpha / "index.html").read_text()
    with zipfile.ZipFile(alpha / "alpha.zip") as archive:
        assert archive.read("alpha/.env.example") == b"API_TOKEN=change-me\n"
