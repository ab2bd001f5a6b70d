"""An entry's files: the raw copy of each, and a page for each text file worth one.

A file's page shows it as it is meant to be read: Markdown rendered (links resolved like the
entry's own), source code highlighted, any other text wrapped; a very large file plain.
Small code and text files (scripts, configs) are shown as sections of their entry's page
instead: one file written where there were two (a page and its twin), and one page to read.
File pages have no JSON twin: the entry's twin lists every file (size, sha256, page, raw
copy), and the raw copy is the file's text.
"""

from __future__ import annotations

import posixpath
from typing import Any

from sitegen.library import FileInfo
from sitegen.markdown import MAX_HIGHLIGHT, is_source, plain_text
from sitegen.site import links
from sitegen.site.facts import EntrySource
from sitegen.site.model import SiteModel, shown_inline
from sitegen.site.outputs import Outputs, key_of
from sitegen.site.views import EntryRef, FileItem, FileView
from sitegen.urls import SINGULAR


def view_of(path: str, size: int) -> str:
    """How a text file is shown: "markdown", "code" or "text"."""
    if size > MAX_HIGHLIGHT:
        return "text"
    if links.is_markdown(path):
        return "markdown"
    return "code" if is_source(path) else "text"


def render_text(model: SiteModel, view: str, text: str, path: str, page: str, document: str,
                folder: str) -> str:
    """A text file's HTML as `view` shows it ("markdown", "code" or "text")."""
    if view == "markdown":
        link_context = links.context(page, document, folder, model.link_targets)
        return model.theme.markdown.render(text, link_context).html
    if view == "code":
        return model.theme.fragments.highlight(text, path)
    return plain_text(text)


def plan(model: SiteModel, out: Outputs, source: EntrySource, info: FileInfo) -> None:
    u = model.urls
    entry = source.entry
    kind, name, path = entry.kind, entry.name, info.path
    raw_path = u.file_raw(kind, name, path)
    out.add(raw_path, key_of("raw", info.sha256), lambda: source.files()[path])
    if path == entry.definition_file or path not in source.facts.text_files:
        return
    if shown_inline(path, info.size):
        return  # a section of the entry page (see pages.entry)
    page = u.file_page(kind, name, path)
    entry_ref = EntryRef(type=kind, label=SINGULAR[kind], name=name, path=u.entry(kind, name))
    item = FileItem(
        path=path,
        name=posixpath.basename(path),
        size=info.size,
        sha256=info.sha256,
        text=True,
        page=page,
        raw=raw_path,
    )
    view = view_of(path, info.size)
    document = posixpath.join(entry.folder, path)

    def file_view() -> FileView:
        text = source.files()[path].decode("utf-8")
        return FileView(entry=entry_ref, file=item, view=view, text=text)

    def context(v: FileView) -> dict[str, Any]:
        html = render_text(model, v.view, v.text, path, page, document, entry.folder)
        return {
            "entry": v.entry,
            "file": v.file,
            "view": v.view,
            "code_html": html,
            "title": f"{path} · {name}",
            "twin": None,  # the entry's twin lists the file; its raw copy is its text
        }

    outbound = source.facts.outbound.get(path, ())
    key = (kind, name, path, info.sha256, view, links.resolved(outbound, model.link_targets))
    out.page_with("file.html", page, key, file_view, context, with_twin=False)
