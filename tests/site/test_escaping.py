"""Escaping of hostile entries, checked without a browser (issue 17).

Every generated page of the hostile corpus is parsed: only the theme's own scripts and forms,
no event-handler attribute, no `javascript:` (or other non-web) URL, no element a payload could
bring in. The browser module proves the same payloads stay inert when run; this one runs
everywhere, so an unescaped field cannot hide behind a missing Chromium."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sitegen.site.pages.not_found import locate_script
from sitegen.urls import SiteUrls
from tests.site.helpers import BuiltSite, html_pages, parse

# The 404 page's one inline script (it finds the site root at any depth), allowed by its hash.
LOCATE_SCRIPT, LOCATE_HASH = locate_script(SiteUrls())

# The payloads' own markup, as written in tests/hostile_library; escaped, none survives as is.
RAW_PAYLOADS = re.compile(r"<script>window|<img src=x|<svg/onload|<svg onload|<iframe srcdoc")


def test_hostile_pages_contain_no_markup_of_theirs(hostile: BuiltSite) -> None:
    """Static check of every page: only our scripts, no handler attributes, no unsafe URLs."""
    pages = html_pages(hostile.out)
    assert len(pages) > 40
    for page in pages:
        collected = parse(page)
        for tag, attrs in collected.tags:
            assert tag not in {"iframe", "object", "embed", "svg", "style", "base"}, (page, tag)
            if tag == "form":  # only the theme's own forms
                own = attrs.get("role") == "search" or "data-sg-filters" in attrs
                assert own or "data-sg-install" in attrs, (page, attrs)  # or the install choice
            if tag == "script" and page.name == "404.html" and "src" not in attrs:
                continue  # the 404 page's own locating script, allowed by its hash (below)
            if tag == "script":
                assert re.fullmatch(r"(\.\./)*static/(sitegen|search)\.js", attrs.get("src") or "")
            if tag == "meta" and attrs.get("http-equiv"):
                assert attrs["http-equiv"] == "Content-Security-Policy", (page, attrs)
                allowed = f" {LOCATE_HASH}" if page.name == "404.html" else ""
                assert f"script-src 'self' 'wasm-unsafe-eval'{allowed};" in (
                    attrs.get("content") or ""
                )
            for name in attrs:
                assert not name.startswith("on"), (page, tag, attrs)
        for _tag, _attr, value, _prose, _attrs in collected.urls:
            scheme = urlsplit(value.strip()).scheme.lower()
            assert scheme in {"", "http", "https", "mailto"}, (page, value)
    raw = hostile.out / "skills" / "hostile-files" / "raw" / "assets"
    assert (raw / "evil.html.txt").is_file() and not (raw / "evil.html").exists()
    assert (raw / "evil.svg.txt").is_file() and not (raw / "evil.svg").exists()
    raw = raw.parent
    assert (raw / "index.html.txt").is_file()
    names = hostile.out / "skills" / "hostile-filenames"
    for path in names.rglob("*"):
        assert re.fullmatch(r"[A-Za-z0-9._/-]+", path.relative_to(hostile.out).as_posix()), path
    template = (hostile.out / "skills" / "json-breakers" / "index.html").read_text()
    assert "{{ 7*7 }}" in template and ">49<" not in template
    for page in pages:
        text = page.read_text()
        assert not RAW_PAYLOADS.search(text), (page, RAW_PAYLOADS.search(text))
        if page.name == "404.html":  # its one inline script is the theme's, byte for byte
            text = text.replace(f"<script>{LOCATE_SCRIPT}</script>", "", 1)
        assert "<script>" not in text, page  # the theme's other scripts all have a src
