"""The fragment cache: rendered Markdown and highlighted code kept between builds."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from sitegen.markdown import LinkContext, LinkTargets, MarkdownRenderer, highlight_file
from sitegen.site import fragments
from sitegen.site.fragments import CachedMarkdown, FragmentCache
from sitegen.urls import relative
from tests.site.helpers import BuiltSite, build

TEXT = (
    "# Guide\n\nSee [the notes](notes.md#top) and [beta](../../beta/SKILL.md).\n\n"
    "```py\nx = 1\n```\n"
)


def context(targets: dict[str, str]) -> LinkContext:
    return LinkContext(
        page="skills/alpha/files/refs/guide.md.html",
        base="skills/alpha/refs",
        root="skills/alpha",
        targets=LinkTargets(files=targets),
        relative=relative,
    )


TARGETS = {
    "skills/alpha/refs/notes.md": "skills/alpha/files/refs/notes.md.html",
    "skills/beta/SKILL.md": "skills/beta/index.html",
}


def test_a_hit_is_what_the_renderer_makes(tmp_path: Path) -> None:
    first = FragmentCache(tmp_path)
    made = CachedMarkdown(first).render(TEXT, context(TARGETS))
    first.flush()
    later = FragmentCache(tmp_path)  # the next build
    again = CachedMarkdown(later).render(TEXT, context(TARGETS))
    assert later.hits == 1 and later.misses == 0
    assert again == made == MarkdownRenderer().render(TEXT, context(TARGETS))
    assert 'href="../../../beta/index.html"' in again.html and again.headings


def test_a_link_whose_target_moved_is_rendered_again(tmp_path: Path) -> None:
    cache = FragmentCache(tmp_path)
    CachedMarkdown(cache).render(TEXT, context(TARGETS))
    cache.flush()
    gone = {k: v for k, v in TARGETS.items() if "beta" not in k}  # beta left the library
    later = FragmentCache(tmp_path)
    html = CachedMarkdown(later).render(TEXT, context(gone)).html
    assert later.hits == 0
    assert (
        "beta/index.html" not in html
        and html == MarkdownRenderer().render(TEXT, context(gone)).html
    )
    # The same text on another page links from there: another fragment.
    moved = LinkContext(**{**context(TARGETS).__dict__, "page": "skills/alpha/index.html"})
    assert FragmentCache(tmp_path).key(
        "markdown", TEXT, fragments._link_signature(TEXT, moved)
    ) != (
        FragmentCache(tmp_path).key(
            "markdown", TEXT, fragments._link_signature(TEXT, context(TARGETS))
        )
    )


def test_headings_are_kept(tmp_path: Path) -> None:
    cache = FragmentCache(tmp_path)
    assert CachedMarkdown(cache).headings(TEXT) == MarkdownRenderer().headings(TEXT)
    cache.flush()
    later = FragmentCache(tmp_path)
    assert CachedMarkdown(later).headings(TEXT) == MarkdownRenderer().headings(TEXT)
    assert later.hits == 1 and CachedMarkdown(later).headings("## Other\n") != ()


def test_highlighted_code_is_kept(tmp_path: Path) -> None:
    cache = FragmentCache(tmp_path)
    code = "def f(x):\n    return x\n"
    assert cache.highlight(code, "run.py") == highlight_file(code, "run.py")
    cache.flush()
    later = FragmentCache(tmp_path)
    assert later.highlight(code, "run.py") == highlight_file(code, "run.py")
    assert later.hits == 1
    assert later.highlight(code, "run.sh") == highlight_file(code, "run.sh")  # another lexer
    assert later.misses == 1


def test_a_broken_cache_is_no_cache(tmp_path: Path) -> None:
    (tmp_path / fragments.FILE).write_bytes(b"not a database" * 100)
    cache = FragmentCache(tmp_path)
    assert CachedMarkdown(cache).render(TEXT, context(TARGETS)) == MarkdownRenderer().render(
        TEXT, context(TARGETS)
    )
    cache.flush()  # nothing raised, nothing written
    off = FragmentCache(None)
    assert CachedMarkdown(off).render(TEXT) == MarkdownRenderer().render(TEXT)


def test_where_it_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(fragments.ENV, raising=False)
    assert fragments.default_folder() == tmp_path / "cache" / "render"
    monkeypatch.setenv(fragments.ENV, str(tmp_path / "elsewhere"))
    assert fragments.default_folder() == tmp_path / "elsewhere"
    monkeypatch.setenv(fragments.ENV, "off")
    assert fragments.default_folder() is None


def test_it_stays_under_its_size_keeping_what_the_build_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fragments, "MAX_BYTES", 200_000)
    old = FragmentCache(tmp_path)
    for i in range(40):
        old.put(old.key("old", i), b"x" * 8000)
    old.flush()
    build = FragmentCache(tmp_path)
    used = build.key("used", 0)
    build.put(used, b"y" * 8000)
    build.flush()
    db = sqlite3.connect(tmp_path / fragments.FILE)
    keys = {k for (k,) in db.execute("SELECT key FROM fragments")}
    total = db.execute("SELECT sum(length(value)) FROM fragments").fetchone()[0]
    assert used in keys and total <= fragments.MAX_BYTES and len(keys) < 41


def test_a_build_into_an_empty_folder_renders_from_the_cache(
    tmp_path: Path, site: BuiltSite, embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte for byte the site a build without the cache makes, with its fragments reused."""
    library = tmp_path / "library"
    shutil.copytree(site.library, library)
    monkeypatch.setenv(fragments.ENV, str(tmp_path / "fragments"))
    build(library, tmp_path / "first", embedder)
    built = build(library, tmp_path / "second", embedder)
    monkeypatch.setenv(fragments.ENV, "off")
    build(library, tmp_path / "plain", embedder)
    db = sqlite3.connect(tmp_path / "fragments" / fragments.FILE)
    assert db.execute("SELECT count(*) FROM fragments").fetchone()[0] >= built.entries
    for path in sorted((tmp_path / "plain").rglob("*")):
        rel = path.relative_to(tmp_path / "plain")
        if path.is_file() and rel.parts[0] != "pagefind" and rel.name != ".sitegen-manifest.json":
            assert (tmp_path / "second" / rel).read_bytes() == path.read_bytes(), rel
    # And it is read: a poisoned fragment shows up in the next build's pages.
    with db:
        db.execute(
            "UPDATE fragments SET value = "
            "CAST(replace(CAST(value AS TEXT), '<p>', '<p>POISONED ') AS BLOB)"
        )
    db.close()
    monkeypatch.setenv(fragments.ENV, str(tmp_path / "fragments"))
    build(library, tmp_path / "third", embedder)
    pages = list((tmp_path / "third" / "skills").rglob("index.html"))
    poisoned = [p for p in pages if "<p>POISONED " in p.read_text()]
    assert len(poisoned) >= len(pages) // 2 and pages
