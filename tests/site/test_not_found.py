"""The 404 page in Chromium, served as static hosts serve it: for any missing path, at any depth,
under `/` and under a subpath (a GitHub Pages project site), with and without --base-url,
on desktop and a 390x844 phone, light and dark. It must be styled and its links must work."""

from __future__ import annotations

import contextlib
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.site.helpers import BuiltSite, StaticHandler, browser, build, serve, watched

pytestmark = browser

MISSING = ("skills/old-name/", "roles/gone/files/notes.md.html", "tags/nothing/", "no-such-page")
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})


class _PagesHandler(StaticHandler):
    """A static host that answers every missing path under the prefix with 404.html, as
    GitHub Pages, Netlify and most hosts do."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file() or not self.path.startswith(self.prefix):
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def pages_host(root: Path, prefix: str, port: int = 0) -> contextlib.AbstractContextManager[str]:
    return serve(root, prefix, handler=_PagesHandler, port=port)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pretty(url: str) -> str:
    return url[: -len("index.html")] if url.endswith("/index.html") else url


def _check_404(chromium: Any, base: str) -> None:
    """Every missing URL, on every viewport and scheme: styled, and its links lead home."""
    for viewport in VIEWPORTS:
        for scheme in ("light", "dark"):
            with watched(chromium, viewport=viewport, color_scheme=scheme) as w:
                for missing in MISSING:
                    response = w.page.goto(base + missing)
                    assert response is not None and response.status == 404, missing
                    w.page.wait_for_load_state("networkidle")
                    where = f"{base}{missing} {viewport['width']}px {scheme}"
                    assert w.page.locator("h1").inner_text() == "Page not found", where
                    border = w.page.evaluate(
                        "getComputedStyle(document.querySelector('.sg-header'))"
                        ".borderBottomStyle"
                    )
                    assert border == "solid", f"{where}: the stylesheet did not load"
                    background = w.page.evaluate(
                        "getComputedStyle(document.body).backgroundColor"
                    )
                    dark = background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
                    assert dark == (scheme == "dark"), f"{where}: {background}"
                    links = {
                        _pretty(href)
                        for href in w.page.eval_on_selector_all(
                            "main a[href]", "els => els.map(a => a.href)"
                        )
                    }
                    assert {base, f"{base}skills/", f"{base}roles/"} <= links, (where, links)
                w.page.goto(base + "skills/old-name/")
                w.page.locator("main a", has_text="All skills").click()
                w.page.wait_for_load_state("networkidle")
                assert _pretty(w.page.url) == f"{base}skills/", w.page.url
                assert w.page.locator("h1").inner_text() != "Page not found"
                pages = {f"404 {base}{missing}" for missing in MISSING}
                bad = [b for b in w.bad_responses if b not in pages]  # only the pages 404
                errors = [e for e in w.errors if "status of 404" not in e]  # (their console)
                assert not (errors or w.foreign or bad), w.report()


@pytest.mark.parametrize("prefix", ["/", "/team-catalog/"])
def test_404_without_base_url_at_any_depth(chromium: Any, site: BuiltSite, prefix: str) -> None:
    text = (site.out / "404.html").read_text()
    assert 'href="static/sitegen.css"' in text and "sha256-" in text  # the locating script
    with pages_host(site.out, prefix) as base:
        _check_404(chromium, base)


@pytest.mark.parametrize("prefix", ["/", "/team-catalog/"])
def test_404_with_base_url_at_any_depth(
    chromium: Any, site: BuiltSite, embedder: Any, tmp_path: Path, prefix: str
) -> None:
    library = tmp_path / "library"
    shutil.copytree(site.library, library)
    port = _free_port()
    out = tmp_path / "site"
    build(library, out, embedder, base_url=f"http://127.0.0.1:{port}{prefix}")
    text = (out / "404.html").read_text()
    assert f'href="http://127.0.0.1:{port}{prefix}static/sitegen.css"' in text
    assert "sha256-" not in text  # absolute links: no script needed
    with pages_host(out, prefix, port) as base:
        _check_404(chromium, base)
