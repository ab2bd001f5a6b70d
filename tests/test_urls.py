"""URLs: relative everywhere, safe names, validated options."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

import pytest

from sitegen import targets
from sitegen.urls import (
    SiteUrls,
    normalize_api_url,
    normalize_base_url,
    relative,
    safe_path,
    safe_segment,
    tag_slug,
)
from tests.site.helpers import BuiltSite, html_pages, parse


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
    assert len({safe_segment("a b"), safe_segment("a_b"), safe_segment("a:b")}) == 3
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


TOOL_DOCS = {t.docs for t in targets.AGENT_TOOLS.values()}


def test_urls_are_relative_everywhere(site: BuiltSite) -> None:
    """No root-absolute or absolute URL of ours: the site works under any path and from disk."""
    for page in html_pages(site.out):
        for tag, _attr, value, in_prose, attrs in parse(page).urls:
            parts = urlsplit(value)
            if parts.scheme in {"http", "https", "mailto"}:
                # Only links written by library authors, or the install box's link to each
                # agent tool's documentation (sitegen.targets); never a resource we load.
                assert tag == "a", (page, value)
                assert in_prose or value in TOOL_DOCS, (page, value)
                if parts.scheme != "mailto":
                    assert "noopener" in (attrs.get("rel") or ""), (page, value)
                continue
            assert not parts.scheme and not parts.netloc, (page, value)
            assert not value.startswith("/"), (page, value)
            if value.startswith("#") or tag == "form":
                continue
            target = posixpath.normpath(
                posixpath.join(
                    posixpath.dirname(page.relative_to(site.out).as_posix()), unquote(parts.path)
                )
            )
            assert not target.startswith(".."), (page, value)
            assert (site.out / target).exists(), (page, value)
