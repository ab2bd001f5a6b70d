"""The entry page (rendered definition, details, files, similar entries), its zip and files."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sitegen import targets
from sitegen.site import links
from sitegen.site.facts import FACTS_VERSION, EntrySource
from sitegen.site.model import SiteModel, shown_inline
from sitegen.site.outputs import Outputs, key_of
from sitegen.site.pages import files
from sitegen.site.views import ArchiveInfo, EntryDetail, FileItem, MetadataRow, SimilarItem
from sitegen.urls import SINGULAR, code_anchor, file_anchor

# Metadata keys shown in rows of their own (or as tags), not again as metadata rows.
_OWN_ROWS = frozenset({"version", "author", "tags"})


def _display_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def license_file(
    license_text: str | None, items: Iterable[FileItem], definition: str
) -> FileItem | None:
    """The entry's file its `license:` names ("Complete terms in LICENSE.txt"), if any."""
    if not license_text:
        return None
    for item in sorted(items, key=lambda f: (f.path.count("/"), f.path)):
        pattern = rf"(?<![\w./-]){re.escape(item.path)}(?![\w/-]|\.\w)"
        if item.path != definition and re.search(pattern, license_text):
            return item
    return None


def install_folder(fmt: targets.Format) -> str:
    """Where the install snippet unpacks: the default tool's folder for this format, as
    `sitegen install` would choose it."""
    default = targets.AGENT_TOOLS[targets.DEFAULT_AGENT]
    for tool in (default, *targets.AGENT_TOOLS.values()):
        folders = tool.folders(fmt)
        if folders is not None:
            return folders.user
    return "~/.agents/skills"


@dataclass(frozen=True)
class FileSection:
    """A small code or text file shown on the entry page (see pages.files)."""

    file: FileItem
    anchor: str
    view: str  # "code" or "text"
    html: str
    code_id: str  # the id of the code's box, for the viewer's copy and wrap buttons


def sections(model: SiteModel, source: EntrySource, items: Iterable[FileItem]) -> list[FileSection]:
    """The entry's small code and text files, rendered for the page, in tree order."""
    entry = source.entry
    u = model.urls
    out = []
    for item in sorted(items, key=lambda f: f.path):
        if not item.text or item.path == entry.definition_file:
            continue
        if not shown_inline(item.path, item.size):
            continue
        text = source.files()[item.path].decode("utf-8")
        view = files.view_of(item.path, item.size)
        html = files.render_text(
            model, view, text, item.path, u.entry(entry.kind, entry.name),
            posixpath.join(entry.folder, item.path), entry.folder,
        )
        out.append(FileSection(item, file_anchor(item.path), view, html, code_anchor(item.path)))
    return out


@dataclass(frozen=True)
class TreeRow:
    """One event of the file tree, flat for the template: open a folder, a file, or close."""

    open: str
    close: bool
    file: FileItem | None


def detail(model: SiteModel, source: EntrySource) -> EntryDetail:
    """The entry page's view model (also the source of its catalog.json row)."""
    u = model.urls
    entry = source.entry
    kind, name = entry.kind, entry.name
    summary = model.summaries[(kind, name)]
    items = model.file_items(source)
    return EntryDetail(
        type=summary.type,
        label=summary.label,
        name=summary.name,
        description=summary.description,
        tags=summary.tags,
        path=summary.path,
        updated=summary.updated,
        updated_day=summary.updated_day,
        record=model.record_of(entry),
        license_file=license_file(entry.license, items, entry.definition_file),
        metadata=tuple(
            MetadataRow(str(k), _display_value(v))
            for k, v in sorted(entry.metadata.items(), key=lambda kv: str(kv[0]))
            if str(k) not in _OWN_ROWS
        ),
        definition=entry.definition_file,
        files=items,
        archive=ArchiveInfo(
            path=u.archive(kind, name),
            filename=f"{name}.zip",
            sha256=source.facts.archive_sha256,
            size=source.facts.archive_size,
        ),
        install_folder=install_folder(entry.format),
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


def tree(items: Iterable[FileItem]) -> list[TreeRow]:
    """The file tree as a flat list of rows; folders before files, each sorted by name."""
    root = _Folder()
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
    outbound = source.facts.outbound.get(entry.definition_file, ())
    # `sitegen install`'s NAME: kind/name when a role and a skill share the name
    shared = {("roles", name), ("skills", name)} <= model.known
    install_name = f"{kind}/{name}" if shared else name
    key_parts = (
        entry.etag,
        FACTS_VERSION,
        model.summaries[(kind, name)].updated,
        [
            (s.kind, s.name, round(float(s.distance), 4), s.description)
            for s in model.similar_of(entry)
        ],
        links.resolved(outbound, model.link_targets),
        install_name,
        [model.description_links.get(k) for k in ((kind, name), *model.similar_keys(entry))],
    )

    def context(view: EntryDetail) -> dict[str, Any]:
        link_context = links.context(page, entry.definition_path, entry.folder, model.link_targets)
        rendered = model.theme.markdown.render(view.body, link_context)
        return {
            "entry": view,
            "tree": tree(view.files),
            "body_html": rendered.html,
            "title": f"{name} · {SINGULAR[kind]}",
            "archive_abs": u.absolute(view.archive.path),
            "sections": sections(model, source, view.files),
            "install_name": install_name,
        }

    out.page_with("entry.html", page, key_parts, lambda: detail(model, source), context)
    out.add(u.archive(kind, name), key_of("archive", FACTS_VERSION, entry.etag), source.archive)
    for info in entry.files:
        files.plan(model, out, source, info)
