"""The built site in a real browser: Debian's chromium driven by Playwright.

Skipped (with the reason shown) only when /usr/bin/chromium is absent; CI installs it."""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from sitegen.library import Library
from sitegen.site.pages.not_found import locate_script
from sitegen.urls import SiteUrls
from tests.site.helpers import (
    BuiltSite,
    browser,
    build,
    html_pages,
    search,
    serve,
    watched,
)

pytestmark = browser
PWNED = re.compile(r"__pwned|alert\(")
LOCATE_SCRIPT, LOCATE_HASH = locate_script(SiteUrls())


def test_pages_load_without_console_errors(chromium: Any, site: BuiltSite) -> None:
    with serve(site.out) as base, watched(chromium) as w:
        for path in (
            "index.html",
            "skills/terraform-plan-reviewer/index.html",
            "skills/terraform-plan-reviewer/files/references/destructive-changes.md.html",
            "skills/index.html",
            "entries/index.html",
            "tags/index.html",
            "tags/terraform/index.html",
            "search/index.html",
            "search/index.html?q=terraform",
            "404.html",
        ):
            w.page.goto(base + path)
            w.page.wait_for_load_state("networkidle")
            styled = w.page.evaluate(
                "getComputedStyle(document.querySelector('.sg-header')).borderBottomStyle"
            )
            assert styled == "solid", f"{path}: the stylesheet did not load"
        assert w.clean(), w.report()


def test_search_as_you_type_finds_the_entry(chromium: Any, site: BuiltSite) -> None:
    with serve(site.out) as base, watched(chromium) as w:
        page = w.page
        page.goto(base + "search/index.html")
        search(page, "terraform plan")
        first = page.locator("#sg-results li").first.locator("h3 a")
        first.wait_for()
        assert first.inner_text() == "terraform-plan-reviewer"
        assert "result" in page.locator("#sg-search-status").inner_text()
        assert page.locator("#sg-meaning").count() == 0  # no API, no bundle: keyword only
        assert "q=terraform+plan" in page.url or "q=terraform%20plan" in page.url
        first.click()
        page.wait_for_url("**/skills/terraform-plan-reviewer/index.html")
        # the kind filter narrows results
        page.goto(base + "search/index.html?q=review&type=roles")
        page.locator("#sg-results li").first.wait_for()
        kinds = page.locator("#sg-results li h3 .sg-badge").all_inner_texts()
        assert kinds and {k.lower() for k in kinds} == {"role"}
        # searches over tags and headings, not only names
        page.get_by_label("All", exact=True).check()
        search(page, "iac")
        page.locator("#sg-results li h3 a", has_text="terraform-plan-reviewer").wait_for()
        search(page, "Guardrails")
        page.locator("#sg-results li h3 a").first.wait_for()
        assert w.clean(), w.report()


def test_download_links(chromium: Any, site: BuiltSite) -> None:
    with serve(site.out) as base, watched(chromium, accept_downloads=True) as w:
        page = w.page
        page.goto(base + "skills/terraform-plan-reviewer/index.html")
        shown = page.locator(".sg-install .sg-digest code").inner_text()
        with page.expect_download() as info:
            page.get_by_role("link", name="Download terraform-plan-reviewer.zip").click()
        download = info.value
        assert download.suggested_filename == "terraform-plan-reviewer.zip"
        data = Path(download.path()).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shown
        with page.expect_download() as info:
            # in the file list and in the file's own section on the page: the same raw file
            page.get_by_role("link", name="Download scripts/check_plan.py").first.click()
        script = Path(info.value.path()).read_bytes()
        library = site.library / "skills" / "terraform-plan-reviewer" / "scripts" / "check_plan.py"
        assert script == library.read_bytes()
        assert info.value.suggested_filename == "check_plan.py"
        assert w.clean(), w.report()


def test_list_filters_by_tag_kind_and_text(chromium: Any, site: BuiltSite) -> None:
    with serve(site.out) as base, watched(chromium) as w:
        page = w.page
        page.goto(base + "entries/index.html")
        items = page.locator("[data-sg-item]")
        total = items.count()
        page.get_by_label("Tag", exact=True).select_option("terraform")
        assert page.locator("[data-sg-item]:visible").count() == 1
        assert "#tag=terraform" in page.url
        page.get_by_label("Tag", exact=True).select_option("")
        page.get_by_label("Roles", exact=True).check()
        roles = page.locator("[data-sg-item]:visible").count()
        assert 0 < roles < total
        assert all(
            t == "roles"
            for t in page.locator("[data-sg-item]:visible").evaluate_all(
                "els => els.map(e => e.dataset.type)"
            )
        )
        page.get_by_label("Filter by name or description").fill("incident")
        assert 0 < page.locator("[data-sg-item]:visible").count() < roles
        assert "Showing" in page.locator("#sg-list-status").inner_text()
        page.reload()  # the filter state lives in the URL fragment
        assert page.get_by_label("Filter by name or description").input_value() == "incident"
        assert w.clean(), w.report()


def test_copy_button_copies_an_absolute_install_command(chromium: Any, site: BuiltSite) -> None:
    with (
        serve(site.out) as base,
        watched(chromium, permissions=["clipboard-read", "clipboard-write"]) as w,
    ):
        page = w.page
        page.goto(base + "skills/terraform-plan-reviewer/index.html")
        page.get_by_role("button", name="Copy the shell commands").click()
        page.get_by_text("Copied to the clipboard.").wait_for()
        text = page.evaluate("navigator.clipboard.readText()")
        assert f"'{base}skills/terraform-plan-reviewer/terraform-plan-reviewer.zip'" in text
        assert "sha256sum -c -" in text
        assert w.clean(), w.report()


def test_site_works_under_a_sub_path(chromium: Any, site: BuiltSite) -> None:
    with serve(site.out, prefix="/team/catalog/") as base, watched(chromium) as w:
        page = w.page
        page.goto(base + "index.html")
        page.get_by_role("link", name="Skills", exact=True).first.click()
        page.get_by_role("link", name="terraform-plan-reviewer", exact=True).first.click()
        page.get_by_role("link", name="check_plan.py", exact=True).click()
        page.get_by_role("link", name="terraform-plan-reviewer").first.click()
        page.get_by_role("link", name="Search", exact=True).first.click()
        search(page, "postmortem")
        page.locator("#sg-results li h3 a").first.click()
        page.wait_for_load_state("networkidle")
        assert page.url.startswith(base)
        local = [u for u in w.requests if u.startswith("http://127.0.0.1")]
        assert local and all(urlsplit(u).path.startswith("/team/catalog/") for u in local), local
        assert w.clean(), w.report()


def test_site_opened_from_disk(chromium: Any, site: BuiltSite) -> None:
    with watched(chromium) as w:
        page = w.page
        page.goto((site.out / "skills" / "index.html").as_uri() + "#tag=terraform")
        assert page.locator("[data-sg-item]:visible").count() == 1
        page.get_by_role("link", name="terraform-plan-reviewer", exact=True).first.click()
        page.wait_for_url("**/skills/terraform-plan-reviewer/index.html")
        page.wait_for_load_state("load")
        border = page.evaluate(
            "getComputedStyle(document.querySelector('.sg-header')).borderBottomStyle"
        )
        assert border == "solid"
        page.goto((site.out / "search" / "index.html").as_uri())
        assert "served over HTTP" in page.locator("#sg-search-status").inner_text()
        assert w.clean(), w.report()


def test_first_search_transfer_is_small(chromium: Any, site: BuiltSite) -> None:
    with serve(site.out) as base, watched(chromium) as w:
        page = w.page
        sizes: list[int] = []
        page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]))
        page.goto(base + "search/index.html")
        search(page, "terraform")
        page.locator("#sg-results li").first.wait_for()
        page.wait_for_load_state("networkidle")
        assert sum(sizes) < 300_000, sizes


@contextlib.contextmanager
def sitegen_server(library: Path, embedder: Any, site_dir: Path) -> Iterator[str]:
    """The real `sitegen serve` app on 127.0.0.1 (it announces its API by header)."""
    uvicorn = pytest.importorskip("uvicorn")
    from sitegen.library import Library
    from sitegen.server import create_app

    app: Any = create_app(Library(library), embedder, site_dir=site_dir)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("announce", ["meta", "header"])
def test_semantic_matches_from_the_server(
    chromium: Any, site: BuiltSite, embedder: Any, tmp_path: Path, announce: str
) -> None:
    if announce == "meta":
        out = tmp_path / "site"
        build(site.library, out, embedder, api_url="api/match")
    else:
        out = site.out
    with sitegen_server(site.library, embedder, out) as base, watched(chromium) as w:
        page = w.page
        page.goto(base + "search/index.html")
        # A query that shares no content word with the entry it must find.
        query = "blind visitors struggle with our checkout"
        target = next(
            e for e in Library(site.library).read().entries if e.name == "accessibility-auditor"
        )
        entry_words = set(
            re.findall(
                r"[a-z0-9]+",
                " ".join([target.name.replace("-", " "), target.description, *target.tags]).lower(),
            )
        )
        assert set(query.split()) & entry_words <= {"with", "our"}
        search(page, query)
        page.locator('#sg-results[data-state="done"][data-sources="keyword+meaning"]').wait_for(
            state="attached"
        )
        names = page.locator("#sg-results li h3 a").all_inner_texts()
        assert names[0] == "accessibility-auditor"
        assert len(names) == len(set(names))  # one list: keyword and meaning merged
        assert page.locator("#sg-results .sg-cue").first.inner_text() == "best match"
        assert "cosine" not in page.locator("#sg-results").inner_text()
        href = page.locator("#sg-results li h3 a").first.get_attribute("href")
        assert href and href.startswith(base) and href.endswith("/index.html")
        assert w.clean(), w.report()


def test_hostile_content_never_runs_in_a_browser(chromium: Any, hostile: BuiltSite) -> None:
    targets = [p.relative_to(hostile.out).as_posix() for p in html_pages(hostile.out)]
    targets += [
        "search/index.html?q=pwnedsearch",
        "search/index.html?q=hostile",
        "search/index.html?q=%3Cscript%3E",
        "skills/hostile-files/raw/assets/evil.html.txt",
        "skills/hostile-files/raw/assets/evil.svg.txt",
        "skills/hostile-files/raw/index.html.txt",
    ]
    poke = """() => {
        for (const el of document.querySelectorAll('*')) {
            for (const type of ['mouseover', 'click', 'focus', 'load', 'error', 'toggle']) {
                try { el.dispatchEvent(new Event(type)); } catch (e) {}
            }
        }
        return window.__pwned;
    }"""
    # bypass_csp: the page's Content-Security-Policy is a second line of defence; this test
    # proves escaping alone keeps every payload inert.
    with serve(hostile.out) as base, watched(chromium, bypass_csp=True) as w:
        page = w.page
        for target in targets:
            page.goto(base + quote(target, safe="/?=&%"))
            if "?q=" in target:
                page.locator("#sg-search-status").filter(has_text="for “").wait_for()
            assert page.evaluate(poke) is None, target
            assert page.evaluate("window.__pwned") is None, target
            scripts = page.evaluate("[...document.scripts].map(s => s.src || s.text)")
            if target == "404.html":  # its locating script, the one the CSP hash allows
                assert scripts[0] == LOCATE_SCRIPT, scripts
                scripts = scripts[1:]
            assert all(re.search(r"/static/(sitegen|search)\.js$", s) for s in scripts), scripts
        assert not w.dialogs and not w.foreign, w.report()
        assert not [e for e in w.errors if PWNED.search(e)], w.errors
        # the search page renders payload-laden results as text
        page.goto(base + "search/index.html?q=pwnedsearch")
        page.locator("#sg-results li").first.wait_for()
        assert page.locator("#sg-results img, #sg-results script").count() == 0
        assert "<img src=x onerror" in page.locator("#sg-results").inner_text()
        assert page.evaluate("window.__pwned") is None


# -- real content ----------------------------------------------------------------------------------


# Blocks wider than <main>, and plain-text blocks that scroll sideways instead of wrapping.
WIDE_BOXES = """() => {
    const right = document.querySelector('main').getBoundingClientRect().right + 1;
    return [...document.querySelectorAll('main pre, main article, main section')]
        .filter(el => el.getBoundingClientRect().right > right
            || (el.matches('pre.sg-plain') && el.scrollWidth > el.clientWidth + 1))
        .map(el => el.tagName + '.' + el.className);
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_reference_pages_read_as_documents(chromium: Any, content: BuiltSite, width: int) -> None:
    """A reference renders as HTML, its links work, and nothing widens the page."""
    viewport = {"width": width, "height": 900}
    with serve(content.out) as base, watched(chromium, viewport=viewport) as w:
        page = w.page
        for path in (
            "skills/alpha/files/references/guide.md.html",
            "skills/alpha/files/data/huge.md.html",
            "skills/alpha/index.html",  # small code and text files are sections of it
            "roles/api-designer/index.html",
        ):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path}: {overflow}px wider than the window"
            boxes = page.evaluate(WIDE_BOXES)
            assert not boxes, f"{path}: boxes wider than the page's column: {boxes}"
        page.goto(base + "skills/alpha/files/references/guide.md.html")
        assert page.locator("article.sg-file-prose h2#the-guide").is_visible()
        page.get_by_role("link", name="the other page").click()
        page.wait_for_url("**/skills/alpha/files/references/other.md.html#details")
        page.get_by_role("link", name="the guide", exact=True).last.click()
        page.wait_for_url("**/references/guide.md.html")
        page.get_by_role("link", name="beta's notes").click()
        page.wait_for_url("**/skills/beta/files/references/notes.md.html")
        assert page.locator("article.sg-file-prose h2#notes").is_visible()
        assert w.clean(), w.report()
