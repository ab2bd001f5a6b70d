"""The served site: a site built by `sitegen build`, served by the app on a real uvicorn.

Every file the build wrote is served byte for byte; folders, redirects, 404s, headers and live
reload are checked on those real pages, not on a hand-written stand-in.
"""

from __future__ import annotations

import mimetypes
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sitegen.library import Library
from sitegen.server import create_app
from sitegen.server.middleware import CONTENT_SECURITY_POLICY
from sitegen.server.static import slash_location
from tests.conftest import EXAMPLE_LIBRARY
from tests.server_helpers import RunningServer


def build_with_the_command(library: Path, out: Path) -> None:
    """`sitegen build LIBRARY --out OUT` as CI runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", str(library), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("built")
    library, site = root / "library", root / "site"
    shutil.copytree(EXAMPLE_LIBRARY, library, ignore=shutil.ignore_patterns("index"))
    build_with_the_command(library, site)
    return library, site


@pytest.fixture(scope="module")
def served(built: tuple[Path, Path], embedder) -> Iterator[RunningServer]:  # type: ignore[no-untyped-def]
    library, site = built
    with RunningServer(create_app(Library(library), embedder, site_dir=site)) as server:
        yield server


def raw_get(server: RunningServer, target: str, host: str = "x") -> bytes:
    """A request exactly as written (no client-side path clean-up), and the whole reply."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def header(reply: bytes, name: str) -> str | None:
    found = re.search(rb"\r\n" + name.encode() + rb": ([^\r]*)\r\n", reply, re.IGNORECASE)
    return found.group(1).decode() if found else None


def test_every_built_file_is_served_as_written(
    served: RunningServer, built: tuple[Path, Path]
) -> None:
    _, site = built
    files = sorted(p for p in site.rglob("*") if p.is_file())
    assert len(files) > 100
    with httpx.Client(base_url=served.url, timeout=30) as http:
        for path in files:
            rel = path.relative_to(site).as_posix()
            response = http.get("/" + rel)
            assert response.status_code == 200, rel
            assert response.content == path.read_bytes(), rel
            expected = mimetypes.guess_type(rel)[0]
            if expected in ("text/html", "application/json", "text/css"):
                assert response.headers["content-type"].startswith(expected), rel


def test_folders_serve_their_index_page(served: RunningServer, built: tuple[Path, Path]) -> None:
    _, site = built
    folders = [p for p in site.rglob("index.html") if p.parent != site][:40]
    assert folders
    for page in [site / "index.html", *folders]:
        folder = page.parent.relative_to(site).as_posix()
        url = "/" if folder == "." else f"/{folder}/"
        response = httpx.get(served.url + url)
        assert response.status_code == 200 and response.content == page.read_bytes(), url
        assert response.headers["content-type"].startswith("text/html")


def test_conditional_requests(served: RunningServer) -> None:
    home = httpx.get(served.url + "/")
    assert "etag" in home.headers and "last-modified" in home.headers
    again = httpx.get(served.url + "/", headers={"If-None-Match": home.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_missing_pages_get_the_sites_404_page(
    served: RunningServer, built: tuple[Path, Path]
) -> None:
    _, site = built
    missing = httpx.get(served.url + "/no/such/page")
    assert missing.status_code == 404
    assert missing.content == (site / "404.html").read_bytes()
    folder = next(p for p in site.iterdir() if p.is_dir() and not (p / "index.html").exists())
    listing = httpx.get(f"{served.url}/{folder.name}/")  # a folder without a page: no listing
    assert listing.status_code == 404 and listing.content == (site / "404.html").read_bytes()


def test_redirects_never_use_the_host_header(
    served: RunningServer, built: tuple[Path, Path]
) -> None:
    _, site = built
    folder = next(p.parent for p in sorted(site.rglob("index.html")) if p.parent != site)
    rel = folder.relative_to(site).as_posix()
    last = rel.rsplit("/", 1)[-1]
    for target, location in (
        (f"/{rel}", f"./{last}/"),
        (f"/{rel}?q=1", f"./{last}/?q=1"),
        (f"//{rel}", f"./{last}/"),  # `//name/` would be another host to a browser
    ):
        reply = raw_get(served, target, host="evil.example")
        assert reply.split(b" ", 2)[1] in (b"307", b"301", b"302", b"308"), target
        assert header(reply, "location") == location, target
        assert b"evil.example" not in reply
    followed = httpx.get(f"{served.url}/{rel}", follow_redirects=True)
    assert followed.status_code == 200 and followed.url.path == f"/{rel}/"
    api = raw_get(served, "/api/match/?q=x", host="evil.example")  # no slash redirects
    assert b"evil.example" not in api and header(api, "location") is None


def test_slash_location_is_relative_and_escaped() -> None:
    """Behind a proxy under /catalog/, `/catalog/skills` must go to `/catalog/skills/`."""
    scope = {"path": "/catalog/skills/a b", "query_string": b"x=1"}
    assert slash_location(scope) == "./a%20b/?x=1"
    assert slash_location({"path": "/x/a:b", "query_string": b""}) == "./a:b/"  # not a scheme
    assert slash_location({"path": "///evil.example", "query_string": b""}) == "./evil.example/"


def test_paths_cannot_escape_the_site(served: RunningServer) -> None:
    for raw in ("/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/skills/../../x"):
        reply = raw_get(served, raw)
        assert int(reply.split(b" ", 2)[1]) in (400, 404), raw
        assert b"root:" not in reply


def test_pages_take_only_get_and_head(served: RunningServer) -> None:
    for path in ("/", "/skills/", "/catalog.json"):
        assert httpx.post(served.url + path).status_code == 405
        assert httpx.delete(served.url + path).status_code == 405
        assert httpx.head(served.url + path).status_code == 200


def test_security_headers_on_pages_api_and_errors(served: RunningServer) -> None:
    for path in ("/", "/skills/", "/catalog.json", "/no/such/page", "/api/match?q=x", "/healthz"):
        response = httpx.get(served.url + path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-sitegen-api"] == "api/match", path
        assert "server" not in response.headers, path


def _directives(policy: str) -> dict[str, str]:
    parts = (p.strip().split(None, 1) for p in policy.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def test_csp_header_is_the_themes_policy_and_forbids_framing(
    served: RunningServer, built: tuple[Path, Path]
) -> None:
    """The header says what the pages' meta tag says (kept in step), plus frame-ancestors,
    which a meta tag cannot say."""
    _, site = built
    meta = re.search(
        r'http-equiv="Content-Security-Policy" content="([^"]+)"',
        (site / "index.html").read_text(),
    )
    assert meta is not None
    header_policy = _directives(CONTENT_SECURITY_POLICY)
    assert header_policy.pop("frame-ancestors") == "'none'"
    assert header_policy == _directives(meta.group(1))


def test_live_reload_uses_an_external_script(built: tuple[Path, Path], embedder) -> None:  # type: ignore[no-untyped-def]
    library, site = built
    versions = iter(["1", "1", "2"])
    app = create_app(
        Library(library), embedder, site_dir=site, live_reload=lambda: next(versions)
    )
    with RunningServer(app) as server:
        page = httpx.get(server.url + "/")
        assert '<script src="/_sitegen/reload.js"></script></body>' in page.text
        assert int(page.headers["content-length"]) == len(page.content)
        script = httpx.get(server.url + "/_sitegen/reload.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "/_sitegen/build" in script.text
        assert [httpx.get(server.url + "/_sitegen/build").text for _ in range(3)] == ["1", "1", "2"]
        assert "reload.js" not in httpx.get(server.url + "/catalog.json").text
