"""Safe Markdown for untrusted content."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from sitegen.markdown import (
    Heading,
    LinkContext,
    LinkTargets,
    MarkdownRenderer,
    highlight_code,
    highlight_file,
    numbered_lines,
    plain_text,
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


# -- inline Markdown of descriptions --------------------------------------------------------


def inline(text: str, page: str = "skills/s/index.html", limit: int | None = None) -> str:
    """A description of skills/s as shown on `page`."""
    context = LinkContext(
        page="skills/s/index.html", base="skills/s", root="skills/s", targets=TARGETS
    )
    parsed = MarkdownRenderer().inline(text, context)
    return parsed.html(lambda path: relative(page, path), limit)


def test_descriptions_render_code_emphasis_and_safe_links() -> None:
    html = inline(
        "Reviews `terraform plan` **output**, *risky* _changes_ ~~old~~; see "
        "[docs](https://docs.example/a?b=1&c=2) and <https://auto.example>."
    )
    assert html == (
        "Reviews <code>terraform plan</code> <strong>output</strong>, <em>risky</em> "
        "<em>changes</em> <s>old</s>; see "
        '<a href="https://docs.example/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">docs</a>'
        ' and <a href="https://auto.example" rel="nofollow noopener noreferrer">'
        "https://auto.example</a>."
    )


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:window.__pwned=1)",
        "[x](JaVaScRiPt:window.__pwned=1)",
        "[x](java\tscript:window.__pwned=1)",
        "[x](data:text/html,<script>window.__pwned=1</script>)",
        "[x](vbscript:x)",
        "[x](mailto:a@b.example)",  # descriptions link to http(s) and the library only
        "<javascript:window.__pwned=1>",
        "[x](//evil.example/)",
        "[x](/etc/passwd)",
        "[x](../../../../etc/passwd)",
        "<script>window.__pwned=1</script> <img src=x onerror=window.__pwned=1>",
        "![x](https://tracker.example/p.gif) ![y](img/p.png)",
        '[x](https://ok.example "title" onmouseover=window.__pwned=1)',
        "`<script>` **<b>bold</b>**",
    ],
)
def test_descriptions_stay_inert(text: str) -> None:
    html = inline(text)
    tags: list[tuple[str, list[tuple[str, str | None]]]] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tags.append((tag, attrs))  # type: ignore[method-assign]
    parser.feed(html)
    for tag, attrs in tags:
        assert tag in {"code", "strong", "em", "s", "a"}, html
        assert {name for name, _ in attrs} <= {"href", "rel"}, html
        href = dict(attrs).get("href") or ""
        if tag == "a":
            assert href.startswith(("https://", "files/", "index.html", "../")), href
            assert "//evil" not in href and "passwd" not in href and ":" not in href[6:], href


def test_description_links_into_the_library_are_relative_to_each_page() -> None:
    text = "See [a](refs/a.md#s), [the other skill](../other/) and [here](#usage)."
    on_entry = inline(text)
    assert 'href="files/refs/a.md.html#s"' in on_entry
    assert 'href="../other/index.html"' in on_entry
    assert 'href="index.html#usage"' in on_entry
    on_home = inline(text, page="index.html")
    assert 'href="skills/s/files/refs/a.md.html#s"' in on_home
    assert 'href="skills/other/index.html"' in on_home
    assert 'href="skills/s/index.html#usage"' in on_home
    assert "<a" not in inline("[gone](refs/missing.md)")  # nowhere to go: words only
    without = MarkdownRenderer().inline("[a](refs/a.md) [w](https://w.example)").html()
    assert without == 'a <a href="https://w.example" rel="nofollow noopener noreferrer">w</a>'


def test_shortened_descriptions_keep_their_tags_closed() -> None:
    text = "Reviews `terraform plan` output for **destructive changes such as dropped tables**"
    assert inline(text, limit=1000) == inline(text)
    short = inline(text, limit=45)
    assert short == ("Reviews <code>terraform plan</code> output for <strong>destructive…</strong>")
    assert inline(text, limit=10) == "Reviews …"  # a code span is never cut in two
    assert inline("Supercalifragilistic", limit=5) == "Super…"
    parsed = MarkdownRenderer().inline(text)
    assert parsed.text == (
        "Reviews terraform plan output for destructive changes such as dropped tables"
    )


def test_code_blocks_get_one_span_per_line() -> None:
    python = highlight_file('a = """x\ny"""\n\n\nb = 1', "x.py")
    numbered = numbered_lines(python)
    assert numbered.startswith('<pre class="highlight sg-numbered"><code><span class="sg-line">')
    assert numbered.count('<span class="sg-line">') == 5  # blank lines kept, no line added
    assert re.sub(r"<[^>]+>", "", numbered) == re.sub(r"<[^>]+>", "", python)  # same text
    assert numbered.count("<span") == numbered.count("</span>")
    # a span that crosses a line end is closed and opened again
    crossing = numbered_lines('<pre><code><span class="s">a\nb</span>\n</code></pre>')
    assert crossing == (
        '<pre class="sg-numbered"><code><span class="sg-line"><span class="s">a</span>\n</span>'
        '<span class="sg-line"><span class="s">b</span>\n</span></code></pre>'
    )
    lines = numbered_lines(plain_text("x\n" * 1000))
    assert "sg-digits-4" in lines and lines.count('class="sg-line"') == 1000
    assert numbered_lines("<p>not a block</p>") == "<p>not a block</p>"
