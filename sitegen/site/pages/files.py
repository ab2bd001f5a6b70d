"""An entry's files: the raw copy of each, and a page for each text file."""

from __future__ import annotations

import posixpath

from sitegen.library import FileInfo
from sitegen.markdown import highlight_file
from sitegen.site.facts import EntrySource
from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs, key_of
from sitegen.site.views import EntryRef, FileItem, FileView
from sitegen.urls import SINGULAR


def plan(model: SiteModel, out: Outputs, source: EntrySource, info: FileInfo) -> None:
    u = model.urls
    entry = source.entry
    kind, name, path = entry.kind, entry.name, info.path
    raw_path = u.file_raw(kind, name, path)
    out.add(raw_path, key_of("raw", info.sha256), lambda: source.files()[path])
    if path == entry.definition_file or path not in source.facts.text_files:
        return
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

    def view() -> FileView:
        return FileView(entry=entry_ref, file=item, text=source.files()[path].decode("utf-8"))

    out.page_with(
        "file.html",
        page,
        (kind, name, path, info.sha256),
        view,
        lambda v: {
            "entry": v.entry,
            "file": v.file,
            "code_html": highlight_file(v.text, path),
            "title": f"{path} · {name}",
        },
    )
