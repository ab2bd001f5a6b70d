"""The entry page (rendered definition, details, files, similar entries), its zip and files."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sitegen.markdown import IMAGE_SUFFIXES, LinkContext
from sitegen.site.facts import FACTS_VERSION, EntrySource
from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs, key_of
from sitegen.site.pages import files
from sitegen.site.views import (
    ArchiveInfo,
    EntryDetail,
    FileItem,
    MetadataRow,
    SimilarItem,
)
from sitegen.urls import SINGULAR, relative

_SIBLING_LINK = re.compile(r"\.\./([a-z0-9]+(?:-[a-z0-9]+)*)")
# Metadata keys shown in rows of their own (or as tags), not again as metadata rows.
_OWN_ROWS = frozenset({"version", "author", "tags"})


def _display_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


@dataclass(frozen=True)
class TreeRow:
    """One event of the file tree, flat for the template: open a folder, a file, or close."""

    open: str
    close: bool
    file: FileItem | None


def file_items(model: SiteModel, source: EntrySource) -> tuple[FileItem, ...]:
    u = model.urls
    entry = source.entry
    text_files = set(source.facts.text_files)
    items = []
    for info in entry.files:
        is_text_file = info.path in text_files
        if info.path == entry.definition_file:
            page: str | None = u.entry(entry.kind, entry.name)  # rendered on the entry page
        elif is_text_file:
            page = u.file_page(entry.kind, entry.name, info.path)
        else:
            page = None
        items.append(
            FileItem(
                path=info.path,
                name=posixpath.basename(info.path),
                size=info.size,
                sha256=info.sha256,
                text=is_text_file,
                page=page,
                raw=u.file_raw(entry.kind, entry.name, info.path),
            )
        )
    return tuple(items)


def detail(model: SiteModel, source: EntrySource) -> EntryDetail:
    """The entry page's view model (also the source of its catalog.json row)."""
    u = model.urls
    entry = source.entry
    kind, name = entry.kind, entry.name
    summary = model.summaries[(kind, name)]
    return EntryDetail(
        type=summary.type,
        label=summary.label,
        name=summary.name,
        description=summary.description,
        tags=summary.tags,
        path=summary.path,
        updated=summary.updated,
        updated_day=summary.updated_day,
        license=entry.license,
        compatibility=entry.compatibility,
        allowed_tools=entry.allowed_tools,
        version=entry.version,
        author=entry.author,
        metadata=tuple(
            MetadataRow(str(k), _display_value(v))
            for k, v in sorted(entry.metadata.items(), key=lambda kv: str(kv[0]))
            if str(k) not in _OWN_ROWS
        ),
        metadata_json=entry.metadata,
        source=entry.definition_path,
        definition=entry.definition_file,
        etag=entry.etag,
        files=file_items(model, source),
        archive=ArchiveInfo(
            path=u.archive(kind, name),
            filename=f"{name}.zip",
            sha256=source.facts.archive_sha256,
            size=source.facts.archive_size,
        ),
        similar=tuple(
            SimilarItem(
                type=s.kind,
                label=SINGULAR[s.kind],
                name=s.name,
                description=s.description,
                distance=round(float(s.distance), 4),
                path=u.entry(s.kind, s.name),
            )
            for s in model.similar_of(entry)
        ),
        headings=source.facts.headings,
        body=entry.body,
    )


def link_context(model: SiteModel, view: EntryDetail, page: str) -> LinkContext:
    """How the entry's Markdown links resolve: its files, its folders, its siblings."""
    targets: dict[str, str] = {}
    images: dict[str, str] = {}
    folders: set[str] = set()
    for item in view.files:
        targets[item.path] = item.page or item.raw
        if posixpath.splitext(item.path)[1].lower() in IMAGE_SUFFIXES:
            images[item.path] = item.raw
        parent = posixpath.dirname(item.path)
        while parent:
            folders.add(parent)
            parent = posixpath.dirname(parent)
    return LinkContext(
        page=page,
        files=targets,
        images=images,
        folders=frozenset(folders),
        folder_target=view.path + "#sg-files",
        siblings=model.siblings[view.type],
        relative=relative,
    )


def tree(items: Iterable[FileItem]) -> list[TreeRow]:
    """The file tree as a flat list of rows; folders before files, each sorted by name."""
    root: _Folder = _Folder()
    for item in items:
        node = root
        for part in item.path.split("/")[:-1]:
            node = node.folders.setdefault(part, _Folder())
        node.files.append(item)
    rows: list[TreeRow] = []

    def walk(node: _Folder) -> None:
        for name in sorted(node.folders):
            rows.append(TreeRow(name, False, None))
            walk(node.folders[name])
            rows.append(TreeRow("", True, None))
        for item in sorted(node.files, key=lambda f: f.name):
            rows.append(TreeRow("", False, item))

    walk(root)
    return rows


class _Folder:
    def __init__(self) -> None:
        self.folders: dict[str, _Folder] = {}
        self.files: list[FileItem] = []


def plan(model: SiteModel, out: Outputs, source: EntrySource) -> None:
    """The entry page and twin, its zip, and its files (raw copies and file pages)."""
    u = model.urls
    entry = source.entry
    kind, name = entry.kind, entry.name
    page = u.entry(kind, name)
    linked = (
        sorted({n for n in _SIBLING_LINK.findall(entry.body) if (kind, n) in model.known})
        if "../" in entry.body
        else []
    )
    key_parts = (
        entry.etag,
        FACTS_VERSION,
        model.summaries[(kind, name)].updated,
        [
            (s.kind, s.name, round(float(s.distance), 4), s.description)
            for s in model.similar_of(entry)
        ],
        linked,
    )

    def context(view: EntryDetail) -> dict[str, Any]:
        rendered = model.theme.markdown.render(view.body, link_context(model, view, page))
        return {
            "entry": view,
            "tree": tree(view.files),
            "body_html": rendered.html,
            "title": f"{name} · {SINGULAR[kind]}",
            "archive_abs": u.absolute(view.archive.path),
        }

    out.page_with("entry.html", page, key_parts, lambda: detail(model, source), context)
    out.add(u.archive(kind, name), key_of("archive", FACTS_VERSION, entry.etag), source.archive)
    for info in entry.files:
        files.plan(model, out, source, info)
