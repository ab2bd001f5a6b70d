"""Every path and URL of the published site, built in one place (as Datasette's ``Urls`` does).

Paths are relative to the site root, POSIX style, without a leading slash, and always name a
file (``skills/x/index.html``, not ``skills/x/``) so the site also works opened from disk.
Pages link to each other with :func:`relative` URLs, so the site works under any sub-path.
Only :meth:`SiteUrls.absolute` makes absolute URLs, and only when a base URL is known.

Untrusted names never reach the file system unchanged: entry names are validated upstream
(``a-z0-9-``), while file paths and tags go through :func:`safe_segment` and :func:`tag_slug`,
which keep readable names readable and replace anything else with a hashed, safe form.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
from urllib.parse import quote, urlsplit

from sitegen.entry import SINGULAR

KIND_LABELS = {"roles": "Roles", "skills": "Skills"}
# The match endpoint `sitegen serve` answers at, relative to the site root.
API_MATCH = "api/match"

__all__ = ["KIND_LABELS", "SINGULAR", "API_MATCH", "SiteUrls"]

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_TAG_CHARS = re.compile(r"[^a-z0-9]+")
# Files a browser would run or render as a document if served from our origin: published
# raw copies of these get a `.txt` suffix (the download link keeps the real name).
ACTIVE_SUFFIXES = frozenset(
    {
        ".htm", ".html", ".xhtml", ".xht", ".shtml", ".mht", ".mhtml", ".svg", ".svgz",
        ".xml", ".xsl", ".xslt", ".rdf", ".swf", ".php", ".vtt", ".appcache", ".manifest",
    }
)  # fmt: skip
_INERT_SUFFIX = ".txt"


def _digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:length]


@functools.lru_cache(maxsize=65536)
def safe_segment(segment: str) -> str:
    """One path segment that is safe on every file system and in a URL without escaping."""
    if _SAFE_SEGMENT.match(segment) and segment not in {".", ".."} and not segment.endswith("."):
        return segment
    cleaned = _UNSAFE_CHARS.sub("_", segment).strip("._-")[:60] or "file"
    return f"{cleaned}-{_digest(segment)}"


@functools.lru_cache(maxsize=65536)
def safe_path(path: str) -> str:
    """A library file path mapped to a safe relative output path (same depth, no escape)."""
    parts = [p for p in path.split("/") if p not in {"", "."}]
    return "/".join(safe_segment(p) for p in parts) or "file"


@functools.lru_cache(maxsize=65536)
def tag_slug(tag: str) -> str:
    """A tag's folder name: the tag itself when it is already a clean slug, else slug+hash."""
    slug = _TAG_CHARS.sub("-", tag.lower()).strip("-")[:48]
    if slug == tag and slug:
        return slug
    return f"{slug or 'tag'}-{_digest(tag)}"


@functools.lru_cache(maxsize=65536)
def _relative(start: str, to_path: str) -> str:
    source = start.split("/") if start else []
    target = to_path.split("/")
    common = 0
    while common < len(source) and common < len(target) - 1 and source[common] == target[common]:
        common += 1
    rel = "../" * (len(source) - common) + "/".join(target[common:])
    return quote(rel or "./", safe="/._-~")


def relative(from_page: str, to_path: str) -> str:
    """A relative URL from the page at `from_page` to `to_path` (both site-root paths).

    Both are clean paths from the site root (no leading slash, no `..`), as this module
    makes them; a trailing `#fragment` on `to_path` is kept.
    """
    fragment = ""
    if "#" in to_path:
        to_path, fragment = to_path.split("#", 1)
        fragment = "#" + fragment
    start = from_page.rsplit("/", 1)[0] if "/" in from_page else ""
    return _relative(start, to_path) + fragment


def file_anchor(path: str) -> str:
    """The id of a file's section on its entry page."""
    return "file-" + safe_path(path)


def code_anchor(path: str) -> str:
    """The id of the code box in a file's section (in the theme's `sg-` namespace, which
    headings never use, so it cannot clash with a heading or another file's section)."""
    return "sg-code-" + safe_path(path)


def root_prefix(page: str) -> str:
    """The relative prefix from a page to the site root: '', '../', '../../', ..."""
    depth = page.count("/")
    return "../" * depth


def twin(page: str) -> str:
    """The JSON twin of an HTML page: the same path with `.json` for `.html`."""
    if page.endswith(".html"):
        return page[: -len(".html")] + ".json"
    return page + ".json"


def pretty(path: str) -> str:
    """The canonical form of a page path for absolute URLs: `skills/x/index.html` -> `skills/x/`."""
    if path == "index.html":
        return ""
    if path.endswith("/index.html"):
        return path[: -len("index.html")]
    return path


def normalize_base_url(url: str) -> str:
    """Check and normalize a --base-url: absolute http(s), ending with '/'."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r} must not have a query or fragment")
    text = url.strip()
    return text if text.endswith("/") else text + "/"


def normalize_api_url(url: str) -> str:
    """Check an --api-url: absolute http(s), or a path relative to the site root."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme:
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"{url!r} must be an http(s) URL or a path relative to the site")
        return text
    if text.startswith("/") or not text or "\\" in text:
        raise ValueError(f"{url!r} must be an http(s) URL or a path relative to the site root")
    return text


class SiteUrls:
    """The site's address book: one method per kind of page or file."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = normalize_base_url(base_url) if base_url else None

    # -- pages ------------------------------------------------------------------------

    def home(self) -> str:
        return "index.html"

    def all_entries(self) -> str:
        return "entries/index.html"

    def kind_index(self, kind: str) -> str:
        return f"{kind}/index.html"

    def entry(self, kind: str, name: str) -> str:
        return f"{kind}/{name}/index.html"

    def entry_dir(self, kind: str, name: str) -> str:
        return f"{kind}/{name}"

    def file_page(self, kind: str, name: str, path: str) -> str:
        return f"{kind}/{name}/files/{safe_path(path)}.html"

    def file_section(self, kind: str, name: str, path: str) -> str:
        """A small code or text file, shown on its entry's page (see site.pages.files)."""
        return f"{self.entry(kind, name)}#{file_anchor(path)}"

    def file_raw(self, kind: str, name: str, path: str) -> str:
        out = f"{kind}/{name}/raw/{safe_path(path)}"
        if posixpath.splitext(out)[1].lower() in ACTIVE_SUFFIXES:
            out += _INERT_SUFFIX
        return out

    def archive(self, kind: str, name: str) -> str:
        return f"{kind}/{name}/{name}.zip"

    def tags_index(self) -> str:
        return "tags/index.html"

    def tag(self, tag: str) -> str:
        return f"tags/{tag_slug(tag)}/index.html"

    def maintainers(self) -> str:
        return "maintainers/index.html"

    def search(self) -> str:
        return "search/index.html"

    def search_names(self) -> str:
        """Every entry's kind and name, for the search page's "did you mean"."""
        return "search/names.json"

    def not_found(self) -> str:
        return "404.html"

    def sections(self) -> tuple[str, ...]:
        """The site's top folders: the 404 page, served at any depth under an unknown prefix,
        finds the site's root in its own URL as the part before one of them."""
        paths = (
            self.kind_index("skills"),
            self.kind_index("roles"),
            self.all_entries(),
            self.tags_index(),
            self.maintainers(),
            self.search(),
            self.asset("x"),
            self.index_file("x"),
            self.pagefind_script(),
        )
        return tuple(dict.fromkeys(p.split("/", 1)[0] for p in paths))

    # -- data files -------------------------------------------------------------------

    def catalog(self) -> str:
        return "catalog.json"

    def agent_skills_index(self) -> str:
        return ".well-known/agent-skills/index.json"

    def index_file(self, filename: str) -> str:
        return f"index/{filename}"

    def sitemap(self) -> str:
        return "sitemap.xml"

    def robots(self) -> str:
        return "robots.txt"

    def asset(self, name: str) -> str:
        return f"static/{name}"

    def pagefind_script(self) -> str:
        return "pagefind/pagefind.js"

    # -- turning paths into URLs -----------------------------------------------------------

    def absolute(self, path: str) -> str | None:
        """An absolute URL for a site path, or None when no --base-url was given."""
        if self.base_url is None:
            return None
        return self.base_url + quote(pretty(path), safe="/._-~")
