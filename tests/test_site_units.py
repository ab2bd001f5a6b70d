"""Units of the site: URL building, safe Markdown, archives, and the publish transaction."""

from __future__ import annotations

import io
import json
import os
import posixpath
import zipfile
from pathlib import Path

import pytest

from sitegen.markdown import LinkContext, MarkdownRenderer, highlight_code, validate_link
from sitegen.publish import COMMITTED, JOURNAL, Transaction, recover
from sitegen.site import build_archive, is_text
from sitegen.urls import (
    SiteUrls,
    normalize_api_url,
    normalize_base_url,
    relative,
    safe_path,
    safe_segment,
    tag_slug,
)

# -- urls --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("index.html", "skills/x/index.html"),
        ("skills/x/index.html", "skills/x/x.zip"),
        ("skills/x/index.html", "skills/y/index.html"),
        ("skills/x/files/a/b.md.html", "skills/x/raw/a/b.md"),
        ("skills/x/index.html", "index.html"),
        ("tags/a/index.html", "tags/a/index.html"),
        (".well-known/agent-skills/index.json", "skills/x/x.zip"),
        ("404.html", "static/sitegen.css"),
    ],
)
def test_relative_urls_resolve_to_their_target(start: str, target: str) -> None:
    url = relative(start, target)
    assert not url.startswith("/") and "://" not in url
    assert posixpath.normpath(posixpath.join(posixpath.dirname(start), url)) == target


def test_relative_keeps_fragments() -> None:
    assert relative("skills/x/index.html", "skills/x/index.html#sg-files") == "index.html#sg-files"


@pytest.mark.parametrize(
    "name",
    [
        "<img src=x onerror=alert(1)>.md",
        "..",
        ".",
        "a/b",
        "back\\slash",
        "colon:x",
        "",
        " sp ",
        "é.md",
    ],
)
def test_safe_segment_is_always_safe(name: str) -> None:
    out = safe_segment(name)
    assert out and out not in {".", ".."}
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in out), out
    assert not out.startswith(".")


def test_safe_names_keep_readable_names_and_never_collide() -> None:
    assert safe_segment("check_plan.py") == "check_plan.py"
    assert safe_path("references/guide.md") == "references/guide.md"
    assert safe_segment("a b") != safe_segment("a_b") != safe_segment("a:b")
    assert safe_path("../../etc/passwd").count("/") == 3
    assert ".." not in safe_path("../x").split("/")
    assert tag_slug("terraform") == "terraform"
    assert tag_slug("Terraform") != tag_slug("terraform")
    assert tag_slug("<script>") != tag_slug("script")
    assert tag_slug("../../x").startswith("x-")


def test_active_files_are_published_inert() -> None:
    urls = SiteUrls()
    assert urls.file_raw("skills", "s", "a/evil.html") == "skills/s/raw/a/evil.html.txt"
    assert urls.file_raw("skills", "s", "evil.SVG") == "skills/s/raw/evil.SVG.txt"
    assert urls.file_raw("skills", "s", "run.py") == "skills/s/raw/run.py"


def test_option_urls_are_validated() -> None:
    assert normalize_base_url("https://x.example/sub") == "https://x.example/sub/"
    for bad in ("ftp://x", "x.example", "https://x.example/?q=1", "/path"):
        with pytest.raises(ValueError):
            normalize_base_url(bad)
    assert normalize_api_url("api/match") == "api/match"
    assert normalize_api_url("https://x.example/api/match") == "https://x.example/api/match"
    for bad in ("/api/match", "javascript:alert(1)", "file:///x", ""):
        with pytest.raises(ValueError):
            normalize_api_url(bad)


# -- markdown ----------------------------------------------------------------------------------


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


def render(text: str, **links: object) -> str:
    context = LinkContext(
        page="skills/s/index.html",
        files={"SKILL.md": "skills/s/index.html", "refs/a.md": "skills/s/files/refs/a.md.html"},
        images={"img/p.png": "skills/s/raw/img/p.png"},
        folders=frozenset({"refs"}),
        folder_target="skills/s/index.html#sg-files",
        siblings={"other": "skills/other/index.html"},
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


# -- archives and text detection -------------------------------------------------------------


def test_archive_is_deterministic_and_safe() -> None:
    files = {"SKILL.md": b"x", "scripts/run.py": b"print()", "a\\..\\evil.txt": b"no"}
    first, second = build_archive(files), build_archive(dict(reversed(list(files.items()))))
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
    assert names[0] == "SKILL.md" and "scripts/run.py" in names
    assert all("\\" not in n and ".." not in n.split("/") and not n.startswith("/") for n in names)


def test_text_detection() -> None:
    assert is_text(b"hello\n") and is_text("héllo".encode())
    assert not is_text(b"\x00\x01binary") and not is_text("x".encode("utf-16"))


# -- the publish transaction -----------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_ino)
        for p in root.rglob("*")
        if p.is_file()
    }


def make_site(root: Path) -> None:
    (root / "a").mkdir(parents=True)
    (root / "a" / "page.html").write_text("old page")
    (root / "gone.html").write_text("stale")
    (root / "keep.html").write_text("untouched")


def test_commit_replaces_creates_and_removes(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    keep = (out / "keep.html").stat()
    txn = Transaction(out)
    txn.stage("a/page.html", b"new page", 0)
    txn.stage("b/new.html", b"brand new", 1)
    txn.commit({"gone.html"})
    assert (out / "a" / "page.html").read_text() == "new page"
    assert (out / "b" / "new.html").read_text() == "brand new"
    assert not (out / "gone.html").exists()
    after = (out / "keep.html").stat()
    assert (after.st_ino, after.st_mtime_ns) == (keep.st_ino, keep.st_mtime_ns)
    assert not list(tmp_path.glob(".site.sitegen-*"))


def test_first_commit_moves_the_whole_tree(tmp_path: Path) -> None:
    out = tmp_path / "site"
    txn = Transaction(out)
    txn.stage("index.html", b"home", 0)
    txn.stage("x/y/z.html", b"deep", 1)
    txn.commit(set())
    assert snapshot(out).keys() == {"index.html", "x/y/z.html"}


def test_failed_commit_rolls_back(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    before = snapshot(out)
    txn = Transaction(out)
    txn.stage("a/page.html", b"new page", 0)
    txn.stage("keep.html/inside.html", b"a file where a folder must go", 1)
    with pytest.raises(Exception, match="cannot publish"):
        txn.commit({"gone.html"})
    assert snapshot(out) == before
    assert not (out / "b").exists()


def test_interrupted_commit_is_undone_by_the_next_build(tmp_path: Path) -> None:
    """Replay what a commit killed half-way leaves on disk, then recover."""
    out = tmp_path / "site"
    make_site(out)
    before = snapshot(out)
    folder = tmp_path / ".site.sitegen-txn-crashed"
    (folder / "new").mkdir(parents=True)
    (folder / "old").mkdir()
    ops = [
        {"action": "remove", "path": "gone.html", "name": "rm-0000000"},
        {"action": "replace", "path": "a/page.html", "name": "00000000"},
        {"action": "create", "path": "c/new.html", "name": "00000001"},
        {"action": "replace", "path": "keep.html", "name": "00000002"},
    ]
    (folder / JOURNAL).write_text(json.dumps({"ops": ops}))
    # done before the "crash": the removal, the replacement and the creation
    os.replace(out / "gone.html", folder / "old" / "rm-0000000")
    os.link(out / "a" / "page.html", folder / "old" / "00000000")
    (out / "a" / "page.html").unlink()
    (out / "a" / "page.html").write_text("new page")
    (out / "c").mkdir()
    (out / "c" / "new.html").write_text("created")
    (folder / "new" / "00000002").write_text("never applied")
    assert recover(out) == 1
    assert snapshot(out) == before
    assert not folder.exists()


def test_committed_transaction_folder_is_just_removed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    before = snapshot(out)
    folder = tmp_path / ".site.sitegen-txn-done"
    (folder / "old").mkdir(parents=True)
    (folder / JOURNAL).write_text(json.dumps({"ops": []}))
    (folder / COMMITTED).write_text("ok")
    assert recover(out) == 0
    assert snapshot(out) == before and not folder.exists()
