"""Which links survive and where they lead: safe schemes only, relative links resolved
against the library (from the file's folder, or the entry's after ``{baseDir}/``) and
rewritten to the site's pages; anything that leaves the library resolves to nothing."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def link_scheme(url: str) -> str | None:
    """The scheme of a URL as a browser would see it (control characters ignored)."""
    cleaned = _CONTROL.sub("", url)
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def validate_link(url: str) -> bool:
    """markdown-it's link gate: safe schemes and scheme-less (relative) URLs only."""
    scheme = link_scheme(url)
    return scheme is None or scheme in SAFE_SCHEMES


BASE_DIR = "{baseDir}"  # a placeholder agents' runtimes resolve to the skill's folder


@dataclass(frozen=True)
class LinkTargets:
    """Where library paths lead on the site, for every entry of a build.

    Keys are library-relative POSIX paths (``skills/a/references/x.md``); values are site
    paths: a file's page (or raw copy), an image's raw copy, a folder's entry page.
    """

    files: Mapping[str, str] = field(default_factory=dict)
    images: Mapping[str, str] = field(default_factory=dict)
    folders: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkContext:
    """How the links of one Markdown file resolve: relative to the file's own folder
    (`base`), or to its entry's folder (`root`) after ``{baseDir}/``. Resulting site paths
    are made relative to `page` by `relative`.
    """

    page: str
    base: str = ""
    root: str = ""
    targets: LinkTargets = field(default_factory=LinkTargets)
    relative: Callable[[str, str], str] | None = None

    def link(self, target: str) -> str:
        return self.relative(self.page, target) if self.relative else target


def library_path(href_path: str, base: str, root: str) -> str | None:
    """The library path a relative link names, or None when it leaves the library.

    `href_path` is the link's path, unquoted; `base` the folder of the file it is written
    in; `root` its entry's folder, which ``{baseDir}/`` stands for.
    """
    if href_path.startswith(BASE_DIR):
        joined = posixpath.join(root, href_path[len(BASE_DIR) :].lstrip("/"))
    else:
        joined = posixpath.join(base, href_path)
    normal = posixpath.normpath(joined)
    if normal == "..":
        return None
    if normal.startswith("../"):
        return None
    return "" if normal == "." else normal


def target_path(href: str, ctx: LinkContext) -> str | None:
    """The library path a relative href names, or None (absolute, empty, or outside)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("/", "\\")):
        return None  # protocol-relative or root-absolute: breaks under a sub-path
    path = unquote(parts.path)
    if not path:
        return None
    return library_path(path, ctx.base, ctx.root)


def resolve(href: str, ctx: LinkContext | None) -> str | None:
    """Where a Markdown link should point on the site, or None to drop the link."""
    if not href:
        return None
    scheme = link_scheme(href)
    if scheme is not None:
        return href if scheme in SAFE_SCHEMES else None
    if href.startswith("#"):
        return href
    if ctx is None:
        return None
    path = target_path(href, ctx)
    if path is None:
        return None
    fragment = urlsplit(href).fragment
    if path in ctx.targets.files:
        target = ctx.targets.files[path]  # a file shown as a section of a page has its own id
        return ctx.link(target) + (f"#{fragment}" if fragment and "#" not in target else "")
    folder = ctx.targets.folders.get(path.rstrip("/"))
    return None if folder is None else ctx.link(folder)


# -- inline Markdown of short texts ------------------------------------------------------
