"""Where Markdown links lead: the library's paths mapped to the site's pages, once per build.

Links are resolved against the library, not the entry: from the folder of the file they are
written in (``{baseDir}/`` from the entry's folder), so a reference can link to its
neighbours, to its entry's other files, and to other entries' files. A page that links
outside its own entry depends on what those targets are, so its key includes them
(:func:`resolved`); the paths each file links to are facts, found once per etag.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

from sitegen.markdown import IMAGE_SUFFIXES, LinkContext, LinkTargets, library_path
from sitegen.site.views import FileItem
from sitegen.urls import relative

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
# Link destinations, as CommonMark writes them: inline `](dest` and definitions `[x]: dest`.
_INLINE = re.compile(r"\]\(\s*(<[^>\n]*>|[^\s)]+)")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)", re.MULTILINE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_markdown(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in MARKDOWN_SUFFIXES


def linked_paths(text: str, base: str, root: str) -> set[str]:
    """The library paths the relative links of a Markdown text name (a superset is fine:
    it only decides when a page is rendered again)."""
    found: set[str] = set()
    for match in (*_INLINE.finditer(text), *_DEFINITION.finditer(text)):
        dest = match.group(1).strip("<>")
        if not dest or dest.startswith(("#", "/", "\\")) or _SCHEME.match(dest):
            continue
        path = library_path(unquote(urlsplit(dest).path), base, root)
        if path is not None:
            found.add(path)
    return found


def targets(entries: Iterable[tuple[str, str, bool, Iterable[FileItem]]]) -> LinkTargets:
    """Every entry's files (page or raw copy), images and folders, by library path.

    `entries` are (folder, entry page, owns its folder, file items); an agent file does not
    own its folder (other agents live there too), so the folder does not lead to it.
    """
    files: dict[str, str] = {}
    images: dict[str, str] = {}
    folders: dict[str, str] = {}
    for folder, page, owns_folder, items in entries:
        if owns_folder:
            folders[folder] = page
        for item in items:
            path = posixpath.join(folder, item.path)
            files[path] = item.page or item.raw
            if posixpath.splitext(path)[1].lower() in IMAGE_SUFFIXES:
                images[path] = item.raw
            parent = posixpath.dirname(item.path)
            while owns_folder and parent:
                folders.setdefault(posixpath.join(folder, parent), page + "#sg-files")
                parent = posixpath.dirname(parent)
    return LinkTargets(files=files, images=images, folders=folders)


def context(page: str, document: str, root: str, link_targets: LinkTargets) -> LinkContext:
    """How the links of the Markdown file at library path `document` resolve on `page`."""
    return LinkContext(
        page=page,
        base=posixpath.dirname(document),
        root=root,
        targets=link_targets,
        relative=relative,
    )


def resolved(paths: Iterable[str], link_targets: LinkTargets) -> list[tuple[str, str | None]]:
    """Where each path leads now: part of the key of a page that links to them."""
    lookups: tuple[Mapping[str, str], ...] = (
        link_targets.files,
        link_targets.folders,
        link_targets.images,
    )
    return [(p, next((m[p] for m in lookups if p in m), None)) for p in paths]
