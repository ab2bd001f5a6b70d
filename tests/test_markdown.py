"""Safe Markdown for untrusted content."""

from __future__ import annotations

import pytest

from sitegen.markdown import (
    Heading,
    LinkContext,
    LinkTargets,
    MarkdownRenderer,
    highlight_code,
    validate_link,
)
from sitegen.urls import relative
from tests.conftest import EXAMPLE_LIBRARY


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "vbscript:x",
        "data:text/html,x",
        "data:image/svg+xml,x",
        "file:///etc/passwd",
    ],
)
def test_unsafe_schemes_are_refused(url: str) -> None:
    assert not validate_link(url)


@pytest.mark.parametrize("url", ["https://x.example", "http://x", "mailto:a@b.c", "a/b.md", "#x"])
def test_safe_links_pass(url: str) -> None:
    assert validate_link(url)


TARGETS = LinkTargets(
    files={
        "skills/s/SKILL.md": "skills/s/index.html",
        "skills/s/refs/a.md": "skills/s/files/refs/a.md.html",
        "skills/s/refs/b.md": "skills/s/files/refs/b.md.html",
        "skills/s/img/p.png": "skills/s/raw/img/p.png",
        "skills/other/SKILL.md": "skills/other/index.html",
        "skills/other/references/x.md": "skills/other/files/references/x.md.html",
        "roles/r/ROLE.md": "roles/r/index.html",
    },
    images={"skills/s/img/p.png": "skills/s/raw/img/p.png"},
    folders={
        "skills/s": "skills/s/index.html",
        "skills/s/refs": "skills/s/index.html#sg-files",
        "skills/other": "skills/other/index.html",
    },
)


def render(
    text: str, page: str = "skills/s/index.html", document: str = "skills/s/SKILL.md"
) -> str:
    context = LinkContext(
        page=page,
        base=document.rsplit("/", 1)[0],
        root="skills/s",
        targets=TARGETS,
        relative=relative,
    )
    return MarkdownRenderer().render(text, context).html


def test_raw_html_is_text() -> None:
    html = render('<script>alert(1)</script>\n\n<img src=x onerror="alert(1)"> <b>x</b>')
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;" in html


def test_links_are_rewritten_or_dropped() -> None:
    html = render(
        "[js](javascript:alert(1)) [ref](refs/a.md#s) [dir](refs/) [sib](../other/SKILL.md) "
        "[up](../../etc/passwd) [abs](/x) [ext](https://e.example) [self](SKILL.md) "
        "![p](img/p.png) ![t](https://tracker.example/p.gif) <javascript:alert(2)>"
    )
    assert "javascript:" not in html.replace("[js](javascript:alert(1))", "").replace(
        "&lt;javascript:alert(2)&gt;", ""
    )
    assert 'href="files/refs/a.md.html#s"' in html
    assert 'href="index.html#sg-files"' in html
    assert 'href="../other/index.html"' in html
    assert 'href="index.html"' in html
    assert "up" in html and "etc/passwd" not in html
    assert 'href="/x"' not in html
    assert 'href="https://e.example" rel="nofollow noopener noreferrer"' in html
    assert '<img src="raw/img/p.png" alt="p" loading="lazy" />' in html
    assert "<img" not in html.replace('<img src="raw/img/p.png"', "")
    assert 'href="https://tracker.example/p.gif"' in html  # a link, never a request


def test_headings_get_safe_unique_ids_and_are_demoted() -> None:
    rendered = MarkdownRenderer().render("# Title\n\n## sg-main\n\n## Title\n\n### <b>x</b>\n")
    assert '<h2 id="title">Title</h2>' in rendered.html
    assert '<h3 id="h-sg-main">sg-main</h3>' in rendered.html  # never the theme's ids
    assert '<h3 id="title-1">Title</h3>' in rendered.html
    assert [h.id for h in rendered.headings] == ["title", "h-sg-main", "title-1", "bxb"]


def test_fence_language_cannot_break_out() -> None:
    html = highlight_code("x", '"><script>alert(1)</script>')
    assert "<script" not in html and html.startswith('<pre class="highlight"><code>')
    assert 'class="language-python"' in highlight_code("print(1)", "python")


HEADINGS_EDGES = """
# Title with `code`, *em*, [a ref][r], ![an image](x.png), ~~gone~~ and \\* a star
Setext heading
==============
- # a heading in a list
> ## quoted [link](http://x.example)
## sg-main
## Title with `code`, *em*, [a ref][r], ![an image](x.png), ~~gone~~ and \\* a star
a | b
--- | ---
## &amp; entity &copy; <b>html</b>
    # indented code, not a heading
```
# fenced, not a heading
```
## [r]

[r]: http://example.com
"""


def test_headings_alone_match_the_rendered_ones() -> None:
    """`headings()` (blocks + heading text only) gives exactly the ids a page renders with."""
    md = MarkdownRenderer()
    texts = [HEADINGS_EDGES] + [p.read_text() for p in sorted(EXAMPLE_LIBRARY.rglob("*.md"))]
    for text in texts:
        assert md.headings(text) == md.render(text).headings
    found = md.headings(HEADINGS_EDGES)
    assert [h.level for h in found] == [1, 1, 1, 2, 2, 2, 2, 2]
    assert found[0].text == "Title with code, em, a ref, , gone and * a star"
    assert found[-1] == Heading(2, "r", "r")  # a reference link, resolved


def test_links_resolve_across_the_library() -> None:
    """From a reference: its neighbours, its entry, {baseDir}, and other entries' files."""
    html = render(
        "[b](b.md#top) [up](../SKILL.md) [base]({baseDir}/refs/a.md) [dir]({baseDir}/refs/) "
        "[other](../../other/references/x.md) [entry](../../other/) "
        "[role](../../../roles/r/ROLE.md) "
        "[gone](../../other/missing.md) [out](../../../../etc/passwd) ![p]({baseDir}/img/p.png)",
        page="skills/s/files/refs/a.md.html",
        document="skills/s/refs/a.md",
    )
    assert 'href="b.md.html#top"' in html
    assert 'href="../../index.html"' in html
    assert 'href="a.md.html"' in html
    assert 'href="../../index.html#sg-files"' in html
    assert 'href="../../../other/files/references/x.md.html"' in html
    assert 'href="../../../other/index.html"' in html
    assert 'href="../../../../roles/r/index.html"' in html
    assert ">gone<" not in html and "missing.md" not in html and "passwd" not in html
    assert '<img src="../../raw/img/p.png" alt="p" loading="lazy" />' in html
