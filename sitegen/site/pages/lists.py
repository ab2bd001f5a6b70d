"""Lists of entries: all of them, each kind, each tag (with the filter's tag menu)."""

from __future__ import annotations

from collections import Counter

from sitegen.site.model import Key, SiteModel
from sitegen.site.outputs import Outputs
from sitegen.site.views import ListView, TagOption
from sitegen.urls import KIND_LABELS

INTROS = {
    "all": "Every role and skill in the catalog.",
    "skills": (
        "Skills are folders of instructions, scripts and references an agent loads on demand."
    ),
    "roles": "Roles describe an agent persona: what it does, how it works, what it owns.",
}


def list_view(model: SiteModel, title: str, intro: str, members: list[Key]) -> ListView:
    items = tuple(model.summaries[k] for k in members)
    counts = Counter(t.name for i in items for t in i.tags)
    return ListView(
        title=title,
        intro=intro,
        items=items,
        kinds=tuple(sorted({k for k, _ in members}, reverse=True)),
        tag_options=tuple(TagOption(t, c) for t, c in sorted(counts.items(), key=_by_name)),
    )


def _by_name(item: tuple[str, int]) -> tuple[str, str]:
    return item[0].lower(), item[0]


def _list(
    model: SiteModel, out: Outputs, path: str, title: str, intro: str, members: list[Key]
) -> None:
    out.page(
        "list.html",
        path,
        (title, intro, [model.digests[k] for k in members]),
        lambda: list_view(model, title, intro, members),
    )


def plan(model: SiteModel, out: Outputs) -> None:
    u = model.urls
    keys = list(model.summaries)
    _list(model, out, u.all_entries(), "All entries", INTROS["all"], keys)
    for kind in ("skills", "roles"):
        members = [k for k in keys if k[0] == kind]
        _list(model, out, u.kind_index(kind), KIND_LABELS[kind], INTROS[kind], members)
    for tag, members in model.tagged().items():
        _list(model, out, u.tag(tag), f"Tag: {tag}", f"Entries tagged “{tag}”.", members)
